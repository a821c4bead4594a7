// An event before it becomes a line of the stream: its envelope fields, its data as
// JSON, and its *effects* — what it does to the balances the later stages need (the
// processor clearing balance that processor payouts sweep, the owner's payable that
// owner payouts draw on, the tax payable that remittances pay). Recording the effects
// here means no later stage has to re-derive the posting rules from the JSON.
import { invariant } from '../errors.ts';
import { toDecimalString, type Money } from '../ledger/money.ts';
import type { ProcessorName } from './catalog.ts';
import type { Rng } from './prng.ts';

// The contract's event types, from the one list the ledger and the generator share.
export { eventTypes, type EventType } from '../ledger/envelope.ts';
import type { EventType } from '../ledger/envelope.ts';

export type Producer = 'payments' | 'rentals' | 'payouts' | 'treasury' | 'tax' | 'backoffice';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type Effect =
  | { readonly kind: 'clearing'; readonly processor: ProcessorName; readonly delta: Money }
  | { readonly kind: 'payable'; readonly ownerId: string; readonly delta: Money }
  | { readonly kind: 'tax'; readonly market: string; readonly delta: Money };

export type EventDraft = {
  /** Creation order; breaks ties between equal occurred_at so that sorting is total. */
  readonly seq: number;
  readonly eventId: string;
  readonly type: EventType;
  readonly producer: Producer;
  readonly occurredAtMs: number;
  /** The ordering key EVENTS.md gives for the type (rental_id, owner_id, …). */
  readonly key: string;
  readonly data: JsonObject;
  readonly effects: readonly Effect[];
};

export type DraftInput = Omit<EventDraft, 'seq' | 'eventId'>;

/** Share of event_ids written in upper case: legal (compared case-insensitively), rarely seen. */
const upperCaseEventIdPermille = 5;

/** The stream's events in creation order, each with its event_id drawn from its own PRNG. */
export class DraftLog {
  readonly drafts: EventDraft[] = [];

  constructor(private readonly envelopeRng: Rng) {}

  append(input: DraftInput): EventDraft {
    invariant(Number.isSafeInteger(input.occurredAtMs), 'occurred_at is a whole millisecond');
    invariant(input.key.length > 0, 'every event has an ordering key');
    const uuid = this.envelopeRng.uuid();
    const upper = this.envelopeRng.chancePermille(upperCaseEventIdPermille);
    // Written field by field, not with a spread: V8 gives every spread-then-extended object
    // a map of its own, which costs a lot of memory over a hundred thousand events.
    const draft: EventDraft = {
      seq: this.drafts.length,
      eventId: upper ? uuid.toUpperCase() : uuid,
      type: input.type,
      producer: input.producer,
      occurredAtMs: input.occurredAtMs,
      key: input.key,
      data: input.data,
      effects: input.effects,
    };
    this.drafts.push(draft);
    return draft;
  }
}

/** Share of amounts written in a legal but unusual form ("7.5", "0", "0120.00"). */
const amountVariantPermille = 30;

/**
 * Writes amounts as EVENTS.md allows. Mostly the canonical two decimals; now and then a
 * legal variant, so that the projector's parser meets trailing-zero-free and
 * leading-zero forms in ordinary traffic, not only in tests.
 */
export class AmountWriter {
  constructor(private readonly rng: Rng) {}

  write(amount: Money): string {
    const canonical = toDecimalString(amount);
    if (amount.minor < 0n || !this.rng.chancePermille(amountVariantPermille)) return canonical;
    if (this.rng.below(3) === 0) return `0${canonical}`;
    return stripTrailingZeros(canonical);
  }
}

function stripTrailingZeros(text: string): string {
  if (!text.includes('.')) return text;
  const trimmed = text.replace(/0+$/, '');
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
}

export function clearing(processor: ProcessorName, delta: Money): Effect {
  return { kind: 'clearing', processor, delta };
}

export function payable(ownerId: string, delta: Money): Effect {
  return { kind: 'payable', ownerId, delta };
}

export function taxEffect(market: string, delta: Money): Effect {
  return { kind: 'tax', market, delta };
}
