// The HTTP API of API.md: one Fastify application, one plugin per concern, built apart
// from listen() so tests can `inject` without a socket. Every route declares the
// permission it needs (`config.permission`); a route that declares none stops the
// application from starting. A request walks: 429 if its client failed too often → who
// (token or OIDC JWT) or 401 → the route's permission among the grants in force or 403 →
// the handler, which narrows by scope (out of scope reads as absent: 404) and appends
// its trail record in the same transaction as what it records.
//
// Web pages (src/web) are routes too, with `config.page: true`: they authenticate from the
// session cookie as well as a bearer header, a failed authentication redirects to the
// login page, and errors render as an HTML page with the same plain-words message. A
// session cookie also authenticates the API's safe (GET, HEAD) routes, so a page can link
// to a download; an unsafe API route needs the bearer header (no cross-site form can send one).
import Fastify, {
  LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions,
} from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../ledger/canonical.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { grantsAllowing, grantFor } from '../access-control/grants.ts';
import { isPermission, type Permission } from '../access-control/permissions.ts';
import type { Subject } from '../access-control/scope.ts';
import type { Clock } from '../access-control/service.ts';
import type { GrantRecord } from '../access-control/store.ts';
import { appendTrail, type TrailRecord } from '../access-control/trail.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { FailureLimiter, makeAuthenticator, type Caller, type OidcSettings } from './auth.ts';
import { errorAnswer, errorBody } from './errors.ts';
import { documentedResponses } from './responses.ts';

export type RoutePermission = Permission | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the caller needs; 'public' for health, the OpenAPI document and the login page. */
    permission?: RoutePermission;
    /** POST /api/access/tokens: a caller may also issue a token for themselves. */
    selfAllowed?: boolean;
    /** GET /metrics: the configured scrape token (LEDGER_METRICS_TOKEN) is enough. */
    scrapeTokenAllowed?: boolean;
    /** A web page (src/web): session cookie accepted, 401 redirects to /login, errors as HTML. */
    page?: boolean;
  }
  interface FastifyInstance {
    /** Failed authentications per client: the login page counts its failures here too (429). */
    authLimiter: FailureLimiter;
  }
  interface FastifyRequest {
    caller: Caller | null;
    /** The browser session the caller came in with (`ses_…`), null for a bearer header or none. */
    sessionId: string | null;
    /** The grant in force that allowed the route's permission (scope narrowing picks per object). */
    routeGrants: readonly GrantRecord[];
    at: Date;
  }
}

export type HttpDependencies = {
  readonly pool: Pool;
  readonly clock: Clock;
  readonly logger: Logger | false;
  readonly oidc: OidcSettings | null;
  readonly version: string;
  /** Registers the routes of each concern (access, reports, lineage, …) on the app. */
  readonly routes: ReadonlyArray<(app: HttpApp) => Promise<void> | void>;
  /** LEDGER_METRICS_TOKEN: a Prometheus scraper's bearer token for /metrics alone; null for none. */
  readonly metricsScrapeToken?: string | null;
  /** Told of every route as it is registered (tests enumerate them for the route matrix). */
  readonly onRoute?: (route: { method: string; url: string; permission: string; page: boolean }) => void;
  /** Failed authentications allowed per client per window before 429 (default 10 per minute). */
  readonly authFailuresMax?: number;
  /** The web pages' sessions and error pages (src/web/support.ts); null: an API alone. */
  readonly pages?: PageSupport | null;
};

/** What the guard needs from the web pages: who a session cookie names, and an error page. */
export type PageSupport = {
  readonly cookieName: string;
  /** The caller the cookie's session names; `failure` for an ended, idle or unknown session. */
  sessionCaller(secret: string, at: Date): Promise<(Caller & { sessionId: string }) | { failure: string }>;
  /** The whole HTML document for an error on a page, with the API's plain-words message. */
  errorPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string): string;
  /** Where a page request without a session goes: the login page, coming back to `next`. */
  loginUrl(next: string): string;
};

export type AuthLimiter = FailureLimiter;

export type HttpApp = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

const authWindowMs = 60_000;

export async function buildHttpServer(deps: HttpDependencies): Promise<HttpApp> {
  const app = Fastify({
    ...(deps.logger === false ? { logger: false } : { loggerInstance: deps.logger }),
    bodyLimit: limits.requestBodyBytesMax,
    connectionTimeout: 30_000,
    requestTimeout: 120_000,
    keepAliveTimeout: 5_000,
    trustProxy: false,
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields are refused, not silently dropped; only query strings are coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorateRequest('caller', null);
  app.decorateRequest('sessionId', null);
  app.decorateRequest('routeGrants', null as unknown as GrantRecord[]);
  app.decorateRequest('at', null as unknown as Date);
  const pages = deps.pages ?? null;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = errorAnswer(error, request);
    if (pages !== null && isPage(request)) {
      void reply.status(answer.status).type('text/html; charset=utf-8')
        .send(pages.errorPage(request, reply, answer.status, answer.body.error.message));
      return;
    }
    void reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    if (pages !== null && !request.url.startsWith('/api/') && request.url !== '/metrics') {
      void reply.status(404).type('text/html; charset=utf-8').send(pages.errorPage(request, reply, 404, 'no such page'));
      return;
    }
    void reply.status(404).send(errorBody('not_found', message));
  });
  // Documented answers document; they are not a serialiser that would drop an undocumented field.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onRoute', (route: RouteOptions) => {
    const permission = route.config?.permission;
    if (permission !== 'public' && !isPermission(permission) && route.url !== '*') {
      throw new Error(`invariant violated: route ${route.method} ${route.url} declares no permission`);
    }
    documentResponses(route);
    for (const method of [route.method].flat()) deps.onRoute?.({ method, url: route.url, permission: String(permission),
      page: route.config?.page === true });
  });
  // Before the guard: its answers (401, 403, redirects) carry the security headers and it reads cookies.
  await app.register(cookie, { parseOptions: {} });
  await app.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: {
    defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"], connectSrc: ["'self'"], formAction: ["'self'"], frameAncestors: ["'none'"],
    baseUri: ["'none'"], objectSrc: ["'none'"] } },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true }, referrerPolicy: { policy: 'same-origin' },
  crossOriginEmbedderPolicy: false });
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Marketplace ledger API', version: deps.version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } });
  const limiter = new FailureLimiter(deps.authFailuresMax ?? 10, authWindowMs);
  app.decorate('authLimiter', limiter);
  installGuard(app, deps, limiter);
  installRequestLog(app);
  for (const register of deps.routes) await register(app);
  app.get('/api/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Attaches the route's documented answers (responses.ts); an API route without them stops the start. */
function documentResponses(route: RouteOptions): void {
  if (route.schema?.hide === true || !(route.url.startsWith('/api/') || route.url === '/metrics')) return;
  for (const method of [route.method].flat()) {
    if (method === 'HEAD') continue;
    const responses = documentedResponses[`${method} ${route.url}`];
    if (responses === undefined) {
      throw new Error(`invariant violated: route ${method} ${route.url} has no documented answers in responses.ts`);
    }
    route.schema = { ...route.schema, response: responses };
  }
}

function isPage(request: FastifyRequest): boolean {
  return request.routeOptions.config?.page === true;
}

/** A session cookie stands in for the bearer header on pages and on safe API reads. */
function sessionAccepted(request: FastifyRequest): boolean {
  return isPage(request) || request.method === 'GET' || request.method === 'HEAD';
}

function installGuard(app: HttpApp, deps: HttpDependencies, limiter: FailureLimiter): void {
  const authenticate = makeAuthenticator(deps.pool, deps.oidc);
  const pages = deps.pages ?? null;
  const scrapeHash = deps.metricsScrapeToken == null ? null : sha256(`Bearer ${deps.metricsScrapeToken}`);
  const failed = async (request: FastifyRequest, reply: FastifyReply, failure: string) => {
    limiter.recordFailure(request.ip, request.at.getTime());
    await withTransaction(deps.pool, (tx) => appendTrail(tx, { at: request.at, actor: 'anonymous',
      action: 'auth.failure', object: request.routeOptions.url ?? null, grantId: null, source: request.ip,
      detail: { reason: failure, method: request.method } }));
    return unauthenticated(request, reply, failure);
  };
  const unauthenticated = (request: FastifyRequest, reply: FastifyReply, failure: string) => {
    if (pages !== null && isPage(request)) {
      void reply.clearCookie(pages.cookieName, { path: '/' }).redirect(pages.loginUrl(request.url), 303);
      return reply;
    }
    void reply.header('WWW-Authenticate', 'Bearer').status(401)
      .send(errorBody('unauthenticated', `authentication required: ${failure}`));
    return reply;
  };
  app.addHook('onRequest', async (request, reply) => {
    request.at = deps.clock();
    const permission = request.routeOptions.config?.permission;
    if (permission === 'public' || permission === undefined) return;
    const waitSeconds = limiter.retryAfterSeconds(request.ip, request.at.getTime());
    if (waitSeconds > 0) return tooManyFailures(request, reply, waitSeconds, pages);
    if (request.routeOptions.config?.scrapeTokenAllowed === true && scrapeHash !== null
      && timingSafeEqual(sha256(request.headers.authorization ?? ''), scrapeHash)) {
      return undefined;
    }
    const secret = pages === null ? undefined : request.cookies[pages.cookieName];
    const bySession = pages !== null && request.headers.authorization === undefined && sessionAccepted(request);
    if (bySession && secret === undefined && isPage(request)) return unauthenticated(request, reply, 'no session');
    const result = bySession && secret !== undefined ? await pages.sessionCaller(secret, request.at)
      : await authenticate(request.headers.authorization, request.at);
    if ('failure' in result) return failed(request, reply, result.failure);
    request.caller = result;
    request.sessionId = 'sessionId' in result ? result.sessionId as string : null;
    request.routeGrants = grantsAllowing(result.grants, permission, request.at) as GrantRecord[];
    const self = request.routeOptions.config?.selfAllowed === true;
    if (request.routeGrants.length === 0 && !self) {
      const message = `${result.identity.id} holds no grant in force with ${permission}`;
      if (pages !== null && isPage(request)) {
        void reply.status(403).type('text/html; charset=utf-8').send(pages.errorPage(request, reply, 403, message));
      } else {
        void reply.status(403).send(errorBody('forbidden', message));
      }
      return reply;
    }
    return undefined;
  });
}

function tooManyFailures(request: FastifyRequest, reply: FastifyReply, waitSeconds: number, pages: PageSupport | null) {
  const message = `too many failed authentications; try again in ${waitSeconds} s`;
  void reply.header('Retry-After', String(waitSeconds)).status(429);
  if (pages !== null && isPage(request)) void reply.type('text/html; charset=utf-8').send(pages.errorPage(request, reply, 429, message));
  else void reply.send(errorBody('too_many_failures', message));
  return reply;
}

function installRequestLog(app: HttpApp): void {
  // One line per request, with who asked; never the Authorization header or a body.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, route: request.routeOptions.url, status: reply.statusCode,
      ms: Math.round(reply.elapsedTime), identity: request.caller?.identity.id ?? null, ip: request.ip }, 'request');
  });
}

/** The grant allowing `permission` on `subject`, or a 404: out of scope reads as absent. */
export function grantInScope(request: FastifyRequest, permission: Permission, subject: Subject, what: string): GrantRecord {
  const caller = request.caller;
  const grant = caller === null ? null : grantFor(caller.grants, permission, subject, request.at);
  if (grant === null) throw new UserError('not_found', `no ${what}`);
  return grant as GrantRecord;
}

/** Every scope the caller reads through with `permission`, for filtering lists. */
export function callerScopes(request: FastifyRequest) {
  return request.routeGrants.map((g) => g.scope);
}

/** The caller as the trail names them, and the grant the route's permission came from. */
export function actorOf(request: FastifyRequest, grant?: GrantRecord | null) {
  const caller = request.caller;
  if (caller === null) throw new Error('invariant violated: actorOf on a public route');
  return { identityId: caller.identity.id, source: request.ip,
    grantId: (grant === undefined ? request.routeGrants[0]?.id : grant?.id) ?? null };
}

/**
 * Appends the request's trail record in a transaction of its own, committed before the
 * response: when the trail cannot be written, the request fails with 503 and nothing of
 * what it would have shown is sent.
 */
export async function recordBeforeResponding(pool: Pool, record: TrailRecord): Promise<void> {
  try {
    await withTransaction(pool, (client) => appendTrail(client, record));
  } catch (error) {
    throw Object.assign(new UserError('trail_unavailable', 'the audit trail cannot be written just now; nothing was ' +
      'served; try again shortly'), { cause: error });
  }
}
