// Opaque ids that look like the real ones (`rnt_…`, `ch_…`), drawn from the PRNG and
// checked for uniqueness, so that an id names one thing in the whole stream: a repeated
// payment_id or refund_id would be a duplicate_reference, which only bad messages may carry.
import { invariant } from '../errors.ts';
import type { Rng } from './prng.ts';

const base62Codes = Array.from(
  '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  (character) => character.charCodeAt(0),
);
/** Five base-62 digits per 32-bit draw (62^5 < 2^32): a fifth of the draws of one per digit. */
const digitsPerDraw = 5;
const drawRange = 62 ** digitsPerDraw;
const drawAttemptsMax = 100;
const scratch = Buffer.alloc(64);

/** Prefixes and lengths per kind of id; processor refs follow the processor's own style. */
export const idShapes = {
  rental: { prefix: 'rnt_', length: 12 },
  payment: { prefix: 'pay_', length: 14 },
  refund: { prefix: 'rfd_', length: 14 },
  dispute: { prefix: 'dsp_', length: 12 },
  payout: { prefix: 'pyt_', length: 14 },
  claim: { prefix: 'clm_', length: 10 },
  remittance: { prefix: 'rmt_', length: 10 },
  adjustment: { prefix: 'adj_', length: 10 },
  owner: { prefix: 'own_', length: 10 },
  driver: { prefix: 'drv_', length: 10 },
  chargeRef: { prefix: 'ch_', length: 24 },
  refundRef: { prefix: 're_', length: 24 },
  disputeRef: { prefix: 'dp_', length: 24 },
  transferRef: { prefix: 'tr_', length: 24 },
  processorPayout: { prefix: 'po_', length: 24 },
} as const;
export type IdKind = keyof typeof idShapes;

export class IdFactory {
  /**
   * `taken` may be shared between factories (the bad-message factory reuses the good
   * stream's set), so that a made-up id can never collide with a real one.
   */
  constructor(
    private readonly rng: Rng,
    private readonly taken: Set<string> = new Set(),
  ) {}

  next(kind: IdKind): string {
    const { prefix, length } = idShapes[kind];
    for (let attempt = 0; attempt < drawAttemptsMax; attempt += 1) {
      const id = this.draw(prefix, length);
      if (!this.taken.has(id)) {
        this.taken.add(id);
        return id;
      }
    }
    throw new Error(`invariant violated: no fresh ${kind} id after ${drawAttemptsMax} draws`);
  }

  /**
   * Written into a scratch buffer and read out in one go: a flat string, not a rope of
   * one-character pieces, and several times faster than concatenating characters.
   */
  private draw(prefix: string, length: number): string {
    const size = prefix.length + length;
    invariant(size <= scratch.length, 'an id fits the scratch buffer');
    scratch.write(prefix, 0, 'latin1');
    let position = prefix.length;
    while (position < size) {
      let draw = this.rng.below(drawRange);
      for (let digit = 0; digit < digitsPerDraw && position < size; digit += 1) {
        scratch[position] = base62Codes[draw % 62] as number;
        position += 1;
        draw = Math.floor(draw / 62);
      }
    }
    return scratch.toString('latin1', 0, size);
  }

  /** A factory with its own PRNG that still refuses every id this one handed out. */
  fork(rng: Rng): IdFactory {
    invariant(rng !== this.rng, 'a fork draws from its own stream');
    return new IdFactory(rng, this.taken);
  }
}
