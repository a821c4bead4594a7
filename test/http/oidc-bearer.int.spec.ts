// OIDC bearer JWTs (issue 13, Identities): with an issuer configured, a JWT signed by a key
// of the issuer's JWKS (served here over HTTP, as an issuer serves it), for the configured
// audience, is mapped to an identity by its verified email and works as that identity's
// token. A JWT signed by another key, for another audience, expired, or naming nobody
// known is 401, and each failure is in the trail.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveGrant, bootstrapAdmin, createIdentity, grantRole } from '../../src/access-control/service.ts';
import { buildHttpServer, type HttpApp } from '../../src/http/server.ts';
import { accessRoutes } from '../../src/http/routes/access.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('OIDC bearer tokens', () => {
  let db: TestDatabase;
  let app: HttpApp;
  let jwks: Server;
  let issuerKey: CryptoKey;
  let otherKey: CryptoKey;
  let issuer: string;
  const audience = 'marketplace-ledger';

  const jwt = (claims: Record<string, unknown>, key = issuerKey, options: { aud?: string; exp?: string } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer)
      .setAudience(options.aud ?? audience).setIssuedAt().setExpirationTime(options.exp ?? '5m').sign(key);

  beforeAll(async () => {
    const issuerPair = await generateKeyPair('ES256', { extractable: true });
    issuerKey = issuerPair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const issuerPublic = await exportJWK(issuerPair.publicKey);
    jwks = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [{ ...issuerPublic, kid: 'k1', alg: 'ES256', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as { port: number }).port}`;
    db = await createTestDatabase();
    const ctx = { pool: db.pool, clock: () => new Date() };
    const root = await bootstrapAdmin(ctx, 'test', { name: 'Root', email: null });
    const as = { identityId: root.user.id, source: 'test', grantId: null };
    const dana = await createIdentity(ctx, as, { name: 'Dana', email: 'dana@example.com', kind: 'person' });
    const grant = await grantRole(ctx, as, { user: dana.id, role: 'admin', expires_at: new Date(Date.now() + 86_400_000)
      .toISOString(), reason: 'oidc test' });
    await approveGrant(ctx, as, grant.id, { reason: 'sole admin', breakGlass: true });
    app = await buildHttpServer({ pool: db.pool, clock: () => new Date(), logger: false, version: 'test',
      oidc: { issuer, audience, jwksUrl: `${issuer}/jwks` }, routes: [accessRoutes(ctx)] });
  });
  afterAll(async () => {
    await app.close();
    jwks.close();
    await db.drop();
  });

  const users = (token: string) => app.inject({ method: 'GET', url: '/api/access/users',
    headers: { authorization: `Bearer ${token}` } });

  it('maps a JWT of the issuer, for the audience, to the identity with that verified email', async () => {
    const response = await users(await jwt({ sub: 'idp|dana', email: 'dana@example.com', email_verified: true }));
    expect(response.statusCode, response.body).toBe(200);
  });

  it('refuses another key, another audience, an expired token, an unverified email or an unknown person', async () => {
    const refused = [
      await jwt({ sub: 'idp|dana', email: 'dana@example.com', email_verified: true }, otherKey),
      await jwt({ sub: 'idp|dana', email: 'dana@example.com', email_verified: true }, issuerKey, { aud: 'someone-else' }),
      await jwt({ sub: 'idp|dana', email: 'dana@example.com', email_verified: true }, issuerKey, { exp: '-10m' }),
      await jwt({ sub: 'idp|dana', email: 'dana@example.com', email_verified: false }),
      await jwt({ sub: 'idp|nobody', email: 'nobody@example.com', email_verified: true }),
    ];
    for (const token of refused) expect((await users(token)).statusCode).toBe(401);
    const failures = await db.adminPool.query(`SELECT detail->>'reason' AS reason FROM access.audit_trail
      WHERE action = 'auth.failure' ORDER BY seq`);
    expect(failures.rows.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^OIDC token refused: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/),
      expect.stringMatching(/^OIDC token refused: ERR_JWT_CLAIM_VALIDATION_FAILED/),
      expect.stringMatching(/^OIDC token refused: ERR_JWT_EXPIRED/),
      'OIDC subject is not a known identity',
      'OIDC subject is not a known identity',
    ]);
  });
});
