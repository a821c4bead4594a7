// Adjustments whose approval is missing or does not hold (unapproved_adjustment): no
// approval at all, a key the ledger does not trust, a signature over other data (the
// amounts changed after approval), and a real adjustment re-sent without its approval.
// Each is otherwise valid; the last also repeats its adjustment_id, which EVENTS.md's
// order of checks settles: the approval is checked before references.
import { approvalIdFor } from './adjustments.ts';
import { envelopeMessage, pickSome, type BadKit, type BadMessage } from './bad-kit.ts';
import type { JsonObject } from './drafts.ts';

/** A key id no ledger has, and a well-formed signature (64 zero bytes) that nothing made. */
const unknownKeyId = '0000000000000000';
const zeroSignature = `${'A'.repeat(86)}==`;

/** A balanced, well-formed adjustment of `amount` between two accounts without dimensions. */
function adjustmentData(kit: BadKit, amount: string): JsonObject {
  return {
    adjustment_id: kit.ids.next('adjustment'),
    reason: 'Bank fee booked by hand',
    requested_by: 'ops.kenji.sato',
    approved_by: 'fin.lead.olu',
    currency: 'USD',
    lines: [
      { account: '5900', side: 'debit', amount },
      { account: '1000', side: 'credit', amount },
    ],
  };
}

function message(kit: BadKit, detail: string, data: JsonObject, after?: BadMessage['after']): BadMessage {
  return envelopeMessage(kit, 'unapproved_adjustment', detail, after, {
    type: 'adjustment.posted',
    producer: 'backoffice',
    data,
  });
}

export function unapprovedAdjustments(kit: BadKit): BadMessage[] {
  const unsigned = adjustmentData(kit, '1000000.00');
  const untrusted = adjustmentData(kit, '25.00');
  const approved = adjustmentData(kit, '25.00');
  const signed = kit.approve(approved, approvalIdFor(String(approved['adjustment_id'])));
  const altered: JsonObject = {
    ...signed,
    lines: [
      { account: '5900', side: 'debit', amount: '2500.00' },
      { account: '1000', side: 'credit', amount: '2500.00' },
    ],
  };
  const messages = [
    message(kit, 'adjustment without an approval', unsigned),
    message(kit, 'adjustment approved by a key no ledger trusts', {
      ...untrusted,
      approval: { approval_id: approvalIdFor(String(untrusted['adjustment_id'])), key_id: unknownKeyId,
        signature: zeroSignature },
    }),
    message(kit, 'adjustment whose amounts changed after it was approved', altered),
  ];
  const original = pickSome(kit, kit.world.drafts.filter((draft) => draft.type === 'adjustment.posted'));
  if (original !== undefined) {
    const { approval: _approval, ...withoutApproval } = original.data;
    messages.push(message(kit, 'a posted adjustment re-sent without its approval (adjustment_id repeated)',
      withoutApproval, original));
  }
  return messages;
}
