// POST /api/adjustments and POST /api/adjustments/{id}/approve (API.md). A request is a
// balanced manual entry, checked as the projector will check it, and waits; a second
// person approves it, and only then does the service sign the approval (EVENTS.md) and
// append adjustment.posted to the log, so the journal stays a projection of the log. The
// requester never approves: refused here, in the database, and recorded in the trail.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  adjustmentApprovalId, adjustmentEventId, adjustmentSubjects, checkAdjustmentRequest, type AdjustmentDraft,
} from '../../access-control/adjustments.ts';
import { decideAdjustmentApproval, grantFor } from '../../access-control/grants.ts';
import type { Subject } from '../../access-control/scope.ts';
import type { GrantRecord } from '../../access-control/store.ts';
import { appendTrail } from '../../access-control/trail.ts';
import { withTransaction, type Pool } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { signAdjustmentApproval } from '../../ledger/approval.ts';
import type { SigningKey } from '../../signing/keys.ts';
import { actorOf, recordBeforeResponding, type HttpApp } from '../server.ts';

export type AdjustmentDependencies = {
  readonly pool: Pool;
  /** The service's signing key: a trusted key, so the projector posts what it approves. */
  readonly key: SigningKey;
  /** Appends one message (a JSON line) to the log the projector follows. */
  readonly appendToLog: (line: string) => Promise<void>;
};

const lockClass = 7_347_013; // pg_advisory_xact_lock: one approval of an adjustment at a time

/** The grant allowing `permission` on every subject, or null. */
function grantForAll(request: FastifyRequest, permission: 'adjustments:request' | 'adjustments:approve',
  subjects: Subject[]): GrantRecord | null {
  const grants = request.caller?.grants ?? [];
  for (const grant of grants) {
    if (subjects.every((s) => grantFor([grant], permission, s, request.at) !== null)) return grant;
  }
  return null;
}

export function adjustmentRoutes(deps: AdjustmentDependencies) {
  return (app: HttpApp) => {
    app.post('/api/adjustments', {
      config: { permission: 'adjustments:request' },
      schema: { tags: ['adjustments'], body: Type.Object({
        reason: Type.String({ maxLength: 1000 }),
        currency: Type.String({ maxLength: 3 }),
        lines: Type.Array(Type.Object({
          account: Type.String({ maxLength: 10 }),
          side: Type.String({ maxLength: 6 }),
          amount: Type.String({ maxLength: 24 }),
          dims: Type.Optional(Type.Record(Type.String({ maxLength: 20 }), Type.String({ maxLength: 200 }))),
        }, { additionalProperties: false }), { maxItems: 200 }),
      }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const id = `adj_${randomBytes(12).toString('hex')}`;
      const actor = actorOf(request);
      const draft = checkAdjustmentRequest(request.body, actor.identityId, id);
      const grant = grantForAll(request, 'adjustments:request', adjustmentSubjects(draft));
      if (grant === null) throw new UserError('forbidden', 'your grant does not cover this adjustment\'s currency and markets');
      await withTransaction(deps.pool, async (client) => {
        await client.query(`INSERT INTO access.adjustment_requests (adjustment_id, requested_by, requested_at, currency,
            reason, lines) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, actor.identityId, request.at, draft.currency, draft.reason, JSON.stringify(draft.lines)]);
        await appendTrail(client, { at: request.at, actor: actor.identityId, action: 'adjustment.request', object: id,
          grantId: grant.id, source: actor.source, detail: { currency: draft.currency, lines: draft.lines.length,
            reason: draft.reason } });
      });
      return reply.status(201).send({ id, status: 'pending', requested_by: actor.identityId });
    });

    app.post('/api/adjustments/:id/approve', {
      config: { permission: 'adjustments:approve' },
      schema: { tags: ['adjustments'], params: Type.Object({ id: Type.String({ pattern: '^adj_[0-9a-f]{24}$' }) }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })) },
    }, async (request) => approve(deps, request, request.params.id));
  };
}

type StoredRequest = AdjustmentDraft & { requested_by: string };

async function approve(deps: AdjustmentDependencies, request: FastifyRequest, id: string) {
  const found = await deps.pool.query<StoredRequest>(`SELECT requested_by, currency, reason, lines
      FROM access.adjustment_requests WHERE adjustment_id = $1`, [id]);
  const stored = found.rows[0];
  if (stored === undefined) throw new UserError('not_found', `no adjustment ${id}`);
  const grant = grantForAll(request, 'adjustments:approve', adjustmentSubjects(stored));
  if (grant === null) throw new UserError('not_found', `no adjustment ${id}`);
  const actor = actorOf(request, grant);
  const duty = decideAdjustmentApproval(stored.requested_by, actor.identityId);
  if (!duty.ok) {
    await recordBeforeResponding(deps.pool, { at: request.at, actor: actor.identityId, action: 'adjustment.refuse_approval',
      object: id, grantId: grant.id, source: actor.source, detail: { code: duty.code, message: duty.message } });
    throw new UserError(duty.code, duty.message);
  }
  const data = signAdjustmentApproval({ adjustment_id: id, reason: stored.reason, requested_by: stored.requested_by,
    approved_by: actor.identityId, currency: stored.currency, lines: stored.lines }, deps.key, adjustmentApprovalId(id));
  const eventId = adjustmentEventId(id);
  const line = JSON.stringify({ event_id: eventId, type: 'adjustment.posted', schema_version: 1,
    occurred_at: request.at.toISOString(), producer: 'ledger-api', data });
  await withTransaction(deps.pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [lockClass, id]);
    const done = await client.query('SELECT 1 FROM access.adjustment_approvals WHERE adjustment_id = $1', [id]);
    if (done.rowCount !== 0) throw new UserError('conflict', `adjustment ${id} is already approved`);
    // The log first: if the record below then fails, a retry appends the same event_id,
    // which the projector counts as a duplicate delivery.
    await deps.appendToLog(line);
    await client.query(`INSERT INTO access.adjustment_approvals (adjustment_id, approved_by, approved_at, event_id,
        approval_id, key_id) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, actor.identityId, request.at, eventId, data.approval.approval_id, data.approval.key_id]);
    await appendTrail(client, { at: request.at, actor: actor.identityId, action: 'adjustment.approve', object: id,
      grantId: grant.id, source: actor.source, detail: { event_id: eventId, requested_by: stored.requested_by,
        key_id: data.approval.key_id } });
  });
  return { id, status: 'approved', approved_by: actor.identityId, event_id: eventId };
}
