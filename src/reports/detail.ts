// gl-detail's rows: every journal line of the period at or below the run's watermark,
// streamed in pages by keyset (entry_id, line_no), so a month of a million lines never
// sits in memory and a re-rendering reads exactly the same rows.
import type { Pool } from '../db/database.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { SqlParams, watermarkSql, windowSql, type RunParams } from './query.ts';
import type { Cell } from './render/types.ts';

const detailPageRows = 5_000;

type DetailRow = {
  entry_id: string; line_no: number; event_id: string; event_type: string; effective_at: string; account: string;
  side: string; amount_minor: string; currency: CurrencyCode; dims: string; topic: string; partition: number;
  offset: string;
};

export function detailRowsSource(
  pool: Pool, run: RunParams, watermark: Readonly<Record<string, number>>,
): () => AsyncIterable<readonly Cell[]> {
  return async function* rows() {
    let after: [string, number] = ['00000000-0000-0000-0000-000000000000', 0];
    for (;;) {
      const page = await readPage(pool, run, watermark, after);
      for (const r of page) {
        yield [r.entry_id, r.event_id, r.event_type, r.effective_at, r.account, r.side,
          { value: toDecimalString(fromMinor(r.currency, BigInt(r.amount_minor))), currency: r.currency },
          r.currency, r.dims, `${r.topic}/${r.partition}@${r.offset}`];
      }
      const last = page.at(-1);
      if (last === undefined || page.length < detailPageRows) return;
      after = [last.entry_id, last.line_no];
    }
  };
}

async function readPage(
  pool: Pool, run: RunParams, watermark: Readonly<Record<string, number>>, after: [string, number],
): Promise<DetailRow[]> {
  const p = new SqlParams();
  const window = windowSql('period', undefined, 'l', run, p);
  const result = await pool.query<DetailRow>(`SELECT l.entry_id, l.line_no, e.event_id, e.event_type,
      to_char(l.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS effective_at, l.account,
      l.side, l.amount_minor, l.currency,
      concat_ws(';', 'owner_id=' || l.owner_id, 'rental_id=' || l.rental_id, 'driver_id=' || l.driver_id,
        'market=' || l.market, 'processor=' || l.processor) AS dims,
      e.topic, e.partition, e."offset"
    FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
    WHERE ${window} AND ${watermarkSql(p, watermark)}
      AND (l.entry_id, l.line_no) > (${p.add(after[0])}::uuid, ${p.add(after[1])}::smallint)
    ORDER BY l.entry_id, l.line_no LIMIT ${detailPageRows}`, p.values);
  return result.rows;
}
