// gl-detail's rows: every journal line of the period at or below the run's watermark, in
// (entry_id, line_no) order, so that a re-rendering reads exactly the same rows in the
// same order. A month of a million lines is one COPY TO STDOUT, streamed and decoded as
// it arrives, so it never sits in memory.
//
// Before 2026-12-07 the rows came in keyset pages of 5,000 (one query per page, four
// reads per run): without fresh statistics each page's plan joined every remaining line
// of the month and sorted it for its LIMIT, so a month of 869,574 lines took 214 s. Now
// the lines' primary key and the entries' are merged in their shared order, a plan
// fixed by the planner settings below: a plain index order, no sort, no hash table, and
// memory that does not grow with the month.
import type { Pool } from '../db/database.ts';
import { copyOutText, inlineLiterals, type CopiedRow } from '../db/copy.ts';
import { invariant } from '../errors.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { SqlParams, watermarkSql, windowSql, type RunParams } from './query.ts';
import type { BatchedRows, Cell } from './render/types.ts';

/**
 * The planner's choice pinned for this one statement (SET LOCAL): a merge join of the two
 * primary keys, in the order the rows are wanted. Left to itself on a freshly projected
 * month (no statistics yet) it chose a nested loop of a million index probes and a sort
 * that spilled 170 MB to disk (EXPLAIN ANALYZE on 1,003,466 lines: 10.6 s, against 7.5 s
 * for the merge on the same loaded machine), and with parallel workers the order needs a
 * Gather Merge.
 */
const detailPlanSettings = [
  'SET LOCAL enable_nestloop = off',
  'SET LOCAL enable_hashjoin = off',
  'SET LOCAL enable_sort = off',
  'SET LOCAL max_parallel_workers_per_gather = 0',
];

const detailFields = 10;

function detailSql(run: RunParams, watermark: Readonly<Record<string, number>>): { sql: string; values: unknown[] } {
  const p = new SqlParams();
  const window = windowSql('period', undefined, 'l', run, p);
  const sql = `COPY (SELECT l.entry_id, e.event_id, e.event_type,
      to_char(l.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), l.account, l.side,
      l.amount_minor, l.currency,
      concat_ws(';', 'owner_id=' || l.owner_id, 'rental_id=' || l.rental_id, 'driver_id=' || l.driver_id,
        'market=' || l.market, 'processor=' || l.processor),
      e.topic || '/' || e.partition || '@' || e."offset"
    FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
    WHERE ${window} AND ${watermarkSql(p, watermark)}
    ORDER BY l.entry_id, l.line_no) TO STDOUT`;
  return { sql, values: p.values };
}

function detailCells(row: CopiedRow): readonly Cell[] {
  invariant(row.length === detailFields, `a gl-detail row has ${detailFields} fields, not ${row.length}`);
  const currency = row[7] as CurrencyCode;
  return [row[0] as string, row[1] as string, row[2] as string, row[3] as string, row[4] as string, row[5] as string,
    { value: toDecimalString(fromMinor(currency, BigInt(row[6] as string))), currency }, currency, row[8] as string,
    row[9] as string];
}

/** Each call reads the rows again, in one read-only snapshot of their own, a COPY batch at a time. */
export function detailRowsSource(
  pool: Pool, run: RunParams, watermark: Readonly<Record<string, number>>,
): () => BatchedRows {
  async function* batches(): AsyncGenerator<readonly (readonly Cell[])[]> {
    const client = await pool.connect();
    let finished = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      for (const setting of detailPlanSettings) await client.query(setting);
      const { sql, values } = detailSql(run, watermark);
      for await (const batch of copyOutText(client, inlineLiterals(client, sql, values))) yield batch.map(detailCells);
      await client.query('COMMIT');
      finished = true;
    } finally {
      // A read stopped early leaves its COPY unfinished on the connection: discard it.
      client.release(finished ? undefined : true);
    }
  }
  return () => ({
    batches,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch;
    },
  });
}
