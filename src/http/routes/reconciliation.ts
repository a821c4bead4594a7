// Reconciliation over HTTP (API.md, Routes): runs newest first with their outcomes and
// checks, one run with its breaks, and resolving a break. Scope: processor and bank rows
// have a currency and no market, so a run is in scope only for one grant with all markets
// whose currencies cover every currency of the run (a run with no currency at all needs a
// grant on everything), and a break only for a grant with all markets and its currency
// (docs/contract-readings.md). A resolution is recorded once, by the caller, with its
// trail record in the same transaction.
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { allInScope, type Scope, type Subject } from '../../access-control/scope.ts';
import type { GrantRecord } from '../../access-control/store.ts';
import { appendTrail } from '../../access-control/trail.ts';
import { withTransaction, type Pool } from '../../db/database.ts';
import { isUserError, UserError } from '../../errors.ts';
import type { CurrencyCode } from '../../ledger/money.ts';
import { money } from '../../reconciliation/record.ts';
import { resolveBreak } from '../../reconciliation/store.ts';
import { decodeCursor, encodeCursor, isWholeNumber, pageLimit, PagingQuery } from '../paging.ts';
import { actorOf, grantInScope, type HttpApp } from '../server.ts';

const uuidPattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const RunId = Type.Object({ id: Type.String({ pattern: uuidPattern }) });
const BreakId = Type.Object({ id: Type.String({ pattern: '^brk_[0-9a-f]{24}$' }) });

/** A run's currencies: of its tallies (every outcome, matched too) and of its unmatched items. */
const runColumns = `r.run_id, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, r.requested_by, r.started_at, r.finished_at,
  r.supersedes, r.params, r.inputs, r.watermark, r.outcomes, r.checks, r.breaks_open, r.ok,
  (extract(epoch FROM r.started_at) * 1000000)::bigint::text AS started_us,
  ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(r.outcomes, '$.categories[*].currency'))
        UNION SELECT i.currency FROM ledger.reconciliation_items i WHERE i.run_id = r.run_id) AS currencies`;

type RunRow = {
  run_id: string; run_date: string; requested_by: string; started_at: Date; finished_at: Date; supersedes: string | null;
  params: unknown; inputs: unknown; watermark: unknown; outcomes: { outcomes: unknown; categories: unknown };
  checks: unknown; breaks_open: number; ok: boolean; started_us: string; currencies: CurrencyCode[];
};

function runSubjects(currencies: readonly CurrencyCode[]): Subject[] {
  if (currencies.length === 0) return [{ currency: null, market: null }];
  return currencies.map((currency) => ({ currency, market: null }));
}

/** The one grant whose scope covers the whole run, or null: out of scope reads as absent. */
function grantForRun(request: FastifyRequest, currencies: readonly CurrencyCode[]): GrantRecord | null {
  const subjects = runSubjects(currencies);
  return request.routeGrants.find((g) => allInScope(g.scope, subjects)) ?? null;
}

/**
 * The SQL form of grantForRun over a list: scopes as JSON `[[currencies] | null]`, one per
 * grant with all markets. A null entry sees every run; a list sees runs whose currencies
 * it covers, and never a run with none.
 */
function runScopeFilter(scopes: readonly Scope[]): string {
  return JSON.stringify(scopes.filter((s) => s.markets === null).map((s) => s.currencies));
}
const runScopeSql = (param: string, currenciesSql: string) => `EXISTS (
  SELECT 1 FROM jsonb_array_elements(${param}::jsonb) g(c)
  WHERE jsonb_typeof(g.c) = 'null' OR (cardinality(${currenciesSql}) > 0
    AND ${currenciesSql} <@ ARRAY(SELECT jsonb_array_elements_text(g.c))))`;

function runJson(row: RunRow) {
  return { id: row.run_id, date: row.run_date, requested_by: row.requested_by, started_at: row.started_at.toISOString(),
    finished_at: row.finished_at.toISOString(), supersedes: row.supersedes, currencies: [...row.currencies].sort(),
    params: row.params, outcomes: row.outcomes.outcomes, categories: row.outcomes.categories, checks: row.checks,
    breaks_open: row.breaks_open, ok: row.ok };
}

const runKeyPattern = /^(\d{1,20}):([0-9a-f-]{36})$/;
const isRunKey = (key: unknown): key is string => typeof key === 'string' && runKeyPattern.test(key);

type BreakRow = {
  item_no: number; break_id: string; outcome: string; source: string; category: string; currency: CurrencyCode;
  reference: string; opened_on: string; age_days: number; ledger_amount_minor: string | null;
  external_amount_minor: string | null; ledger_fee_minor: string | null; external_fee_minor: string | null;
  entry_id: string | null; event_id: string | null; event_type: string | null; effective_at: Date | null;
  topic: string | null; partition: number | null; offset: string | null; file: string | null; line: number | null;
  external_id: string | null; external_date: string | null;
  resolved_by: string | null; resolved_at: string | null; reason: string | null;
};

const big = (v: string | null) => (v === null ? null : BigInt(v));

/** As the run record shows a break (src/reconciliation/record.ts, BreakRecord). */
function breakJson(r: BreakRow) {
  const ledger = big(r.ledger_amount_minor);
  const external = big(r.external_amount_minor);
  return {
    break_id: r.break_id, outcome: r.outcome, source: r.source, category: r.category, currency: r.currency,
    reference: r.reference, opened_on: r.opened_on, age_days: r.age_days,
    status: r.resolved_by === null ? 'open' : 'resolved',
    resolution: r.resolved_by === null ? null : { resolved_by: r.resolved_by, resolved_at: r.resolved_at, reason: r.reason },
    ledger_amount: money(ledger, r.currency), external_amount: money(external, r.currency),
    difference: money(ledger !== null && external !== null ? external - ledger : null, r.currency),
    ledger_fee: money(big(r.ledger_fee_minor), r.currency), external_fee: money(big(r.external_fee_minor), r.currency),
    ledger: r.entry_id === null ? null : { entry_id: r.entry_id, event_id: r.event_id, event_type: r.event_type,
      effective_at: r.effective_at?.toISOString() ?? null, topic: r.topic, partition: r.partition,
      offset: Number(r.offset) },
    external: r.file === null ? null : { file: r.file, line: r.line, id: r.external_id, date: r.external_date },
  };
}

export function reconciliationRoutes(pool: Pool) {
  return (app: HttpApp) => {
    app.get('/api/reconciliation-runs', {
      config: { permission: 'reconciliation:read' },
      schema: { tags: ['reconciliation'], querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const after = decodeCursor(request.query.cursor, isRunKey);
      const key = after === null ? null : runKeyPattern.exec(after);
      const rows = await pool.query<RunRow>(`SELECT * FROM (SELECT ${runColumns} FROM ledger.reconciliation_runs r
         WHERE $1::bigint IS NULL
            OR ((extract(epoch FROM r.started_at) * 1000000)::bigint, r.run_id) < ($1::bigint, $2::uuid)
         ORDER BY r.started_at DESC, r.run_id DESC) runs
        WHERE ${runScopeSql('$3', 'runs.currencies')}
        ORDER BY runs.started_at DESC, runs.run_id DESC LIMIT $4`,
      [key?.[1] ?? null, key?.[2] ?? null, runScopeFilter(request.routeGrants.map((g) => g.scope)), limit + 1]);
      const page = rows.rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(runJson),
        next_cursor: rows.rows.length > limit && last !== undefined
          ? encodeCursor(`${last.started_us}:${last.run_id}`) : null };
    });

    app.get('/api/reconciliation-runs/:id', {
      config: { permission: 'reconciliation:read' },
      schema: { tags: ['reconciliation'], params: RunId, querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const afterItem = decodeCursor(request.query.cursor, isWholeNumber);
      const found = await pool.query<RunRow>(`SELECT ${runColumns} FROM ledger.reconciliation_runs r WHERE r.run_id = $1`,
        [request.params.id]);
      const run = found.rows[0];
      if (run === undefined || grantForRun(request, run.currencies) === null) {
        throw new UserError('not_found', `no reconciliation run ${request.params.id}`);
      }
      const breaks = await pool.query<BreakRow>(`SELECT i.item_no, i.break_id, i.outcome, i.source, i.category, i.currency,
          i.reference, to_char(i.opened_on, 'YYYY-MM-DD') AS opened_on, i.age_days, i.ledger_amount_minor::text,
          i.external_amount_minor::text, i.ledger_fee_minor::text, i.external_fee_minor::text, i.entry_id, i.event_id,
          i.event_type, i.effective_at, i.topic, i.partition, i."offset"::text AS "offset", i.file, i.line, i.external_id,
          i.external_date, s.resolved_by,
          to_char(s.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS resolved_at, s.reason
        FROM ledger.reconciliation_items i
        LEFT JOIN ledger.reconciliation_resolutions s ON s.break_id = i.break_id
       WHERE i.run_id = $1 AND i.outcome <> 'pending' AND ($2::int IS NULL OR i.item_no > $2)
       ORDER BY i.item_no LIMIT $3`, [run.run_id, afterItem, limit + 1]);
      const page = breaks.rows.slice(0, limit);
      const last = page[page.length - 1];
      return { ...runJson(run), inputs: run.inputs, watermark: run.watermark,
        breaks: { items: page.map(breakJson),
          next_cursor: breaks.rows.length > limit && last !== undefined ? encodeCursor(last.item_no) : null } };
    });

    app.post('/api/reconciliation-breaks/:id/resolve', {
      config: { permission: 'reconciliation:resolve' },
      schema: { tags: ['reconciliation'], params: BreakId, body: Type.Object({
        reason: Type.String({ minLength: 1, maxLength: 1000 }),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const breakId = request.params.id;
      const known = await pool.query<{ currency: CurrencyCode }>(`SELECT currency FROM ledger.reconciliation_items
          WHERE break_id = $1 AND outcome <> 'pending' LIMIT 1`, [breakId]);
      const currency = known.rows[0]?.currency;
      if (currency === undefined) throw new UserError('not_found', `no reconciliation break ${breakId}`);
      const grant = grantInScope(request, 'reconciliation:resolve', { currency, market: null },
        `reconciliation break ${breakId}`);
      const actor = actorOf(request, grant);
      const resolution = await withTransaction(pool, async (tx) => {
        const resolved = await resolveBreak(tx, { breakId, resolvedBy: actor.identityId, reason: request.body.reason,
          now: request.at });
        // The resolution stands only with its trail record: if that cannot be written, neither is.
        await appendTrail(tx, { at: request.at, actor: actor.identityId, action: 'break.resolve', object: breakId,
          grantId: actor.grantId, source: actor.source, detail: { reason: resolved.reason, currency } })
          .catch((error: unknown) => {
            throw Object.assign(new UserError('trail_unavailable', 'the audit trail cannot be written just now; ' +
              'the break was not resolved; try again shortly'), { cause: error });
          });
        return resolved;
      }).catch((error: unknown) => {
        if (isUserError(error) && error.code === 'already_resolved') throw new UserError('conflict', error.message);
        throw error;
      });
      return { break_id: breakId, status: 'resolved', resolution };
    });
  };
}
