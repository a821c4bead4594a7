// A manual adjustment, requested by one person and approved by another (API.md,
// EVENTS.md adjustment.posted). The request is checked exactly as the projector will check
// the event it becomes (src/ledger/events.ts validateData): a balanced entry of at least
// two lines, on manual accounts, with each account's dimensions, in one currency; so an
// approved adjustment is never quarantined for its content. Pure: no I/O, no clock.
import { createHash } from 'node:crypto';
import { UserError } from '../errors.ts';
import type { Envelope } from '../ledger/envelope.ts';
import { validateData } from '../ledger/events.ts';
import type { Subject } from './scope.ts';

export type AdjustmentRequestBody = { reason: unknown; currency: unknown; lines: unknown };

export type AdjustmentDraft = {
  readonly reason: string;
  readonly currency: 'USD' | 'CAD';
  readonly lines: ReadonlyArray<{ account: string; side: 'debit' | 'credit'; amount: string; dims?: Record<string, string> }>;
};

/** Stands in for the approver while a request is checked: the approver is not known yet. */
const approverPlaceholder = 'approver-not-yet-known';

/** The draft, or a 400 naming the field, exactly as the projector would refuse the event. */
export function checkAdjustmentRequest(body: AdjustmentRequestBody, requestedBy: string, adjustmentId: string): AdjustmentDraft {
  if (typeof body.reason !== 'string' || body.reason.length > 1000) {
    throw new UserError('invalid_field', 'reason must say why, in at most 1000 characters', 'reason');
  }
  const data = { adjustment_id: adjustmentId, reason: body.reason, requested_by: requestedBy,
    approved_by: approverPlaceholder, currency: body.currency, lines: body.lines };
  const checked = validateData({ type: 'adjustment.posted', data } as unknown as Envelope);
  if (!checked.ok) {
    const field = /data\.(\w+)/.exec(checked.rejection.message)?.[1] ?? (checked.rejection.reason === 'unbalanced'
      ? 'lines' : undefined);
    throw new UserError(checked.rejection.reason, checked.rejection.message.replace(/data\./g, ''), field);
  }
  return { reason: body.reason, currency: body.currency as 'USD' | 'CAD', lines: body.lines as AdjustmentDraft['lines'] };
}

/** What the adjustment is about, for scope: its currency, and each market its lines name. */
export function adjustmentSubjects(draft: Pick<AdjustmentDraft, 'currency' | 'lines'>): Subject[] {
  const markets = new Set(draft.lines.map((l) => l.dims?.market ?? null));
  return [...markets].map((market) => ({ currency: draft.currency, market }));
}

/**
 * The event_id of an adjustment's adjustment.posted: derived from the adjustment id, so
 * an approval retried after its log append appends the same event, which the projector
 * counts as a duplicate delivery, never a second entry.
 */
export function adjustmentEventId(adjustmentId: string): string {
  const hex = createHash('sha256').update(`adjustment.posted:${adjustmentId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${(8 + (parseInt(hex[16] as string, 16) % 4))
    .toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function adjustmentApprovalId(adjustmentId: string): string {
  return `apv_${createHash('sha256').update(`approval:${adjustmentId}`).digest('hex').slice(0, 24)}`;
}
