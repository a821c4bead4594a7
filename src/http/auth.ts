// Who is calling: an API token (`ldg_…`, looked up by its SHA-256) or, where an issuer is
// configured, an OIDC bearer JWT verified against the issuer's JWKS (jose) and mapped to
// an identity by subject, else by verified email. Each failure is recorded in the trail;
// a client that fails too often in a window is answered 429 with Retry-After before its
// token is even looked at, so guessing is bounded.
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Pool } from '../db/database.ts';
import { callerForToken, grantsOf, findIdentityForOidc, type GrantRecord, type IdentityRecord } from '../access-control/store.ts';
import { tokenLookupHash } from '../access-control/tokens.ts';

export type Caller = {
  readonly identity: IdentityRecord;
  /** Every grant of the identity as of the request; what is in force is decided per use. */
  readonly grants: readonly GrantRecord[];
  readonly via: 'token' | 'oidc';
};

export type OidcSettings = { readonly issuer: string; readonly audience: string; readonly jwksUrl: string };

export type Authenticator = (authorization: string | undefined, at: Date) => Promise<Caller | { failure: string }>;

export function makeAuthenticator(pool: Pool, oidc: OidcSettings | null): Authenticator {
  const jwks: JWTVerifyGetKey | null = oidc === null ? null : createRemoteJWKSet(new URL(oidc.jwksUrl), {
    timeoutDuration: 5_000, cooldownDuration: 30_000,
  });
  return async (authorization, at) => {
    const match = /^Bearer ([\x21-\x7e]{1,8192})$/.exec(authorization ?? '');
    if (match === null) return { failure: authorization === undefined ? 'no token' : 'malformed Authorization header' };
    const presented = match[1] as string;
    const identity = presented.startsWith('ldg_') ? await byToken(pool, presented, at)
      : jwks !== null && oidc !== null ? await byJwt(pool, jwks, oidc, presented) : null;
    if (identity === null) return { failure: 'unknown, expired or revoked token' };
    if (identity.failure !== undefined) return { failure: identity.failure };
    const caller: Caller = { identity: identity.identity, via: identity.via,
      grants: identity.grants ?? await grantsOf(pool, identity.identity.id) };
    return caller;
  };
}

async function byToken(pool: Pool, presented: string, at: Date) {
  const hash = tokenLookupHash(presented);
  // The token's identity and grants in one query: every API request pays for this.
  const found = hash === null ? null : await callerForToken(pool, hash, at);
  return found === null ? null
    : { identity: found.identity, via: 'token' as const, failure: undefined, grants: found.grants };
}

async function byJwt(pool: Pool, jwks: JWTVerifyGetKey, oidc: OidcSettings, presented: string) {
  let claims: { sub?: string; email?: unknown; email_verified?: unknown };
  try {
    claims = (await jwtVerify(presented, jwks, { issuer: oidc.issuer, audience: oidc.audience,
      algorithms: ['RS256', 'ES256', 'EdDSA', 'PS256'], clockTolerance: 30 })).payload;
  } catch (error) {
    return { failure: `OIDC token refused: ${(error as { code?: string }).code ?? 'invalid'}` } as const;
  }
  if (typeof claims.sub !== 'string') return { failure: 'OIDC token without a subject' } as const;
  const email = claims.email_verified === true && typeof claims.email === 'string' ? claims.email : null;
  const identity = await findIdentityForOidc(pool, claims.sub, email);
  return identity === null ? { failure: 'OIDC subject is not a known identity' } as const
    : { identity, via: 'oidc' as const, failure: undefined, grants: null };
}

/** Failed authentications per client address, in a fixed window; bounded in size. */
export class FailureLimiter {
  private readonly windows = new Map<string, { startMs: number; failures: number }>();
  constructor(
    private readonly failuresMax: number,
    private readonly windowMs: number,
    private readonly clientsMax = 10_000,
  ) {}

  /** Seconds until this client may try again, or 0 when it may now. */
  retryAfterSeconds(client: string, nowMs: number): number {
    const window = this.windows.get(client);
    if (window === undefined || nowMs - window.startMs >= this.windowMs) return 0;
    return window.failures >= this.failuresMax ? Math.ceil((window.startMs + this.windowMs - nowMs) / 1000) : 0;
  }

  recordFailure(client: string, nowMs: number): void {
    const window = this.windows.get(client);
    if (window === undefined || nowMs - window.startMs >= this.windowMs) {
      if (this.windows.size >= this.clientsMax) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(client, { startMs: nowMs, failures: 1 });
    } else {
      window.failures += 1;
    }
  }
}
