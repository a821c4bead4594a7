// GET /api/audit: the trail, newest first, filtered by actor, action, object and time
// (API.md, Bodies). Reading the trail is not itself recorded: it would grow by every
// look at it; who may read it is an admin or an auditor (audit:read).
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { parseInstant } from '../../access-control/service.ts';
import { rowFromStored } from '../../access-control/trail.ts';
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
      const rows = await pool.query(`SELECT seq, at, actor, action, object, grant_id, source, detail, previous_hash, hash
          FROM access.audit_trail
         WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
           AND ($4::text IS NULL OR object = $4) AND ($5::timestamptz IS NULL OR at >= $5)
           AND ($6::timestamptz IS NULL OR at < $6)
         ORDER BY seq DESC LIMIT $7`, [before, q.actor ?? null, q.action ?? null, q.object ?? null, from, to, limit + 1]);
      const items = rows.rows.slice(0, limit).map(rowFromStored).map((r) => ({
        id: r.seq, at: r.at.toISOString(), actor: r.actor, action: r.action, object: r.object, grant: r.grantId,
        source: r.source, detail: r.detail, hash: r.hash.toString('hex'),
      }));
      return { items, next_cursor: rows.rows.length > limit ? encodeCursor(items[items.length - 1]?.id as number) : null };
    });
  };
}
