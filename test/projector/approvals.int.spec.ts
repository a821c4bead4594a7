// Proves, end to end against PostgreSQL, issue 12's items 6 and 16:
// - an adjustment signed by a trusted key posts; the same adjustment without its
//   approval, with its amounts raised after approval, or signed by a key the ledger does
//   not trust is quarantined as unapproved_adjustment with a message naming what is
//   wrong, on the main thread and on worker threads alike (the threads get the keys);
// - `ledger events generate` signs its adjustments with the data directory's key, so
//   `ledger project` on that data directory posts them, and a ledger with another key
//   quarantines them;
// - two half refunds of a commission of 14.25, each rounded down to 7.12, both post; the
//   closing moves the owner's −0.01 to payable, and owner-balances and trial-balance
//   show it exactly as the independent calculation (support/independent-figures.ts).
// Method: hand-written and generated lines published to fresh ledgers (own database,
// embedded log), projected by the projector (in process, on threads, or by the CLI), and
// the journal, quarantine and report figures read back.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAdjustmentApproval } from '../../src/ledger/approval.ts';
import { computeIndependentFigures, figureKey, type FigureMap } from '../support/independent-figures.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testSigningKey, untrustedKey } from '../support/keys.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';

const adjustmentData = {
  adjustment_id: 'adj_bankfee', reason: 'Bank fee for October', requested_by: 'ops.maria.lopez',
  approved_by: 'fin.lead.olu', currency: 'USD',
  lines: [
    { account: '5900', side: 'debit', amount: '25.00' },
    { account: '1000', side: 'credit', amount: '25.00' },
  ],
};
const approved = signAdjustmentApproval(adjustmentData, testSigningKey, 'apv_bankfee');
const raised = {
  ...approved, adjustment_id: 'adj_raised',
  lines: [{ ...approved.lines[0]!, amount: '1000000.00' }, { ...approved.lines[1]!, amount: '1000000.00' }],
};
const byOtherKey = signAdjustmentApproval({ ...adjustmentData, adjustment_id: 'adj_other' }, untrustedKey, 'apv_other');
const at = '2026-10-05T10:00:00Z';
const adjustmentLines = [
  eventLine('adjustment.posted', at, approved),
  eventLine('adjustment.posted', at, adjustmentData),
  eventLine('adjustment.posted', at, raised),
  eventLine('adjustment.posted', at, byOtherKey),
];

async function quarantined(ledger: TestLedger) {
  const result = await ledger.db.pool.query<{ event_type: string; reason: string; message: string }>(
    'SELECT event_type, reason, message FROM ledger.quarantine ORDER BY partition, "offset"');
  return result.rows;
}

describe('adjustment approvals in the projector', () => {
  let inProcess: TestLedger;
  let threaded: TestLedger;
  beforeAll(async () => {
    [inProcess, threaded] = await Promise.all([createTestLedger({ partitions: 1 }), createTestLedger({ partitions: 1 })]);
    await inProcess.publish(adjustmentLines);
    await threaded.publish(adjustmentLines);
  });
  afterAll(async () => {
    await inProcess?.close();
    await threaded?.close();
  });

  it('posts the signed adjustment and quarantines the others as unapproved_adjustment', async () => {
    expect(await inProcess.project()).toMatchObject({ posted: 1, duplicates: 0, quarantined: 3 });
    const posted = await inProcess.db.pool.query<{ account: string; side: string; amount_minor: string }>(
      `SELECT account, side, amount_minor FROM ledger.journal_lines ORDER BY line_no`);
    expect(posted.rows).toEqual([
      { account: '5900', side: 'debit', amount_minor: '2500' }, { account: '1000', side: 'credit', amount_minor: '2500' },
    ]);
    const rows = await quarantined(inProcess);
    expect(rows.map((r) => [r.event_type, r.reason])).toEqual(Array(3).fill(['adjustment.posted', 'unapproved_adjustment']));
    expect(rows[0]!.message).toMatch(/data\.approval is missing/);
    expect(rows[1]!.message).toMatch(/approval "apv_bankfee" does not verify with key \w{16}/);
    expect(rows[2]!.message).toContain(`"${untrustedKey.keyId}" is not a key this ledger trusts`);
  });

  it('decides the same on worker threads', async () => {
    expect(await threaded.project({ threads: 2 })).toMatchObject({ posted: 1, duplicates: 0, quarantined: 3 });
    expect(await journalDigest(threaded.db.pool)).toEqual(await journalDigest(inProcess.db.pool));
  });
});

describe('ledger events generate', () => {
  let own: TestLedger;
  let other: TestLedger;
  beforeAll(async () => {
    [own, other] = await Promise.all([createTestLedger(), createTestLedger()]);
  });
  afterAll(async () => {
    await own?.close();
    await other?.close();
  });

  const cli = (ledger: TestLedger, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = spawnSync(process.execPath, ['bin/ledger.mjs', ...args, '--json'], {
      env: { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '', ...env },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, number>;
  };

  it('signs the adjustments with the data directory\'s key: its own ledger posts them, another quarantines them', async () => {
    const file = path.join(own.dataDir, 'events.ndjson');
    cli(own, ['events', 'generate', '--seed', '5', '--rentals', '40', '--month', '2026-10', '--out', file]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const adjustments = lines.filter((line) => line.includes('"adjustment.posted"'));
    expect(adjustments.length).toBeGreaterThanOrEqual(5);
    await own.publish(lines);
    expect(cli(own, ['project'])).toMatchObject({ quarantined: 0 });
    const posted = await own.db.pool.query(`SELECT 1 FROM ledger.journal_entries WHERE event_type = 'adjustment.posted'`);
    expect(posted.rowCount).toBe(new Set(adjustments.map((l) => (JSON.parse(l) as { event_id: string }).event_id)).size);

    // Another data directory, another key (made on first use): the same lines' adjustments are not approved there.
    await other.publish(lines);
    expect(cli(other, ['project'])).toMatchObject({ quarantined: posted.rowCount });
    expect(new Set((await quarantined(other)).map((r) => r.reason))).toEqual(new Set(['unapproved_adjustment']));
  });
});

describe('refunds limited per component only (EVENTS.md exceeds_remaining)', () => {
  const capture = eventLine('payment.captured', '2026-10-10T10:00:00Z', {
    payment_id: 'pay_r', rental_id: 'rnt_r', driver_id: 'drv_r', owner_id: 'own_r', market: 'US-CA',
    processor: 'stripe', processor_ref: 'ch_r', currency: 'USD', rental_amount: '57.00', commission: '14.25',
    protection_fee: '0.00', service_fee: '0.00', tax: '0.00', deposit: '0.00', processor_fee: '1.95', total: '57.00',
  });
  const half = (n: number) => eventLine('payment.refunded', `2026-10-1${n}T10:00:00Z`, {
    refund_id: `rfd_r${n}`, payment_id: 'pay_r', rental_id: 'rnt_r', processor_ref: `re_r${n}`, currency: 'USD',
    rental_amount: '28.50', commission: '7.12', protection_fee: '0.00', service_fee: '0.00', tax: '0.00',
    total: '28.50',
  });
  const completion = eventLine('rental.completed', '2026-10-20T10:00:00Z', {
    rental_id: 'rnt_r', driver_id: 'drv_r', owner_id: 'own_r', market: 'US-CA',
  });
  const lines = [capture, half(1), half(2), completion];
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(lines);
  });
  afterAll(async () => ledger?.close());

  it('posts two half refunds whose owner shares (21.38 each) exceed the 42.75 captured by a cent', async () => {
    expect(await ledger.project()).toMatchObject({ posted: 4, quarantined: 0 });
    const closing = await ledger.db.pool.query<{ account: string; side: string; amount_minor: string }>(
      `SELECT l.account, l.side, l.amount_minor FROM ledger.journal_lines l
         JOIN ledger.journal_entries e USING (entry_id)
        WHERE e.event_type = 'rental.completed' ORDER BY l.line_no`);
    expect(closing.rows).toEqual([
      { account: '2300', side: 'debit', amount_minor: '1' }, { account: '4000', side: 'credit', amount_minor: '1' },
      { account: '2000', side: 'credit', amount_minor: '1' }, { account: '2010', side: 'debit', amount_minor: '1' },
    ]);
  });

  it('shows the owner\'s −0.01 in owner-balances and trial-balance, as the independent calculation does', async () => {
    const independent = computeIndependentFigures(lines);
    for (const [report, expected] of [
      ['owner-balances', independent.ownerBalances('2026-11-01')], ['trial-balance', independent.trialBalance('2026-11-01')],
    ] as const) {
      const run = await runReport(ledger, report, { as_of: '2026-11-01' });
      const got: FigureMap = new Map(run.figures.map((f: { key: string; dims: Record<string, string>; value: string }) =>
        [figureKey(f.key, f.dims), f.value]));
      expect(got, report).toEqual(expected);
    }
    expect(independent.ownerBalances('2026-11-01').get(figureKey('payable', { currency: 'USD', owner_id: 'own_r' })))
      .toBe('-0.01');
  });
});
