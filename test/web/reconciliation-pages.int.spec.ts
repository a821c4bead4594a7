// The reconciliation pages through app.inject: runs with their outcomes, open breaks by
// age as a chart, a run's breaks, scope as in the API (a CAD-scoped user does not see a
// run that touched USD, not even counted), and resolving a break with a reason from the
// page by one allowed to (a reconciler), once, in the trail; finance sees no such form.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../../src/access-control/service.ts';
import { buildApp } from '../../src/app/http.ts';
import { loadConfig } from '../../src/config.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { reportContext } from '../support/reports.ts';
import { loginByForm, type CookieJar } from '../support/web.ts';
import { bankHeader, capture, chargeRow, processorHeader } from '../reconciliation/support.ts';

describe('reconciliation pages', () => {
  let ledger: TestLedger;
  let app: HttpApp;
  let dir: string;
  let runId: string;
  let breakId: string;
  const tokens: Record<string, string> = {};
  const jars: Record<string, CookieJar> = {};

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish([capture(1, '2026-10-01T10:00:00Z'), capture(2, '2026-10-01T11:00:00Z'),
      capture(3, '2026-10-02T09:00:00Z', { currency: 'CAD', market: 'CA-ON' })]);
    await ledger.project();
    const pool = ledger.db.pool;
    const ctx = { pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(ctx, 'test', { name: 'Root', email: null });
    const as = { identityId: admin.user.id, source: 'test', grantId: null };
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    for (const [id, role, kind, scope] of [['fin', 'finance', 'person', undefined], ['cad', 'finance', 'person',
      { currencies: ['CAD'] }], ['recon', 'reconciler', 'service', undefined]] as const) {
      await createIdentity(ctx, as, { id, name: id, kind });
      await grantRole(ctx, as, { user: id, role, scope, expires_at: expires, reason: 'test' });
      tokens[id] = (await issueTokenFor(ctx, as, { user: id })).token;
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-recon-pages-'));
    const processor = path.join(dir, 'processor.csv');
    const bank = path.join(dir, 'bank.csv');
    await writeFile(processor, [processorHeader, chargeRow(1), ''].join('\n'));
    await writeFile(bank, `${bankHeader}\n`);
    const run = await runReconciliation(pool, { date: '2026-10-10', processor: { path: processor, format: 'csv' },
      bank: { path: bank, format: 'csv' }, requestedBy: 'test', graceDays: 2, toleranceDays: 3,
      now: () => new Date('2026-10-10T23:30:00Z') });
    runId = run.run_id;
    breakId = run.breaks.find((b) => b.reference === 'ch_2' && b.outcome === 'missing_externally')?.break_id as string;
    app = await buildApp(loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir }),
      { pool, metrics: createMetrics(pool), clock: () => new Date(), reports: await reportContext(ledger) }, { logger: false });
    for (const who of ['fin', 'cad']) jars[who] = await loginByForm(app, tokens[who] as string);
  });
  afterAll(async () => {
    await app?.close();
    await ledger?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const page = (who: string, url: string) => app.inject({ method: 'GET', url, headers: { cookie: jars[who]?.header() ?? '' } });

  it('lists runs with outcomes and charts the newest run\'s open breaks by age', async () => {
    const list = await page('fin', '/reconciliation');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`<a href="/reconciliation/${runId}">2026-10-10</a>`);
    expect(list.body).toContain('Open breaks of the run of 2026-10-10 by age');
    expect(list.body).toMatch(/<rect [^>]+><title>0–2 days, open breaks: \d+ breaks<\/title>/);
    const run = await page('fin', `/reconciliation/${runId}`);
    expect(run.body).toContain(breakId);
    expect(run.body).not.toContain(`/reconciliation/breaks/${breakId}/resolve`);
  });

  it('shows a CAD-scoped user no run that touched USD, and its URL as not found', async () => {
    const list = await page('cad', '/reconciliation');
    expect(list.body).toContain('No reconciliation run in your scope yet.');
    expect(list.body).not.toContain(runId);
    expect((await page('cad', `/reconciliation/${runId}`)).statusCode).toBe(404);
  });

  it('lets a reconciler resolve a break with a reason, once, recorded in the trail', async () => {
    const bearer = { authorization: `Bearer ${tokens.recon}` };
    const before = await app.inject({ method: 'GET', url: `/reconciliation/${runId}`, headers: bearer });
    expect(before.body).toContain(`action="/reconciliation/breaks/${breakId}/resolve"`);
    const resolve = () => app.inject({ method: 'POST', url: `/reconciliation/breaks/${breakId}/resolve`,
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'reason=refund+in+transit' });
    const done = await resolve();
    expect(done.statusCode).toBe(303);
    const after = await app.inject({ method: 'GET', url: `/reconciliation/${runId}`, headers: bearer });
    expect(after.body).toContain('resolved by recon: refund in transit');
    const again = await resolve();
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
    const trail = await ledger.db.adminPool.query(`SELECT actor, object FROM access.audit_trail WHERE action = 'break.resolve'`);
    expect(trail.rows).toEqual([{ actor: 'recon', object: breakId }]);
  });
});
