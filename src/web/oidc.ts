// Logging in to the web pages with OIDC, where an issuer and a client are configured
// (LEDGER_OIDC_ISSUER, LEDGER_OIDC_CLIENT_ID, optionally LEDGER_OIDC_CLIENT_SECRET): the
// authorization code flow with PKCE, by `openid-client`. The login page offers "Sign in
// with <issuer>"; GET /login/oidc sends the browser to the issuer with a fresh state,
// nonce and PKCE challenge, whose secrets travel in a short-lived cookie signed with the
// ledger's own key; GET /login/oidc/callback trades the code for an ID token, maps its
// subject (else its verified email) to an identity exactly as a bearer JWT is mapped
// (src/http/auth.ts), and begins the same session a token login begins, recorded in the
// trail; a failure is in the trail too and counts towards the same 429 limiter.
//
// The session cookie is SameSite=Strict, and a browser does not send such a cookie on a
// navigation that a redirect from another site started. So the callback does not
// redirect to the first page: it answers a short page that moves on by itself (meta
// refresh, allowed by the CSP) from this site, where the cookie is sent.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { Type } from 'typebox';
import { findIdentityForOidc } from '../access-control/store.ts';
import { appendTrail } from '../access-control/trail.ts';
import type { Secret } from '../config.ts';
import { withTransaction } from '../db/database.ts';
import type { HttpApp } from '../http/server.ts';
import { html } from './html.ts';
import type { WebContext } from './index.ts';
import { sendPage } from './layout.ts';
import { loginAlternatives, safeNext } from './login.ts';
import { beginSession, cookieSecure } from './support.ts';

export type OidcLoginSettings = {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: Secret | null;
  /** `${LEDGER_PUBLIC_URL}/login/oidc/callback`, as registered with the issuer. */
  readonly redirectUrl: string;
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Set when OIDC login is configured: what the login page's button says. */
    oidcLoginLabel?: string;
  }
}

const flowCookie = 'ledger_oidc';
const flowPath = '/login/oidc';
/** How long a person has at the issuer before the flow's secrets expire. */
const flowSeconds = 600;

type Flow = { state: string; nonce: string; verifier: string; next: string; expiresAtMs: number };

loginAlternatives.push((request) => {
  const label = request.server.oidcLoginLabel;
  if (label === undefined) return html``;
  const next = safeNext((request.query as { next?: string } | undefined)?.next);
  return html`<p class="or">or</p><p><a class="button secondary" href="${flowPath}?next=${encodeURIComponent(next)}">${label}</a></p>`;
});

export function oidcLoginRoutes(settings: OidcLoginSettings, web: WebContext) {
  return (app: HttpApp) => {
    app.decorate('oidcLoginLabel', `Sign in with ${new URL(settings.issuer).host}`);
    const discovered = discoveryOnce(settings);
    const sign = (payload: string) => createHmac('sha256', web.csrfKey).update(`ledger oidc login flow 1\n${payload}`)
      .digest('base64url');

    app.get(flowPath, {
      config: { permission: 'public', page: true },
      schema: { hide: true, querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) },
        { additionalProperties: false }) },
    }, async (request, reply) => {
      const configuration = await discovered().catch(() => null);
      if (configuration === null) {
        return problemPage(request, reply, 503, `${new URL(settings.issuer).host} cannot be reached just now; try again ` +
          'shortly, or log in with an API token');
      }
      const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(),
        next: safeNext(request.query.next), expiresAtMs: request.at.getTime() + flowSeconds * 1000 };
      const payload = Buffer.from(JSON.stringify(flow)).toString('base64url');
      // Lax, not Strict: the callback is a navigation from the issuer's site, and must carry it.
      void reply.setCookie(flowCookie, `${payload}.${sign(payload)}`, { path: flowPath, httpOnly: true, sameSite: 'lax',
        secure: cookieSecure(web.sessions, request), maxAge: flowSeconds });
      const target = client.buildAuthorizationUrl(configuration, { redirect_uri: settings.redirectUrl,
        scope: 'openid email', state: flow.state, nonce: flow.nonce, code_challenge_method: 'S256',
        code_challenge: await client.calculatePKCECodeChallenge(flow.verifier) });
      return reply.redirect(target.href, 303);
    });

    app.get(`${flowPath}/callback`, {
      config: { permission: 'public', page: true },
      schema: { hide: true, querystring: Type.Object({}, { additionalProperties: Type.String({ maxLength: 4000 }) }) },
    }, async (request, reply) => {
      const flow = readFlow(request.cookies[flowCookie], request.at, sign);
      void reply.clearCookie(flowCookie, { path: flowPath, httpOnly: true, sameSite: 'lax',
        secure: cookieSecure(web.sessions, request) });
      const waitSeconds = app.authLimiter.retryAfterSeconds(request.ip, request.at.getTime());
      if (waitSeconds > 0) {
        void reply.header('Retry-After', String(waitSeconds));
        return problemPage(request, reply, 429, `too many failed authentications; try again in ${waitSeconds} s`);
      }
      if (flow === null) {
        return problemPage(request, reply, 400, 'this sign-in began too long ago, or in another browser; start it again');
      }
      const configuration = await discovered().catch(() => null);
      if (configuration === null) {
        return problemPage(request, reply, 503, `${new URL(settings.issuer).host} cannot be reached just now; start again shortly`);
      }
      const outcome = await identityFromCallback(web, settings, configuration, request, flow);
      if ('failure' in outcome) {
        app.authLimiter.recordFailure(request.ip, request.at.getTime());
        await withTransaction(web.pool, (tx) => appendTrail(tx, { at: request.at, actor: 'anonymous', action: 'auth.failure',
          object: `${flowPath}/callback`, grantId: null, source: request.ip, detail: { reason: outcome.failure, method: 'GET' } }));
        return problemPage(request, reply, 401, `Signing in with ${new URL(settings.issuer).host} did not work: ${outcome.failure}.`);
      }
      await beginSession(web.sessions, request, reply, outcome.identityId, 'oidc');
      return onwardPage(request, reply, flow.next);
    });
  };
}

/** The issuer's configuration, fetched on first use and kept; a failed fetch is tried again next time. */
function discoveryOnce(settings: OidcLoginSettings): () => Promise<client.Configuration> {
  let pending: Promise<client.Configuration> | null = null;
  return () => {
    pending ??= client.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret?.reveal(),
      settings.clientSecret === null ? client.None() : undefined, {
        timeout: 10,
        // config.ts allows http only for a loopback issuer (a test's, a developer's own).
        ...(settings.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : {}),
      }).catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}

function readFlow(cookie: string | undefined, at: Date, sign: (payload: string) => string): Flow | null {
  const [payload, mac] = (cookie ?? '').split('.');
  if (payload === undefined || mac === undefined || payload === '') return null;
  const expected = Buffer.from(sign(payload));
  if (expected.length !== Buffer.byteLength(mac) || !timingSafeEqual(expected, Buffer.from(mac))) return null;
  const flow = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Flow;
  return flow.expiresAtMs > at.getTime() ? flow : null;
}

async function identityFromCallback(
  web: WebContext, settings: OidcLoginSettings, configuration: client.Configuration, request: FastifyRequest, flow: Flow,
): Promise<{ identityId: string } | { failure: string }> {
  let claims: { sub?: unknown; email?: unknown; email_verified?: unknown } | undefined;
  try {
    const tokens = await client.authorizationCodeGrant(configuration, new URL(request.url, settings.redirectUrl),
      { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    claims = tokens.claims();
    // A strictly conforming issuer puts the scope's claims (email) in UserInfo, not in the ID token.
    if (claims !== undefined && claims.email === undefined && typeof claims.sub === 'string') {
      claims = { ...claims, ...await client.fetchUserInfo(configuration, tokens.access_token, claims.sub) };
    }
  } catch (error) {
    const described = error as { error?: string; error_description?: string; code?: string; message?: string };
    return { failure: `the issuer's answer was refused (${described.error_description ?? described.error
      ?? described.code ?? described.message ?? 'invalid'})` };
  }
  if (claims === undefined || typeof claims.sub !== 'string') return { failure: 'the issuer sent no ID token subject' };
  const email = claims.email_verified === true && typeof claims.email === 'string' ? claims.email : null;
  const identity = await findIdentityForOidc(web.pool, claims.sub, email);
  return identity === null ? { failure: 'OIDC subject is not a known identity; ask an administrator to add you' }
    : { identityId: identity.id };
}

function problemPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  return sendPage(request, reply, { title: 'Sign-in did not work', status, body: html`<p class="error" role="alert">${message}</p>
    <p><a href="/login">Back to the login page</a></p>` });
}

function onwardPage(request: FastifyRequest, reply: FastifyReply, next: string) {
  // Moves on from this site (meta refresh) so the new SameSite=Strict session cookie is sent.
  void reply.header('Refresh', `0; url=${next}`);
  return sendPage(request, reply, { title: 'Signed in', body: html`<p class="notice">You are signed in.
    <a href="${next}">Continue</a>.</p>` });
}
