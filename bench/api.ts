// Requests per second and p50/p99 latency at 50 concurrent clients on loopback
// (autocannon, in a worker thread of its own so it does not share the servers' event
// loop), for a lineage first page of a figure of 100,000 journal lines, the report-runs
// list, and a ~10 MB xlsx download; and, one client alone, the web page of that figure
// (its first 50 lines, the sum check, the layout, the trail record), which issue 14 wants
// under 100 ms on the server. Each beside a baseline in the same run: the same core calls
// (figureLineage, listRuns, the file streamed) behind a bare Fastify route with no
// authentication, no scope and no audit record (a bench-only build). The database is
// vacuumed and analyzed after loading, and every endpoint is warmed before it is measured.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../src/access-control/service.ts';
import { buildApp } from '../src/app/http.ts';
import { loadConfig } from '../src/config.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { runProjector } from '../src/projector/projector.ts';
import { figureLineage } from '../src/reports/lineage.ts';
import { createRun, listRuns, loadRun, type ReportContext } from '../src/reports/runs.ts';
import { downloadLoad } from './download-load.ts';
import {
  benchDatabase, benchSigningKey, benchTrustedKeys, nowMs, projectorThreads,
} from './support.ts';

const topic = 'marketplace.events';
/** Captures in 2026-10 and in 2026-09: the figure (1100 debits as of 2026-11-01) has a line for each. */
const capturesOctober = 70_000;
/** The gl-detail month: its xlsx is about 10 MB at this many captures. */
const capturesSeptember = 30_000;
const connections = 50;
const durationS = 8;
const warmUpS = 2;
/** 50 downloads of 10 MB take seconds each: a longer run, for enough of them to complete. */
const downloadS = 15;

function capture(n: number, month: string): string {
  return JSON.stringify({ event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, type: 'payment.captured',
    schema_version: 1, occurred_at: `${month}-${String(1 + (n % 27)).padStart(2, '0')}T10:00:00Z`, producer: 'bench',
    data: { payment_id: `pay_${n}`, rental_id: `r_${n}`, driver_id: `d_${n}`, owner_id: `o_${n % 500}`,
      market: 'US-CA', processor: 'stripe', processor_ref: `ch_${n}`, currency: 'USD', rental_amount: '100.00',
      commission: '25.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '50.00',
      processor_fee: '5.00', total: '174.00' } });
}

type Measured = { rps: number; p50: number; p99: number; errors: number; mbPerS: number };

async function load(url: string, headers: Record<string, string>, seconds = durationS): Promise<Measured> {
  const result = await autocannon({ url, connections, duration: seconds, headers, timeout: 120, workers: 1 });
  return { rps: result.requests.total / seconds, p50: result.latency.p50, p99: result.latency.p99,
    errors: result.errors + result.non2xx, mbPerS: result.throughput.average / 1e6 };
}

async function downloads(url: string, headers: Record<string, string>, seconds: number): Promise<Measured> {
  const result = await downloadLoad({ url, headers, connections, seconds });
  const sorted = result.latenciesMs.sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { rps: sorted.length / (result.elapsedMs / 1000), p50: at(0.5), p99: at(0.99), errors: result.errors,
    mbPerS: result.bytes / 1e6 / (result.elapsedMs / 1000) };
}

/** One client, one request at a time: the median of 5, in ms (what a person waits). */
async function alone(url: string, headers: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let n = 0; n < 5; n += 1) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[2] as number);
}

function figures(m: Measured, bytes: boolean): string {
  return `${m.rps < 10 ? m.rps.toFixed(1) : Math.round(m.rps)} req/s${bytes ? ` (${m.mbPerS.toFixed(0)} MB/s)` : ''}, ` +
    `p50 ${m.p50} ms, p99 ${m.p99} ms (errors ${m.errors})`;
}

function line(what: string, real: Measured, base: Measured, bytes: boolean): string {
  return `${what}: ${figures(real, bytes)} | baseline ${figures(base, bytes)} | ratio ` +
    `${(real.rps / Math.max(base.rps, 1e-9)).toFixed(2)}`;
}

/** Warms both servers' path (pool connections, plans, the lineage sum kept once), then measures each. */
async function pair(
  what: string, realUrl: string, auth: Record<string, string>, bareUrl: string, download = false,
): Promise<Measured[]> {
  if (!download) {
    await load(realUrl, auth, warmUpS);
    await load(bareUrl, {}, warmUpS);
  }
  const real = download ? await downloads(realUrl, auth, downloadS) : await load(realUrl, auth);
  const base = download ? await downloads(bareUrl, {}, downloadS) : await load(bareUrl, {});
  // The machine's load: other work on these cores moves every figure here.
  process.stdout.write(`${line(what, real, base, download)} | load average ${os.loadavg()[0]?.toFixed(1)}\n`);
  return [real, base];
}

export async function benchApi(): Promise<void> {
  const db = await benchDatabase();
  try {
    const started = nowMs();
    const lines = [...Array.from({ length: capturesOctober }, (_, n) => capture(n, '2026-10')),
      ...Array.from({ length: capturesSeptember }, (_, n) => capture(capturesOctober + n, '2026-09'))];
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, topic, 6, lines);
    await log.producer.close();
    const consumer = log.consumer();
    await runProjector({ pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys, threads: { count: projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null } });
    await consumer.close();
    // As a service's database is between loads: vacuumed and with statistics, so that the
    // planner sees the journal it has (autovacuum would otherwise take a core mid-run).
    await db.adminPool.query('VACUUM ANALYZE');
    const ctx: ReportContext = { pool: db.pool, key: benchSigningKey, dataDir: db.dataDir,
      lineageBaseUrl: 'http://127.0.0.1/api/figures' };
    const balances = await loadRun(db.pool, (await createRun(ctx, { report: 'trial-balance',
      params: { as_of: '2026-11-01' }, requestedBy: 'bench', now: new Date() })).run_id);
    const figure = balances.figures.find((f) => f.key === 'debits' && f.dims.account === '1100');
    if (figure === undefined) throw new Error('no 1100 debits figure');
    const figureLines = (await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ledger.journal_lines
      WHERE account = '1100' AND side = 'debit' AND currency = 'USD' AND booked_period < '2026-11-01'`)).rows[0]?.n;
    const journalLines = (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM ledger.journal_lines')).rows[0]?.n;
    const detail = await createRun(ctx, { report: 'gl-detail', params: { period: '2026-09' }, requestedBy: 'bench',
      now: new Date() });
    const xlsx = detail.files.xlsx as string;
    const xlsxBytes = (await stat(xlsx)).size;
    const xlsxSize = `${(xlsxBytes / 1e6).toFixed(1)} MB`;
    process.stdout.write(`data: ${lines.length} captures projected (${journalLines} journal lines); lineage figure ` +
      `(trial-balance 1100 debits USD as of 2026-11-01) ${figure.value} over ${figureLines} lines; gl-detail 2026-09 ` +
      `xlsx ${xlsxSize} (${xlsxBytes} bytes); setup ${Math.round((nowMs() - started) / 1000)} s\n`);

    const actx = { pool: db.pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(actx, 'bench', { name: 'Bench admin', email: null });
    const as = { identityId: admin.user.id, source: 'bench', grantId: null };
    const person = await createIdentity(actx, as, { name: 'Bench finance', kind: 'person' });
    await grantRole(actx, as, { user: person.id, role: 'finance', expires_at: new Date(Date.now() + 86_400_000)
      .toISOString(), reason: 'bench' });
    const token = (await issueTokenFor(actx, as, { user: person.id })).token;
    const config = loadConfig({ DATABASE_URL: db.url, LEDGER_DATA_DIR: db.dataDir });
    const real = await buildApp(config, { pool: db.pool, metrics: createMetrics(db.pool), clock: () => new Date(),
      reports: ctx }, { logger: false });
    const bare = Fastify({ logger: false });
    bare.get('/lineage/:id', async (request) => figureLineage(db.pool, (request.params as { id: string }).id,
      { limit: Number((request.query as { limit?: string }).limit ?? 100) }));
    bare.get('/runs', async () => ({ items: await listRuns(db.pool, 100) }));
    bare.get('/file', async (_request, reply) => reply.type('application/octet-stream').send(createReadStream(xlsx)));
    const realUrl = await real.listen({ port: 0, host: '127.0.0.1' });
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    const auth = { authorization: `Bearer ${token}` };
    try {
      const detailRun = detail.run_id;
      process.stdout.write(`one client: lineage ${await alone(`${realUrl}/api/figures/${figure.id}/lineage`, auth)} ms ` +
        `(baseline ${await alone(`${bareUrl}/lineage/${figure.id}`, {})} ms), runs list ` +
        `${await alone(`${realUrl}/api/report-runs`, auth)} ms (baseline ${await alone(`${bareUrl}/runs`, {})} ms)\n`);
      process.stdout.write(`one client: figure page /figures/ID (50 lines of ${figureLines}) ` +
        `${await alone(`${realUrl}/figures/${figure.id}`, auth)} ms (baseline: the JSON lineage of 50 lines, bare, ` +
        `${await alone(`${bareUrl}/lineage/${figure.id}?limit=50`, {})} ms); target under 100 ms\n`);
      const [lineage, lineageBase] = await pair('lineage first page (100 lines)', `${realUrl}/api/figures/${figure.id}/lineage`, auth,
        `${bareUrl}/lineage/${figure.id}`);
      await pair('report-runs list', `${realUrl}/api/report-runs`, auth, `${bareUrl}/runs`);
      await pair(`xlsx download (${xlsxSize})`, `${realUrl}/api/report-runs/${detailRun}/files/xlsx`, auth, `${bareUrl}/file`,
        true);
      const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
      const ratio = (real: Measured | undefined, base: Measured | undefined) => (real?.rps ?? 0) / Math.max(base?.rps ?? 0, 1);
      process.stdout.write(`targets: lineage p99 under 50 ms at 50 clients: ${met((lineage?.p99 ?? Infinity) < 50)}; ` +
        `lineage with authentication, scope and the audit record at least 0.5 of the baseline's requests per second: ` +
        `${met(ratio(lineage, lineageBase) >= 0.5)} (the runs list and the download have no target: their ratios are printed for comparison)\n`);
    } finally {
      await real.close();
      await bare.close();
    }
  } finally {
    await db.close();
  }
}
