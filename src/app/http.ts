// The HTTP face of the service: the Fastify application of src/http with every concern's
// routes, listening on LEDGER_HTTP_HOST:PORT. Built here, from what the service already
// opened (the service's pool, the metrics), so `serve` and tests build it the same way.
import pino from 'pino';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import type { OidcSettings } from '../http/auth.ts';
import { accessRoutes } from '../http/routes/access.ts';
import { auditRoutes } from '../http/routes/audit.ts';
import { healthRoutes } from '../http/routes/health.ts';
import { ledgerRoutes } from '../http/routes/ledger.ts';
import { metricsRoutes } from '../http/routes/metrics.ts';
import { lineageRoutes } from '../http/routes/lineage.ts';
import { reportRoutes } from '../http/routes/reports.ts';
import { OnDemandRuns } from '../reports/on-demand.ts';
import { adjustmentRoutes } from '../http/routes/adjustments.ts';
import { openLog } from '../log/open.ts';
import { publishLines } from '../log/publish.ts';
import type { ReportContext } from '../reports/runs.ts';
import { reconciliationRoutes } from '../http/routes/reconciliation.ts';
import { buildHttpServer, type HttpApp } from '../http/server.ts';
import type { Metrics } from '../observability/metrics.ts';
import { sha256 } from '../ledger/canonical.ts';
import { signBytes } from '../signing/keys.ts';
import { webRoutes, type WebContext } from '../web/index.ts';
import { pageSupport } from '../web/support.ts';
import { oidcLoginRoutes } from '../web/oidc.ts';

export const serviceVersion = '0.1.0';

export type HttpParts = {
  readonly pool: Pool;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  /** What report runs on demand are made and signed with (the service's key and data dir). */
  readonly reports: ReportContext;
  /** Appends one message to the log the projector follows (approved adjustments); default: the configured log. */
  readonly appendToLog?: (line: string) => Promise<void>;
};

/** One message to the configured log (embedded or Kafka), keyed and placed as `events publish` would. */
function configuredLogAppender(config: Config): (line: string) => Promise<void> {
  return async (line) => {
    const log = await openLog(config);
    try {
      await publishLines(log.producer, config.topics[0] as string, log.newTopicPartitions, [line]);
    } finally {
      await log.producer.close();
    }
  };
}

export type BuildOptions = {
  readonly logger?: false;
  /** Told of every route as it is registered, with its declared permission (the route matrix). */
  readonly onRoute?: (route: { method: string; url: string; permission: string; page: boolean }) => void;
};

export async function buildApp(config: Config, parts: HttpParts, options: BuildOptions = {}): Promise<HttpApp> {
  const logger = options.logger === false ? false as const
    : pino({ level: process.env.LEDGER_LOG_LEVEL ?? 'info', base: { service: 'ledger' } }, pino.destination(2));
  const web = webContext(config, parts);
  return buildHttpServer({
    pool: parts.pool, clock: parts.clock, logger, version: serviceVersion, oidc: await oidcSettings(config),
    metricsScrapeToken: config.metricsScrapeToken, pages: pageSupport(web.sessions),
    ...(options.onRoute === undefined ? {} : { onRoute: options.onRoute }),
    routes: [
      healthRoutes(parts.pool, serviceVersion),
      accessRoutes({ pool: parts.pool, clock: parts.clock }),
      auditRoutes(parts.pool),
      metricsRoutes(parts.metrics),
      reportRoutes(parts.reports, web.onDemand),
      lineageRoutes(parts.pool, parts.reports.templatesDir),
      adjustmentRoutes({ pool: parts.pool, key: parts.reports.key,
        appendToLog: parts.appendToLog ?? configuredLogAppender(config) }),
      ledgerRoutes(parts.pool),
      reconciliationRoutes(parts.pool),
      webRoutes(web),
      ...(config.oidc?.login == null ? [] : [oidcLoginRoutes({ issuer: config.oidc.issuer, ...config.oidc.login,
        redirectUrl: `${config.publicUrl}/login/oidc/callback` }, web)]),
    ],
  });
}

function webContext(config: Config, parts: HttpParts): WebContext {
  return {
    pool: parts.pool, clock: parts.clock, reports: parts.reports, onDemand: new OnDemandRuns(parts.reports),
    sessions: { pool: parts.pool, idleSeconds: config.sessionIdleMinutes * 60,
      publicUrlIsHttps: config.publicUrl.startsWith('https:') },
    // Ed25519 signatures are deterministic: every machine holding the ledger's key derives the same CSRF key.
    csrfKey: sha256(signBytes(parts.reports.key, 'ledger web pages: CSRF token key, version 1').toString('base64')),
  };
}

/** The issuer's JWKS address: as configured, else from its discovery document. */
async function oidcSettings(config: Config): Promise<OidcSettings | null> {
  if (config.oidc === null) return null;
  if (config.oidc.jwksUrl !== null) return { ...config.oidc, jwksUrl: config.oidc.jwksUrl };
  const discovery = `${config.oidc.issuer}/.well-known/openid-configuration`;
  const document = await fetch(discovery, { signal: AbortSignal.timeout(10_000) })
    .then((r) => (r.ok ? r.json() as Promise<{ jwks_uri?: unknown }> : null), () => null);
  if (typeof document?.jwks_uri !== 'string') {
    throw new UserError('bad_config', `LEDGER_OIDC_ISSUER: no jwks_uri at ${discovery}; set LEDGER_OIDC_JWKS_URL`);
  }
  return { issuer: config.oidc.issuer, audience: config.oidc.audience, jwksUrl: document.jwks_uri };
}

/** Listens, or says in one line why it cannot (the port is taken, the address is not ours). */
export async function listen(app: HttpApp, config: Config): Promise<string> {
  try {
    await app.listen({ port: config.httpPort, host: config.httpHost });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UserError('http_unavailable', `cannot listen on ${config.httpHost}:${config.httpPort} (${code}); ` +
        'set PORT or LEDGER_HTTP_HOST');
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
  return `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`;
}
