// The reports, lineage and events API as a script uses it: a plain HTTP client (fetch)
// over a real socket. Finance downloads an xlsx whose SHA-256 and bytes match the signed
// manifest (ETag, Range, If-None-Match honoured), and the download is in the trail with
// the file's hash and the grant. An auditor follows a figure's lineage to a raw event and
// hashes its bytes to the stored SHA-256. A CAD-scoped finance user sees only CAD runs;
// a USD run, figure or event fetched by id is 404, and runs on demand only within scope.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/http.ts';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor, approveGrant } from '../../src/access-control/service.ts';
import { loadConfig } from '../../src/config.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { testApprover } from '../support/keys.ts';
import { reportContext, runReport } from '../support/reports.ts';

describe('the reports API over a real socket', () => {
  let ledger: TestLedger;
  let app: HttpApp;
  let base: string;
  const tokens: Record<string, string> = {};
  let usdRun: Awaited<ReturnType<typeof runReport>>;
  let cadRun: Awaited<ReturnType<typeof runReport>>;

  const get = (who: string, url: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, { headers: { authorization: `Bearer ${tokens[who]}`, ...headers } });
  // A script reads JSON without a schema of its own; the assertions say what it must hold.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(generateEventStream({ seed: 11, rentals: 150, month: '2026-10', approve: testApprover }));
    await ledger.project();
    usdRun = await runReport(ledger, 'revenue', { period: '2026-10' });
    cadRun = await runReport(ledger, 'revenue', { period: '2026-10', currency: 'CAD' });
    const ctx = { pool: ledger.db.pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(ctx, 'test', { name: 'Admin', email: 'admin@example.com' });
    tokens.admin = admin.token;
    const as = { identityId: admin.user.id, source: 'test', grantId: null };
    const second = await createIdentity(ctx, as, { name: 'Second', email: 'second@example.com', kind: 'person' });
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const secondGrant = await grantRole(ctx, as, { user: second.id, role: 'admin', expires_at: expires, reason: 'four eyes' });
    await approveGrant(ctx, as, secondGrant.id, { reason: 'sole admin', breakGlass: true });
    for (const [name, role, scope] of [['fin', 'finance', undefined], ['cadfin', 'finance', { currencies: ['CAD'] }],
      ['aud', 'auditor', undefined], ['view', 'viewer', undefined]] as const) {
      const person = await createIdentity(ctx, as, { name, email: `${name}@example.com`, kind: 'person' });
      const grant = await grantRole(ctx, as, { user: person.id, role, scope, expires_at: expires, reason: 'test' });
      if (grant.status === 'pending') {
        await approveGrant(ctx, { identityId: second.id, source: 'test', grantId: null }, grant.id, { reason: null, breakGlass: false });
      }
      tokens[name] = (await issueTokenFor(ctx, as, { user: person.id })).token;
    }
    const config = loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, PORT: '0' });
    app = await buildApp(config, { pool: ledger.db.pool, metrics: createMetrics(ledger.db.pool), clock: () => new Date(),
      reports: await reportContext(ledger) }, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await app.close();
    await ledger.close();
  });

  it('downloads an xlsx whose bytes are the manifest\'s, with ETag and Range, recorded in the trail', async () => {
    const run = await json(get('fin', `/api/report-runs/${usdRun.run_id}`));
    expect(run).toMatchObject({ id: usdRun.run_id, report: 'revenue', status: 'published' });
    const manifest = await json(get('fin', `/api/report-runs/${usdRun.run_id}/files/manifest`));
    const response = await get('fin', `/api/report-runs/${usdRun.run_id}/files/xlsx`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="revenue-.*\.xlsx"$/);
    const bytes = Buffer.from(await response.arrayBuffer());
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(sha256).toBe(manifest.manifest.files.xlsx.sha256);
    expect(response.headers.get('etag')).toBe(`"${sha256}"`);
    expect(run.files.xlsx).toEqual({ sha256, bytes: bytes.length });
    const part = await get('fin', `/api/report-runs/${usdRun.run_id}/files/xlsx`, { range: 'bytes=10-109' });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 110));
    const again = await get('fin', `/api/report-runs/${usdRun.run_id}/files/xlsx`, { 'if-none-match': `"${sha256}"` });
    expect(again.status).toBe(304);
    const trail = await ledger.db.adminPool.query<{ actor: string; grant_id: string; detail: { sha256: string } }>(
      `SELECT actor, grant_id, detail FROM access.audit_trail WHERE action = 'report.download' AND detail->>'format' = 'xlsx'`);
    expect(trail.rows.length).toBe(3);
    expect(trail.rows.every((r) => r.actor === 'fin' && r.detail.sha256 === sha256 && r.grant_id.startsWith('grt_'))).toBe(true);
  });

  it('lets an auditor walk from a figure to its raw event and hash the bytes', async () => {
    const figure = usdRun.figures.find((f) => f.key === 'recognized_commission' && f.value !== '0.00');
    expect(figure).toBeDefined();
    const lineage = await json(get('aud', `/api/figures/${figure?.id}/lineage?limit=5`));
    expect(lineage.figure.id).toBe(figure?.id);
    const line = lineage.lines[0];
    const event = await json(get('aud', `/api/events/${line.event_id}`));
    expect(event).toMatchObject({ topic: line.topic, partition: line.partition, offset: line.offset });
    const raw = Buffer.from(event.value_base64, 'base64');
    expect(createHash('sha256').update(raw).digest('hex')).toBe(event.sha256);
    expect(event.sha256).toBe(line.message_sha256);
    const reads = await ledger.db.adminPool.query(
      `SELECT action FROM access.audit_trail WHERE actor = 'aud' ORDER BY seq`);
    expect(reads.rows.map((r) => r.action)).toEqual(['lineage.read', 'event.read']);
  });

  it('shows a CAD-scoped user only CAD, as if the rest did not exist', async () => {
    const listed = await json(get('cadfin', '/api/report-runs'));
    expect(listed.items.map((r: { id: string }) => r.id)).toEqual([cadRun.run_id]);
    expect((await get('cadfin', `/api/report-runs/${usdRun.run_id}`)).status).toBe(404);
    expect((await get('cadfin', `/api/report-runs/${usdRun.run_id}/files/xlsx`)).status).toBe(404);
    const usdFigure = usdRun.figures.find((f) => f.dims.currency === 'USD');
    expect((await get('cadfin', `/api/figures/${usdFigure?.id}/lineage`)).status).toBe(404);
    const usdLine = (await json(get('aud', `/api/figures/${usdFigure?.id}/lineage?limit=1`))).lines[0];
    expect((await get('cadfin', `/api/events/${usdLine.event_id}`)).status).toBe(404);
    const cadFigure = cadRun.figures.find((f) => f.value !== '0.00' && f.dims.currency === 'CAD');
    expect((await get('cadfin', `/api/figures/${cadFigure?.id}/lineage?limit=1`)).status).toBe(200);
    const everything = await json(get('fin', '/api/report-runs'));
    expect(everything.items.map((r: { id: string }) => r.id)).toEqual([cadRun.run_id, usdRun.run_id]);
  });

  it('runs a report on demand only within the caller\'s scope', async () => {
    const post = (who: string, body: object) => fetch(`${base}/api/report-runs`, { method: 'POST',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post('cadfin', { report: 'revenue', params: { period: '2026-10' } });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.message).toMatch(/params.currency/);
    const made = await post('cadfin', { report: 'revenue', params: { period: '2026-10', currency: 'CAD' } });
    expect([201, 202]).toContain(made.status);
    const body = await json(made);
    expect(body.params ?? { currency: 'CAD' }).toMatchObject({ currency: 'CAD' });
    const bad = await post('cadfin', { report: 'revenue', params: { period: '2026-02-30', currency: 'CAD' } });
    expect(bad.status).toBe(400);
    expect((await post('view', { report: 'revenue', params: { period: '2026-10' } })).status).toBe(403);
  });

  it('serves nothing, with 503, when the trail cannot record the download', async () => {
    await ledger.db.adminPool.query('REVOKE INSERT ON access.audit_trail FROM ledger_writer');
    try {
      const response = await get('fin', `/api/report-runs/${usdRun.run_id}/files/csv`);
      expect(response.status).toBe(503);
      expect((await json(response)).error.code).toBe('trail_unavailable');
      const lineage = await get('aud', `/api/figures/${usdRun.figures[0]?.id}/lineage`);
      expect(lineage.status).toBe(503);
    } finally {
      await ledger.db.adminPool.query('GRANT INSERT ON access.audit_trail TO ledger_writer');
    }
    expect((await get('fin', `/api/report-runs/${usdRun.run_id}/files/csv`)).status).toBe(200);
  });

  it('keeps its files where the manifest says', async () => {
    const stored = await readFile(usdRun.files.manifest as string, 'utf8');
    expect(JSON.parse(stored).manifest.run.run_id).toBe(usdRun.run_id);
  });
});
