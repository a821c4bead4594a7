// GET /trail: the audit trail, newest first, filtered by actor, action and time (from
// inclusive, to exclusive, in UTC), paged as GET /api/audit is, through the same use case.
// Read-only for everyone who may see it (audit:read: auditors and admins); like the API,
// reading it is not itself recorded.
import { Type } from 'typebox';
import { parseInstant } from '../../access-control/service.ts';
import { readTrail } from '../../auditing/reads.ts';
import type { TrailRow } from '../../access-control/trail.ts';
import { decodeCursor, encodeCursor, isWholeNumber } from '../../http/paging.ts';
import { html, type Html } from '../html.ts';
import type { PageModule } from '../index.ts';
import { nextPageLink, sendPage, table, utc } from '../layout.ts';
import { instantText, shortHash } from './auditing-format.ts';

const recordsPerPage = 50;

const TrailQuery = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 200 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  cursor: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });

type Filters = { actor?: string | undefined; action?: string | undefined; from?: string | undefined; to?: string | undefined };

export const trailPages: PageModule = (app, web) => {
  app.get('/trail', {
    config: { permission: 'audit:read', page: true },
    schema: { hide: true, querystring: TrailQuery },
  }, async (request, reply) => {
    const q = request.query;
    const text = (value: string | undefined) => (value === undefined || value.trim() === '' ? null : value.trim());
    const from = instantText(q.from);
    const to = instantText(q.to);
    const rows = await readTrail(web.pool, { actor: text(q.actor), action: text(q.action), object: null,
      from: from === undefined ? null : parseInstant(from, 'from'), to: to === undefined ? null : parseInstant(to, 'to') },
    decodeCursor(q.cursor, isWholeNumber), recordsPerPage + 1);
    const shown = rows.slice(0, recordsPerPage);
    const next = rows.length > recordsPerPage ? encodeCursor(shown.at(-1)?.seq as number) : null;
    const filtered = [q.actor, q.action, q.from, q.to].some((v) => text(v) !== null);
    const filters: Filters = { actor: q.actor, action: q.action, from: q.from, to: q.to };
    return sendPage(request, reply, { title: 'Audit trail', body: html`${filterForm(filters)}
      ${table(html`Trail records, newest first${q.cursor === undefined ? '' : ' (a later page)'}`,
        ['No.', 'When (UTC)', 'Actor', 'Action', 'Object', 'Grant', 'From', 'Detail', 'Hash'], shown.map(trailRow),
        filtered ? 'No trail record matches these filters. Widen them: clear the actor or action, or choose a wider time range.'
          : 'The trail is empty: nothing has been done through this ledger yet.')}
      <nav aria-label="Trail pages" class="pager">${q.cursor === undefined ? ''
        : html`<a href="/trail${filterQuery(filters)}">Newest</a> `}${nextPageLink('/trail', filters, next)}</nav>` });
  });
};

function filterQuery(filters: Filters): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v !== undefined && v.trim() !== '') search.set(k, v);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function filterForm(f: Filters): Html {
  return html`<form method="get" action="/trail" class="filters" role="search" aria-label="Filter the trail">
    <label for="trail-actor">Actor (identity id)<input id="trail-actor" name="actor" value="${f.actor ?? ''}" maxlength="200"></label>
    <label for="trail-action">Action<input id="trail-action" name="action" value="${f.action ?? ''}" maxlength="100"
      placeholder="e.g. lineage.read"></label>
    <label for="trail-from">From (UTC, inclusive)<input id="trail-from" name="from" value="${f.from ?? ''}" maxlength="40"
      placeholder="2026-11-01T00:00"></label>
    <label for="trail-to">To (UTC, exclusive)<input id="trail-to" name="to" value="${f.to ?? ''}" maxlength="40"
      placeholder="2026-12-01"></label>
    <button type="submit">Filter</button> <a href="/trail">Clear</a></form>`;
}

/** The record's object, linked to its page when it has one (a figure, an event, an entry). */
function objectCell(r: TrailRow): Html {
  if (r.object === null) return html``;
  const page = /^fig_[0-9a-f]{24}$/.test(r.object) ? `/figures/${r.object}`
    : r.action === 'event.read' ? `/events/${r.object}` : r.action === 'entry.read' ? `/entries/${r.object}` : null;
  return page === null ? html`<code>${r.object}</code>` : html`<a href="${page}"><code>${r.object}</code></a>`;
}

function trailRow(r: TrailRow): Html {
  const detail = Object.keys(r.detail).length === 0 ? '' : JSON.stringify(r.detail);
  return html`<tr><td>${r.seq}</td><td>${utc(r.at)}</td><td>${r.actor}</td><td><code>${r.action}</code></td>
    <td>${objectCell(r)}</td><td>${r.grantId ?? ''}</td><td>${r.source ?? ''}</td>
    <td><code>${detail}</code></td><td><code title="${r.hash.toString('hex')}">${shortHash(r.hash.toString('hex'))}</code></td></tr>`;
}
