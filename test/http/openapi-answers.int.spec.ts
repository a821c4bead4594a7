// Every route of the OpenAPI document answers as documented (issue 13): the application is
// built as `ledger serve` builds it (src/app/application.ts) over a ledger with posted
// events, quarantined ones, a report run and a reconciliation run, and each documented
// operation is called, successfully and in its documented failures, with the status and
// body of each answer checked against the document the service itself serves. The test
// fails for an operation the document lists that no call reached with a success.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApplication, type Application } from '../../src/app/application.ts';
import { bootstrapAdmin } from '../../src/access-control/service.ts';
import { loadConfig } from '../../src/config.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { bankHeader, capture, chargeRow, processorHeader } from '../reconciliation/support.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
type Document = { paths: Record<string, Record<string, Operation>> };
type Call = { method: 'GET' | 'POST' | 'DELETE'; url: string; as?: string; payload?: object;
  headers?: Record<string, string> };

describe('the OpenAPI document, held to what every route answers', () => {
  let ledger: TestLedger;
  let application: Application;
  let app: HttpApp;
  let document: Document;
  let dir: string;
  const tokens: Record<string, string> = {};
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const reached = new Set<string>();
  let runId: string;
  let figureId: string;
  let eventId: string;
  let reconciliationRunId: string;
  let breakId: string;

  /** The documented operation an answer belongs to: path template and method. */
  function operationOf(method: string, url: string): { key: string; operation: Operation } {
    const pathname = url.split('?')[0] as string;
    for (const [template, methods] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      const operation = methods[method.toLowerCase()];
      if (pattern.test(pathname) && operation !== undefined) return { key: `${method} ${template}`, operation };
    }
    throw new Error(`${method} ${pathname} is not in the OpenAPI document`);
  }

  /** Calls, then checks the status is documented for the operation and the body is its documented schema. */
  async function call(c: Call): Promise<{ status: number; body: unknown }> {
    const headers = { ...(c.as === undefined ? {} : { authorization: `Bearer ${tokens[c.as]}` }), ...c.headers };
    const response = await app.inject({ method: c.method, url: c.url, headers,
      ...(c.payload === undefined ? {} : { payload: c.payload }), remoteAddress: `10.9.${reached.size}.${Math.floor(Math.random() * 250)}` });
    const { key, operation } = operationOf(c.method, c.url);
    const documented = operation.responses[String(response.statusCode)];
    expect(documented, `${key} answered ${response.statusCode}, which it does not document: ${response.body.slice(0, 300)}`)
      .toBeDefined();
    const json = (response.headers['content-type'] ?? '').toString().startsWith('application/json');
    const body = json && response.body !== '' ? response.json() : response.body;
    const schema = documented?.content?.['application/json']?.schema;
    if (json) expect(schema, `${key} ${response.statusCode}: no documented body`).toBeDefined();
    if (json && schema !== undefined) {
      const validate = ajv.compile(schema);
      expect(validate(body), `${key} ${response.statusCode}: ${ajv.errorsText(validate.errors)}\n` +
        `${JSON.stringify(body).slice(0, 400)}`).toBe(true);
    }
    if (response.statusCode < 300) reached.add(key);
    return { status: response.statusCode, body };
  }

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish([...generateEventStream({ seed: 5, rentals: 30, month: '2026-10', approve: testApprover }),
      capture(9001, '2026-10-01T10:00:00Z'), capture(9002, '2026-10-01T11:00:00Z'), 'not json at all']);
    await ledger.project();
    // The service appends approved adjustments to this log itself: the test's writer lets go of it.
    await ledger.log.producer.close();
    const run = await runReport(ledger, 'revenue', { period: '2026-10' });
    runId = run.run_id;
    figureId = run.figures.find((f) => f.key === 'recognized_commission' && f.value !== '0.00')?.id as string;
    dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-openapi-'));
    await writeFile(path.join(dir, 'processor.csv'), [processorHeader, chargeRow(9001), ''].join('\n'));
    await writeFile(path.join(dir, 'bank.csv'), `${bankHeader}\n`);
    const reconciliation = await runReconciliation(ledger.db.pool, { date: '2026-10-10',
      processor: { path: path.join(dir, 'processor.csv'), format: 'csv' },
      bank: { path: path.join(dir, 'bank.csv'), format: 'csv' }, requestedBy: 'test', graceDays: 2, toleranceDays: 3,
      now: () => new Date('2026-10-10T23:00:00Z') });
    reconciliationRunId = reconciliation.run_id;
    breakId = reconciliation.breaks.find((b) => b.reference === 'ch_9002')?.break_id as string;
    expect(breakId).toMatch(/^brk_/);

    // Built as serve builds it: from the config, through the application layer.
    application = await openApplication(loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir }));
    app = await application.http({ logger: false });
    document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const ctx = { pool: ledger.db.pool, clock: () => new Date() };
    tokens.admin = (await bootstrapAdmin(ctx, 'test', { name: 'Admin', email: null })).token;
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    for (const [id, role] of [['second', 'admin'], ['fin', 'finance'], ['fin2', 'finance'], ['aud', 'auditor'],
      ['recon', 'reconciler']] as const) {
      expect((await call({ method: 'POST', url: '/api/access/users', as: 'admin',
        payload: { id, name: id, kind: role === 'reconciler' ? 'service' : 'person' } })).status).toBe(201);
      const grant = await call({ method: 'POST', url: '/api/access/grants', as: 'admin',
        payload: { user: id, role, expires_at: expires, reason: 'openapi test' } });
      expect(grant.status).toBe(201);
      const grantId = (grant.body as { id: string; status: string }).id;
      if ((grant.body as { status: string }).status === 'pending') {
        const approver = id === 'second' ? null : 'second';
        if (approver === null) {
          const { approveGrant } = await import('../../src/access-control/service.ts');
          await approveGrant(ctx, { identityId: 'test-operator', source: 'test', grantId: null }, grantId,
            { reason: 'sole admin', breakGlass: true });
        } else {
          expect((await call({ method: 'POST', url: `/api/access/grants/${grantId}/approve`, as: approver,
            payload: {} })).status).toBe(200);
        }
      }
      const token = await call({ method: 'POST', url: '/api/access/tokens', as: 'admin', payload: { user: id } });
      expect(token.status).toBe(201);
      tokens[id] = (token.body as { token: string }).token;
    }
    const lineage = await call({ method: 'GET', url: `/api/figures/${figureId}/lineage?limit=3`, as: 'aud' });
    eventId = (lineage.body as { lines: Array<{ event_id: string }> }).lines[0]?.event_id as string;
  });
  afterAll(async () => {
    await app?.close();
    await application?.close();
    await ledger?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('answers every documented operation with a documented status and body', async () => {
    const ok = async (c: Call, status = 200) => {
      const answer = await call(c);
      expect(answer.status, `${c.method} ${c.url}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(status);
    };
    await ok({ method: 'GET', url: '/api/health' });
    await ok({ method: 'GET', url: '/metrics', as: 'admin' });
    await ok({ method: 'GET', url: '/api/access/users?limit=2', as: 'admin' });
    await ok({ method: 'GET', url: '/api/access/grants?limit=2', as: 'admin' });
    const created = await call({ method: 'POST', url: '/api/access/grants', as: 'admin',
      payload: { user: 'fin2', role: 'viewer', expires_at: new Date(Date.now() + 86_400_000).toISOString(), reason: 'to revoke' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const revocable = created.body as { id: string };
    await ok({ method: 'DELETE', url: `/api/access/grants/${revocable.id}`, as: 'admin', payload: { reason: 'done' } });
    await ok({ method: 'GET', url: '/api/audit?limit=5&action=grant.create', as: 'aud' });
    await ok({ method: 'GET', url: '/api/report-runs?limit=5', as: 'fin' });
    await ok({ method: 'GET', url: `/api/report-runs/${runId}`, as: 'fin' });
    const files = `/api/report-runs/${runId}/files/xlsx`;
    const whole = await app.inject({ method: 'GET', url: files, headers: { authorization: `Bearer ${tokens.fin}` } });
    await ok({ method: 'GET', url: files, as: 'fin' });
    await ok({ method: 'GET', url: files, as: 'fin', headers: { range: 'bytes=0-99' } }, 206);
    await ok({ method: 'GET', url: files, as: 'fin', headers: { 'if-none-match': String(whole.headers.etag) } }, 304);
    await ok({ method: 'GET', url: files, as: 'fin', headers: { range: 'bytes=99999999-' } }, 416);
    await ok({ method: 'POST', url: '/api/report-runs', as: 'fin',
      payload: { report: 'trial-balance', params: { as_of: '2026-11-01', currency: 'USD' } } }, 201);
    await ok({ method: 'GET', url: `/api/figures/${figureId}/lineage?limit=2`, as: 'aud' });
    await ok({ method: 'GET', url: `/api/events/${eventId}`, as: 'aud' });
    await ok({ method: 'GET', url: '/api/accounts/1100/balance?currency=USD&as_of=2026-11-01', as: 'fin' });
    await ok({ method: 'GET', url: '/api/quarantine', as: 'fin' });
    await ok({ method: 'GET', url: '/api/reconciliation-runs', as: 'fin' });
    await ok({ method: 'GET', url: `/api/reconciliation-runs/${reconciliationRunId}?limit=2`, as: 'fin' });
    await ok({ method: 'POST', url: `/api/reconciliation-breaks/${breakId}/resolve`, as: 'recon',
      payload: { reason: 'refunded outside the processor' } });
    await ok({ method: 'POST', url: `/api/reconciliation-breaks/${breakId}/resolve`, as: 'recon',
      payload: { reason: 'again' } }, 409);
    const adjustment = await call({ method: 'POST', url: '/api/adjustments', as: 'fin', payload: { reason: 'fix',
      currency: 'USD', lines: [{ account: '5900', side: 'debit', amount: '1.00' },
        { account: '1000', side: 'credit', amount: '1.00' }] } });
    expect(adjustment.status, JSON.stringify(adjustment.body)).toBe(201);
    await ok({ method: 'POST', url: `/api/adjustments/${(adjustment.body as { id: string }).id}/approve`, as: 'fin2',
      payload: {} });

    const documented = Object.entries(document.paths)
      .flatMap(([template, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${template}`)).sort();
    expect(documented.filter((key) => !reached.has(key)), 'documented operations no call reached').toEqual([]);
  });

  it('answers the documented failures: 401, 403, 400 naming the field, 404', async () => {
    const status = async (c: Call) => (await call(c)).status;
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) {
        if (template === '/api/health') continue;
        const url = template.replace('{id}', runId).replace('{format}', 'json').replace('{figureId}', figureId)
          .replace('{eventId}', eventId).replace('{code}', '1100');
        expect(await status({ method: method.toUpperCase() as Call['method'], url }), `${method} ${template}`).toBe(401);
      }
    }
    expect(await status({ method: 'GET', url: '/api/audit', as: 'fin' })).toBe(403);
    const bad = await call({ method: 'GET', url: '/api/report-runs?limit=0', as: 'fin' });
    expect(bad).toMatchObject({ status: 400, body: { error: { field: 'limit' } } });
    expect(await status({ method: 'GET', url: '/api/report-runs/00000000-0000-4000-8000-000000000000', as: 'fin' }))
      .toBe(404);
    const self = await call({ method: 'POST', url: '/api/access/grants', as: 'admin',
      payload: { user: 'admin', role: 'viewer', expires_at: '2030-01-01T00:00:00Z', reason: 'self' } });
    expect(self).toMatchObject({ status: 403, body: { error: { code: 'separation_of_duties' } } });
  });
});
