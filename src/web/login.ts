// Logging in and out of the web pages. A person pastes an API token (the one `npm start`
// prints for the first admin, or one an admin issued them); it is checked by the same
// authenticator as a bearer header, and a session begins: the cookie carries the
// session's secret, never the token. Failures count towards the same 429 limiter as the
// API's and are in the trail; so are logins and logouts. `/` sends a person to the first
// area their grants open. (OIDC login, where configured, is added beside this form.)
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { appendTrail } from '../access-control/trail.ts';
import { withTransaction } from '../db/database.ts';
import { makeAuthenticator } from '../http/auth.ts';
import type { HttpApp } from '../http/server.ts';
import { html, type Html } from './html.ts';
import { formProtection, type WebContext } from './index.ts';
import { csrfField, may, sendPage } from './layout.ts';
import { navLinks } from './nav.ts';
import { beginSession, finishSession, pageSupport, sessionCookieName } from './support.ts';

/** Extra ways to log in shown under the token form (the OIDC button); empty by default. */
export const loginAlternatives: Array<(request: FastifyRequest) => Html> = [];

const LoginQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: true });

/** Only a path on this site: never an open redirect to another origin. */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

function loginPage(request: FastifyRequest, reply: FastifyReply, next: string, problem: string | null, status = 200) {
  return sendPage(request, reply, { title: 'Log in', status, body: html`
    ${problem === null ? '' : html`<p class="error" role="alert" id="login-problem">${problem}</p>`}
    <form method="post" action="/login" class="stack">
      ${csrfField(request, reply)}
      <input type="hidden" name="next" value="${next}">
      <label for="token">API token <span class="hint">(starts with ldg_; <code>npm start</code> prints the
        first admin's, an admin issues the others)</span></label>
      <input id="token" name="token" type="password" autocomplete="off" required size="60" maxlength="200"
        ${problem === null ? '' : html`aria-describedby="login-problem"`} autofocus>
      <button type="submit">Log in</button>
    </form>
    ${loginAlternatives.map((alternative) => alternative(request))}` });
}

export function loginRoutes(app: HttpApp, web: WebContext): void {
  const authenticate = makeAuthenticator(web.pool, null);
  const support = pageSupport(web.sessions);
  /** The session a public route's request carries, as the guard would have found it (for `/` and logout). */
  const resumeSession = async (request: FastifyRequest) => {
    const secret = request.cookies[sessionCookieName];
    if (secret === undefined) return;
    const found = await support.sessionCaller(secret, request.at);
    if ('failure' in found) return;
    request.caller = found;
    request.sessionId = found.sessionId;
  };

  app.get('/login', { config: { permission: 'public', page: true }, schema: { hide: true, querystring: LoginQuery } },
    async (request, reply) => loginPage(request, reply, safeNext(request.query.next), null));

  app.post('/login', {
    config: { permission: 'public', page: true },
    schema: { hide: true, body: Type.Object({ token: Type.String({ maxLength: 9000 }), next: Type.Optional(
      Type.String({ maxLength: 2000 })), _csrf: Type.Optional(Type.String({ maxLength: 200 })) },
    { additionalProperties: false }) },
    preHandler: formProtection(app),
  }, async (request, reply) => {
    const next = safeNext(request.body.next);
    const waitSeconds = app.authLimiter.retryAfterSeconds(request.ip, request.at.getTime());
    if (waitSeconds > 0) {
      void reply.header('Retry-After', String(waitSeconds));
      return loginPage(request, reply, next, `too many failed authentications; try again in ${waitSeconds} s`, 429);
    }
    const result = await authenticate(`Bearer ${request.body.token.trim()}`, request.at);
    if ('failure' in result) {
      app.authLimiter.recordFailure(request.ip, request.at.getTime());
      await withTransaction(web.pool, (tx) => appendTrail(tx, { at: request.at, actor: 'anonymous',
        action: 'auth.failure', object: '/login', grantId: null, source: request.ip,
        detail: { reason: result.failure, method: 'POST' } }));
      return loginPage(request, reply, next, `That token did not work: ${result.failure}.`, 401);
    }
    await beginSession(web.sessions, request, reply, result.identity.id, result.via);
    return reply.redirect(next, 303);
  });

  app.post('/logout', {
    config: { permission: 'public', page: true },
    schema: { hide: true, body: Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 200 })) },
      { additionalProperties: false }) },
    onRequest: resumeSession,
    preHandler: formProtection(app),
  }, async (request, reply) => {
    await finishSession(web.sessions, request, reply);
    return reply.redirect('/login', 303);
  });

  app.get('/', { config: { permission: 'public', page: true }, schema: { hide: true }, onRequest: resumeSession },
    async (request, reply) => {
      if (request.caller === null) return reply.redirect('/login', 303);
      const first = navLinks.find((l) => may(request, l.permission));
      if (first !== undefined) return reply.redirect(first.href, 303);
      return sendPage(request, reply, { title: 'Nothing to show yet', body: html`<p class="empty">${'You hold no grant in ' +
        'force. Ask an administrator for a role (finance, auditor, viewer); it works from your next page.'}</p>` });
    });
}
