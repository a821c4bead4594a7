// gl-detail's rows come from one COPY TO STDOUT per pass, decoded by hand (db/copy.ts),
// in (entry_id, line_no) order under the run's watermark. This holds the rows of the
// json rendering to the journal as an ordinary query reads it, on captures whose owner
// and market hold what COPY's text format escapes (backslash, TAB, LF, CR) and what it
// does not (quotes, `\N` as text, non-ASCII), with enough lines to span many COPY chunks;
// a line projected after the run is not in it.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';

const awkward = ['back\\slash', 'tab\there', 'line\nfeed', 'carriage\rreturn', 'quote"d \'s', '\\N', 'é😀中文', 'plain'];

function capture(n: number, day: number): string {
  const odd = awkward[n % awkward.length]!;
  return eventLine('payment.captured', `2026-10-${String(day).padStart(2, '0')}T10:00:00.${String(n % 1000).padStart(3, '0')}Z`, {
    payment_id: `pay_rows_${n}`, rental_id: `rnt_rows_${n}`, driver_id: `drv_rows_${n}`, owner_id: `own_${odd}_${n % 7}`,
    market: n % 3 === 0 ? `mkt_${odd}` : 'US-CA', processor: 'stripe', processor_ref: `ch_rows_${n}`, currency: n % 2 === 0 ? 'USD' : 'CAD',
    rental_amount: '100.00', commission: '25.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '0.00',
    processor_fee: '5.00', total: '124.00',
  });
}

type JsonRun = { sections: { name: string; rows: (string | null)[][] }[] };

describe('gl-detail rows', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(Array.from({ length: 400 }, (_unused, n) => capture(n, 1 + (n % 28))));
    expect(await ledger.project()).toMatchObject({ posted: 400, quarantined: 0 });
  });
  afterAll(async () => { await ledger?.close(); });

  it('are the journal\'s lines of the period, in order, every value exact', async () => {
    const run = await runReport(ledger, 'gl-detail', { period: '2026-10' });
    // Projected after the run: below no watermark the run read.
    await ledger.publish([capture(999, 30)]);
    await ledger.project();
    const json = JSON.parse(await readFile(run.files.json!, 'utf8')) as JsonRun;
    const detail = json.sections.find((section) => section.name === 'GL detail') ?? json.sections.at(-1)!;
    const expected = await ledger.db.pool.query<{ entry_id: string; event_id: string; event_type: string;
      effective_at: Date; account: string; side: string; amount_minor: string; currency: string;
      owner_id: string | null; rental_id: string | null; driver_id: string | null; market: string | null;
      processor: string | null; topic: string; partition: number; offset: string; line_no: number; micros: string }>(
      `SELECT l.*, e.event_id, e.event_type, e.topic, e.partition, e."offset",
              extract(microseconds FROM l.effective_at)::bigint % 1000000 AS micros
         FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
        WHERE l.booked_period = '2026-10-01'
          AND e."offset" <= coalesce(($1::jsonb ->> (e.topic || '/' || e.partition))::bigint, -1)
        ORDER BY l.entry_id, l.line_no`, [JSON.stringify(run.header.watermark)]);
    const rows = expected.rows.map((line) => {
      const dims = (['owner_id', 'rental_id', 'driver_id', 'market', 'processor'] as const)
        .filter((dim) => line[dim] !== null).map((dim) => `${dim}=${line[dim]}`).join(';');
      const minor = BigInt(line.amount_minor);
      const amount = `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
      const at = `${line.effective_at.toISOString().slice(0, 19)}.${String(line.micros).padStart(6, '0')}Z`;
      return [line.entry_id, line.event_id, line.event_type, at, line.account, line.side, amount, line.currency, dims,
        `${line.topic}/${line.partition}@${line.offset}`];
    });
    expect(rows.length).toBeGreaterThan(1500);
    expect(detail.rows).toEqual(rows);
    for (const odd of awkward) expect(detail.rows.some((row) => row[8]!.includes(odd)), odd).toBe(true);
  });
});
