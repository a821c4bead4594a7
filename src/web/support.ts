// What the HTTP guard needs from the web pages (PageSupport, src/http/server.ts): who a
// session cookie names, the login URL to send a page request without one to, and the
// error page. Also how a session begins (after a token login, or an OIDC login:
// `beginSession`) and ends, each recorded in the audit trail.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createSession, endSession, useSession } from '../access-control/sessions.ts';
import { grantsOf, findIdentity } from '../access-control/store.ts';
import { appendTrail } from '../access-control/trail.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import type { PageSupport } from '../http/server.ts';
import { html } from './html.ts';
import { layout } from './layout.ts';

export const sessionCookieName = 'ledger_session';

export type SessionSettings = {
  readonly pool: Pool;
  /** LEDGER_SESSION_IDLE_MINUTES, in seconds. */
  readonly idleSeconds: number;
  /** Secure cookies: always (LEDGER_PUBLIC_URL is https) or when this request came over TLS. */
  readonly publicUrlIsHttps: boolean;
};

const plainWords: Readonly<Record<number, string>> = {
  400: 'That request could not be used', 401: 'Please log in', 403: 'Not allowed', 404: 'Not found',
  409: 'Already done', 429: 'Too many attempts', 503: 'Unavailable just now', 500: 'Something went wrong',
};

export function pageSupport(settings: SessionSettings): PageSupport {
  return {
    cookieName: sessionCookieName,
    async sessionCaller(secret, at) {
      const found = await useSession(settings.pool, secret, at);
      if (found === null) return { failure: 'unknown session' };
      if ('ended' in found) return { failure: found.ended };
      const identity = await findIdentity(settings.pool, found.identityId);
      if (identity === null) return { failure: 'unknown session' };
      return { identity, via: found.via, grants: await grantsOf(settings.pool, identity.id), sessionId: found.sessionId };
    },
    errorPage(request, reply, status, message) {
      const title = plainWords[status] ?? (status >= 500 ? 'Something went wrong' : 'That request could not be used');
      const home = request.caller === null ? html`<a href="/login">log in</a>` : html`<a href="/">the start page</a>`;
      return layout(request, reply, { title, status, body: html`<p class="error" role="alert">${message}</p>
        <p>Go back, or to ${home}.</p>` });
    },
    loginUrl(next) {
      return `/login?next=${encodeURIComponent(next.startsWith('/') && !next.startsWith('//') ? next : '/')}`;
    },
  };
}

export function cookieSecure(settings: SessionSettings, request: FastifyRequest): boolean {
  return settings.publicUrlIsHttps || request.protocol === 'https';
}

/**
 * Begins a session for an identity who has just proved who they are (a token, or an
 * OIDC login), records it in the trail in the same transaction, and sets the cookie:
 * HTTP-only, SameSite=Strict, Secure behind TLS, no Max-Age (the server decides expiry).
 */
export async function beginSession(
  settings: SessionSettings, request: FastifyRequest, reply: FastifyReply, identityId: string, via: 'token' | 'oidc',
): Promise<string> {
  const session = await withTransaction(settings.pool, async (tx) => {
    const made = await createSession(tx, { identityId, via, idleSeconds: settings.idleSeconds, source: request.ip,
      at: request.at });
    await appendTrail(tx, { at: request.at, actor: identityId, action: 'session.login', object: made.sessionId,
      grantId: null, source: request.ip, detail: { via, idle_seconds: settings.idleSeconds } });
    return made;
  });
  void reply.setCookie(sessionCookieName, session.secret, { path: '/', httpOnly: true, sameSite: 'strict',
    secure: cookieSecure(settings, request) });
  return session.sessionId;
}

/** Ends the caller's session (logout), recorded in the trail with it; clears the cookie. */
export async function finishSession(settings: SessionSettings, request: FastifyRequest, reply: FastifyReply) {
  const sessionId = request.sessionId;
  if (sessionId !== null && request.caller !== null) {
    const actor = request.caller.identity.id;
    await withTransaction(settings.pool, async (tx) => {
      await endSession(tx, sessionId, 'logout', request.at);
      await appendTrail(tx, { at: request.at, actor, action: 'session.logout', object: sessionId, grantId: null,
        source: request.ip, detail: {} });
    });
  }
  void reply.clearCookie(sessionCookieName, { path: '/', httpOnly: true, sameSite: 'strict',
    secure: cookieSecure(settings, request) });
}
