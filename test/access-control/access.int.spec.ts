// The access use cases against real PostgreSQL, with a controlled clock: the first admin
// is bootstrapped once; a privileged grant does nothing until a second admin approves;
// self-grant and self-approval are refused and the refusals are in the trail; tokens are
// stored only as hashes and stop at expiry or revocation; the trail is append-only for
// the service, hash-chained, and a row changed by a superuser with triggers disabled is
// named by its sequence number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantFor } from '../../src/access-control/grants.ts';
import {
  approveGrant, bootstrapAdmin, createIdentity, grantRole, issueTokenFor, revokeGrant, type AccessContext, type Actor,
} from '../../src/access-control/service.ts';
import { grantsOf, identityForToken } from '../../src/access-control/store.ts';
import { tokenLookupHash } from '../../src/access-control/tokens.ts';
import { verifyTrail } from '../../src/access-control/trail.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('access control', () => {
  let db: TestDatabase;
  let now = new Date('2026-12-07T09:00:00.000Z');
  let ctx: AccessContext;
  const actorOf = (identityId: string): Actor => ({ identityId, source: '127.0.0.1', grantId: null });
  let first: string;
  let second: string;
  let alice: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = { pool: db.pool, clock: () => now };
    first = (await bootstrapAdmin(ctx, 'cli:test', { name: 'Root Admin', email: 'root@example.com' })).user.id;
    second = (await createIdentity(ctx, actorOf(first), { name: 'Second Admin', email: 'second@example.com',
      kind: 'person' })).id;
    alice = (await createIdentity(ctx, actorOf(first), { name: 'Alice Auditor', email: 'alice@example.com',
      kind: 'person' })).id;
  });
  afterAll(async () => db.drop());

  it('bootstraps the first admin once, with a token that works', async () => {
    await expect(bootstrapAdmin(ctx, 'cli:test', { name: 'Another', email: null })).rejects.toThrow(/an admin exists/);
    expect(first).toBe('root');
    expect(alice).toBe('alice');
  });

  it('holds a privileged grant pending until a second admin approves it', async () => {
    const secondAdmin = await grantRole(ctx, actorOf(first), { user: second, role: 'admin', scope: undefined,
      expires_at: '2027-06-01T00:00:00Z', reason: 'a second admin for four-eyes' });
    expect(secondAdmin.status).toBe('pending');
    await expect(approveGrant(ctx, actorOf(first), secondAdmin.id, { reason: null, breakGlass: false }))
      .rejects.toMatchObject({ code: 'separation_of_duties' });
    // While only one admin exists, break-glass on the host approves instead, recorded as such.
    const approved = await approveGrant(ctx, actorOf(first), secondAdmin.id,
      { reason: 'only one admin', breakGlass: true });
    expect(approved.status).toBe('active');

    const auditor = await grantRole(ctx, actorOf(first), { user: alice, role: 'auditor',
      scope: { currencies: ['CAD'] }, expires_at: '2027-01-01T00:00:00Z', reason: 'year-end audit' });
    expect(auditor.status).toBe('pending');
    expect(grantFor(await grantsOf(db.pool, alice), 'lineage:read', null, now)).toBeNull();
    await expect(approveGrant(ctx, actorOf(alice), auditor.id, { reason: null, breakGlass: false }))
      .rejects.toMatchObject({ code: 'separation_of_duties' });
    // Two admins now: break-glass is over.
    await expect(approveGrant(ctx, actorOf(first), auditor.id, { reason: 'hurry', breakGlass: true }))
      .rejects.toThrow(/break-glass is only for a single admin; 2 admins/);
    await approveGrant(ctx, actorOf(second), auditor.id, { reason: 'checked the engagement letter', breakGlass: false });
    const inForce = grantFor(await grantsOf(db.pool, alice), 'lineage:read', { currency: 'CAD', market: 'CA-ON' }, now);
    expect(inForce?.id).toBe(auditor.id);
    expect(grantFor(await grantsOf(db.pool, alice), 'lineage:read', { currency: 'USD', market: 'US-CA' }, now)).toBeNull();
    // The grant stops at its expiry instant.
    expect(grantFor(await grantsOf(db.pool, alice), 'lineage:read', null, new Date('2027-01-01T00:00:00Z'))).toBeNull();
  });

  it('refuses a grant to oneself, and records the refusal', async () => {
    await expect(grantRole(ctx, actorOf(second), { user: second, role: 'finance', scope: undefined,
      expires_at: '2027-01-01T00:00:00Z', reason: 'me' })).rejects.toMatchObject({ code: 'separation_of_duties' });
    const refused = await db.adminPool.query(
      `SELECT actor, action, object FROM access.audit_trail WHERE action = 'grant.refuse' ORDER BY seq DESC LIMIT 1`);
    expect(refused.rows[0]).toEqual({ actor: second, action: 'grant.refuse', object: second });
  });

  it('keeps only a token\'s hash, and stops it at expiry and revocation', async () => {
    const issued = await issueTokenFor(ctx, actorOf(first), { user: alice, expires_at: '2026-12-31T00:00:00Z' });
    expect(issued.token).toMatch(/^ldg_[A-Za-z0-9_-]{43}$/);
    const stored = await db.adminPool.query('SELECT count(*)::int AS n FROM access.tokens WHERE secret_sha256 = $1',
      [tokenLookupHash(issued.token)]);
    expect(stored.rows[0]?.n).toBe(1);
    const raw = await db.adminPool.query(`SELECT count(*)::int AS n FROM access.tokens t
      WHERE position(convert_to($1, 'UTF8') IN t.secret_sha256) > 0`, [issued.token]);
    expect(raw.rows[0]?.n).toBe(0);
    const hash = tokenLookupHash(issued.token) as Buffer;
    expect((await identityForToken(db.pool, hash, now))?.identity.id).toBe(alice);
    expect(await identityForToken(db.pool, hash, new Date('2026-12-31T00:00:00Z'))).toBeNull();
    expect(tokenLookupHash('ldg_short')).toBeNull();
  });

  it('revokes a grant at once', async () => {
    const viewer = await grantRole(ctx, actorOf(first), { user: alice, role: 'viewer', scope: undefined,
      expires_at: '2027-01-01T00:00:00Z', reason: 'dashboards' });
    expect(viewer.status).toBe('active');
    await revokeGrant(ctx, actorOf(second), viewer.id, 'no longer needed');
    const grants = await grantsOf(db.pool, alice);
    expect(grants.find((g) => g.id === viewer.id)?.status).toBe('revoked');
    await expect(revokeGrant(ctx, actorOf(second), viewer.id, 'again')).rejects.toThrow(/already revoked/);
  });

  it('keeps the trail append-only for the service and names a row a superuser changed', async () => {
    now = new Date('2026-12-08T09:00:00.000Z');
    const clean = await verifyTrail(db.pool);
    expect(clean.problems).toEqual([]);
    expect(clean.rows).toBeGreaterThan(8);
    await expect(db.pool.query(`UPDATE access.audit_trail SET actor = 'nobody' WHERE seq = 3`))
      .rejects.toThrow(/permission denied/);
    await db.adminPool.query('ALTER TABLE access.audit_trail DISABLE TRIGGER append_only_rows');
    try {
      await db.adminPool.query(`UPDATE access.audit_trail SET actor = 'nobody' WHERE seq = 3`);
      const tampered = await verifyTrail(db.pool);
      expect(tampered.problems).toEqual([expect.stringMatching(/^audit trail row 3 \(.*by nobody\): content does not match/)]);
      // `ledger verify` runs the same walk and fails, naming the row.
      const verified = await verifyLedger(db.pool);
      expect(verified.ok).toBe(false);
      expect(verified.checks.find((c) => c.name === 'audit_trail')).toMatchObject({ ok: false,
        detail: expect.stringMatching(/audit trail row 3 \(.*by nobody\): content does not match its hash/) });
      await db.adminPool.query('DELETE FROM access.audit_trail WHERE seq = 5');
      expect((await verifyTrail(db.pool)).problems).toContainEqual('audit trail rows 5..5 are missing');
    } finally {
      await db.adminPool.query('ALTER TABLE access.audit_trail ENABLE ALWAYS TRIGGER append_only_rows');
    }
  });
});
