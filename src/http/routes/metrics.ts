// GET /metrics (API.md): Prometheus text, for metrics:read or the configured scrape token.
import type { Metrics } from '../../observability/metrics.ts';
import type { HttpApp } from '../server.ts';

export function metricsRoutes(metrics: Metrics) {
  return (app: HttpApp) => {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route !== undefined) metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { config: { permission: 'metrics:read', scrapeTokenAllowed: true },
      schema: { tags: ['metrics'] } }, async (_request, reply) => {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  };
}
