// GET /api/figures/{figureId}/lineage and GET /api/events/{eventId} (API.md): an auditor
// walks from a figure to the journal lines behind it, and from a line to the raw message
// the log carried. Each read is recorded in the trail with the grant that allowed it; a
// figure or event outside the caller's scope is 404, as if it did not exist.
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { figureSubject } from '../../reports/figures.ts';
import { findFigure, readEvent } from '../../auditing/reads.ts';
import { figureLineage } from '../../reports/lineage.ts';
import { loadTemplates } from '../../reports/runs.ts';
import { grantInScope, recordBeforeResponding, type HttpApp } from '../server.ts';
import type { FastifyRequest } from 'fastify';

const figureIdPattern = '^fig_[0-9a-f]{24}$';
const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

async function recordRead(pool: Pool, request: FastifyRequest, action: string, object: string, grantId: string,
  detail: Record<string, string | number | null>) {
  await recordBeforeResponding(pool, { at: request.at, actor: request.caller?.identity.id as string, action, object,
    grantId, source: request.ip, detail });
}

export function lineageRoutes(pool: Pool, templatesDir?: string) {
  return async (app: HttpApp) => {
    const currencies = new Map([...await loadTemplates(templatesDir)].map(([r, t]) => [r, t.currency]));

    app.get('/api/figures/:figureId/lineage', {
      config: { permission: 'lineage:read' },
      schema: { tags: ['lineage'], params: Type.Object({ figureId: Type.String({ pattern: figureIdPattern }) }),
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          cursor: Type.Optional(Type.String({ maxLength: 600 })),
        }, { additionalProperties: false }) },
    }, async (request) => {
      const id = request.params.figureId;
      const row = await findFigure(pool, id);
      if (row === null) throw new UserError('not_found', `no figure ${id}`);
      const grant = grantInScope(request, 'lineage:read', figureSubject(row, currencies.get(row.report) ?? null),
        `figure ${id}`);
      const lineage = await figureLineage(pool, id, { limit: request.query.limit ?? 100,
        cursor: request.query.cursor ?? null }, templatesDir === undefined ? {} : { templatesDir });
      await recordRead(pool, request, 'lineage.read', id, grant.id, { lines: lineage.lines.length,
        cursor: request.query.cursor ?? null });
      return lineage;
    });

    app.get('/api/events/:eventId', {
      config: { permission: 'lineage:read' },
      schema: { tags: ['lineage'], params: Type.Object({ eventId: Type.String({ pattern: uuidPattern }) }) },
    }, async (request) => {
      const eventId = request.params.eventId.toLowerCase();
      const event = await readEvent(pool, eventId);
      // Only posted events are found by id: a quarantined message is read through /api/quarantine.
      if (event === null) throw new UserError('not_found', `no event ${eventId}`);
      const grant = grantInScope(request, 'lineage:read', event.subject, `event ${eventId}`);
      await recordRead(pool, request, 'event.read', eventId, grant.id, { topic: event.topic, partition: event.partition,
        offset: event.offset });
      return {
        event_id: eventId, topic: event.topic, partition: event.partition, offset: event.offset,
        log_timestamp: event.logTimestamp.toISOString(), outcome: event.outcome,
        sha256: event.storedSha256, value_base64: event.value.toString('base64'),
        value_text: event.value.toString('utf8'),
        entry: { entry_id: event.entry.entryId, chain_seq: event.entry.chainSeq, hash: event.entry.hash,
          lines: event.entry.lines },
      };
    });
  };
}
