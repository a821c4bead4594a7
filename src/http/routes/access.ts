// /api/access/*: people and service identities, grants and their approval and
// revocation, tokens (API.md, Bodies). The use cases (src/access-control/service.ts)
// decide and write the trail; these routes only shape requests and answers.
import { Type } from 'typebox';
import {
  approveGrant, createIdentity, grantRole, issueTokenFor, revokeGrant, type AccessContext,
} from '../../access-control/service.ts';
import { scopeJson } from '../../access-control/scope.ts';
import { listGrants, listIdentities, type GrantRecord, type IdentityRecord } from '../../access-control/store.ts';
import { UserError } from '../../errors.ts';
import { decodeCursor, encodeCursor, isShortString, isWholeNumber, pageLimit, PagingQuery } from '../paging.ts';
import { actorOf, type HttpApp } from '../server.ts';

const GrantId = Type.Object({ id: Type.String({ pattern: '^grt_[0-9a-f]{24}$' }) });

export function identityJson(identity: IdentityRecord) {
  return { id: identity.id, name: identity.name, email: identity.email, kind: identity.kind };
}

export function grantJson(grant: GrantRecord) {
  return { id: grant.id, user: grant.userId, role: grant.role, scope: scopeJson(grant.scope),
    expires_at: grant.expiresAt.toISOString(), status: grant.status, granted_by: grant.grantedBy,
    approved_by: grant.approvedBy, reason: grant.reason };
}

export function accessRoutes(ctx: AccessContext) {
  return (app: HttpApp) => {
    app.get('/api/access/users', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const after = decodeCursor(request.query.cursor, isShortString);
      const rows = await listIdentities(ctx.pool, after, limit + 1);
      const items = rows.slice(0, limit).map(identityJson);
      return { items, next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1]?.id as string) : null };
    });

    app.post('/api/access/users', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        email: Type.Optional(Type.String({ maxLength: 320 })),
        kind: Type.Union([Type.Literal('person'), Type.Literal('service')]),
        id: Type.Optional(Type.String({ maxLength: 63 })),
      }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const identity = await createIdentity({ ...ctx, clock: () => request.at }, actorOf(request), request.body);
      return reply.status(201).send(identityJson(identity));
    });

    app.get('/api/access/grants', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const before = decodeCursor(request.query.cursor, isWholeNumber);
      const rows = await listGrants(ctx.pool, before, limit + 1);
      const items = rows.slice(0, limit);
      return { items: items.map(grantJson),
        next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1]?.seq as number) : null };
    });

    app.post('/api/access/grants', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], body: Type.Object({
        user: Type.String({ maxLength: 63 }),
        role: Type.String({ maxLength: 20 }),
        scope: Type.Optional(Type.Object({}, { additionalProperties: true })),
        expires_at: Type.String({ maxLength: 40 }),
        reason: Type.String({ minLength: 1, maxLength: 1000 }),
      }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const grant = await grantRole({ ...ctx, clock: () => request.at }, actorOf(request), request.body);
      return reply.status(201).send(grantJson(grant));
    });

    app.post('/api/access/grants/:id/approve', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], params: GrantId, body: Type.Optional(Type.Object({
        reason: Type.Optional(Type.String({ maxLength: 1000 })),
      }, { additionalProperties: false })) },
    }, async (request) => {
      const grant = await approveGrant({ ...ctx, clock: () => request.at }, actorOf(request), request.params.id,
        { reason: request.body?.reason ?? null, breakGlass: false });
      return { id: grant.id, status: 'active', approved_by: grant.approvedBy };
    });

    app.delete('/api/access/grants/:id', {
      config: { permission: 'access:admin' },
      schema: { tags: ['access'], params: GrantId, body: Type.Object({
        reason: Type.String({ minLength: 1, maxLength: 1000 }),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const grant = await revokeGrant({ ...ctx, clock: () => request.at }, actorOf(request), request.params.id,
        request.body.reason);
      return { id: grant.id, status: 'revoked' };
    });

    app.post('/api/access/tokens', {
      config: { permission: 'access:admin', selfAllowed: true },
      schema: { tags: ['access'], body: Type.Object({
        user: Type.String({ maxLength: 63 }),
        expires_at: Type.Optional(Type.String({ maxLength: 40 })),
      }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const caller = request.caller;
      if (request.routeGrants.length === 0 && request.body.user !== caller?.identity.id) {
        throw new UserError('forbidden', 'without access:admin a token may be issued only for oneself');
      }
      const issued = await issueTokenFor({ ...ctx, clock: () => request.at }, actorOf(request), request.body);
      return reply.status(201).send({ token: issued.token, token_id: issued.tokenId,
        expires_at: issued.expiresAt.toISOString() });
    });
  };
}
