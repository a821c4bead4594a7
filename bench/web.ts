// Server time of the web pages (issue 14: under 100 ms for a run of 500 figures): the
// run page of an owner-balances run of about 500 figures, rendered through app.inject
// (no socket: the time is the server's), beside a baseline in the same run, the same
// run as JSON from GET /api/report-runs/:id (the same guard, scope and loading, no HTML).
// Median and p95 of 30 requests after 5 to warm up.
import path from 'node:path';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../src/access-control/service.ts';
import { buildApp } from '../src/app/http.ts';
import { loadConfig } from '../src/config.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { runProjector } from '../src/projector/projector.ts';
import { createRun, loadRun, type ReportContext } from '../src/reports/runs.ts';
import { benchDatabase, benchSigningKey, benchTrustedKeys, projectorThreads } from './support.ts';

const topic = 'marketplace.events';
const owners = 166; // three figures per owner, plus four totals: 502 figures
const captures = 3_000;
const warmups = 5;
const samples = 30;

function capture(n: number): string {
  return JSON.stringify({ event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, type: 'payment.captured',
    schema_version: 1, occurred_at: `2026-10-${String(1 + (n % 27)).padStart(2, '0')}T10:00:00Z`, producer: 'bench',
    data: { payment_id: `pay_${n}`, rental_id: `r_${n}`, driver_id: `d_${n}`, owner_id: `o_${n % owners}`,
      market: 'US-CA', processor: 'stripe', processor_ref: `ch_${n}`, currency: 'USD', rental_amount: '100.00',
      commission: '25.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '50.00',
      processor_fee: '5.00', total: '174.00' } });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

export async function benchWeb(): Promise<void> {
  const db = await benchDatabase();
  try {
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, topic, 6, Array.from({ length: captures }, (_, n) => capture(n)));
    await log.producer.close();
    const consumer = log.consumer();
    await runProjector({ pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys, threads: { count: projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null } });
    await consumer.close();
    const ctx: ReportContext = { pool: db.pool, key: benchSigningKey, dataDir: db.dataDir,
      lineageBaseUrl: 'http://127.0.0.1/figures' };
    const run = await createRun(ctx, { report: 'owner-balances', params: { as_of: '2026-11-01' }, requestedBy: 'bench',
      now: new Date() });
    const figures = (await loadRun(db.pool, run.run_id)).figures.length;
    const access = { pool: db.pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(access, 'bench', { name: 'Bench', email: null });
    const as = { identityId: admin.user.id, source: 'bench', grantId: null };
    const fin = await createIdentity(access, as, { name: 'Finance', kind: 'person' });
    await grantRole(access, as, { user: fin.id, role: 'finance', expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      reason: 'bench' });
    const token = (await issueTokenFor(access, as, { user: fin.id })).token;
    const app = await buildApp(loadConfig({ DATABASE_URL: db.url, LEDGER_DATA_DIR: db.dataDir }),
      { pool: db.pool, metrics: createMetrics(db.pool), clock: () => new Date(), reports: ctx }, { logger: false });
    const time = async (url: string) => {
      const times: number[] = [];
      for (let n = 0; n < warmups + samples; n += 1) {
        const started = performance.now();
        const response = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
        if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode}`);
        if (n >= warmups) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
    };
    const page = await time(`/runs/${run.run_id}`);
    const json = await time(`/api/report-runs/${run.run_id}`);
    process.stdout.write(`data: an owner-balances run of ${figures} figures (${captures} captures, ${owners} owners)\n`);
    process.stdout.write(`run page (HTML): p50 ${page.p50.toFixed(1)} ms, p95 ${page.p95.toFixed(1)} ms | baseline ` +
      `GET /api/report-runs/:id (JSON): p50 ${json.p50.toFixed(1)} ms, p95 ${json.p95.toFixed(1)} ms | ratio ` +
      `${(page.p50 / json.p50).toFixed(2)}\n`);
    await app.close();
  } finally {
    await db.close();
  }
}
