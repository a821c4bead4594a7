// Requests per second and p50/p99 latency at 50 concurrent clients on loopback
// (autocannon), for a lineage first page of a figure of about 100,000 lines, the
// report-runs list, and a large xlsx download; and, one client alone, the web page of that
// figure (its first 50 lines, the sum check, the layout, the trail record), which issue 14
// wants under 100 ms on the server. Each beside a baseline in the same run:
// the same core calls (figureLineage, listRuns, the file streamed) behind a bare Fastify
// route with no authentication, no scope and no audit record (a bench-only build).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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
import {
  benchDatabase, benchSigningKey, benchTrustedKeys, nowMs, projectorThreads,
} from './support.ts';

const topic = 'marketplace.events';
const capturesBig = 100_000;
const capturesDetail = 12_000;
const connections = 50;
const durationS = 8;

function capture(n: number, month: string): string {
  return JSON.stringify({ event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, type: 'payment.captured',
    schema_version: 1, occurred_at: `${month}-${String(1 + (n % 27)).padStart(2, '0')}T10:00:00Z`, producer: 'bench',
    data: { payment_id: `pay_${n}`, rental_id: `r_${n}`, driver_id: `d_${n}`, owner_id: `o_${n % 500}`,
      market: 'US-CA', processor: 'stripe', processor_ref: `ch_${n}`, currency: 'USD', rental_amount: '100.00',
      commission: '25.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '50.00',
      processor_fee: '5.00', total: '174.00' } });
}

type Measured = { rps: number; p50: number; p99: number; errors: number };

async function load(url: string, headers: Record<string, string>): Promise<Measured> {
  const result = await autocannon({ url, connections, duration: durationS, headers, timeout: 120 });
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99,
    errors: result.errors + result.non2xx };
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

function line(what: string, real: Measured, base: Measured): string {
  return `${what}: ${real.rps} req/s, p50 ${real.p50} ms, p99 ${real.p99} ms (errors ${real.errors}) | baseline ` +
    `${base.rps} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms | ratio ${(real.rps / Math.max(base.rps, 1)).toFixed(2)}`;
}

export async function benchApi(): Promise<void> {
  const db = await benchDatabase();
  try {
    const started = nowMs();
    const lines = [...Array.from({ length: capturesBig }, (_, n) => capture(n, '2026-10')),
      ...Array.from({ length: capturesDetail }, (_, n) => capture(capturesBig + n, '2026-09'))];
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, topic, 6, lines);
    await log.producer.close();
    const consumer = log.consumer();
    await runProjector({ pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys, threads: { count: projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null } });
    await consumer.close();
    const ctx: ReportContext = { pool: db.pool, key: benchSigningKey, dataDir: db.dataDir,
      lineageBaseUrl: 'http://127.0.0.1/api/figures' };
    const balances = await loadRun(db.pool, (await createRun(ctx, { report: 'trial-balance',
      params: { as_of: '2026-11-01' }, requestedBy: 'bench', now: new Date() })).run_id);
    const figure = balances.figures.find((f) => f.key === 'debits' && f.dims.account === '1100');
    if (figure === undefined) throw new Error('no 1100 debits figure');
    const detail = await createRun(ctx, { report: 'gl-detail', params: { period: '2026-09' }, requestedBy: 'bench',
      now: new Date() });
    const xlsx = detail.files.xlsx as string;
    const xlsxBytes = (await stat(xlsx)).size;
    process.stdout.write(`data: ${lines.length} captures projected; lineage figure ${figure.value} over ` +
      `${capturesBig} lines; gl-detail xlsx ${(xlsxBytes / 2 ** 20).toFixed(1)} MiB; setup ${Math.round((nowMs() - started) / 1000)} s\n`);

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
      process.stdout.write(`one client: figure page /figures/ID (50 lines of ${capturesBig}) ` +
        `${await alone(`${realUrl}/figures/${figure.id}`, auth)} ms (baseline: the JSON lineage of 50 lines, bare, ` +
        `${await alone(`${bareUrl}/lineage/${figure.id}?limit=50`, {})} ms); target under 100 ms\n`);
      process.stdout.write(`${line('lineage first page (100 lines)', await load(`${realUrl}/api/figures/${figure.id}/lineage`, auth),
        await load(`${bareUrl}/lineage/${figure.id}`, {}))}\n`);
      process.stdout.write(`${line('report-runs list', await load(`${realUrl}/api/report-runs`, auth),
        await load(`${bareUrl}/runs`, {}))}\n`);
      process.stdout.write(`${line(`xlsx download (${(xlsxBytes / 2 ** 20).toFixed(1)} MiB)`,
        await load(`${realUrl}/api/report-runs/${detailRun}/files/xlsx`, auth), await load(`${bareUrl}/file`, {}))}\n`);
      process.stdout.write('targets: lineage p99 under 50 ms at 50 clients; lineage with authentication, scope and ' +
        'the audit record at least 0.5 of the baseline\'s requests per second\n');
    } finally {
      await real.close();
      await bare.close();
    }
  } finally {
    await db.close();
  }
}
