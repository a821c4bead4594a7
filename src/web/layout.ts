// The page shell and the small formatters every page shares. How to add a page:
//
//   // src/web/pages/things.ts
//   import type { PageModule } from '../index.ts';
//   export const thingPages: PageModule = (app, web) => {
//     app.get('/things/:id', { config: { permission: 'reports:read', page: true },
//       schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
//     async (request, reply) => {
//       const thing = await findThing(web.pool, request.params.id);   // a use case, never SQL here
//       if (thing === null) throw new UserError('not_found', `no thing ${request.params.id}`); // → HTML 404 page
//       return sendPage(request, reply, { title: `Thing ${thing.id}`, body: html`<p>${thing.name}</p>` });
//     });
//   };
//   // then add `thingPages` to the list in src/web/pages/index.ts.
//
// A form: `html\`<form method="post" action="/things">${csrfField(request, reply)} …</form>\``
// and its POST route declares `preHandler: formProtection(app)` (see src/web/index.ts). The
// guard (src/http/server.ts) has already authenticated the caller (session cookie or
// bearer) and checked the permission; scope is the route's job, exactly as in the API:
// grantInScope / callerScopes, out of scope thrown as UserError('not_found').
import type { FastifyReply, FastifyRequest } from 'fastify';
import { grantsAllowing } from '../access-control/grants.ts';
import type { Permission } from '../access-control/permissions.ts';
import { assetUrl } from './assets.ts';
import { html, type Html, type HtmlValue } from './html.ts';
import { navLinks } from './nav.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This response's CSRF token, made once per page (every form and the logout button share it). */
    csrfTokenOfPage?: string;
  }
}

export type PageOptions = {
  readonly title: string;
  readonly body: Html;
  readonly status?: number;
  /** Extra scripts (asset names under src/web/assets), loaded with `defer`. */
  readonly scripts?: readonly string[];
};

/** The CSRF token for this request's forms, bound to the caller's session. */
export function csrfToken(request: FastifyRequest, reply: FastifyReply): string {
  request.csrfTokenOfPage ??= reply.generateCsrf({ userInfo: csrfUserInfo(request) } as never);
  return request.csrfTokenOfPage;
}

/** What a CSRF token is bound to: the session, or the login page's anonymous visitor. */
export function csrfUserInfo(request: FastifyRequest): string {
  return request.sessionId ?? 'login';
}

export function csrfField(request: FastifyRequest, reply: FastifyReply): Html {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(request, reply)}">`;
}

/** True when the caller holds a grant in force with `permission` (links and buttons shown only then). */
export function may(request: FastifyRequest, permission: Permission): boolean {
  const caller = request.caller;
  return caller !== null && grantsAllowing(caller.grants, permission, request.at).length > 0;
}

function nav(request: FastifyRequest, reply: FastifyReply): Html {
  const caller = request.caller;
  if (caller === null) return html``;
  const here = request.url.split('?')[0] ?? '';
  const links = navLinks.filter((l) => may(request, l.permission)).map((l) => {
    const current = here === l.href || (l.href !== '/runs' && here.startsWith(`${l.href}/`) && l.href !== '/runs/new');
    return html`<li><a href="${l.href}"${current ? html` aria-current="page"` : ''}>${l.label}</a></li>`;
  });
  const logout = request.sessionId === null ? html``
    : html`<form method="post" action="/logout" class="logout">${csrfField(request, reply)}<button type="submit">Log out</button></form>`;
  return html`<nav aria-label="Main"><ul>${links}</ul>
    <div class="who"><span>Signed in as <strong>${caller.identity.name}</strong> (${caller.identity.id})</span>${logout}</div></nav>`;
}

/** The whole document: header with nav, the page's main content, a footer saying times are UTC. */
export function layout(request: FastifyRequest, reply: FastifyReply, options: PageOptions): string {
  const scripts = ['app.js', ...(options.scripts ?? [])];
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Ledger</title>
<link rel="stylesheet" href="${assetUrl('style.css')}">
${scripts.map((s) => html`<script src="${assetUrl(s)}" defer></script>`)}
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">Marketplace ledger</a>${nav(request, reply)}</header>
<main id="main" tabindex="-1"><h1>${options.title}</h1>
${options.body}
</main>
<footer><p>All dates and times are in UTC.</p></footer>
</body></html>`.text}\n`;
}

export function sendPage(request: FastifyRequest, reply: FastifyReply, options: PageOptions): FastifyReply {
  return reply.status(options.status ?? 200).type('text/html; charset=utf-8')
    .header('Cache-Control', 'no-store').send(layout(request, reply, options));
}

// ---- formatters ------------------------------------------------------------------------

/** A time as people read it here, stated as UTC, with the exact instant in `datetime`. */
export function utc(value: Date | string | null | undefined): Html {
  if (value === null || value === undefined) return html`<span class="none">—</span>`;
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return html`${String(value)}`;
  const shown = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${date.toISOString()}">${shown}</time>`;
}

/** A decimal string with thousands separators, without ever going through a float. */
export function groupDigits(decimal: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (match === null) return decimal;
  return `${match[1]}${(match[2] as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${match[3] ?? ''}`;
}

/** An amount cell: right-aligned, with its currency beside it. */
export function amountCell(value: string | null | undefined, currency: string | null | undefined): Html {
  if (value === null || value === undefined) return html`<td class="amount"><span class="none">—</span></td>`;
  return html`<td class="amount">${groupDigits(value)}${currency ? html` <abbr class="ccy">${currency}</abbr>` : ''}</td>`;
}

/** A table, or what to do when it has no rows. `head` are the column headers (an Html for a custom cell). */
export function table(caption: HtmlValue, head: readonly HtmlValue[], rows: readonly Html[], empty: HtmlValue): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap"><table><caption>${caption}</caption>
    <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

/** The link to the next page of a paged list, keeping its filters; nothing on the last page. */
export function nextPageLink(path: string, query: Readonly<Record<string, string | undefined>>, cursor: string | null): Html {
  if (cursor === null) return html``;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '' && k !== 'cursor') search.set(k, v);
  search.set('cursor', cursor);
  return html`<p class="pager"><a href="${`${path}?${search.toString()}`}" rel="next">Next page</a></p>`;
}
