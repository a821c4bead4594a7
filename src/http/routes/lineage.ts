// GET /api/figures/{figureId}/lineage and GET /api/events/{eventId} (API.md): an auditor
// walks from a figure to the journal lines behind it, and from a line to the raw message
// the log carried. Each read is recorded in the trail with the grant that allowed it; a
// figure or event outside the caller's scope is 404, as if it did not exist.
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { figureSubject } from '../../reports/figures.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../../ledger/money.ts';
import { figureLineage } from '../../reports/lineage.ts';
import { loadTemplates } from '../../reports/runs.ts';
import { grantInScope, recordBeforeResponding, type HttpApp } from '../server.ts';
import type { FastifyRequest } from 'fastify';
import type { GrantRecord } from '../../access-control/store.ts';

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
      let grant: GrantRecord | null = null;
      // The scope check runs on the figure lineage reads anyway, before anything else of it:
      // one query for the figure, its run and definitions, not a second one here.
      const lineage = await figureLineage(pool, id, { limit: request.query.limit ?? 100,
        cursor: request.query.cursor ?? null }, {
        ...(templatesDir === undefined ? {} : { templatesDir }),
        authorize: (figure) => {
          grant = grantInScope(request, 'lineage:read', figureSubject(figure, currencies.get(figure.report) ?? null),
            // Worded as figureLineage's own "no figure": out of scope reads exactly as absent.
            `figure ${JSON.stringify(id)}`);
        },
      });
      if (grant === null) throw new Error('invariant violated: a figure\'s lineage was read without its scope check');
      await recordRead(pool, request, 'lineage.read', id, (grant as GrantRecord).id, { lines: lineage.lines.length,
        cursor: request.query.cursor ?? null });
      return lineage;
    });

    app.get('/api/events/:eventId', {
      config: { permission: 'lineage:read' },
      schema: { tags: ['lineage'], params: Type.Object({ eventId: Type.String({ pattern: uuidPattern }) }) },
    }, async (request) => {
      const eventId = request.params.eventId.toLowerCase();
      const event = await pool.query<{ topic: string; partition: number; offset: string; value: Buffer | null;
        value_sha256: Buffer; outcome: string; log_timestamp: Date; entry_id: string | null;
        subject_currency: 'USD' | 'CAD' | null; subject_market: string | null; entry_hash: Buffer | null;
        chain_seq: string | null }>(
        `SELECT m.topic, m.partition, m."offset", m.value, m.value_sha256, m.outcome, m.log_timestamp,
                e.entry_id, e.subject_currency, e.subject_market, e.entry_hash, e.chain_seq
           FROM ledger.journal_entries e
           JOIN ledger.raw_messages m USING (topic, partition, "offset")
          WHERE e.event_id = $1`, [eventId]);
      const row = event.rows[0];
      // Only posted events are found by id: a quarantined message is read through /api/quarantine.
      if (row === undefined) throw new UserError('not_found', `no event ${eventId}`);
      const grant = grantInScope(request, 'lineage:read', { currency: row.subject_currency, market: row.subject_market },
        `event ${eventId}`);
      const lines = await pool.query<{ line_no: number; account: string; side: string; amount_minor: string;
        currency: string }>(`SELECT line_no, account, side, amount_minor, currency FROM ledger.journal_lines
          WHERE entry_id = $1 ORDER BY line_no`, [row.entry_id]);
      await recordRead(pool, request, 'event.read', eventId, grant.id, { topic: row.topic, partition: row.partition,
        offset: Number(row.offset) });
      const value = row.value ?? Buffer.alloc(0);
      return {
        event_id: eventId, topic: row.topic, partition: row.partition, offset: Number(row.offset),
        log_timestamp: row.log_timestamp.toISOString(), outcome: row.outcome,
        sha256: row.value_sha256.toString('hex'), value_base64: value.toString('base64'),
        value_text: value.toString('utf8'),
        entry: { entry_id: row.entry_id, chain_seq: Number(row.chain_seq), hash: row.entry_hash?.toString('hex') ?? null,
          lines: lines.rows.map((l) => ({ line_no: l.line_no, account: l.account, side: l.side,
            amount: toDecimalString(fromMinor(l.currency as CurrencyCode, BigInt(l.amount_minor))), currency: l.currency })) },
      };
    });
  };
}
