// Reports at a million journal lines, each figure against a baseline in the same run:
// the revenue report's figures through the engine vs one hand-written SQL aggregate of
// the same figures; gl-detail of a month rendered to xlsx by streaming (rows/s, peak
// memory); the first page of lineage for the figure with the most lines (p95).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateEventStream } from '../src/generator/index.ts';
import { withTransaction } from '../src/db/database.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { runProjector } from '../src/projector/projector.ts';
import { computeFigures } from '../src/reports/compute.ts';
import { figureLineage } from '../src/reports/lineage.ts';
import { resolveParams } from '../src/reports/params.ts';
import { createRun, loadTemplates } from '../src/reports/runs.ts';
import { loadSigningKey } from '../src/signing/keys.ts';
import { benchApprover, benchDatabase, benchTrustedKeys, nowMs } from './support.ts';

const rentals = 26_000;
const lineageSamples = 20;
const glDetailHeapMb = 256;

export async function benchReports(): Promise<void> {
  const db = await benchDatabase();
  try {
    const lines = generateEventStream({ seed: 77, rentals, month: '2026-10', approve: benchApprover });
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, 'marketplace.events', 6, lines);
    await log.producer.close();
    const consumer = log.consumer();
    await runProjector({ pool: db.pool, consumer, topics: ['marketplace.events'], follow: false,
      signal: new AbortController().signal, trustedKeys: benchTrustedKeys });
    await consumer.close();
    const count = await db.pool.query<{ lines: string; october: string }>(`SELECT count(*) AS lines,
      count(*) FILTER (WHERE booked_period = '2026-10-01') AS october FROM ledger.journal_lines`);
    process.stdout.write(`data: ${lines.length} events → ${count.rows[0]?.lines} journal lines ` +
      `(${count.rows[0]?.october} in 2026-10)\n`);
    await benchRevenue(db.pool);
    await benchGlDetail(db);
    await benchLineage(db);
  } finally {
    await db.close();
  }
}

async function benchRevenue(pool: import('../src/db/database.ts').Pool): Promise<void> {
  const template = (await loadTemplates()).get('revenue')!;
  const resolved = resolveParams(template, { period: '2026-10' });
  const watermark = await currentWatermark(pool);
  const engineMs = await timeBest(3, () => withTransaction(pool, (client) =>
    computeFigures(client, template, resolved.run, watermark, 'bench', resolved.thresholds)));
  const bareMs = await timeBest(3, () => pool.query(bareRevenueSql));
  process.stdout.write(`revenue 2026-10: engine ${engineMs} ms, bare SQL aggregate ${bareMs} ms, ` +
    `ratio ${(engineMs / Math.max(bareMs, 1)).toFixed(2)}× (target ≤ 2×)\n`);
}

async function currentWatermark(pool: import('../src/db/database.ts').Pool): Promise<Record<string, number>> {
  const rows = await pool.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, partition, next_offset FROM ledger.log_partitions');
  return Object.fromEntries(rows.rows.map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset) - 1]));
}

async function timeBest(times: number, work: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i += 1) {
    const started = nowMs();
    await work();
    best = Math.min(best, nowMs() - started);
  }
  return best;
}

/** The same figures as revenue.json, written by hand as one pass over the month's lines. */
const bareRevenueSql = `
  WITH m AS (
    SELECT l.currency, coalesce(l.market, e.subject_market) AS market, l.account, l.side, l.amount_minor,
           e.event_type, l.booked_period
      FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
     WHERE l.booked_period <= '2026-10-01')
  SELECT currency, market,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'credit'
      AND account IN ('2300','2310','2320','2000') AND event_type = 'payment.captured') AS gross_booking_value,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit'
      AND account IN ('1100','5000') AND event_type = 'payment.captured') AS captured_total,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'credit' AND account = '4000') AS rc,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'credit' AND account = '4010') AS rs,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'credit' AND account = '4020') AS rp,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit' AND account = '4100') AS fc,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit' AND account = '4110') AS fs,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit' AND account = '4120') AS fp,
    sum(CASE WHEN side = 'credit' THEN amount_minor ELSE -amount_minor END)
      FILTER (WHERE booked_period < '2026-10-01' AND account IN ('2300','2310','2320')) AS deferred_opening,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'credit'
      AND account IN ('2300','2310','2320')) AS deferred_added,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit'
      AND account IN ('2300','2310','2320') AND event_type IN ('rental.completed','rental.cancelled')) AS recognized,
    sum(amount_minor) FILTER (WHERE booked_period = '2026-10-01' AND side = 'debit'
      AND account IN ('2300','2310','2320') AND event_type = 'payment.refunded') AS refunded,
    sum(CASE WHEN side = 'credit' THEN amount_minor ELSE -amount_minor END)
      FILTER (WHERE account IN ('2300','2310','2320')) AS deferred_closing
  FROM m GROUP BY currency, market`;

/**
 * gl-detail of the month through the real command, in a process of its own, so that its
 * peak memory (VmHWM) is the rendering's and not this benchmark's (which holds the
 * generated stream). All four renderings: json, csv and xlsx stream every line; pdf is capped.
 */
async function benchGlDetail(db: Awaited<ReturnType<typeof benchDatabase>>): Promise<void> {
  const rows = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ledger.journal_lines WHERE booked_period = '2026-10-01'`);
  const started = nowMs();
  const child = spawn(process.execPath, ['bin/ledger.mjs', 'report', 'run', 'gl-detail', '--period', '2026-10', '--json'], {
    // A 256 MiB heap: V8 otherwise grows lazily towards its default limit, so the peak would
    // measure the collector's appetite, not what the rendering holds.
    env: { ...process.env, DATABASE_URL: db.url, LEDGER_DATA_DIR: db.dataDir, KAFKA_BROKERS: '',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${glDetailHeapMb}`.trim() },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let peakKb = 0;
  const sampler = setInterval(() => { peakKb = Math.max(peakKb, peakRssKb(child.pid)); }, 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  const ms = nowMs() - started;
  const n = Number(rows.rows[0]?.n);
  process.stdout.write(`gl-detail 2026-10 (${n} lines) as a command with a ${glDetailHeapMb} MiB heap, exit ${code}: ${ms} ms, ` +
    `${Math.round((n * 1000) / ms)} lines/s through json + csv + xlsx (each streamed) and pdf (capped); ` +
    `peak RSS ${Math.round(peakKb / 1024)} MB (target < 512 MB)\n`);
}

/** Peak resident memory of a running process (Linux /proc VmHWM), in KiB; 0 once it is gone. */
function peakRssKb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function benchLineage(db: Awaited<ReturnType<typeof benchDatabase>>): Promise<void> {
  const key = await loadSigningKey(db.dataDir, null);
  const ctx = { pool: db.pool, key, dataDir: db.dataDir, lineageBaseUrl: 'http://localhost:8080/api/figures' };
  const run = await createRun(ctx, { report: 'trial-balance', params: { as_of: '2026-12-01' }, requestedBy: 'bench',
    now: new Date() });
  const figures = await db.pool.query<{ figure_id: string; key: string; dims: Record<string, string> }>(
    `SELECT figure_id, key, dims FROM ledger.report_figures WHERE run_id = $1 AND key = 'credits'`, [run.run_id]);
  let best = { id: '', lines: 0 };
  for (const f of figures.rows) {
    const n = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ledger.journal_lines
      WHERE account = $1 AND currency = $2 AND side = 'credit'`, [f.dims.account, f.dims.currency]);
    if (Number(n.rows[0]?.n) > best.lines) best = { id: f.figure_id, lines: Number(n.rows[0]?.n) };
  }
  const timings: number[] = [];
  for (let i = 0; i < lineageSamples; i += 1) {
    const started = process.hrtime.bigint();
    await figureLineage(db.pool, best.id, { limit: 100 });
    timings.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  timings.sort((a, b) => a - b);
  const p95 = timings[Math.ceil(0.95 * timings.length) - 1] ?? 0;
  process.stdout.write(`lineage first page (100 lines) of a figure of ${best.lines} lines: ` +
    `p50 ${timings[Math.floor(timings.length / 2)]?.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (target < 50 ms)\n`);
}
