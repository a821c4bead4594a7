// GET /api/audit: the trail, newest first, filtered by actor, action, object and time
// (API.md, Bodies). Reading the trail is not itself recorded: it would grow by every
// look at it; who may read it is an admin or an auditor (audit:read).
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { parseInstant } from '../../access-control/service.ts';
import { readTrail } from '../../auditing/reads.ts';
import { decodeCursor, encodeCursor, isWholeNumber, pageLimit } from '../paging.ts';
import type { HttpApp } from '../server.ts';

export function auditRoutes(pool: Pool) {
  return (app: HttpApp) => {
    app.get('/api/audit', {
      config: { permission: 'audit:read' },
      schema: { tags: ['audit'], querystring: Type.Object({
        actor: Type.Optional(Type.String({ maxLength: 200 })),
        action: Type.Optional(Type.String({ maxLength: 100 })),
        object: Type.Optional(Type.String({ maxLength: 300 })),
        from: Type.Optional(Type.String({ maxLength: 40 })),
        to: Type.Optional(Type.String({ maxLength: 40 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        cursor: Type.Optional(Type.String({ maxLength: 600 })),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const q = request.query;
      const limit = pageLimit(q.limit);
      const before = decodeCursor(q.cursor, isWholeNumber);
      const from = q.from === undefined ? null : parseInstant(q.from, 'from');
      const to = q.to === undefined ? null : parseInstant(q.to, 'to');
      const rows = await readTrail(pool, { actor: q.actor ?? null, action: q.action ?? null, object: q.object ?? null,
        from, to }, before, limit + 1);
      const items = rows.slice(0, limit).map((r) => ({
        id: r.seq, at: r.at.toISOString(), actor: r.actor, action: r.action, object: r.object, grant: r.grantId,
        source: r.source, detail: r.detail, hash: r.hash.toString('hex'),
      }));
      return { items, next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1]?.id as number) : null };
    });
  };
}
