// Four eyes on manual adjustments (API.md, issue 13): a finance user requests a balanced
// entry, checked as the projector would check it (an unbalanced one, or one on a
// non-manual account, is 400 naming the field, and nothing is written); the requester's
// own approval is 403 separation_of_duties, recorded; a second person's approval makes
// the service sign it and append adjustment.posted to the log, and the projector posts
// it, its approval verifying against the trusted key. The same adjustment posted to the
// log unsigned is quarantined unapproved_adjustment. The database refuses a requester's
// approval too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../../src/access-control/service.ts';
import { buildApp } from '../../src/app/http.ts';
import { loadConfig } from '../../src/config.ts';
import { approvalKeys, checkApproval } from '../../src/ledger/approval.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { testSigningKey, testTrustedKeys } from '../support/keys.ts';

describe('adjustments over the API', () => {
  let ledger: TestLedger;
  let app: HttpApp;
  const appended: string[] = [];
  const tokens: Record<string, string> = {};
  const post = (who: string, url: string, payload: object) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens[who]}` }, payload });
  const balanced = { reason: 'reclass a misposted fee', currency: 'USD', lines: [
    { account: '5900', side: 'debit', amount: '12.50' }, { account: '1000', side: 'credit', amount: '12.50' }] };

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 1 });
    const ctx = { pool: ledger.db.pool, clock: () => new Date() };
    const admin = await bootstrapAdmin(ctx, 'test', { name: 'Admin', email: null });
    const as = { identityId: admin.user.id, source: 'test', grantId: null };
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    for (const name of ['alice', 'bob']) {
      const person = await createIdentity(ctx, as, { name, kind: 'person' });
      await grantRole(ctx, as, { user: person.id, role: 'finance', expires_at: expires, reason: 'close' });
      tokens[name] = (await issueTokenFor(ctx, as, { user: person.id })).token;
    }
    const config = loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir });
    app = await buildApp(config, { pool: ledger.db.pool, metrics: createMetrics(ledger.db.pool), clock: () => new Date(),
      reports: { pool: ledger.db.pool, key: testSigningKey, dataDir: ledger.dataDir, lineageBaseUrl: 'http://x/api/figures' },
      appendToLog: async (line) => {
        appended.push(line);
        await ledger.publish([line]);
      } }, { logger: false });
  });
  afterAll(async () => {
    await app.close();
    await ledger.close();
  });

  it('refuses what the projector would refuse, naming the field, and writes nothing', async () => {
    const unbalanced = await post('alice', '/api/adjustments', { ...balanced, lines: [
      { account: '5900', side: 'debit', amount: '12.50' }, { account: '1000', side: 'credit', amount: '12.00' }] });
    expect(unbalanced.statusCode).toBe(400);
    expect(unbalanced.json().error).toMatchObject({ code: 'unbalanced', field: 'lines' });
    const notManual = await post('alice', '/api/adjustments', { ...balanced, lines: [
      { account: '2000', side: 'debit', amount: '1.00', dims: { owner_id: 'o1' } },
      { account: '1000', side: 'credit', amount: '1.00' }] });
    expect(notManual.statusCode).toBe(400);
    expect(notManual.json().error.message).toMatch(/not open to manual entries|not in the chart/);
    const badAmount = await post('alice', '/api/adjustments', { ...balanced, lines: [
      { account: '5900', side: 'debit', amount: '12.505' }, { account: '1000', side: 'credit', amount: '12.505' }] });
    expect(badAmount.statusCode).toBe(400);
    const rows = await ledger.db.adminPool.query('SELECT count(*)::int AS n FROM access.adjustment_requests');
    expect(rows.rows[0]?.n).toBe(0);
  });

  it('posts a request only once a second person approves it, through the log', async () => {
    const requested = await post('alice', '/api/adjustments', balanced);
    expect(requested.statusCode, requested.body).toBe(201);
    const { id } = requested.json();
    expect(requested.json()).toEqual({ id, status: 'pending', requested_by: 'alice' });

    const own = await post('alice', `/api/adjustments/${id}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('separation_of_duties');
    expect(appended).toEqual([]);

    const approved = await post('bob', `/api/adjustments/${id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id, status: 'approved', approved_by: 'bob' });
    expect((await post('bob', `/api/adjustments/${id}/approve`, {})).statusCode).toBe(409);

    expect(appended).toHaveLength(1);
    const event = JSON.parse(appended[0] as string);
    expect(event).toMatchObject({ event_id: approved.json().event_id, type: 'adjustment.posted',
      data: { adjustment_id: id, requested_by: 'alice', approved_by: 'bob' } });
    expect(checkApproval(event.data, approvalKeys(testTrustedKeys))).toBeNull();

    const projected = await ledger.project();
    expect(projected).toMatchObject({ posted: 1, quarantined: 0 });
    const entry = await ledger.db.pool.query('SELECT event_type FROM ledger.journal_entries WHERE event_id = $1',
      [event.event_id]);
    expect(entry.rows).toEqual([{ event_type: 'adjustment.posted' }]);

    const trail = await ledger.db.adminPool.query(`SELECT actor, action FROM access.audit_trail
      WHERE object = $1 ORDER BY seq`, [id]);
    expect(trail.rows).toEqual([{ actor: 'alice', action: 'adjustment.request' },
      { actor: 'alice', action: 'adjustment.refuse_approval' }, { actor: 'bob', action: 'adjustment.approve' }]);

    // The same adjustment written to the log by anyone, unsigned: quarantined.
    const { approval: _approval, ...unsigned } = event.data;
    await ledger.publish([JSON.stringify({ ...event, event_id: '11111111-2222-4333-8444-555555555555',
      data: { ...unsigned, adjustment_id: 'adj_forged' } })]);
    await ledger.project();
    const quarantined = await ledger.db.pool.query('SELECT reason FROM ledger.quarantine');
    expect(quarantined.rows).toEqual([{ reason: 'unapproved_adjustment' }]);
  });

  it('keeps the requester from approving in the database too', async () => {
    const requested = await post('alice', '/api/adjustments', balanced);
    const { id } = requested.json();
    await expect(ledger.db.pool.query(`INSERT INTO access.adjustment_approvals (adjustment_id, approved_by, approved_at,
      event_id, approval_id, key_id) VALUES ($1, 'alice', now(), gen_random_uuid(), 'apv_x', '0123456789abcdef')`, [id]))
      .rejects.toThrow(/approved by its requester alice/);
  });
});
