// A slow run on demand (API.md): POST answers 202 and GET /api/report-runs/{id} shows the
// run's progress while it runs, then the published run with progress null. The run is
// made slow deterministically: the test holds locks it must wait for, first before it
// renders (the checkpoint's FOR SHARE on ledger.log_partitions), then after (the INSERT
// into ledger.report_runs), and looks at GET while the run waits on each.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/http.ts';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../../src/access-control/service.ts';
import { loadConfig } from '../../src/config.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import { documentedResponses } from '../../src/http/responses.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { reportFormats } from '../../src/reports/render/types.ts';
import { renderStoredRun } from '../../src/reports/runs.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { testApprover } from '../support/keys.ts';
import { reportContext } from '../support/reports.ts';

describe('a running report run shows its progress', () => {
  let ledger: TestLedger;
  let app: HttpApp;
  let token: string;
  const holders: pg.Client[] = [];

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(generateEventStream({ seed: 12, rentals: 150, month: '2026-10', approve: testApprover }));
    await ledger.project();
    const ctx = { pool: ledger.db.pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(ctx, 'test', { name: 'Admin', email: 'admin@example.com' });
    const as = { identityId: admin.user.id, source: 'test', grantId: null };
    const person = await createIdentity(ctx, as, { name: 'Fin', email: 'fin@example.com', kind: 'person' });
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    await grantRole(ctx, as, { user: person.id, role: 'finance', expires_at: expires, reason: 'test' });
    token = (await issueTokenFor(ctx, as, { user: person.id })).token;
    const config = loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, PORT: '0' });
    app = await buildApp(config, { pool: ledger.db.pool, metrics: createMetrics(ledger.db.pool), clock: () => new Date(),
      reports: await reportContext(ledger) }, { logger: false });
  });
  afterAll(async () => {
    for (const holder of holders) await holder.end().catch(() => undefined);
    await app.close();
    await ledger.close();
  });

  /** A transaction of the database's owner that holds `lock` until it is released. */
  async function hold(lock: string): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: ledger.db.url });
    holders.push(client);
    await client.connect();
    await client.query('BEGIN');
    await client.query(lock);
    return async () => { await client.query('COMMIT'); };
  }

  /** Until a session of this database waits for a lock in a statement like `pattern` (bounded). */
  async function waitingOn(pattern: RegExp): Promise<void> {
    for (let tries = 0; tries < 1_200; tries += 1) {
      const waiting = await ledger.db.pool.query<{ query: string }>(`SELECT query FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (waiting.rows.some((r) => pattern.test(r.query))) return;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a poll of the server's state, not a guess of time
    }
    throw new Error(`no session waited on ${pattern}`);
  }

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const documented = ajv.compile(documentedResponses['GET /api/report-runs/:id']?.[200] as object);

  /** The run as GET answers it, held to the answer responses.ts documents. */
  const get = async (id: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/report-runs/${id}`,
      headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ status: string; progress: Record<string, unknown> | null }>();
    expect(documented(body), `${ajv.errorsText(documented.errors)}: ${response.body.slice(0, 300)}`).toBe(true);
    return body;
  };

  it('from nothing rendered, to every row rendered, to published', async () => {
    const releaseCheckpoint = await hold('SELECT 1 FROM ledger.log_partitions FOR UPDATE');
    const releaseStore = await hold('LOCK TABLE ledger.report_runs IN SHARE MODE');
    const posted = await app.inject({ method: 'POST', url: '/api/report-runs',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: { report: 'gl-detail', params: { period: '2026-10' } } });
    expect(posted.statusCode, posted.body).toBe(202);
    const { id, status } = posted.json<{ id: string; status: string }>();
    expect(status).toBe('running');

    await waitingOn(/ledger\.log_partitions/);
    const before = await get(id);
    expect(before.status).toBe('running');
    expect(before.progress).toMatchObject({ done: 0, total: null, unit: 'rows', eta_seconds: null,
      started_at: expect.any(String) });

    await releaseCheckpoint();
    await waitingOn(/INSERT INTO ledger\.report_runs/);
    const rendered = await get(id);
    expect(rendered.status).toBe('running');
    const progress = rendered.progress as { done: number; total: number; rate_per_second: number; eta_seconds: number };
    // Every row of each of the four renderings: the month's journal lines and the figures' tables.
    const lines = await ledger.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ledger.journal_lines WHERE booked_period = '2026-10-01'`);
    expect(progress.total).toBeGreaterThan(4 * Number(lines.rows[0]?.n));
    expect(progress.total % 4).toBe(0);
    expect(progress.done).toBe(progress.total);
    expect(progress.eta_seconds).toBe(0);
    expect(progress.rate_per_second).toBeGreaterThan(0);

    await releaseStore();
    let published = await get(id);
    for (let tries = 0; published.status === 'running' && tries < 1_200; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      published = await get(id);
    }
    expect(published).toMatchObject({ status: 'published', progress: null });
    // Counting the rows as they were rendered changed no byte: rendered again, the files are the same.
    await expect(renderStoredRun(await reportContext(ledger), id, path.join(ledger.dataDir, 'again'), reportFormats))
      .resolves.toMatchObject({ run_id: id });
  });
});
