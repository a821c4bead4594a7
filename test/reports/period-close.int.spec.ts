// Closing a period and the projector never race: every projector batch reads the closed
// periods while holding the close lock shared (project-batch.ts), so `ledger period close`
// waits while such a lock is held, shown here with a transaction that holds it as a batch
// does; and a batch after the close books a late event into the next open period. Closing is
// refused for a month that has not ended, out of order, or twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePeriod } from '../../src/reports/periods.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';

const capture = (id: string, at: string) => eventLine('payment.captured', at, {
  payment_id: `pay_${id}`, rental_id: `r_${id}`, driver_id: 'd_1', owner_id: 'o_1', market: 'US-TX',
  processor: 'stripe', processor_ref: `ch_${id}`, currency: 'USD', rental_amount: '50.00', commission: '10.00',
  protection_fee: '0', service_fee: '0', tax: '0', deposit: '0', processor_fee: '1.00', total: '50.00' });

describe('closing a period', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish([capture('a', '2026-09-10T00:00:00Z'), capture('b', '2026-10-10T00:00:00Z')]);
    await ledger.project();
  });
  afterAll(async () => ledger.close());

  it('refuses a month not yet ended, a month out of order, and a month closed twice', async () => {
    const now = new Date('2026-11-30T00:00:00Z');
    await expect(closePeriod(ledger.db.pool, '2026-11', 'controller', '', now)).rejects.toThrow(/has not ended yet/);
    await expect(closePeriod(ledger.db.pool, '2026-10', 'controller', '', now)).rejects.toThrow(/close 2026-09 first/);
    await closePeriod(ledger.db.pool, '2026-09', 'controller', 'month end', now);
    await expect(closePeriod(ledger.db.pool, '2026-09', 'controller', '', now)).rejects.toThrow(/already closed/);
  });

  it('waits for a projector batch in flight, and the next batch books the late event into the open period', async () => {
    const batch = await ledger.db.pool.connect();
    await batch.query('BEGIN');
    await batch.query(`SELECT pg_advisory_xact_lock_shared(hashtext('ledger.close_period'))`);
    let closed = false;
    const closing = closePeriod(ledger.db.pool, '2026-10', 'controller', 'month end', new Date('2026-11-30T00:00:00Z'))
      .then(() => { closed = true; });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closed).toBe(false);
    await batch.query('COMMIT');
    batch.release();
    await closing;
    expect(closed).toBe(true);
    await ledger.publish([capture('c', '2026-10-20T00:00:00Z')]);
    expect((await ledger.project()).posted).toBe(1);
    const booked = await ledger.db.pool.query(`SELECT subject_rental_id AS rental, late,
        to_char(booked_period, 'YYYY-MM') AS booked FROM ledger.journal_entries ORDER BY subject_rental_id`);
    expect(booked.rows).toEqual([
      { rental: 'r_a', late: false, booked: '2026-09' },
      { rental: 'r_b', late: false, booked: '2026-10' },
      { rental: 'r_c', late: true, booked: '2026-11' },
    ]);
  });
});
