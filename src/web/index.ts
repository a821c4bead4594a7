// The web pages (issue 14), served by the same Fastify application as the API, under `/`.
// Pages are routes like the API's: each declares `config: { permission, page: true }`, so
// the guard (src/http/server.ts) authenticates it from the session cookie (or a bearer
// header), redirects to /login when there is none, checks the permission, and renders
// errors as HTML pages with the API's message. Pages call the same use cases as the API
// routes (src/reports, src/reconciliation, src/access-control): no SQL in src/web.
//
// How to add pages: write a PageModule in src/web/pages/ (see the example at the top of
// src/web/layout.ts) and add it to `pageModules` in src/web/pages/index.ts. A POST that
// changes anything declares `preHandler: formProtection(app)` and its form carries
// `csrfField(request, reply)`; after it, redirect (303) to a page that shows the result.
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Clock } from '../access-control/service.ts';
import type { Pool } from '../db/database.ts';
import type { HttpApp } from '../http/server.ts';
import type { OnDemandRuns } from '../reports/on-demand.ts';
import type { ReportContext } from '../reports/runs.ts';
import { assetRoutes } from './assets.ts';
import { csrfUserInfo } from './layout.ts';
import { loginRoutes } from './login.ts';
import { pageModules } from './pages/index.ts';
import type { SessionSettings } from './support.ts';

export type WebContext = {
  readonly pool: Pool;
  readonly clock: Clock;
  readonly reports: ReportContext;
  /** Runs on demand: one instance with the API's, so each sees the other's runs in progress. */
  readonly onDemand: OnDemandRuns;
  readonly sessions: SessionSettings;
  /** The HMAC key CSRF tokens are bound to sessions with; the same on every machine of one ledger. */
  readonly csrfKey: Buffer;
};

/** One group of pages: registers its routes on the app. */
export type PageModule = (app: HttpApp, web: WebContext) => Promise<void> | void;

export function webRoutes(web: WebContext, modules: readonly PageModule[] = pageModules) {
  return async (app: HttpApp) => {
    await app.register(formbody, { bodyLimit: 64 * 1024 });
    await app.register(csrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: 'ledger_csrf',
      cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, secure: web.sessions.publicUrlIsHttps },
      csrfOpts: { hmacKey: web.csrfKey },
      getUserInfo: csrfUserInfo,
    });
    assetRoutes(app);
    loginRoutes(app, web);
    for (const register of modules) await register(app, web);
  };
}

/**
 * The preHandler of every page POST: the form's CSRF token must match the caller's
 * session (403, nothing done, otherwise). A call authenticated by a bearer header needs
 * none: no other site can make a browser send one.
 */
export function formProtection(app: HttpApp) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (request.caller !== null && request.sessionId === null) {
      done();
      return;
    }
    app.csrfProtection(request, reply, done);
  };
}
