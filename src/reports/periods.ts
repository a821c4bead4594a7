// Closing a period (ACCOUNTING.md): an approved, recorded act that freezes the month.
// Later events with an effective time in it are booked into the first open period, so
// the closed period's reports never change. Periods close in order and only once over.
import { UserError } from '../errors.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { checkedPeriod } from './params.ts';

export async function closePeriod(
  pool: Pool, period: string, closedBy: string, reason: string, now: Date,
): Promise<{ period: string; closed_at: string }> {
  checkedPeriod(period);
  const start = `${period}-01`;
  const end = new Date(`${start}T00:00:00Z`);
  end.setUTCMonth(end.getUTCMonth() + 1);
  if (end.getTime() > now.getTime()) {
    throw new UserError('period_open', `${period} has not ended yet (it ends ${end.toISOString()})`);
  }
  return withTransaction(pool, async (client) => {
    // Exclusive: one closer at a time (order matters), and no projector batch in flight
    // (they hold the same lock shared while they book entries into periods).
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('ledger.close_period'))`);
    const already = await client.query('SELECT 1 FROM ledger.closed_periods WHERE period = $1::date', [start]);
    if (already.rowCount !== 0) throw new UserError('period_closed', `${period} is already closed`);
    const earlier = await client.query<{ period: string }>(`SELECT to_char(e.booked_period, 'YYYY-MM') AS period
        FROM (SELECT DISTINCT booked_period FROM ledger.journal_entries WHERE booked_period < $1::date) e
       WHERE NOT EXISTS (SELECT 1 FROM ledger.closed_periods c WHERE c.period = e.booked_period)
       ORDER BY 1 LIMIT 1`, [start]);
    if (earlier.rows[0] !== undefined) {
      throw new UserError('period_order', `close ${earlier.rows[0].period} first: periods close in order`);
    }
    const inserted = await client.query<{ closed_at: Date }>(`INSERT INTO ledger.closed_periods
        (period, closed_at, closed_by, reason) VALUES ($1::date, $2, $3, $4) RETURNING closed_at`,
    [start, now.toISOString(), closedBy, reason]);
    return { period, closed_at: new Date(inserted.rows[0]!.closed_at).toISOString() };
  });
}
