// Browser sessions (0014_sessions.sql): the cookie carries a random secret, the database
// only its SHA-256 and a public id (`ses_…`) that the trail names. A session is in force
// while not ended, not idle longer than its idle timeout and not past its absolute end;
// each use moves last_seen_at forward, in the same statement that checks it, so the
// check and the touch cannot race. Ending is a row change the trigger allows once.
import { randomBytes } from 'node:crypto';
import type { Client, Pool } from '../db/database.ts';
import { sha256 } from '../ledger/canonical.ts';

type Queryable = Pool | Client;

const secretBytes = 32;
const secretPattern = /^[A-Za-z0-9_-]{43}$/;
/** However active, a session ends this long after it began: a day's work, then log in again. */
export const sessionDurationMsMax = 12 * 60 * 60 * 1000;

export type SessionRecord = {
  readonly sessionId: string;
  readonly identityId: string;
  readonly via: 'token' | 'oidc';
  readonly createdAt: Date;
};

export type NewSession = { readonly sessionId: string; readonly secret: string };

export async function createSession(
  db: Queryable,
  input: { identityId: string; via: 'token' | 'oidc'; idleSeconds: number; source: string | null; at: Date },
): Promise<NewSession> {
  const secret = randomBytes(secretBytes).toString('base64url');
  const sessionId = `ses_${randomBytes(12).toString('hex')}`;
  await db.query(`INSERT INTO access.sessions (session_id, secret_sha256, identity_id, via, created_at, last_seen_at,
      idle_seconds, expires_at, source) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
  [sessionId, sha256(secret), input.identityId, input.via, input.at, input.idleSeconds,
    new Date(input.at.getTime() + sessionDurationMsMax), input.source]);
  return { sessionId, secret };
}

/**
 * The session a cookie's secret names, when it is in force at `at`; its last use moves to
 * `at`. `{ended}` names why a known session no longer works (the trail says so), null
 * when the secret names no session at all.
 */
export async function useSession(
  db: Queryable, secret: string, at: Date,
): Promise<SessionRecord | { ended: string; sessionId: string } | null> {
  if (!secretPattern.test(secret)) return null;
  const hash = sha256(secret);
  const touched = await db.query<{ session_id: string; identity_id: string; via: 'token' | 'oidc'; created_at: Date }>(
    `UPDATE access.sessions SET last_seen_at = greatest(last_seen_at, $2)
      WHERE secret_sha256 = $1 AND ended_at IS NULL AND expires_at > $2
        AND last_seen_at + make_interval(secs => idle_seconds) > $2
      RETURNING session_id, identity_id, via, created_at`, [hash, at]);
  const row = touched.rows[0];
  if (row !== undefined) {
    return { sessionId: row.session_id, identityId: row.identity_id, via: row.via, createdAt: row.created_at };
  }
  const known = await db.query<{ session_id: string; ended_at: Date | null; end_reason: string | null; expired: boolean }>(
    `SELECT session_id, ended_at, end_reason, expires_at <= $2 AS expired FROM access.sessions WHERE secret_sha256 = $1`,
    [hash, at]);
  const found = known.rows[0];
  if (found === undefined) return null;
  if (found.ended_at !== null) return { ended: `session ended (${found.end_reason})`, sessionId: found.session_id };
  const reason = found.expired ? 'expired' : 'idle';
  await endSession(db, found.session_id, reason, at);
  return { ended: reason === 'idle' ? 'session idle for too long' : 'session expired', sessionId: found.session_id };
}

/** Ends a session once; ending an ended one changes nothing. */
export async function endSession(db: Queryable, sessionId: string, reason: 'logout' | 'idle' | 'expired', at: Date) {
  const ended = await db.query(`UPDATE access.sessions SET ended_at = greatest(last_seen_at, $2), end_reason = $3
      WHERE session_id = $1 AND ended_at IS NULL`, [sessionId, at, reason]);
  return (ended.rowCount ?? 0) > 0;
}
