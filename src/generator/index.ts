// The generator's public face: a realistic, deterministic marketplace event stream as
// NDJSON lines, optionally with bad messages mixed in and the rejection each must get.
// Pure: no I/O, no clock, no Math.random. The same options give byte-identical lines
// (adjustments are signed by the approver given; Ed25519 signatures are deterministic).
import { UserError } from '../errors.ts';
import type { AdjustmentApprover } from '../ledger/approval.ts';
import { buildBadMessages, mixIn, type ExpectedRejection } from './bad-messages.ts';
import { Rng } from './prng.ts';
import { envelopeLine, logOrder, withRedeliveries } from './stream.ts';
import { parseMonth } from './time.ts';
import { generateWorld } from './world.ts';

export { rejectionReasons, type RejectionReason } from './bad-kit.ts';
export type { ExpectedRejection } from './bad-messages.ts';
export { eventTypes, type EventType } from './drafts.ts';
export { markets } from './catalog.ts';

export type GenerateOptions = {
  /** Any safe integer; the same seed gives the same stream. */
  readonly seed: number;
  /** Rentals booked in the month; the stream has about nine events per rental. */
  readonly rentals: number;
  /** `YYYY-MM`: bookings are spread over this month; their tails run into the next. */
  readonly month: string;
  /** Mix in messages that must be quarantined, at least one per rejection reason. */
  readonly badMessages?: boolean;
  /**
   * Signs each adjustment's approval (EVENTS.md), as the service does when a second person
   * approves: with a key the ledger that projects the stream trusts (approverFor(key)).
   */
  readonly approve: AdjustmentApprover;
};

export type GeneratedStream = {
  readonly lines: string[];
  readonly expectedRejections: ExpectedRejection[];
};

/** A bound on the work one call may ask for: about 9 million events. */
export const rentalsMax = 1_000_000;

export function generateEventStream(options: GenerateOptions): string[] {
  return generateEventStreamWithExpectations(options).lines;
}

export function generateEventStreamWithExpectations(options: GenerateOptions): GeneratedStream {
  checkOptions(options);
  const world = generateWorld(options.seed, options.rentals, parseMonth(options.month), options.approve);
  const ordered = logOrder(world.drafts);
  const delivered = withRedeliveries(
    ordered.map(envelopeLine),
    new Rng(options.seed, 'redeliveries'),
  );
  if (options.badMessages !== true) return { lines: delivered.lines, expectedRejections: [] };
  const badRng = new Rng(options.seed, 'bad-messages');
  const kit = { world, rng: badRng, ids: world.ids.fork(badRng), approve: options.approve };
  return mixIn(delivered, ordered, buildBadMessages(kit), kit);
}

function checkOptions(options: GenerateOptions): void {
  if (!Number.isSafeInteger(options.seed)) {
    throw new UserError(
      'invalid_seed',
      `seed must be an integer, got ${String(options.seed)}`,
      'seed',
    );
  }
  if (
    !Number.isSafeInteger(options.rentals) ||
    options.rentals < 1 ||
    options.rentals > rentalsMax
  ) {
    throw new UserError(
      'invalid_rentals',
      `rentals must be an integer from 1 to ${rentalsMax}, got ${String(options.rentals)}`,
      'rentals',
    );
  }
}
