// The audit trail: every grant, approval, refusal, revocation, token issue, failed
// authentication, download, lineage and event read, adjustment request and approval, and
// break resolution; who, what, when, from where, under which grant. Appended in the same
// transaction as what it records, so that the record is committed before the response is
// sent (a trail that cannot be written fails the request). Each row's hash covers the row
// and the previous row's hash (format version 1 below), so `ledger verify` names the
// first row that was changed, and a deleted row breaks the chain at its successor.
import type { Client, Pool } from '../db/database.ts';
import { canonicalJson, sha256 } from '../ledger/canonical.ts';

export type TrailRecord = {
  readonly at: Date;
  readonly actor: string;
  /** `noun.verb`, e.g. `grant.create`, `report.download`, `auth.failure`. */
  readonly action: string;
  readonly object: string | null;
  readonly grantId: string | null;
  /** Where from: the client's address, or `cli:<host user>` for operators' commands. */
  readonly source: string | null;
  /** Strings, booleans and small integers only: the bytes hashed must survive jsonb. */
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
};

export type TrailRow = TrailRecord & { readonly seq: number; readonly previousHash: Buffer; readonly hash: Buffer };

export const trailGenesisHash = Buffer.alloc(32);
const trailLockKey = 7_347_010; // pg_advisory_xact_lock: one appender at a time keeps the chain linear

/** Format version 1 of a trail row's hash input: canonical JSON, fields named as stored. */
export function trailHashInput(seq: number, record: TrailRecord, previousHash: Buffer): string {
  return canonicalJson({
    version: 1, seq, at: record.at.toISOString(), actor: record.actor, action: record.action, object: record.object,
    grant: record.grantId, source: record.source, detail: record.detail, previous_hash: previousHash.toString('hex'),
  });
}

/** Appends within the caller's transaction; the row is committed with what it records. */
export async function appendTrail(client: Client, record: TrailRecord): Promise<TrailRow> {
  return (await appendTrailRecords(client, [record]))[0] as TrailRow;
}

/**
 * Appends several records, in order, within the caller's transaction: one lock, one read
 * of the chain's head and one INSERT for all of them (the trail writer's batches).
 */
export async function appendTrailRecords(client: Client, records: readonly TrailRecord[]): Promise<TrailRow[]> {
  if (records.length === 0) return [];
  await client.query('SELECT pg_advisory_xact_lock($1)', [trailLockKey]);
  const last = await client.query<{ seq: string; hash: Buffer }>(
    'SELECT seq, hash FROM access.audit_trail ORDER BY seq DESC LIMIT 1');
  let seq = last.rows[0] === undefined ? 0 : Number(last.rows[0].seq);
  let previousHash = last.rows[0]?.hash ?? trailGenesisHash;
  const rows: TrailRow[] = [];
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (const record of records) {
    seq += 1;
    const hash = sha256(trailHashInput(seq, record, previousHash));
    rows.push({ ...record, seq, previousHash, hash });
    const at = values.length;
    tuples.push(`(${Array.from({ length: 10 }, (_, n) => `$${at + n + 1}`).join(', ')})`);
    values.push(seq, record.at, record.actor, record.action, record.object, record.grantId, record.source,
      JSON.stringify(record.detail), previousHash, hash);
    previousHash = hash;
  }
  await client.query(`INSERT INTO access.audit_trail (seq, at, actor, action, object, grant_id, source, detail,
      previous_hash, hash) VALUES ${tuples.join(', ')}`, values);
  return rows;
}

type StoredRow = {
  seq: string; at: Date; actor: string; action: string; object: string | null; grant_id: string | null;
  source: string | null; detail: Record<string, string | number | boolean | null>; previous_hash: Buffer; hash: Buffer;
};

export function rowFromStored(row: StoredRow): TrailRow {
  return {
    seq: Number(row.seq), at: row.at, actor: row.actor, action: row.action, object: row.object, grantId: row.grant_id,
    source: row.source, detail: row.detail, previousHash: row.previous_hash, hash: row.hash,
  };
}

const verifyPageRows = 5_000;
const problemsKeptMax = 20;

/** Walks the whole chain in pages, recomputing every hash; names each row at fault. */
export async function verifyTrail(pool: Pool): Promise<{ rows: number; problems: string[] }> {
  const problems: string[] = [];
  let expectedSeq = 1;
  let previousHash: Buffer = trailGenesisHash;
  for (;;) {
    const page = await pool.query<StoredRow>(`SELECT seq, at, actor, action, object, grant_id, source, detail,
        previous_hash, hash FROM access.audit_trail WHERE seq >= $1 ORDER BY seq LIMIT $2`, [expectedSeq, verifyPageRows]);
    for (const stored of page.rows) {
      const row = rowFromStored(stored);
      if (row.seq !== expectedSeq) problems.push(`audit trail rows ${expectedSeq}..${row.seq - 1} are missing`);
      if (!row.previousHash.equals(previousHash)) problems.push(`audit trail row ${row.seq}: previous hash does not match`);
      if (!sha256(trailHashInput(row.seq, row, row.previousHash)).equals(row.hash)) {
        problems.push(`audit trail row ${row.seq} (${row.action} by ${row.actor}): content does not match its hash`);
      }
      expectedSeq = row.seq + 1;
      previousHash = row.hash;
      if (problems.length >= problemsKeptMax) return { rows: expectedSeq - 1, problems };
    }
    if (page.rows.length < verifyPageRows) return { rows: expectedSeq - 1, problems };
  }
}
