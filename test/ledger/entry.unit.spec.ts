// Proves the journal entry's hashed byte format and the pure helpers around it: golden
// vectors pin entryHashInput (the exact canonical-JSON bytes, format version 1) and
// entryHash for two fixed entries, so that any change to the format, the field order,
// the canonical JSON or the amount strings fails here first; entryIdFor is deterministic
// and shaped as a version-8 UUID; sealEntry refuses what must never be written; and
// bookingFor books an entry whose period is closed into the first open period after it,
// marked late. Method: fixed inputs, outputs computed once and hard-coded, and the pinned
// hash re-derived from the pinned bytes with node:crypto (not through the code under test).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/ledger/canonical.ts';
import {
  bookingFor, entryHash, entryHashInput, entryHashInputFast, entryHashVersion, entryIdFor, genesisHash, nextPeriod,
  periodOf, sealEntry, type JournalEntry,
} from '../../src/ledger/entry.ts';
import { fromMinor } from '../../src/ledger/money.ts';
import type { Line } from '../../src/ledger/rules.ts';

type Unsealed = Omit<JournalEntry, 'hash'>;

function line(account: string, side: 'debit' | 'credit', minor: bigint, dims: Line['dims']): Line {
  return { account, side, amount: fromMinor('USD', minor), dims };
}

const capturePosition = { topic: 'marketplace.events', partition: 2, offset: 41 };

/** The worked example's capture, at a fixed position in a fixed chain. */
const captureEntry: Unsealed = {
  entryId: entryIdFor(capturePosition),
  eventId: '3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10',
  eventType: 'payment.captured',
  position: capturePosition,
  chainSeq: 7,
  effectiveAt: '2026-10-30T14:22:05.123000Z',
  bookedPeriod: '2026-10',
  late: false,
  rule: 'payment.captured',
  ruleVersion: 1,
  payloadSha256: 'a'.repeat(64),
  subject: { currency: 'USD', market: 'US-CA', owner_id: 'o-1', rental_id: 'r-1' },
  prevHash: 'b'.repeat(64),
  lines: [
    line('1100', 'debit', 57_437n, { processor: 'stripe' }),
    line('5000', 'debit', 1_763n, { processor: 'stripe' }),
    line('2300', 'credit', 7_500n, { rental_id: 'r-1', market: 'US-CA' }),
    line('2310', 'credit', 2_000n, { rental_id: 'r-1', market: 'US-CA' }),
    line('2320', 'credit', 4_500n, { rental_id: 'r-1', market: 'US-CA' }),
    line('2000', 'credit', 22_500n, { owner_id: 'o-1', rental_id: 'r-1' }),
    line('2200', 'credit', 2_700n, { market: 'US-CA' }),
    line('2100', 'credit', 20_000n, { driver_id: 'd-1', rental_id: 'r-1' }),
  ],
};

const latePosition = { topic: 'marketplace.events', partition: 0, offset: 0 };

/** A late entry with no lines, first in its chain. */
const lateEntry: Unsealed = {
  ...captureEntry,
  entryId: entryIdFor(latePosition),
  eventType: 'rental.completed',
  position: latePosition,
  chainSeq: 1,
  effectiveAt: '2026-10-31T23:59:59.999999Z',
  bookedPeriod: '2026-11',
  late: true,
  rule: 'rental.completed',
  prevHash: genesisHash,
  lines: [],
};

// GOLDEN VECTORS. These bytes and hashes were computed once and are pinned on purpose:
// every stored entry hash, every chain and checkpoint, and the offline verifier depend on
// them. Changing any of them breaks every hash already stored. If this test fails, the
// change is wrong — or it is a new format version with a migration, never an edit here.
const captureHashInput =
  '[1,"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",7,' +
  '"b536f0bf-0002-8000-8000-0000a49190c9","3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10",' +
  '"payment.captured","marketplace.events",2,41,"2026-10-30T14:22:05.123000Z","2026-10",false,' +
  '"payment.captured",1,"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",' +
  '{"currency":"USD","market":"US-CA","owner_id":"o-1","rental_id":"r-1"},[' +
  '["1100","debit","574.37","USD",{"processor":"stripe"}],' +
  '["5000","debit","17.63","USD",{"processor":"stripe"}],' +
  '["2300","credit","75.00","USD",{"market":"US-CA","rental_id":"r-1"}],' +
  '["2310","credit","20.00","USD",{"market":"US-CA","rental_id":"r-1"}],' +
  '["2320","credit","45.00","USD",{"market":"US-CA","rental_id":"r-1"}],' +
  '["2000","credit","225.00","USD",{"owner_id":"o-1","rental_id":"r-1"}],' +
  '["2200","credit","27.00","USD",{"market":"US-CA"}],' +
  '["2100","credit","200.00","USD",{"driver_id":"d-1","rental_id":"r-1"}]]]';
const captureHash = '0de37470af647fd8ab3b0fe684712dbbdc3bdbb37ff06e577aedc0d18435abc1';

const lateHashInput =
  '[1,"0000000000000000000000000000000000000000000000000000000000000000",1,' +
  '"b536f0bf-0000-8000-8000-00000069a9e9","3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10",' +
  '"rental.completed","marketplace.events",0,0,"2026-10-31T23:59:59.999999Z","2026-11",true,' +
  '"rental.completed",1,"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",' +
  '{"currency":"USD","market":"US-CA","owner_id":"o-1","rental_id":"r-1"},[]]';
const lateHash = 'ef636d3bebdcb4af4d8d2debee9d1de50bdd8fabe7605c9e9584b6bbed0648b7';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('entry hash, format version 1 (golden vectors)', () => {
  it('is still format version 1', () => {
    expect(entryHashVersion).toBe(1);
  });

  it('builds exactly the pinned bytes for the worked example\'s capture', () => {
    expect(entryHashInput(captureEntry)).toBe(captureHashInput);
  });

  it('hashes the capture to the pinned SHA-256, and sealEntry stores that hash', () => {
    expect(sha256Hex(captureHashInput)).toBe(captureHash);
    expect(entryHash(captureEntry)).toBe(captureHash);
    expect(sealEntry(captureEntry).hash).toBe(captureHash);
  });

  it('builds and hashes a late entry with no lines at the start of a chain as pinned', () => {
    expect(entryHashInput(lateEntry)).toBe(lateHashInput);
    expect(sha256Hex(lateHashInput)).toBe(lateHash);
    expect(sealEntry(lateEntry).hash).toBe(lateHash);
  });

  it('changes the hash when any decided field changes', () => {
    const variants: Unsealed[] = [
      { ...captureEntry, prevHash: 'c'.repeat(64) },
      { ...captureEntry, chainSeq: 8 },
      { ...captureEntry, late: true },
      { ...captureEntry, bookedPeriod: '2026-11' },
      { ...captureEntry, ruleVersion: 2 },
      { ...captureEntry, lines: [...captureEntry.lines].reverse() },
    ];
    for (const variant of variants) expect(entryHash(variant)).not.toBe(captureHash);
  });

  it('writes with its fast path exactly the bytes of the canonical definition', () => {
    // The projector hashes with entryHashInputFast; entryHashInput is the definition. Vary
    // what the fast path special-cases: missing subject members and dimensions, every
    // dimension, strings that need JSON escapes (quote, backslash, control, lone and paired
    // surrogates), another currency and amounts around the minor-unit boundary.
    const awkward = ['o"1', 'o\\1', 'o\n1', 'o\u0001', 'o\ud800', 'o😀', 'ö-1', 'plain'];
    const variants: Unsealed[] = [captureEntry, lateEntry];
    for (const [index, id] of awkward.entries()) {
      variants.push({
        ...captureEntry,
        eventType: index % 2 === 0 ? 'adjustment.posted' : `weird"${id}`,
        rule: id,
        position: { ...capturePosition, topic: `t${id}` },
        subject: index % 3 === 0 ? { market: id } : { currency: 'CAD', owner_id: id, rental_id: id },
        lines: [
          { account: '2100', side: 'debit', amount: fromMinor('CAD', 1n), dims: { driver_id: id, rental_id: 'r' } },
          { account: '1100', side: 'credit', amount: fromMinor('CAD', 100n + BigInt(index)), dims: { processor: id } },
          { account: '2000', side: 'credit', amount: fromMinor('USD', 10n ** 15n), dims: { owner_id: id, rental_id: id } },
          { account: '5900', side: 'debit', amount: fromMinor('USD', 99n), dims: {} },
        ],
      });
    }
    for (const variant of variants) expect(entryHashInputFast(variant)).toBe(entryHashInput(variant));
  });
});

describe('entryIdFor', () => {
  it('is the pinned, deterministic id of a log position', () => {
    expect(entryIdFor(capturePosition)).toBe('b536f0bf-0002-8000-8000-0000a49190c9');
    expect(entryIdFor({ ...capturePosition })).toBe(entryIdFor(capturePosition));
  });

  it('is a version-8 UUID with the RFC 9562 variant, different for every position', () => {
    const ids = new Set<string>();
    for (const topic of ['marketplace.events', 'other']) {
      for (let partition = 0; partition < 3; partition++) {
        for (let offset = 0; offset < 50; offset++) {
          const id = entryIdFor({ topic, partition, offset });
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          ids.add(id);
        }
      }
    }
    expect(ids.size).toBe(2 * 3 * 50);
  });
});

describe('sealEntry refuses what must never be written (our bug, so it throws)', () => {
  it('refuses an unbalanced entry', () => {
    const unbalanced = { ...captureEntry, lines: captureEntry.lines.slice(1) };
    expect(() => sealEntry(unbalanced)).toThrow(/balances in USD/);
  });

  it('refuses a zero or negative line', () => {
    const zeroLine = { ...captureEntry, lines: [...captureEntry.lines, line('5900', 'debit', 0n, {})] };
    expect(() => sealEntry(zeroLine)).toThrow(/positive/);
  });

  it('refuses a line without exactly its account\'s dimensions, or an unknown account', () => {
    const pair = (dims: Line['dims'], account = '2010'): Unsealed => ({
      ...captureEntry, lines: [line('1000', 'debit', 100n, {}), line(account, 'credit', 100n, dims)],
    });
    expect(() => sealEntry(pair({}))).toThrow(/exactly its dimensions/);
    expect(() => sealEntry(pair({ processor: 'stripe' }))).toThrow(/exactly its dimensions/);
    expect(() => sealEntry(pair({ owner_id: 'o-1', market: 'US-CA' }))).toThrow(/exactly its dimensions/);
    expect(() => sealEntry(pair({}, '9999'))).toThrow(/in the chart/);
    expect(sealEntry(pair({ owner_id: 'o-1' })).hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('balances per currency: equal amounts in two currencies do not offset', () => {
    const mixed: Unsealed = {
      ...captureEntry,
      lines: [line('1000', 'debit', 100n, {}), { ...line('5900', 'credit', 100n, {}), amount: fromMinor('CAD', 100n) }],
    };
    expect(() => sealEntry(mixed)).toThrow(/balances/);
  });

  it('seals an entry balanced in each of two currencies, and names the one that is not', () => {
    const cad = (account: string, side: Line['side'], minor: bigint) => ({ ...line(account, side, minor, {}), amount: fromMinor('CAD', minor) });
    const both: Unsealed = {
      ...captureEntry,
      lines: [line('1000', 'debit', 100n, {}), line('5900', 'credit', 100n, {}), cad('1000', 'debit', 50n), cad('5900', 'credit', 50n)],
    };
    expect(sealEntry(both).hash).toMatch(/^[0-9a-f]{64}$/);
    const cadShort: Unsealed = { ...both, lines: [...both.lines.slice(0, 3), cad('5900', 'credit', 40n)] };
    expect(() => sealEntry(cadShort)).toThrow(/balances in CAD/);
  });
});

describe('periods and booking (ACCOUNTING.md, Periods)', () => {
  it('takes the period of the UTC effective time', () => {
    expect(periodOf('2026-10-31T23:59:59.999999Z')).toBe('2026-10');
    expect(periodOf('2026-11-01T00:00:00.000000Z')).toBe('2026-11');
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(nextPeriod('2026-09')).toBe('2026-10');
  });

  it('books into the effective period when it is open, not late', () => {
    expect(bookingFor('2026-10-30T14:22:05.123000Z', new Set())).toEqual({ bookedPeriod: '2026-10', late: false });
    expect(bookingFor('2026-10-30T14:22:05.123000Z', new Set(['2026-09'])))
      .toEqual({ bookedPeriod: '2026-10', late: false });
  });

  it('books a late entry into the first open period after its closed one', () => {
    expect(bookingFor('2026-10-30T14:22:05.123000Z', new Set(['2026-10'])))
      .toEqual({ bookedPeriod: '2026-11', late: true });
    expect(bookingFor('2026-10-30T14:22:05.123000Z', new Set(['2026-09', '2026-10', '2026-11'])))
      .toEqual({ bookedPeriod: '2026-12', late: true });
  });

  it('crosses a year end', () => {
    expect(bookingFor('2026-12-31T23:59:59.000000Z', new Set(['2026-12'])))
      .toEqual({ bookedPeriod: '2027-01', late: true });
  });
});

describe('canonical JSON (the hashed encoding)', () => {
  it('sorts keys by UTF-16 code units, drops undefined, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], B: { d: undefined, c: '' } }))
      .toBe('{"B":{"c":""},"a":[true,null,"x"],"b":1}');
    expect(canonicalJson({ 'é': 1, z: 2, '\u{1F600}': 3, '\uFB01': 4 }))
      .toBe('{"z":2,"é":1,"\u{1F600}":3,"\uFB01":4}');
  });

  it('refuses what JSON cannot carry exactly', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson(1n)).toThrow(/bigint/);
  });
});
