// Reconciliation over HTTP (API.md, Routes): runs newest first with their outcomes and
// checks, one run with its breaks, and resolving a break. The queries and the scope rules
// are the use cases of src/reconciliation/queries.ts, shared with the web pages.
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import {
  breakCurrency, breakJson, isRunKey, listReconciliationRuns, reconciliationRunInScope, resolveBreakRecorded, runBreaks,
  runJson,
} from '../../reconciliation/queries.ts';
import { decodeCursor, encodeCursor, isWholeNumber, pageLimit, PagingQuery } from '../paging.ts';
import { actorOf, callerScopes, grantInScope, type HttpApp } from '../server.ts';

const uuidPattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const RunId = Type.Object({ id: Type.String({ pattern: uuidPattern }) });
const BreakId = Type.Object({ id: Type.String({ pattern: '^brk_[0-9a-f]{24}$' }) });

export function reconciliationRoutes(pool: Pool) {
  return (app: HttpApp) => {
    app.get('/api/reconciliation-runs', {
      config: { permission: 'reconciliation:read' },
      schema: { tags: ['reconciliation'], querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const after = decodeCursor(request.query.cursor, isRunKey);
      const page = await listReconciliationRuns(pool, callerScopes(request), after, limit);
      return { items: page.rows.map(runJson), next_cursor: page.nextKey === null ? null : encodeCursor(page.nextKey) };
    });

    app.get('/api/reconciliation-runs/:id', {
      config: { permission: 'reconciliation:read' },
      schema: { tags: ['reconciliation'], params: RunId, querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const afterItem = decodeCursor(request.query.cursor, isWholeNumber);
      const run = await reconciliationRunInScope(pool, callerScopes(request), request.params.id);
      const breaks = await runBreaks(pool, run.run_id, afterItem, limit);
      return { ...runJson(run), inputs: run.inputs, watermark: run.watermark,
        breaks: { items: breaks.rows.map(breakJson),
          next_cursor: breaks.nextItem === null ? null : encodeCursor(breaks.nextItem) } };
    });

    app.post('/api/reconciliation-breaks/:id/resolve', {
      config: { permission: 'reconciliation:resolve' },
      schema: { tags: ['reconciliation'], params: BreakId, body: Type.Object({
        reason: Type.String({ minLength: 1, maxLength: 1000 }),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const breakId = request.params.id;
      const currency = await breakCurrency(pool, breakId);
      if (currency === null) throw new UserError('not_found', `no reconciliation break ${breakId}`);
      const grant = grantInScope(request, 'reconciliation:resolve', { currency, market: null },
        `reconciliation break ${breakId}`);
      const resolution = await resolveBreakRecorded(pool, { breakId, currency, reason: request.body.reason,
        at: request.at, actor: actorOf(request, grant) });
      return { break_id: breakId, status: 'resolved', resolution };
    });
  };
}
