// The ledger and reconciliation part of the HTTP API (API.md), through Fastify's inject
// against real PostgreSQL and a journal projected from a small hand-written log (USD
// captures in US-CA, a CAD capture in CA-ON, two malformed messages): an account's balance
// equals the trial-balance report's figure; a CAD-scoped finance user gets 404 for USD and
// for an all-markets balance, sees no quarantine (no trusted currency) and no run that
// spans USD; wrong types, unknown fields and bad cursors are 400 naming the field; a break
// resolves once (trail row with who, reason and grant), a second time 409; a viewer gets
// 403 on every route.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../../src/access-control/service.ts';
import { accessRoutes } from '../../src/http/routes/access.ts';
import { ledgerRoutes } from '../../src/http/routes/ledger.ts';
import { reconciliationRoutes } from '../../src/http/routes/reconciliation.ts';
import { buildHttpServer, type HttpApp } from '../../src/http/server.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';
import { bankHeader, capture, chargeRow, processorHeader } from '../reconciliation/support.ts';

describe('the ledger and reconciliation API', () => {
  let ledger: TestLedger;
  let app: HttpApp;
  let dir: string;
  const now = new Date('2026-12-07T10:00:00.000Z');
  const tokens: Record<string, string> = {};
  let runId: string;
  let earlierRunId: string;
  let breakId: string;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const get = (who: string, url: string) => app.inject({ method: 'GET', url, headers: bearer(tokens[who] as string) });

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish([capture(1, '2026-10-01T10:00:00Z'), capture(2, '2026-10-01T11:00:00Z'),
      capture(3, '2026-10-02T09:00:00Z', { currency: 'CAD', market: 'CA-ON' }), '{"event_id": ', 'not json at all']);
    await ledger.project();
    const pool = ledger.db.pool;
    const ctx = { pool, clock: () => now };
    app = await buildHttpServer({ pool, clock: ctx.clock, logger: false, oidc: null, version: 'test',
      routes: [accessRoutes(ctx), ledgerRoutes(pool), reconciliationRoutes(pool)] });
    tokens.root = (await bootstrapAdmin(ctx, 'cli:test', { name: 'Root', email: 'root@example.com' })).token;
    const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: bearer(tokens.root as string), payload });
    const people: Array<[string, string, 'person' | 'service', object]> = [
      ['fin', 'finance', 'person', {}], ['cad', 'finance', 'person', { currencies: ['CAD'] }],
      ['usca', 'finance', 'person', { markets: ['US-CA'] }], ['both', 'finance', 'person', { currencies: ['USD', 'CAD'] }], ['viewer', 'viewer', 'person', {}],
      ['recon', 'reconciler', 'service', { currencies: ['USD'] }], ['recon-cad', 'reconciler', 'service', { currencies: ['CAD'] }],
    ];
    for (const [id, role, kind, scope] of people) {
      expect((await post('/api/access/users', { id, name: id, kind })).statusCode).toBe(201);
      expect((await post('/api/access/grants', { user: id, role, scope, expires_at: '2027-06-01T00:00:00Z',
        reason: 'test' })).statusCode).toBe(201);
      tokens[id] = (await post('/api/access/tokens', { user: id })).json().token;
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-api-'));
    const processor = path.join(dir, 'processor.csv');
    const bank = path.join(dir, 'bank.csv');
    await writeFile(processor, [processorHeader, chargeRow(1), ''].join('\n'));
    await writeFile(bank, `${bankHeader}\n`);
    const reconcile = (at: string) => runReconciliation(pool, { date: '2026-10-10',
      processor: { path: processor, format: 'csv' }, bank: { path: bank, format: 'csv' }, requestedBy: 'test',
      graceDays: 2, toleranceDays: 3, now: () => new Date(at) });
    earlierRunId = (await reconcile('2026-10-10T22:00:00Z')).run_id;
    const run = await reconcile('2026-10-10T23:30:00Z');
    runId = run.run_id;
    breakId = run.breaks.find((b) => b.reference === 'ch_2' && b.outcome === 'missing_externally')?.break_id as string;
    expect(breakId).toMatch(/^brk_/);
  });
  afterAll(async () => {
    await app?.close();
    await ledger?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('answers a balance equal to the trial-balance figure, in the normal side, as decimal strings', async () => {
    const report = await runReport(ledger, 'trial-balance', { as_of: '2026-11-01' });
    const figure = (key: string, account: string) =>
      report.figures.find((f) => f.key === key && f.dims.account === account && f.dims.currency === 'USD')?.value;
    const clearing = await get('fin', '/api/accounts/1100/balance?currency=USD&as_of=2026-11-01');
    expect(clearing.statusCode).toBe(200);
    expect(clearing.json()).toMatchObject({ account: '1100', currency: 'USD', as_of: '2026-11-01T00:00:00.000Z',
      dims: {}, debits: figure('debits', '1100'), credits: figure('credits', '1100'), balance: figure('balance', '1100') });
    const tax = (await get('fin', '/api/accounts/2200/balance?currency=USD&as_of=2026-11-01')).json();
    expect(tax.credits).toBe(figure('credits', '2200'));
    expect(tax.balance).toBe(figure('balance', '2200')?.replace(/^-/, '')); // credit-normal: shown positive
    expect(tax.balance).toBe('18.00');
    const before = (await get('fin', '/api/accounts/2200/balance?currency=USD&as_of=2026-10-01T10:30:00Z')).json();
    expect(before).toMatchObject({ balance: '9.00', lines: 1 });
    const oneMarket = (await get('usca', '/api/accounts/2200/balance?currency=USD&market=US-CA&as_of=2026-11-01')).json();
    expect(oneMarket).toMatchObject({ dims: { market: 'US-CA' }, balance: '18.00' });
  });

  it('is 404 out of scope: a CAD user asking for USD, or any market-scoped user over all markets', async () => {
    expect((await get('cad', '/api/accounts/2200/balance?currency=USD&market=US-CA')).statusCode).toBe(404);
    const cad = await get('cad', '/api/accounts/2200/balance?currency=CAD&market=CA-ON&as_of=2026-11-01');
    expect(cad.json()).toMatchObject({ currency: 'CAD', balance: '9.00' });
    expect((await get('usca', '/api/accounts/2200/balance?currency=USD')).statusCode).toBe(404);
    expect((await get('usca', '/api/accounts/1100/balance?currency=USD')).statusCode).toBe(404);
    expect((await get('usca', '/api/accounts/2200/balance?currency=USD&market=CA-ON')).statusCode).toBe(404);
    expect((await get('fin', '/api/accounts/1234/balance?currency=USD')).statusCode).toBe(404);
  });

  it('refuses wrong types, unknown fields, dimensions the account lacks and bad cursors, naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['/api/accounts/2200/balance?currency=EUR', 'currency'],
      ['/api/accounts/2200/balance', 'currency'],
      ['/api/accounts/2200/balance?currency=USD&colour=red', 'colour'],
      ['/api/accounts/2200/balance?currency=USD&owner_id=o_1', 'owner_id'],
      ['/api/accounts/2200/balance?currency=USD&as_of=2026-13-01', 'as_of'],
      ['/api/quarantine?cursor=bm90LW91cnM', 'cursor'],
      ['/api/quarantine?limit=abc', 'limit'],
      ['/api/reconciliation-runs?cursor=bm90LW91cnM', 'cursor'],
      ['/api/reconciliation-runs?limit=0', 'limit'],
      [`/api/reconciliation-runs/${'0'.repeat(8)}?cursor=x`, 'id'],
    ];
    for (const [url, field] of cases) {
      const response = await get('fin', url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.field, url).toBe(field);
    }
    const badBody = await app.inject({ method: 'POST', url: `/api/reconciliation-breaks/${breakId}/resolve`,
      headers: bearer(tokens.recon as string), payload: { reason: 'x', by: 'someone' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error.field).toBe('by');
  });

  it('shows the quarantine, paged, only to a grant on every currency and market', async () => {
    const first = (await get('fin', '/api/quarantine?limit=1')).json();
    expect(first.items).toHaveLength(1);
    expect(first.items[0]).toMatchObject({ topic: 'marketplace.events', reason: 'malformed_json' });
    const second = (await get('fin', `/api/quarantine?limit=1&cursor=${first.next_cursor}`)).json();
    expect(second.items).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(second.items[0].offset === first.items[0].offset && second.items[0].partition === first.items[0].partition)
      .toBe(false);
    expect((await get('cad', '/api/quarantine')).json()).toEqual({ items: [], next_cursor: null });
    expect((await get('usca', '/api/quarantine')).json()).toEqual({ items: [], next_cursor: null });
  });

  it('lists runs with outcomes and shows a run with its breaks, never one spanning a currency out of scope', async () => {
    const list = (await get('fin', '/api/reconciliation-runs?limit=1')).json();
    expect(list.items.map((r: { id: string }) => r.id)).toEqual([runId]);
    expect(list.items[0]).toMatchObject({ date: '2026-10-10', currencies: ['CAD', 'USD'], ok: false,
      supersedes: earlierRunId });
    const next = (await get('fin', `/api/reconciliation-runs?limit=1&cursor=${list.next_cursor}`)).json();
    expect(next).toMatchObject({ items: [{ id: earlierRunId }], next_cursor: null });
    expect(list.items[0].outcomes.matched.count).toBe(1);
    const shown = (await get('fin', `/api/reconciliation-runs/${runId}?limit=1`)).json();
    expect(shown.breaks.items).toHaveLength(1);
    const rest = (await get('fin', `/api/reconciliation-runs/${runId}?limit=10&cursor=${shown.breaks.next_cursor}`)).json();
    const all = [...shown.breaks.items, ...rest.breaks.items];
    expect(all.find((b: { break_id: string }) => b.break_id === breakId)).toMatchObject({ currency: 'USD',
      status: 'open', ledger_amount: '174.00', ledger: { event_type: 'payment.captured' } });
    expect((await get('both', '/api/reconciliation-runs')).json().items.map((r: { id: string }) => r.id))
      .toEqual([runId, earlierRunId]);
    expect((await get('both', `/api/reconciliation-runs/${runId}`)).statusCode).toBe(200);
    expect((await get('cad', '/api/reconciliation-runs')).json()).toEqual({ items: [], next_cursor: null });
    expect((await get('recon', '/api/reconciliation-runs')).json()).toEqual({ items: [], next_cursor: null });
    expect((await get('cad', `/api/reconciliation-runs/${runId}`)).statusCode).toBe(404);
    expect((await get('usca', `/api/reconciliation-runs/${runId}`)).statusCode).toBe(404);
    expect((await get('fin', '/api/reconciliation-runs/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('resolves a break once, as the caller, with a trail record; a second time is 409', async () => {
    const resolve = (who: string, id: string, reason: string) => app.inject({ method: 'POST',
      url: `/api/reconciliation-breaks/${id}/resolve`, headers: bearer(tokens[who] as string), payload: { reason } });
    expect((await resolve('recon-cad', breakId, 'not mine')).statusCode).toBe(404);
    expect((await resolve('recon', `brk_${'0'.repeat(24)}`, 'nothing')).statusCode).toBe(404);
    const first = await resolve('recon', breakId, 'Refunded outside the processor');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ break_id: breakId, status: 'resolved',
      resolution: { resolved_by: 'recon', reason: 'Refunded outside the processor' } });
    const trail = await ledger.db.adminPool.query(`SELECT actor, object, grant_id, detail FROM access.audit_trail
      WHERE action = 'break.resolve'`);
    expect(trail.rows).toHaveLength(1);
    expect(trail.rows[0]).toMatchObject({ actor: 'recon', object: breakId, detail: { reason: 'Refunded outside the processor' } });
    expect(trail.rows[0].grant_id).toMatch(/^grt_/);
    const second = await resolve('recon', breakId, 'again');
    expect(second.statusCode).toBe(409);
    const stored = await ledger.db.adminPool.query('SELECT resolved_by, reason FROM ledger.reconciliation_resolutions');
    expect(stored.rows).toEqual([{ resolved_by: 'recon', reason: 'Refunded outside the processor' }]);
    const after = await ledger.db.adminPool.query(`SELECT count(*)::int AS n FROM access.audit_trail WHERE action = 'break.resolve'`);
    expect(after.rows[0]?.n).toBe(1);
    const shown = (await get('fin', `/api/reconciliation-runs/${runId}`)).json();
    expect(shown.breaks.items.find((b: { break_id: string }) => b.break_id === breakId).status).toBe('resolved');
  });

  it('is 403 for a viewer on every route, and 403 for finance resolving a break', async () => {
    for (const url of ['/api/accounts/1100/balance?currency=USD', '/api/quarantine', '/api/reconciliation-runs',
      `/api/reconciliation-runs/${runId}`]) {
      expect((await get('viewer', url)).statusCode, url).toBe(403);
    }
    for (const who of ['viewer', 'fin']) {
      const response = await app.inject({ method: 'POST', url: `/api/reconciliation-breaks/${breakId}/resolve`,
        headers: bearer(tokens[who] as string), payload: { reason: 'x' } });
      expect(response.statusCode, who).toBe(403);
    }
  });
});
