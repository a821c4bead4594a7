// GET /api/health: public; says whether the database answers, and nothing else about it.
import type { Pool } from '../../db/database.ts';
import type { HttpApp } from '../server.ts';

export function healthRoutes(pool: Pool, version: string) {
  return (app: HttpApp) => {
    app.get('/api/health', { config: { permission: 'public' }, schema: { tags: ['health'], security: [] } },
      async (_request, reply) => {
        const database = await pool.query('SELECT 1').then(() => 'ok', () => 'unreachable');
        return reply.status(database === 'ok' ? 200 : 503).send({ status: database === 'ok' ? 'ok' : 'degraded',
          database, version });
      });
  };
}
