// The projector end to end on real PostgreSQL and the embedded log: the worked example of
// ACCOUNTING.md lands in the journal exactly as written, a redelivery posts nothing, bad
// messages are quarantined without stopping the partition, and every message read is
// accounted for (entries + duplicates + quarantined = messages read), per partition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { runReport, shown } from '../support/reports.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';

const capture = eventLine('payment.captured', '2026-10-30T10:00:00Z', {
  payment_id: 'pay_1', rental_id: 'r_1', driver_id: 'd_1', owner_id: 'o_1', market: 'US-CA',
  processor: 'stripe', processor_ref: 'ch_1', currency: 'USD', rental_amount: '300.00', commission: '75.00',
  protection_fee: '45.00', service_fee: '20.00', tax: '27.00', deposit: '200.00', processor_fee: '17.63',
  total: '592.00',
});
const completion = eventLine('rental.completed', '2026-11-02T09:00:00Z', {
  rental_id: 'r_1', driver_id: 'd_1', owner_id: 'o_1', market: 'US-CA',
});

describe('projection of the worked example', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish([capture, completion, capture, '{"event_id": ', 'not json at all']);
  });
  afterAll(async () => ledger.close());

  it('posts the capture and the completion line by line, and counts the rest', async () => {
    const result = await ledger.project();
    expect(result).toMatchObject({ posted: 2, duplicates: 1, quarantined: 2 });
    const lines = await ledger.db.pool.query(`SELECT e.event_type, l.account, l.side, l.amount_minor::text AS minor,
        l.currency, to_char(l.booked_period, 'YYYY-MM') AS period
      FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
      ORDER BY e.effective_at, l.line_no`);
    expect(lines.rows.map((r) => `${r.event_type} ${r.account} ${r.side} ${r.minor} ${r.period}`)).toEqual([
      'payment.captured 1100 debit 57437 2026-10',
      'payment.captured 5000 debit 1763 2026-10',
      'payment.captured 2300 credit 7500 2026-10',
      'payment.captured 2310 credit 2000 2026-10',
      'payment.captured 2320 credit 4500 2026-10',
      'payment.captured 2000 credit 22500 2026-10',
      'payment.captured 2200 credit 2700 2026-10',
      'payment.captured 2100 credit 20000 2026-10',
      'rental.completed 2300 debit 7500 2026-11',
      'rental.completed 4000 credit 7500 2026-11',
      'rental.completed 2310 debit 2000 2026-11',
      'rental.completed 4010 credit 2000 2026-11',
      'rental.completed 2320 debit 4500 2026-11',
      'rental.completed 4020 credit 4500 2026-11',
      'rental.completed 2000 debit 22500 2026-11',
      'rental.completed 2010 credit 22500 2026-11',
    ]);
  });

  it('quarantines with a reason and keeps the raw bytes of every message', async () => {
    const quarantined = await ledger.db.pool.query(
      'SELECT reason, message FROM ledger.quarantine ORDER BY "offset"');
    expect(quarantined.rows.map((r) => r.reason)).toEqual(['malformed_json', 'malformed_json']);
    const raw = await ledger.db.pool.query(`SELECT outcome, convert_from(value, 'UTF8') AS text,
        encode(value_sha256, 'hex') = encode(sha256(value), 'hex') AS hashed FROM ledger.raw_messages`);
    expect(raw.rows).toHaveLength(5);
    expect(raw.rows.every((r) => r.hashed)).toBe(true);
    expect(raw.rows.map((r) => r.text)).toContain('not json at all');
  });

  it('gives the trial balance of REPORTS.md: as of October\'s end, then after the completion', async () => {
    const october = await runReport(ledger, 'trial-balance', { as_of: '2026-11-01' });
    expect(shown(october.figures)).toEqual([
      'debits 1100 USD 574.37', 'credits 1100 USD 0.00', 'balance 1100 USD 574.37',
      'debits 2000 USD 0.00', 'credits 2000 USD 225.00', 'balance 2000 USD -225.00',
      'debits 2100 USD 0.00', 'credits 2100 USD 200.00', 'balance 2100 USD -200.00',
      'debits 2200 USD 0.00', 'credits 2200 USD 27.00', 'balance 2200 USD -27.00',
      'debits 2300 USD 0.00', 'credits 2300 USD 75.00', 'balance 2300 USD -75.00',
      'debits 2310 USD 0.00', 'credits 2310 USD 20.00', 'balance 2310 USD -20.00',
      'debits 2320 USD 0.00', 'credits 2320 USD 45.00', 'balance 2320 USD -45.00',
      'debits 5000 USD 17.63', 'credits 5000 USD 0.00', 'balance 5000 USD 17.63',
      'total_debits USD 592.00', 'total_credits USD 592.00', 'total_balance USD 0.00',
    ]);
    expect(october.header.params).toEqual({ as_of: '2026-11-01' });
    expect(Object.values(october.header.watermark).reduce((a, b) => a + b + 1, 0)).toBe(5);
    const november = await runReport(ledger, 'trial-balance', { as_of: '2026-11-03' });
    const balances = november.figures.filter((f) => f.key === 'balance').map((f) => `${f.dims.account} ${f.value}`);
    expect(balances).toEqual(['1100 574.37', '2000 0.00', '2010 -225.00', '2100 -200.00', '2200 -27.00',
      '2300 0.00', '2310 0.00', '2320 0.00', '4000 -75.00', '4010 -20.00', '4020 -45.00', '5000 17.63']);
    expect(november.figures.find((f) => f.key === 'total_balance')?.value).toBe('0.00');
  });

  it('passes every integrity check, and a second run posts nothing new', async () => {
    const again = await ledger.project();
    expect(again).toMatchObject({ posted: 0, duplicates: 0, quarantined: 0 });
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
