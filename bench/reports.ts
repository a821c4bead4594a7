// Reports at a million journal lines, each figure against a baseline in the same run:
// the revenue report's figures through the engine vs one hand-written SQL aggregate of
// the same figures; gl-detail of a month of a million lines in all four renderings (time
// per rendering, peak memory) vs reading the rows alone; the first page of lineage for
// the figure with the most lines (p95).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invariant } from '../src/errors.ts';
import { generateEventStream } from '../src/generator/index.ts';
import { withTransaction } from '../src/db/database.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { runProjector } from '../src/projector/projector.ts';
import { computeFigures } from '../src/reports/compute.ts';
import { figureLineage } from '../src/reports/lineage.ts';
import { resolveParams } from '../src/reports/params.ts';
import { pdfRowsMaxDefault } from '../src/reports/render/index.ts';
import { createRun, loadTemplates } from '../src/reports/runs.ts';
import { loadSigningKey } from '../src/signing/keys.ts';
import { benchApprover, benchDatabase, benchTrustedKeys, nowMs } from './support.ts';

/** 30,000 rentals: 1,003,466 journal lines in 2026-10 (issue 15's million), 1,150,192 in all. */
const rentals = 30_000;
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

/** What one process of the gl-detail benchmark took: wall time, CPU of all its threads, peak RSS. */
type Measured = { ms: number; cpuMs: number; peakMb: number; code: number | null; stdout: string };

/**
 * Runs a process to its end, sampling its peak resident memory (VmHWM) and its CPU
 * (utime + stime of every thread) from /proc every 100 ms; the last sample before it
 * exits is its CPU, to within 100 ms.
 */
async function measureProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const started = nowMs();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  let peakKb = 0;
  let cpuTicks = 0;
  const sample = () => {
    peakKb = Math.max(peakKb, peakRssKb(child.pid));
    cpuTicks = Math.max(cpuTicks, cpuTicksOf(child.pid));
  };
  const sampler = setInterval(sample, 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  return { ms: nowMs() - started, cpuMs: cpuTicks * 10, peakMb: Math.round(peakKb / 1024), code, stdout };
}

/** utime + stime of a running process in clock ticks (1/100 s on Linux); 0 once it is gone. */
function cpuTicksOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const megabytes = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/**
 * gl-detail of the month through the real command (`ledger report run`), in a process of
 * its own with a 256 MiB heap, so that its peak memory is the rendering's and not this
 * benchmark's (which holds the generated stream): all four renderings, json, csv and xlsx
 * streaming every line, pdf capped. Beside it, in the same run, each part alone in its
 * own process (bench/gl-detail-part.ts), so that the slowest is visible: the rows read by
 * the same COPY and dropped (the floor under every rendering), each rendering from its
 * own read, and writing the files' bytes through SHA-256 (the disk's floor). The machine
 * is shared: its load average is printed, and CPU seconds beside wall seconds.
 */
async function benchGlDetail(db: Awaited<ReturnType<typeof benchDatabase>>): Promise<void> {
  const rows = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ledger.journal_lines WHERE booked_period = '2026-10-01'`);
  const n = Number(rows.rows[0]?.n);
  // A 256 MiB heap: V8 otherwise grows lazily towards its default limit, so the peak would
  // measure the collector's appetite, not what the rendering holds.
  const env = { ...process.env, DATABASE_URL: db.url, LEDGER_DATA_DIR: db.dataDir, KAFKA_BROKERS: '',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${glDetailHeapMb}`.trim() };
  const load = () => os.loadavg().map((value) => value.toFixed(1)).join(' ');
  process.stdout.write(`gl-detail 2026-10: ${n} lines; load average before: ${load()}\n`);
  const whole = await measureProcess(['bin/ledger.mjs', 'report', 'run', 'gl-detail', '--period', '2026-10', '--json'], env);
  const files = (JSON.parse(whole.stdout) as { files: Record<string, string> }).files;
  const sizes: Record<string, number> = {};
  for (const format of ['json', 'csv', 'xlsx', 'pdf']) sizes[format] = statSync(files[format] ?? '').size;
  const totalBytes = Object.values(sizes).reduce((sum, size) => sum + size, 0);
  const part = async (name: string, extra: string[] = []) => {
    const measured = await measureProcess(['--import', 'tsx', 'bench/gl-detail-part.ts', db.url, db.dataDir, name, ...extra], env);
    invariant(measured.code === 0, `bench part ${name} exited ${measured.code}`);
    return measured;
  };
  const read = await part('read');
  const write = await part('write', [String(totalBytes)]);
  const alone: Record<string, Measured> = {};
  for (const format of ['json', 'csv', 'xlsx', 'pdf']) alone[format] = await part(format);
  const slowest = Object.entries(alone).sort((a, b) => b[1].ms - a[1].ms)[0]?.[0];
  const lines = [
    `gl-detail files: json ${megabytes(sizes.json ?? 0)}, csv ${megabytes(sizes.csv ?? 0)}, ` +
      `xlsx ${megabytes(sizes.xlsx ?? 0)}, pdf ${megabytes(sizes.pdf ?? 0)} (capped at ${pdfRowsMaxDefault} rows)`,
    `  floor: the rows read by COPY, decoded and dropped: ${seconds(read.ms)} (CPU ${seconds(read.cpuMs)} in Node)`,
    `  floor: writing ${megabytes(totalBytes)} (the four files' size) through SHA-256: ${seconds(write.ms)} ` +
      `(CPU ${seconds(write.cpuMs)})`,
    ...['json', 'csv', 'xlsx', 'pdf'].map((format) => `  ${format} alone (its own read included): ` +
      `${seconds(alone[format]!.ms)}, CPU ${seconds(alone[format]!.cpuMs)}, peak RSS ${alone[format]!.peakMb} MB` +
      `${format === slowest ? '  ← the slowest' : ''}`),
    `gl-detail 2026-10 (${n} lines) as the command, all four renderings (two reads: json + csv, then xlsx + ` +
      `the pdf's first rows; the pdf drawn last), ` +
      `${glDetailHeapMb} MiB heap, exit ${whole.code}: ${seconds(whole.ms)}, CPU ${seconds(whole.cpuMs)}, ` +
      `${Math.round((n * 1000) / whole.ms)} lines/s; peak RSS ${whole.peakMb} MB; ` +
      `${(whole.ms / Math.max(read.ms, 1)).toFixed(1)}× the read floor (target ≤ 60 s: ` +
      `${whole.ms <= 60_000 ? 'met' : 'NOT met'}; ≤ 512 MB: ${whole.peakMb <= 512 ? 'met' : 'NOT met'})`,
    `  load average after: ${load()} (2 cores: above 2 the figures include waiting for a core)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
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
