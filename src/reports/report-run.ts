// A report run: read the journal at one snapshot (figures and watermark agree), compute
// the figures, store the run, write the json rendering. The full engine (all reports,
// every format, signed manifests) builds on this.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import type { CurrencyCode } from '../ledger/money.ts';
import type { Figure } from './figures.ts';
import { parseAsOf, trialBalanceFigures } from './trial-balance.ts';

export type ReportRun = {
  report: string;
  run_id: string;
  template_version: string;
  params: Record<string, string>;
  watermark: Record<string, number>;
  generated_at: string;
  figures: Figure[];
};

export async function runTrialBalance(
  pool: Pool, asOfText: string, requestedBy: string, now: Date,
): Promise<ReportRun> {
  const asOf = parseAsOf(asOfText);
  if (asOf === null) {
    throw new UserError('bad_flag', `--as-of ${JSON.stringify(asOfText)} is not a date (YYYY-MM-DD) or RFC 3339 time`);
  }
  const runId = randomUUID();
  return withTransaction(pool, async (client) => {
    const watermarkRows = await client.query<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset FROM ledger.log_partitions ORDER BY topic, partition');
    const sums = await client.query<{ account: string; currency: CurrencyCode; debits: string; credits: string }>(
      `SELECT account, currency,
              coalesce(sum(amount_minor) FILTER (WHERE side = 'debit'), 0) AS debits,
              coalesce(sum(amount_minor) FILTER (WHERE side = 'credit'), 0) AS credits
         FROM ledger.journal_lines WHERE effective_at < $1 GROUP BY account, currency`, [asOf.toISOString()]);
    const watermark: Record<string, number> = {};
    for (const r of watermarkRows.rows) watermark[`${r.topic}/${r.partition}`] = Number(r.next_offset) - 1;
    const run: ReportRun = {
      report: 'trial-balance', run_id: runId, template_version: '1', params: { as_of: asOfText },
      watermark, generated_at: now.toISOString(),
      figures: trialBalanceFigures(runId, sums.rows.map((r) => ({
        account: r.account, currency: r.currency, debitsMinor: BigInt(r.debits), creditsMinor: BigInt(r.credits),
      }))),
    };
    await client.query(`INSERT INTO ledger.report_runs (run_id, report, template_version, params, requested_by,
        watermark, generated_at, figures) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [run.run_id, run.report, run.template_version, run.params, requestedBy, run.watermark, run.generated_at,
      JSON.stringify(run.figures)]);
    return run;
  }, { isolation: 'repeatable read' });
}

export async function writeJsonRendering(run: ReportRun, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `${run.report}-${run.run_id}.json`);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}
