// Finance's pages: report runs in scope (scheduled and on demand, filterable by report and
// period, newest first, paged), one run (parameters, watermark, checkpoint, figures as
// tables, charts, downloads), and running a report on demand. They call the use cases of
// GET/POST /api/report-runs (src/reports/run-listing.ts, on-demand.ts); downloads are the
// API's own file route, which accepts the session cookie for a GET.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { UserError } from '../../errors.ts';
import { minorToDecimalString } from '../../ledger/money.ts';
import { callerScopes } from '../../http/server.ts';
import { figureAcrossMonths, listRunsInScope, reportCurrencies, runFiles, runInScope, type ListedRun } from '../../reports/run-listing.ts';
import { loadTemplates, type StoredRun } from '../../reports/runs.ts';
import type { ReportCurrencies } from '../../reports/run-scope.ts';
import { groupedBars, toMinor, waterfall, type BarSeries } from '../charts.ts';
import { html, type Html } from '../html.ts';
import { formProtection, type PageModule, type WebContext } from '../index.ts';
import { amountCell, csrfField, may, nextPageLink, sendPage, table, utc } from '../layout.ts';
import { decodeCursor, encodeCursor, isWholeNumber } from '../../http/paging.ts';

const runsPageRows = 50;
const RunsQuery = Type.Object({
  report: Type.Optional(Type.String({ maxLength: 64 })),
  period: Type.Optional(Type.String({ maxLength: 10 })),
  cursor: Type.Optional(Type.String({ maxLength: 600 })),
}, { additionalProperties: false });

function paramsText(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function runRow(run: ListedRun): Html {
  const kind = run.requested_by === 'scheduler' ? 'scheduled' : 'on demand';
  return html`<tr><td><a href="/runs/${run.run_id}">${run.report}</a></td><td>${paramsText(run.params)}</td>
    <td>${kind}</td><td>${run.requested_by}</td><td>${utc(run.generated_at)}</td></tr>`;
}

async function runsPage(web: WebContext, currencies: ReportCurrencies, reports: string[],
  request: FastifyRequest, reply: FastifyReply, query: { report?: string; period?: string; cursor?: string }) {
  const { report, period, cursor } = query;
  const before = decodeCursor(cursor, isWholeNumber) ?? undefined;
  const page = await listRunsInScope(web.pool, currencies, callerScopes(request),
    { limit: runsPageRows, beforeSeq: before, filter: { report, period } });
  const options = reports.map((r) => html`<option value="${r}"${r === report ? html` selected` : ''}>${r}</option>`);
  const filtered = (report ?? '') !== '' || (period ?? '') !== '';
  const empty = filtered ? html`No runs match these filters. <a href="/runs">Show every run</a>.`
    : may(request, 'reports:run') ? html`No report runs yet. Scheduled runs appear here as they are made;
      <a href="/runs/new">run a report now</a>.` : html`No report runs in your scope yet. Scheduled runs appear here as they are made.`;
  return sendPage(request, reply, { title: 'Report runs', body: html`
    <form method="get" action="/runs" class="filters" aria-label="Filter runs">
      <label for="f-report">Report <select id="f-report" name="report"><option value="">every report</option>${options}</select></label>
      <label for="f-period">Period <input id="f-period" name="period" value="${period ?? ''}" placeholder="2026-10" size="10"
        pattern="\\d{4}(-\\d{2}(-\\d{2})?)?" aria-describedby="f-period-hint"></label>
      <span id="f-period-hint" class="hint">a year, a month (YYYY-MM) or a day</span>
      <button type="submit">Filter</button>
    </form>
    ${table('Report runs, newest first', ['Report', 'Parameters', 'Kind', 'Requested by', 'Made'],
      page.items.map(runRow), empty)}
    ${nextPageLink('/runs', { report, period }, page.nextSeq === null ? null : encodeCursor(page.nextSeq))}` });
}

function figuresTables(request: FastifyRequest, run: StoredRun): Html {
  const lineage = may(request, 'lineage:read');
  const sections = new Map<string, StoredRun['figures']>();
  for (const figure of run.figures) {
    const list = sections.get(figure.section) ?? [];
    list.push(figure);
    sections.set(figure.section, list);
  }
  const dimNames = [...new Set(run.figures.flatMap((f) => Object.keys(f.dims)))].filter((d) => d !== 'currency');
  return html`${[...sections].map(([section, figures]) => html`<h2>${section}</h2>${table(
    html`${section}: ${figures.length} figures`,
    ['Figure', ...dimNames, html`<span class="amount">Value</span>`],
    figures.map((f) => {
      const currency = f.dims.currency ?? (f.kind === 'count' ? null : (run.header.params.currency ?? null));
      const title = (f.definition as { title?: string } | undefined)?.title ?? f.key;
      const value = amountCell(f.value, f.kind === 'count' ? null : currency);
      return html`<tr><th scope="row">${lineage ? html`<a href="/figures/${f.id}">${title}</a>` : title}</th>
        ${dimNames.map((d) => html`<td>${f.dims[d] ?? ''}</td>`)}${value}</tr>`;
    }), 'This run has no figures: nothing was booked in its period and scope.')}`)}`;
}

function rollForward(run: StoredRun): Html {
  const keys = ['deferred_opening', 'deferred_added', 'deferred_recognized', 'deferred_refunded', 'deferred_closing'];
  const byCurrency = new Map<string, Map<string, bigint>>();
  for (const f of run.figures) {
    if (!keys.includes(f.key) || f.dims.currency === undefined) continue;
    const sums = byCurrency.get(f.dims.currency) ?? new Map<string, bigint>();
    sums.set(f.key, (sums.get(f.key) ?? 0n) + toMinor(f.value));
    byCurrency.set(f.dims.currency, sums);
  }
  const decimal = (minor: bigint | undefined) => minorToDecimalString(minor ?? 0n, 2);
  return html`${[...byCurrency].map(([currency, sums]) => waterfall(`Deferred balance roll-forward, ${currency}`, [
    { label: 'Opening', value: decimal(sums.get('deferred_opening')), kind: 'total' },
    { label: 'Deferred in the period', value: decimal(sums.get('deferred_added')), kind: 'up' },
    { label: 'Recognised', value: decimal(sums.get('deferred_recognized')), kind: 'down' },
    { label: 'Refunded', value: decimal(sums.get('deferred_refunded')), kind: 'down' },
    { label: 'Closing', value: decimal(sums.get('deferred_closing')), kind: 'total' },
  ], currency))}`;
}

async function revenueChart(web: WebContext, currencies: ReportCurrencies, request: FastifyRequest, run: StoredRun) {
  const period = run.header.params.period;
  if (period === undefined) return html``;
  const months = await figureAcrossMonths(web.pool, currencies, callerScopes(request), { report: 'revenue',
    key: 'net_revenue', lastPeriod: period, currencyParam: run.header.params.currency });
  const byCurrency = new Map<string, Map<string, Array<string | null>>>();
  months.forEach((month, m) => {
    for (const f of month.figures) {
      const currency = f.dims.currency ?? '';
      const markets = byCurrency.get(currency) ?? new Map<string, Array<string | null>>();
      const values = markets.get(f.dims.market ?? 'all') ?? months.map(() => null);
      values[m] = f.value;
      markets.set(f.dims.market ?? 'all', values);
      byCurrency.set(currency, markets);
    }
  });
  return html`${[...byCurrency].map(([currency, markets]) => groupedBars(`Net revenue by market across months, ${currency}`,
    months.map((m) => m.period), [...markets].sort().map(([label, values]): BarSeries => ({ label, values })), currency))}`;
}

async function runPage(web: WebContext, currencies: ReportCurrencies, request: FastifyRequest, reply: FastifyReply,
  id: string) {
  const run = await runInScope(web.pool, currencies, callerScopes(request), id);
  const h = run.header;
  const files = await runFiles(web.reports.dataDir, run);
  const downloads = may(request, 'reports:download') ? html`<h2>Downloads</h2><ul class="downloads">${files
    .filter((f) => f.bytes !== null).map((f) => html`<li><a class="button" download href="/api/report-runs/${h.run_id}/files/${f.format}"
      >${f.format === 'manifest' ? 'Signed manifest' : f.format.toUpperCase()} <span class="visually-hidden">of this run</span></a></li>`)}</ul>
    <p class="hint">Each file's SHA-256 is in the signed manifest; <code>ledger report verify FILE --manifest MANIFEST</code>
      checks one offline.</p>` : html``;
  const watermark = Object.entries(h.watermark).map(([partition, offset]) =>
    html`<tr><td>${partition}</td><td class="amount">${offset}</td></tr>`);
  const charts = h.report === 'revenue' ? html`<h2>Charts</h2>${await revenueChart(web, currencies, request, run)}${rollForward(run)}` : html``;
  const checkpoint = h.checkpoint as { checkpoint_id?: unknown; merkle_root?: unknown } | null;
  return sendPage(request, reply, { title: `${h.title ?? h.report}: ${paramsText(h.params)}`, body: html`
    <dl class="facts">
      <dt>Report</dt><dd>${h.report} (template version ${h.template_version})</dd>
      <dt>Parameters</dt><dd>${paramsText(h.params)}</dd>
      <dt>Run</dt><dd class="mono">${h.run_id}</dd>
      <dt>Made</dt><dd>${utc(h.generated_at)} by ${h.requested_by}${h.requested_by === 'scheduler' ? ' (scheduled)' : ' (on demand)'}</dd>
      <dt>Supersedes</dt><dd>${h.supersedes === null ? 'nothing' : html`<a href="/runs/${h.supersedes}">${h.supersedes}</a>`}</dd>
      <dt>Checkpoint</dt><dd class="mono">${checkpoint === null ? 'none yet' : html`${String(checkpoint.checkpoint_id ?? '')}
        ${checkpoint.merkle_root === undefined ? '' : html`(Merkle root ${String(checkpoint.merkle_root)})`}`}</dd>
    </dl>
    ${downloads}
    ${table('Watermark: the last log offset read, per partition', ['Partition', html`<span class="amount">Offset</span>`],
      watermark, 'No log partition had been read when this run was made.')}
    ${charts}
    ${figuresTables(request, run)}` });
}

export const runPages: PageModule = async (app, web) => {
  const currencies = await reportCurrencies(web.reports.templatesDir);
  const reports = [...(await loadTemplates(web.reports.templatesDir)).keys(), 'access-review'].sort();

  app.get('/runs', { config: { permission: 'reports:read', page: true }, schema: { hide: true, querystring: RunsQuery } },
    (request, reply) => runsPage(web, currencies, reports, request, reply, request.query));

  app.get('/runs/new', { config: { permission: 'reports:run', page: true }, schema: { hide: true } },
    (request, reply) => newRunPage(request, reply, reports, null));

  app.post('/runs/new', {
    config: { permission: 'reports:run', page: true },
    schema: { hide: true, body: Type.Object({
      report: Type.String({ maxLength: 64 }), period: Type.Optional(Type.String({ maxLength: 40 })),
      as_of: Type.Optional(Type.String({ maxLength: 40 })), year: Type.Optional(Type.String({ maxLength: 4 })),
      currency: Type.Optional(Type.String({ maxLength: 3 })), market: Type.Optional(Type.String({ maxLength: 8 })),
      _csrf: Type.Optional(Type.String({ maxLength: 200 })),
    }, { additionalProperties: false }) },
    preHandler: formProtection(app),
  }, async (request, reply) => {
    const { report, _csrf: _token, ...given } = request.body;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(given)) if (v !== undefined && v.trim() !== '') params[k] = v.trim();
    try {
      await web.onDemand.grantFor(report, params, request.routeGrants);
      const started = await web.onDemand.start({ report, params, requestedBy: request.caller?.identity.id as string,
        at: request.at }, request.log);
      return reply.redirect(started.finished ? `/runs/${started.id}` : `/runs/${started.id}/progress`, 303);
    } catch (error) {
      if (error instanceof UserError && error.code !== 'trail_unavailable') {
        return newRunPage(request, reply, reports, error.message, 400);
      }
      throw error;
    }
  });

  app.get('/runs/:id/progress', { config: { permission: 'reports:run', page: true },
    schema: { hide: true, params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (request, reply) => {
    const progress = web.onDemand.progress(request.params.id, request.caller?.identity.id);
    if (progress === null) return reply.redirect(`/runs/${request.params.id}`, 303);
    return sendPage(request, reply, { title: `Running ${progress.report}`, body: progress.failed === null
      ? html`<p class="notice" role="status">The run started at ${utc(progress.startedAt)} and is still being made.
        <a href="/runs/${progress.id}/progress">Reload this page</a> to see whether it is done.</p>`
      : html`<p class="error" role="alert">The run failed: ${progress.failed}</p><p><a href="/runs/new">Try again</a>.</p>` });
  });

  app.get('/runs/:id', { config: { permission: 'reports:read', page: true },
    schema: { hide: true, params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
  (request, reply) => runPage(web, currencies, request, reply, request.params.id));
};

function newRunPage(request: FastifyRequest, reply: FastifyReply, reports: string[], problem: string | null, status = 200) {
  const body = (request.body ?? {}) as Record<string, string | undefined>;
  const field = (name: string, label: string, hint: string, size = 12) => html`<label for="p-${name}">${label}
    <input id="p-${name}" name="${name}" value="${body[name] ?? ''}" size="${size}" aria-describedby="p-${name}-hint">
    <span id="p-${name}-hint" class="hint">${hint}</span></label>`;
  return sendPage(request, reply, { title: 'Run a report', status, body: html`
    ${problem === null ? '' : html`<p class="error" role="alert">${problem}</p>`}
    <form method="post" action="/runs/new" class="stack">
      ${csrfField(request, reply)}
      <label for="p-report">Report <select id="p-report" name="report" required>${reports.map((r) =>
        html`<option value="${r}"${r === body.report ? html` selected` : ''}>${r}</option>`)}</select></label>
      ${field('period', 'Period', 'YYYY-MM, for revenue, tax-liability and gl-detail')}
      ${field('as_of', 'As of', 'YYYY-MM-DD, for trial-balance, owner-balances and access-review')}
      ${field('year', 'Year', 'YYYY, for form-1099-k', 6)}
      ${field('currency', 'Currency', 'USD or CAD; leave empty for every currency your grant covers', 4)}
      ${field('market', 'Market', 'such as US-CA; leave empty for every market', 8)}
      <button type="submit">Run the report</button>
    </form>
    <p class="hint">Leave empty what the report does not take. A run is signed and kept; it appears in
      <a href="/runs">report runs</a>.</p>` });
}
