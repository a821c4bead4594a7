// What an auditor reads, as use cases the API and the web pages both call: a figure's
// identity (for its scope), a posted event's archived bytes and the entry it became, an
// entry with its chain position and the checkpoint that covers it, the checkpoints, and
// the audit trail filtered. Each returns what is stored, or null for "no such thing";
// the caller decides scope (out of scope reads as absent) and records the read.
import type { Pool } from '../db/database.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import type { CheckpointBody } from '../ledger/merkle.ts';
import type { CheckpointFile } from '../integrity/checkpoints.ts';
import { rowFromStored, type TrailRow } from '../access-control/trail.ts';
import type { FigureDef } from '../reports/template.ts';

export type FigureRecord = {
  readonly figureId: string; readonly runId: string; readonly report: string; readonly key: string;
  readonly dims: Record<string, string>; readonly value: string; readonly kind: string;
  /** The figure's definition as its run recorded it. */
  readonly definition: FigureDef;
  readonly section: string; readonly runTitle: string; readonly runGeneratedAt: Date;
};

export async function findFigure(pool: Pool, figureId: string): Promise<FigureRecord | null> {
  const found = await pool.query<{ dims: Record<string, string>; report: string; run_id: string; key: string;
    value: string; kind: string; definition: FigureDef; section: string; title: string; generated_at: Date }>(
    `SELECT f.dims, r.report, f.run_id, f.key, f.value, f.kind, f.definition, f.section, r.title, r.generated_at
       FROM ledger.report_figures f JOIN ledger.report_runs r USING (run_id) WHERE f.figure_id = $1`, [figureId]);
  const row = found.rows[0];
  return row === undefined ? null : { figureId, runId: row.run_id, report: row.report, key: row.key, dims: row.dims,
    value: row.value, kind: row.kind, definition: row.definition, section: row.section, runTitle: row.title,
    runGeneratedAt: row.generated_at };
}

export type JournalLineView = { line_no: number; account: string; side: string; amount: string; currency: string };

async function entryLines(pool: Pool, entryId: string): Promise<JournalLineView[]> {
  const lines = await pool.query<{ line_no: number; account: string; side: string; amount_minor: string; currency: string }>(
    `SELECT line_no, account, side, amount_minor, currency FROM ledger.journal_lines
      WHERE entry_id = $1 ORDER BY line_no`, [entryId]);
  return lines.rows.map((l) => ({ line_no: l.line_no, account: l.account, side: l.side,
    amount: toDecimalString(fromMinor(l.currency as CurrencyCode, BigInt(l.amount_minor))), currency: l.currency }));
}

export type EventRecord = {
  readonly eventId: string; readonly topic: string; readonly partition: number; readonly offset: number;
  readonly logTimestamp: Date; readonly outcome: string;
  /** The SHA-256 the projector stored when it archived the message. */
  readonly storedSha256: string;
  /** The archived message, byte for byte as the log carried it. */
  readonly value: Buffer;
  readonly subject: { currency: CurrencyCode | null; market: string | null };
  readonly entry: { entryId: string; chainSeq: number; hash: string; lines: JournalLineView[] };
};

/** A posted event by its id (a quarantined message has no entry and is read through the quarantine). */
export async function readEvent(pool: Pool, eventId: string): Promise<EventRecord | null> {
  const event = await pool.query<{ topic: string; partition: number; offset: string; value: Buffer | null;
    value_sha256: Buffer; outcome: string; log_timestamp: Date; entry_id: string;
    subject_currency: CurrencyCode | null; subject_market: string | null; entry_hash: Buffer; chain_seq: string }>(
    `SELECT m.topic, m.partition, m."offset", m.value, m.value_sha256, m.outcome, m.log_timestamp,
            e.entry_id, e.subject_currency, e.subject_market, e.entry_hash, e.chain_seq
       FROM ledger.journal_entries e
       JOIN ledger.raw_messages m USING (topic, partition, "offset")
      WHERE e.event_id = $1`, [eventId.toLowerCase()]);
  const row = event.rows[0];
  if (row === undefined) return null;
  return {
    eventId: eventId.toLowerCase(), topic: row.topic, partition: row.partition, offset: Number(row.offset),
    logTimestamp: row.log_timestamp, outcome: row.outcome, storedSha256: row.value_sha256.toString('hex'),
    value: row.value ?? Buffer.alloc(0), subject: { currency: row.subject_currency, market: row.subject_market },
    entry: { entryId: row.entry_id, chainSeq: Number(row.chain_seq), hash: row.entry_hash.toString('hex'),
      lines: await entryLines(pool, row.entry_id) },
  };
}

export type CheckpointSummary = {
  readonly checkpointId: number; readonly createdAt: Date; readonly merkleRoot: string; readonly keyId: string;
  readonly signatureBase64: string; readonly publicKeyPem: string; readonly heads: CheckpointBody['heads'];
};

export type EntryRecord = {
  readonly entryId: string; readonly eventId: string; readonly eventType: string;
  readonly topic: string; readonly partition: number; readonly offset: number;
  /** Position in its partition's hash chain, from 1. */
  readonly chainSeq: number;
  readonly effectiveAt: Date; readonly bookedPeriod: string; readonly rule: string; readonly ruleVersion: number;
  readonly previousHash: string; readonly hash: string;
  readonly subject: { currency: CurrencyCode | null; market: string | null };
  readonly lines: JournalLineView[];
  /** The first signed checkpoint whose head for this partition is at or past the entry; null until one is made. */
  readonly checkpoint: CheckpointSummary | null;
};

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readEntry(pool: Pool, entryId: string): Promise<EntryRecord | null> {
  if (!uuidPattern.test(entryId)) return null;
  const found = await pool.query<{ entry_id: string; event_id: string; event_type: string; topic: string; partition: number;
    offset: string; chain_seq: string; effective_at: Date; booked_period: Date; rule: string; rule_version: number;
    prev_hash: Buffer; entry_hash: Buffer; subject_currency: CurrencyCode | null; subject_market: string | null }>(
    `SELECT entry_id, event_id, event_type, topic, partition, "offset", chain_seq, effective_at, booked_period, rule,
            rule_version, prev_hash, entry_hash, subject_currency, subject_market
       FROM ledger.journal_entries WHERE entry_id = $1`, [entryId.toLowerCase()]);
  const row = found.rows[0];
  if (row === undefined) return null;
  const chainSeq = Number(row.chain_seq);
  return {
    entryId: row.entry_id, eventId: row.event_id, eventType: row.event_type, topic: row.topic, partition: row.partition,
    offset: Number(row.offset), chainSeq, effectiveAt: row.effective_at,
    bookedPeriod: row.booked_period.toISOString().slice(0, 7), rule: row.rule, ruleVersion: row.rule_version,
    previousHash: row.prev_hash.toString('hex'), hash: row.entry_hash.toString('hex'),
    subject: { currency: row.subject_currency, market: row.subject_market },
    lines: await entryLines(pool, row.entry_id),
    checkpoint: await checkpointCovering(pool, row.topic, row.partition, chainSeq),
  };
}

type CheckpointRow = { checkpoint_id: string; created_at: Date; body: string; merkle_root: Buffer; key_id: string;
  signature: Buffer; public_key_pem: string };

const checkpointColumns = `c.checkpoint_id, c.created_at, c.body, c.merkle_root, c.key_id, c.signature, k.public_key_pem
  FROM ledger.checkpoints c JOIN ledger.signing_keys k USING (key_id)`;

function checkpointFrom(row: CheckpointRow): CheckpointSummary {
  return { checkpointId: Number(row.checkpoint_id), createdAt: row.created_at, merkleRoot: row.merkle_root.toString('hex'),
    keyId: row.key_id, signatureBase64: row.signature.toString('base64'), publicKeyPem: row.public_key_pem,
    heads: (JSON.parse(row.body) as CheckpointBody).heads };
}

async function checkpointCovering(pool: Pool, topic: string, partition: number, chainSeq: number) {
  const found = await pool.query<CheckpointRow>(`SELECT ${checkpointColumns}
    WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(c.body::jsonb -> 'heads') h
                   WHERE h ->> 'topic' = $1 AND (h ->> 'partition')::int = $2 AND (h ->> 'chainSeq')::bigint >= $3)
    ORDER BY c.checkpoint_id LIMIT 1`, [topic, partition, chainSeq]);
  return found.rows[0] === undefined ? null : checkpointFrom(found.rows[0]);
}

/** Checkpoints, newest first, `limit` at a time before the id `beforeId` (null: from the newest). */
export async function listCheckpoints(pool: Pool, beforeId: number | null, limit: number): Promise<CheckpointSummary[]> {
  const found = await pool.query<CheckpointRow>(`SELECT ${checkpointColumns}
    WHERE $1::bigint IS NULL OR c.checkpoint_id < $1 ORDER BY c.checkpoint_id DESC LIMIT $2`, [beforeId, limit]);
  return found.rows.map(checkpointFrom);
}

export type TrailFilter = {
  readonly actor: string | null; readonly action: string | null; readonly object: string | null;
  readonly from: Date | null; readonly to: Date | null;
};

/** The audit trail, newest first: `limit` records before the sequence number `beforeSeq` (null: the newest). */
export async function readTrail(pool: Pool, filter: TrailFilter, beforeSeq: number | null, limit: number): Promise<TrailRow[]> {
  const rows = await pool.query(`SELECT seq, at, actor, action, object, grant_id, source, detail, previous_hash, hash
      FROM access.audit_trail
     WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
       AND ($4::text IS NULL OR object = $4) AND ($5::timestamptz IS NULL OR at >= $5)
       AND ($6::timestamptz IS NULL OR at < $6)
     ORDER BY seq DESC LIMIT $7`, [beforeSeq, filter.actor, filter.action, filter.object, filter.from, filter.to, limit]);
  return rows.rows.map(rowFromStored);
}

/** One checkpoint, with the file `ledger checkpoint` exports for it (format ledger-checkpoint/1). */
export async function readCheckpoint(pool: Pool, checkpointId: number): Promise<(CheckpointSummary & { file: CheckpointFile }) | null> {
  const found = await pool.query<CheckpointRow>(`SELECT ${checkpointColumns} WHERE c.checkpoint_id = $1`, [checkpointId]);
  const row = found.rows[0];
  if (row === undefined) return null;
  const summary = checkpointFrom(row);
  return { ...summary, file: { format: 'ledger-checkpoint/1', checkpoint_id: summary.checkpointId,
    body: JSON.parse(row.body) as CheckpointBody, signature: summary.signatureBase64, public_key_pem: row.public_key_pem } };
}
