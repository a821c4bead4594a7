// Reconciliation pages: runs with their outcomes (newest first, paged), open breaks of
// the newest run by age as a bar chart, one run's breaks, and resolving a break with a
// reason for those allowed (reconciliation:resolve). The same use cases as
// /api/reconciliation-* (src/reconciliation/queries.ts), with the same scope rules.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Pool } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { decodeCursor, encodeCursor, isWholeNumber } from '../../http/paging.ts';
import { actorOf, callerScopes, grantInScope } from '../../http/server.ts';
import {
  breakCurrency, breakJson, isRunKey, listReconciliationRuns, reconciliationRunInScope, resolveBreakRecorded, runBreaks,
  runJson, type RunRow,
} from '../../reconciliation/queries.ts';
import { groupedBars } from '../charts.ts';
import { html, type Html } from '../html.ts';
import { formProtection, type PageModule } from '../index.ts';
import { amountCell, csrfField, may, nextPageLink, sendPage, table, utc } from '../layout.ts';

const runsPageRows = 30;
const breaksPageRows = 100;
const openBreaksMax = 1_000;
const ageBuckets = [{ label: '0–2 days', max: 2 }, { label: '3–7 days', max: 7 }, { label: '8–30 days', max: 30 },
  { label: 'over 30 days', max: Number.POSITIVE_INFINITY }];

function outcomesText(run: ReturnType<typeof runJson>): Html {
  const outcomes = run.outcomes as Record<string, { count: number; amounts: Record<string, string> }>;
  return html`${Object.entries(outcomes).filter(([, t]) => t.count > 0).map(([name, t]) =>
    html`<span class="outcome">${name} ${t.count}</span>; `)}`;
}

async function ageChart(pool: Pool, newest: RunRow | undefined) {
  if (newest === undefined) return html``;
  const open = await runBreaks(pool, newest.run_id, null, openBreaksMax, { openOnly: true });
  if (open.rows.length === 0) return html`<p class="notice">The newest run (${newest.run_date}) has no open break.</p>`;
  const counts = ageBuckets.map((bucket, i) => open.rows.filter((b) => b.age_days <= bucket.max
    && (i === 0 || b.age_days > (ageBuckets[i - 1] as { max: number }).max)).length);
  return groupedBars(`Open breaks of the run of ${newest.run_date} by age`, ageBuckets.map((b) => b.label),
    [{ label: 'open breaks', values: counts.map(String) }], 'breaks', 0);
}

async function runsPage(pool: Pool, request: FastifyRequest, reply: FastifyReply,
  cursor: string | undefined) {
  const after = decodeCursor(cursor, isRunKey);
  const page = await listReconciliationRuns(pool, callerScopes(request), after, runsPageRows);
  const rows = page.rows.map(runJson).map((r) => html`<tr><td><a href="/reconciliation/${r.id}">${r.date}</a></td>
    <td>${outcomesText(r)}</td><td class="amount">${r.breaks_open}</td><td class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'all checks pass' : 'a check failed'}</td>
    <td>${r.currencies.join(', ')}</td><td>${utc(r.finished_at)}</td></tr>`);
  return sendPage(request, reply, { title: 'Reconciliation', body: html`
    ${after === null ? html`<h2>Open breaks by age</h2>${await ageChart(pool, page.rows[0])}` : ''}
    <h2>Runs</h2>
    ${table('Reconciliation runs, newest first', ['Day', 'Outcomes', html`<span class="amount">Open breaks</span>`, 'Checks',
      'Currencies', 'Finished'], rows, html`No reconciliation run in your scope yet. The nightly job runs once the
      processor and bank files of a day are in the inbox; <code>ledger reconcile</code> runs one by hand.`)}
    ${nextPageLink('/reconciliation', {}, page.nextKey === null ? null : encodeCursor(page.nextKey))}` });
}

function breakRow(request: FastifyRequest, reply: FastifyReply, b: ReturnType<typeof breakJson>): Html {
  const resolve = b.status === 'open' && may(request, 'reconciliation:resolve')
    ? html`<form method="post" action="/reconciliation/breaks/${b.break_id}/resolve" class="inline">${csrfField(request, reply)}
        <label for="why-${b.break_id}" class="visually-hidden">Reason for resolving ${b.break_id}</label>
        <input id="why-${b.break_id}" name="reason" required maxlength="1000" placeholder="reason" size="16">
        <button type="submit">Resolve <span class="visually-hidden">${b.break_id}</span></button></form>`
    : b.resolution === null ? html`` : html`resolved by ${b.resolution.resolved_by}: ${b.resolution.reason}`;
  return html`<tr><td class="mono">${b.break_id}</td><td>${b.outcome}</td><td>${b.category}</td><td>${b.reference}</td>
    <td>${b.opened_on}</td><td class="amount">${b.age_days}</td>${amountCell(b.ledger_amount, b.currency)}
    ${amountCell(b.external_amount, b.currency)}${amountCell(b.difference, b.currency)}<td>${resolve}</td></tr>`;
}

export const reconciliationPages: PageModule = (app, web) => {
  const pool = web.pool;
  app.get('/reconciliation', { config: { permission: 'reconciliation:read', page: true }, schema: { hide: true,
    querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 600 })) }, { additionalProperties: false }) } },
  (request, reply) => runsPage(pool, request, reply, request.query.cursor));

  app.get('/reconciliation/:id', { config: { permission: 'reconciliation:read', page: true }, schema: { hide: true,
    params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
    querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 600 })) }, { additionalProperties: false }) } },
  async (request, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(request.params.id)) throw new UserError('not_found', `no reconciliation run ${request.params.id}`);
    const run = runJson(await reconciliationRunInScope(pool, callerScopes(request), request.params.id));
    const breaks = await runBreaks(pool, run.id, decodeCursor(request.query.cursor, isWholeNumber), breaksPageRows);
    const checks = (run.checks as Array<{ name?: string; ok?: boolean; detail?: string }>).map((c) =>
      html`<tr><td>${c.name ?? ''}</td><td class="${c.ok === true ? 'ok' : 'bad'}">${c.ok === true ? 'passes' : 'fails'}</td><td>${c.detail ?? ''}</td></tr>`);
    return sendPage(request, reply, { title: `Reconciliation of ${run.date}`, body: html`
      <dl class="facts"><dt>Outcomes</dt><dd>${outcomesText(run)}</dd><dt>Open breaks</dt><dd>${run.breaks_open}</dd>
        <dt>Made</dt><dd>${utc(run.finished_at)} by ${run.requested_by}</dd></dl>
      ${table('Checks', ['Check', 'Result', 'Detail'], checks, 'This run recorded no checks.')}
      <h2>Breaks</h2>
      ${table('Breaks in the order the run found them', ['Break', 'Outcome', 'Category', 'Reference', 'Opened', html`<span class="amount">Age (days)</span>`,
        html`<span class="amount">Ledger</span>`, html`<span class="amount">External</span>`, html`<span class="amount">Difference</span>`,
        'Resolution'], breaks.rows.map(breakJson).map((b) => breakRow(request, reply, b)), 'No breaks: everything matched.')}
      ${nextPageLink(`/reconciliation/${run.id}`, {}, breaks.nextItem === null ? null : encodeCursor(breaks.nextItem))}` });
  });

  app.post('/reconciliation/breaks/:id/resolve', { config: { permission: 'reconciliation:resolve', page: true },
    preHandler: formProtection(app), schema: { hide: true, params: Type.Object({ id: Type.String({ pattern: '^brk_[0-9a-f]{24}$' }) }),
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }), _csrf: Type.Optional(Type.String({ maxLength: 200 })) },
        { additionalProperties: false }) } }, async (request, reply) => {
    const breakId = request.params.id;
    const currency = await breakCurrency(pool, breakId);
    if (currency === null) throw new UserError('not_found', `no reconciliation break ${breakId}`);
    const grant = grantInScope(request, 'reconciliation:resolve', { currency, market: null }, `reconciliation break ${breakId}`);
    await resolveBreakRecorded(pool, { breakId, currency, reason: request.body.reason, at: request.at,
      actor: actorOf(request, grant) });
    return reply.redirect('/reconciliation', 303);
  });
};
