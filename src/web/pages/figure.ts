// GET /figures/:figureId: the page every xlsx and pdf figure links to. The figure as its
// run stored it, its definition as the run recorded it, and its lineage (the journal
// lines it sums), paged by the same cursor as GET /api/figures/{id}/lineage, with the
// lineage's signed sum checked against the value in plain words. Scope as in the API (a
// figure outside the caller's grants is a not-found page); each lineage page read is in
// the trail exactly as the API records it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { findFigure, type FigureRecord } from '../../auditing/reads.ts';
import { isUserError, UserError } from '../../errors.ts';
import { grantInScope, recordBeforeResponding, type HttpApp } from '../../http/server.ts';
import { figureSubject } from '../../reports/figures.ts';
import { figureLineage, type Lineage, type LineageLine } from '../../reports/lineage.ts';
import { loadTemplates } from '../../reports/runs.ts';
import { html, type Html } from '../html.ts';
import type { PageModule, WebContext } from '../index.ts';
import { amountCell, groupDigits, nextPageLink, sendPage, table, utc } from '../layout.ts';
import { sameDecimal, shortHash } from './auditing-format.ts';

const FigureParams = Type.Object({ figureId: Type.String({ pattern: '^fig_[0-9a-f]{24}$' }) });
const LineageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 600 })),
}, { additionalProperties: false });
const linesPerPageDefault = 50;

export const figurePages: PageModule = async (app: HttpApp, web: WebContext) => {
  const templates = await loadTemplates(web.reports.templatesDir);
  const currencyOf = (report: string) => templates.get(report)?.currency ?? null;

  app.get('/figures/:figureId', {
    config: { permission: 'lineage:read', page: true },
    schema: { hide: true, params: FigureParams, querystring: LineageQuery },
  }, async (request, reply) => {
    const id = request.params.figureId;
    const figure = await findFigure(web.pool, id);
    if (figure === null) throw new UserError('not_found', `no figure ${id}`);
    const grant = grantInScope(request, 'lineage:read', figureSubject(figure, currencyOf(figure.report)), `figure ${id}`);
    const page = { limit: request.query.limit ?? linesPerPageDefault, cursor: request.query.cursor ?? null };
    const lineage = await lineageOrReason(web, id, page);
    if (!('reason' in lineage)) {
      await recordBeforeResponding(web.pool, { at: request.at, actor: request.caller?.identity.id as string,
        action: 'lineage.read', object: id, grantId: grant.id, source: request.ip,
        detail: { lines: lineage.lines.length, cursor: page.cursor } });
    }
    const currency = figure.dims.currency ?? currencyOf(figure.report);
    return figurePage(request, reply, figure, currency, lineage, request.query);
  });
};

/** The lineage page, or why this figure has none (a derived figure, a reconciliation count). */
async function lineageOrReason(web: WebContext, id: string, page: { limit: number; cursor: string | null }) {
  try {
    return await figureLineage(web.pool, id, page, web.reports.templatesDir === undefined ? {}
      : { templatesDir: web.reports.templatesDir });
  } catch (error) {
    if (isUserError(error) && (error.code === 'no_lineage' || error.code === 'definitions_unknown')) {
      return { reason: error.message };
    }
    throw error;
  }
}

type PageQuery = { readonly limit?: number | undefined; readonly cursor?: string | undefined };

function figurePage(
  request: FastifyRequest, reply: FastifyReply, figure: FigureRecord, currency: string | null,
  lineage: Lineage | { reason: string }, query: PageQuery,
) {
  const value = figure.kind === 'money' ? amountCell(figure.value, currency)
    : html`<td class="amount">${groupDigits(figure.value)}</td>`;
  const dims = Object.entries(figure.dims).map(([k, v]) => `${k} = ${v}`).join(', ');
  const body = html`
    <section aria-labelledby="figure-heading"><h2 id="figure-heading">The figure</h2>
    <table class="facts"><caption class="visually-hidden">The figure and its run</caption><tbody>
      <tr><th scope="row">Figure id</th><td><code>${figure.figureId}</code></td></tr>
      <tr><th scope="row">Key</th><td><code>${figure.key}</code></td></tr>
      <tr><th scope="row">Dimensions</th><td>${dims === '' ? 'none (the whole report)' : dims}</td></tr>
      <tr><th scope="row">Value</th>${value}</tr>
      <tr><th scope="row">Section</th><td>${figure.section}</td></tr>
      <tr><th scope="row">Run</th><td><a href="/runs/${figure.runId}">${figure.runTitle}</a>
        (<code>${figure.runId}</code>), generated ${utc(figure.runGeneratedAt)}</td></tr>
    </tbody></table></section>
    <section aria-labelledby="definition-heading"><h2 id="definition-heading">Its definition, as the run recorded it</h2>
    <pre class="json" tabindex="0">${JSON.stringify(figure.definition, null, 2)}</pre></section>
    <section aria-labelledby="lineage-heading"><h2 id="lineage-heading">Its lineage</h2>
    ${'reason' in lineage ? html`<p class="empty">${lineage.reason}</p>` : lineageSection(query, figure, currency, lineage)}
    </section>`;
  const place = Object.values(figure.dims).join(', ');
  return sendPage(request, reply, { title: `${figure.definition.title ?? figure.key}${place === '' ? '' : ` — ${place}`}`, body });
}

function sumCheck(figure: FigureRecord, currency: string | null, lineage: Lineage): Html {
  const unit = figure.kind === 'money' && currency !== null ? ` ${currency}` : '';
  if (sameDecimal(lineage.sum, figure.value)) {
    return html`<p class="sum-check" data-sum-check="equal"><span class="ok">Sum of all lines
      = value ✓</span> (${groupDigits(lineage.sum)}${unit} over every page of lines, not only this one)</p>`;
  }
  return html`<p class="sum-check" data-sum-check="mismatch" role="alert"><span class="bad">MISMATCH: the lines sum to
    ${groupDigits(lineage.sum)}${unit}, the figure says ${groupDigits(figure.value)}${unit}.</span> Run
    <code>ledger verify</code> on the server host and tell whoever keeps the ledger.</p>`;
}

function termsNote(lineage: Lineage): Html {
  if (lineage.terms.length === 0) return html``;
  return html`<p>This figure is ${lineage.terms.map((t, i) => html`${i === 0 && t.sign === 1 ? '' : t.sign === 1 ? ' + ' : ' − '}<a
    href="/figures/${t.figure_id}">${t.key}</a>`)}; its lines are each term's, signed.</p>`;
}

function lineRow(line: LineageLine, count: boolean): Html {
  return html`<tr>
    <td><a href="/entries/${line.entry_id}" title="entry ${line.entry_id}"><code>…${line.entry_id.slice(-12)}</code></a>${line.line_no === null ? ''
      : html` line ${line.line_no}`}</td>
    <td><a href="/events/${line.event_id}"><code>${line.event_id.slice(0, 8)}</code></a> ${line.event_type}</td>
    <td>${line.account ?? '—'}</td><td>${line.side ?? '—'}</td>
    ${amountCell(line.amount, line.currency)}
    ${count ? html`<td class="amount">${line.contribution}</td>` : amountCell(line.contribution, line.currency)}
    <td><code>${line.topic}/${line.partition}@${line.offset}</code></td>
    <td><code title="${line.message_sha256}">${shortHash(line.message_sha256)}</code></td></tr>`;
}

function lineageSection(pageQuery: PageQuery, figure: FigureRecord, currency: string | null, lineage: Lineage): Html {
  const count = figure.kind !== 'money';
  const query = { limit: pageQuery.limit === undefined ? undefined : String(pageQuery.limit) };
  const path = `/figures/${figure.figureId}`;
  return html`${sumCheck(figure, currency, lineage)}${termsNote(lineage)}
    ${table(html`Journal ${count ? 'entries' : 'lines'} of ${figure.key}${pageQuery.cursor === undefined ? ' (first page)'
      : ' (a later page)'}`, ['Entry', 'Event', 'Account', 'Side', html`<span class="amount">Amount</span>`,
      html`<span class="amount">Counts as</span>`, 'Log position', 'Message SHA-256'],
    lineage.lines.map((line) => lineRow(line, count)),
    'No journal lines make up this figure: its value is zero, and nothing was booked that matches its definition.')}
    <nav aria-label="Lineage pages" class="pager">${pageQuery.cursor === undefined ? ''
      : html`<a href="${path}">First page</a> `}${nextPageLink(path, query, lineage.next_cursor)}</nav>`;
}
