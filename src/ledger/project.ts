// What becomes of one message: posted, a duplicate delivery, or quarantined. Pure: the
// adapter (src/projector) gathers what was posted before and the state the rules need,
// then asks this module. Two steps, so the adapter can load state for a whole batch at
// once: `prepareMessage` needs nothing but the bytes; `decideMessage` needs the lookups
// (and the trusted keys, for an adjustment's approval).
import { checkApproval, type ApprovalKeys } from './approval.ts';
import { readEnvelope, type Envelope, type EnvelopeRejection } from './envelope.ts';
import { validateData, type LedgerEvent } from './events.ts';
import type { RejectionReason } from './rejections.ts';
import { decide, refsOf, type Posting } from './rules.ts';
import type { StateView } from './state.ts';
import type { LogPosition } from './entry.ts';

export type Prepared =
  | { kind: 'unreadable'; rejection: EnvelopeRejection }
  | { kind: 'envelope'; envelope: Envelope; data: ReturnType<typeof validateData> };

export function prepareMessage(value: Buffer | null): Prepared {
  const read = readEnvelope(value);
  if (!read.ok) return { kind: 'unreadable', rejection: read.rejection };
  return { kind: 'envelope', envelope: read.envelope, data: validateData(read.envelope) };
}

/** State keys the decision may read: none for a message that cannot reach the rules. */
export function refsOfPrepared(prepared: Prepared): string[] {
  if (prepared.kind !== 'envelope' || !prepared.data.ok) return [];
  return refsOf(prepared.data.event);
}

/** An event that was posted, as far as redelivery needs to know. */
export type PostedEvent = { payloadSha256: string; entryId: string; position: LogPosition };

export type MessageOutcome =
  | { kind: 'posted'; envelope: Envelope; event: LedgerEvent; posting: Posting }
  | { kind: 'duplicate'; envelope: Envelope; original: PostedEvent }
  | {
    kind: 'quarantined';
    reason: RejectionReason;
    message: string;
    eventId: string | null;
    type: string | null;
  };

export function decideMessage(
  prepared: Prepared,
  postedEvent: (eventId: string) => PostedEvent | undefined,
  view: StateView,
  approvalKeys: ApprovalKeys,
): MessageOutcome {
  if (prepared.kind === 'unreadable') {
    const { reason, message, eventId, type } = prepared.rejection;
    return { kind: 'quarantined', reason, message, eventId, type };
  }
  const { envelope } = prepared;
  const original = postedEvent(envelope.eventId);
  if (original !== undefined) {
    if (original.payloadSha256 === envelope.payloadSha256) {
      return { kind: 'duplicate', envelope, original };
    }
    const at = `${original.position.topic}/${original.position.partition}@${original.position.offset}`;
    return quarantined(envelope, 'conflicting_duplicate',
      `event_id ${envelope.eventId} was posted at ${at} for a different event (type or data differ)`);
  }
  if (!prepared.data.ok) return quarantined(envelope, prepared.data.rejection.reason, prepared.data.rejection.message);
  // After arithmetic, before references and state (EVENTS.md, order of checks); only
  // adjustments carry an approval, so no other event pays for it.
  if (envelope.type === 'adjustment.posted') {
    const unapproved = checkApproval(envelope.data, approvalKeys);
    if (unapproved !== null) return quarantined(envelope, unapproved.reason, unapproved.message);
  }
  const decision = decide(prepared.data.event, view);
  if (decision.kind === 'rejected') return quarantined(envelope, decision.reason, decision.message);
  return { kind: 'posted', envelope, event: prepared.data.event, posting: decision };
}

function quarantined(envelope: Envelope, reason: RejectionReason, message: string): MessageOutcome {
  return { kind: 'quarantined', reason, message, eventId: envelope.eventId, type: envelope.type };
}
