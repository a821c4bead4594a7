// Admins' pages (API.md, access): users and service identities, grants with scope and
// expiry, pending approvals (the approve button only where this admin may approve: never
// their own grant nor one they made), revoking with a reason, issuing a token (shown
// once, with a copy button), and the access-review runs. Each form calls the same use
// case as its /api/access route (src/access-control/service.ts), which decides, writes
// and appends the trail; a refusal is shown on the page with the API's message.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { roles } from '../../access-control/permissions.ts';
import { describeScope } from '../../access-control/scope.ts';
import {
  approveGrant, createIdentity, grantRole, issueTokenFor, revokeGrant, type AccessContext,
} from '../../access-control/service.ts';
import { listGrants, listIdentities, type GrantRecord, type IdentityRecord } from '../../access-control/store.ts';
import { isUserError } from '../../errors.ts';
import { decodeCursor, encodeCursor, isWholeNumber } from '../../http/paging.ts';
import { actorOf } from '../../http/server.ts';
import { html, type Html } from '../html.ts';
import { formProtection, type PageModule } from '../index.ts';
import { csrfField, may, nextPageLink, sendPage, table, utc } from '../layout.ts';

const listRowsMax = 200;
const page = { hide: true } as const;
const admin = { permission: 'access:admin', page: true } as const;
const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const GrantId = Type.Object({ id: Type.String({ pattern: '^grt_[0-9a-f]{24}$' }) });

type Problem = { message: string; status: number } | null;

function problemBox(problem: Problem): Html {
  return problem === null ? html`` : html`<p class="error" role="alert">${problem.message}</p>`;
}

/** A UserError from a use case, shown on the page it came from; anything else is a bug and propagates. */
async function attempt(action: () => Promise<unknown>): Promise<Problem> {
  try {
    await action();
    return null;
  } catch (error) {
    if (!isUserError(error) || error.code === 'trail_unavailable') throw error;
    const status = error.code === 'separation_of_duties' || error.code === 'forbidden' ? 403
      : error.code === 'not_found' ? 404 : error.code === 'grant_not_pending' || error.code === 'conflict' ? 409 : 400;
    return { message: error.message, status };
  }
}

async function allIdentities(ctx: AccessContext): Promise<IdentityRecord[]> {
  return listIdentities(ctx.pool, null, listRowsMax);
}

async function usersPage(ctx: AccessContext, request: FastifyRequest, reply: FastifyReply, problem: Problem,
  notice: string | null = null) {
  const identities = await allIdentities(ctx);
  const grants = await listGrants(ctx.pool, null, listRowsMax);
  const rolesOf = (id: string) => grants.filter((g) => g.userId === id && g.status !== 'revoked')
    .map((g) => `${g.role} (${g.status})`).join(', ');
  const rows = identities.map((i) => html`<tr><td class="mono">${i.id}</td><td>${i.name}</td><td>${i.email ?? ''}</td>
    <td>${i.kind === 'service' ? 'service identity' : 'person'}</td><td>${rolesOf(i.id) || 'no grant'}</td>
    <td>${utc(i.createdAt)} by ${i.createdBy}</td></tr>`);
  return sendPage(request, reply, { title: 'Users and service identities', status: problem?.status ?? 200, body: html`
    ${problemBox(problem)}${notice === null ? '' : html`<p class="notice" role="status">${notice}</p>`}
    ${table('People and service identities', ['Id', 'Name', 'Email', 'Kind', 'Roles', 'Created'], rows,
      'Nobody yet besides you: add a person below, then grant them a role.')}
    <h2>Add a person or service identity</h2>
    <form method="post" action="/admin/users" class="stack">${csrfField(request, reply)}
      <label for="u-name">Name <input id="u-name" name="name" required maxlength="200"></label>
      <label for="u-email">Email <input id="u-email" name="email" type="email" maxlength="320"></label>
      <label for="u-kind">Kind <select id="u-kind" name="kind"><option value="person">person</option>
        <option value="service">service identity</option></select></label>
      <button type="submit">Add</button>
    </form>
    <h2>Issue an API token</h2>
    <form method="post" action="/admin/tokens" class="stack">${csrfField(request, reply)}
      <label for="t-user">For <select id="t-user" name="user">${identities.map((i) =>
        html`<option value="${i.id}">${i.name} (${i.id})</option>`)}</select></label>
      <button type="submit">Issue a token</button>
    </form>
    <p class="hint">The token is shown once, on the next page; it lasts 90 days.</p>` });
}

function grantRow(request: FastifyRequest, reply: FastifyReply, g: GrantRecord, me: string): Html {
  const mayApprove = g.status === 'pending' && g.userId !== me && g.grantedBy !== me;
  const why = g.status !== 'pending' ? '' : g.userId === me ? 'your own grant: another admin approves it'
    : g.grantedBy === me ? 'you made this grant: another admin approves it' : '';
  const approve = mayApprove ? html`<form method="post" action="/admin/grants/${g.id}/approve" class="inline">
      ${csrfField(request, reply)}<button type="submit">Approve <span class="visually-hidden">grant ${g.id}</span></button></form>`
    : why === '' ? html`` : html`<span class="hint">${why}</span>`;
  const revoke = g.status === 'revoked' ? html`` : html`<form method="post" action="/admin/grants/${g.id}/revoke" class="inline">
      ${csrfField(request, reply)}<label for="r-${g.id}" class="visually-hidden">Reason to revoke grant ${g.id}</label>
      <input id="r-${g.id}" name="reason" required maxlength="1000" placeholder="reason" size="14">
      <button type="submit" class="danger">Revoke <span class="visually-hidden">grant ${g.id}</span></button></form>`;
  return html`<tr><td class="mono">${g.id}</td><td>${g.userId}</td><td>${g.role}</td><td>${describeScope(g.scope)}</td>
    <td>${utc(g.expiresAt)}</td><td class="status-${g.status}">${g.status}</td><td>${g.grantedBy}${g.approvedBy === null ? ''
    : html`; approved by ${g.approvedBy}`}</td><td>${g.reason}</td><td>${approve} ${revoke}</td></tr>`;
}

async function grantsPage(ctx: AccessContext, request: FastifyRequest, reply: FastifyReply, problem: Problem,
  cursor: string | undefined) {
  const before = decodeCursor(cursor, isWholeNumber);
  const grants = await listGrants(ctx.pool, before, listRowsMax + 1);
  const shown = grants.slice(0, listRowsMax);
  const me = request.caller?.identity.id as string;
  const pending = shown.filter((g) => g.status === 'pending');
  const head = ['Grant', 'User', 'Role', 'Scope', 'Expires', 'Status', 'Granted by', 'Reason', 'Actions'];
  const identities = await allIdentities(ctx);
  const defaultExpiry = new Date(request.at.getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
  return sendPage(request, reply, { title: 'Grants', status: problem?.status ?? 200, body: html`${problemBox(problem)}
    <h2>Pending approval</h2>
    ${table('Privileged grants waiting for a second admin', head, pending.map((g) => grantRow(request, reply, g, me)),
      'Nothing waits for approval.')}
    <h2>Grant a role</h2>
    <form method="post" action="/admin/grants" class="stack">${csrfField(request, reply)}
      <label for="g-user">User <select id="g-user" name="user">${identities.map((i) =>
        html`<option value="${i.id}">${i.name} (${i.id})</option>`)}</select></label>
      <label for="g-role">Role <select id="g-role" name="role">${roles.map((r) => html`<option value="${r}">${r}</option>`)}</select></label>
      <label for="g-currencies">Currencies <input id="g-currencies" name="currencies" placeholder="USD,CAD"
        aria-describedby="g-currencies-hint"><span id="g-currencies-hint" class="hint">empty: every currency</span></label>
      <label for="g-markets">Markets <input id="g-markets" name="markets" placeholder="US-CA,CA-ON"
        aria-describedby="g-markets-hint"><span id="g-markets-hint" class="hint">empty: every market</span></label>
      <label for="g-expires">Expires (UTC midnight) <input id="g-expires" name="expires" type="date" required value="${defaultExpiry}"></label>
      <label for="g-reason">Reason <textarea id="g-reason" name="reason" required maxlength="1000"></textarea></label>
      <button type="submit">Grant</button>
    </form>
    <p class="hint">admin and auditor grants wait for a second admin's approval.</p>
    <h2>Every grant</h2>
    ${table('Grants, newest first', head, shown.map((g) => grantRow(request, reply, g, me)),
      'No grant yet: grant a role above.')}
    ${nextPageLink('/admin/grants', {}, grants.length > listRowsMax ? encodeCursor(shown.at(-1)?.seq as number) : null)}
    <h2>Access reviews</h2>
    <p>The access-review report lists who holds which role, on what scope, and the grant acts of the last 90 days.
      ${may(request, 'reports:read') ? html`<a href="/runs?report=access-review">Access-review runs</a>.`
    : html`Its runs are read by someone holding <code>reports:read</code> (an auditor): they are under
      Report runs, filtered by the report access-review.`}</p>` });
}

const list = (text: string | undefined) => {
  const items = (text ?? '').split(/[\s,]+/).filter((x) => x !== '');
  return items.length === 0 ? undefined : items;
};

export const adminPages: PageModule = (app, web) => {
  const ctx = (request: FastifyRequest): AccessContext => ({ pool: web.pool, clock: () => request.at });

  app.get('/admin/users', { config: admin, schema: page }, (request, reply) => usersPage(ctx(request), request, reply, null));

  app.post('/admin/users', { config: admin, preHandler: formProtection(app), schema: { ...page, body: Type.Object({
    name: Type.String({ maxLength: 200 }), email: Type.Optional(Type.String({ maxLength: 320 })),
    kind: Type.String({ maxLength: 10 }), ...Csrf }, { additionalProperties: false }) } }, async (request, reply) => {
    const { name, email, kind } = request.body;
    let made: IdentityRecord | null = null;
    const problem = await attempt(async () => {
      made = await createIdentity(ctx(request), actorOf(request), { name, kind, ...(email ? { email } : {}) });
    });
    const who = made as IdentityRecord | null;
    return usersPage(ctx(request), request, reply, problem, who === null ? null : `Added ${who.name} as ${who.id}.`);
  });

  app.post('/admin/tokens', { config: admin, preHandler: formProtection(app), schema: { ...page, body: Type.Object({
    user: Type.String({ maxLength: 63 }), ...Csrf }, { additionalProperties: false }) } }, async (request, reply) => {
    let issued: { token: string; expiresAt: Date } | null = null;
    const problem = await attempt(async () => {
      issued = await issueTokenFor(ctx(request), actorOf(request), { user: request.body.user });
    });
    const token = issued as { token: string; expiresAt: Date } | null;
    if (token === null) return usersPage(ctx(request), request, reply, problem);
    return sendPage(request, reply, { title: `A token for ${request.body.user}`, body: html`
      <p class="notice" role="status">This token is shown this once: copy it now and hand it to
        ${request.body.user} privately. It expires ${utc(token.expiresAt)}.</p>
      <code class="token" id="issued-token" data-copy data-copy-label="Copy the token">${token.token}</code>
      <p>They log in at <a href="/login">the login page</a> with it, or send it as
        <code>Authorization: Bearer …</code> to the API.</p><p><a href="/admin/users">Back to users</a></p>` });
  });

  app.get('/admin/grants', { config: admin, schema: { ...page, querystring: Type.Object({
    cursor: Type.Optional(Type.String({ maxLength: 600 })) }, { additionalProperties: false }) } },
  (request, reply) => grantsPage(ctx(request), request, reply, null, request.query.cursor));

  app.post('/admin/grants', { config: admin, preHandler: formProtection(app), schema: { ...page, body: Type.Object({
    user: Type.String({ maxLength: 63 }), role: Type.String({ maxLength: 20 }),
    currencies: Type.Optional(Type.String({ maxLength: 400 })), markets: Type.Optional(Type.String({ maxLength: 800 })),
    expires: Type.String({ maxLength: 40 }), reason: Type.String({ maxLength: 1000 }), ...Csrf,
  }, { additionalProperties: false }) } }, async (request, reply) => {
    const b = request.body;
    const currencies = list(b.currencies);
    const markets = list(b.markets);
    const problem = await attempt(() => grantRole(ctx(request), actorOf(request), { user: b.user, role: b.role,
      scope: { ...(currencies === undefined ? {} : { currencies }), ...(markets === undefined ? {} : { markets }) },
      expires_at: /^\d{4}-\d{2}-\d{2}$/.test(b.expires) ? `${b.expires}T00:00:00Z` : b.expires, reason: b.reason }));
    if (problem !== null) return grantsPage(ctx(request), request, reply, problem, undefined);
    return reply.redirect('/admin/grants', 303);
  });

  app.post('/admin/grants/:id/approve', { config: admin, preHandler: formProtection(app), schema: { ...page,
    params: GrantId, body: Type.Object(Csrf, { additionalProperties: false }) } }, async (request, reply) => {
    const problem = await attempt(() => approveGrant(ctx(request), actorOf(request), request.params.id,
      { reason: null, breakGlass: false }));
    if (problem !== null) return grantsPage(ctx(request), request, reply, problem, undefined);
    return reply.redirect('/admin/grants', 303);
  });

  app.post('/admin/grants/:id/revoke', { config: admin, preHandler: formProtection(app), schema: { ...page,
    params: GrantId, body: Type.Object({ reason: Type.String({ maxLength: 1000 }), ...Csrf },
      { additionalProperties: false }) } }, async (request, reply) => {
    const problem = await attempt(() => revokeGrant(ctx(request), actorOf(request), request.params.id, request.body.reason));
    if (problem !== null) return grantsPage(ctx(request), request, reply, problem, undefined);
    return reply.redirect('/admin/grants', 303);
  });
};
