// One batch of one partition in one PostgreSQL transaction: archive every raw message,
// decide each (post, duplicate, quarantine), write entries and lines with their hash
// chain, update the projection state, and advance the partition's stored offset. All or
// nothing: a crash anywhere leaves the stored offset where it was, so the batch is simply
// read again. The pure decisions come from src/ledger; this file only gathers and writes.
import { invariant } from '../errors.ts';
import type { ApprovalKeys } from '../ledger/approval.ts';
import { sha256Binary } from '../ledger/canonical.ts';
import {
  bookingFor, entryIdFor, sealEntry, type JournalEntry, type LogPosition,
} from '../ledger/entry.ts';
import {
  decideMessage, prepareMessage, refsOfPrepared, type MessageOutcome, type PostedEvent,
  type Prepared,
} from '../ledger/project.ts';
import { decodeState, encodeState, type RefState } from '../ledger/state.ts';
import type { LogMessage, PartitionBatch } from '../log/types.ts';
import { copyBinary, StagedCopy, type CopyColumn, type CopyValue } from '../db/copy.ts';
import { withTransaction, type Client, type Pool } from '../db/database.ts';
import { limits } from '../limits.ts';
import { decideBatchHot, stageStatesHot } from './hot-path.ts';

/** Which code decides: the hot path (hot-path.ts), or the defining code it is held equal to. */
export type DecisionPath = 'hot' | 'defining';

export type BatchCounts = { posted: number; duplicates: number; quarantined: number };

export type BatchResult = BatchCounts & {
  /** The partition's stored offset after the batch: the next message to read. */
  nextOffset: number;
  /** Periods (YYYY-MM) the batch booked lines into that had no partition yet. */
  missingPeriods: string[];
};

/** A state as loaded (its version; 0 when new) and whether this batch changed it. */
export type StateSlot = { state: RefState; version: number; dirty: boolean };

export type PartitionHead = { nextOffset: number; chainSeq: number; chainHead: string };

/**
 * What deciding a batch reads besides its messages. The projector reads PostgreSQL, in
 * the batch's transaction (databaseSources, below); the ingest benchmark reads memory, to
 * measure the decisions and the encoding alone.
 */
export type DecisionSources = {
  /** Closed periods (`YYYY-MM`). */
  closedPeriods(): Promise<Set<string>>;
  /** Adds to `into` those of `eventIds` that were posted. */
  postedEvents(eventIds: string[], into: Map<string, PostedEvent>): Promise<void>;
  /** Adds to `into` those of `keys` that have a state. */
  states(keys: string[], into: Map<string, StateSlot>): Promise<void>;
};

/**
 * The outcome of each message and the rows it becomes, encoded as each is decided (into
 * off-heap COPY buffers, db/copy.ts StagedCopy) and sent when the whole batch is decided.
 */
export type BatchWrites = {
  counts: BatchCounts;
  raw: StagedCopy;
  entries: StagedCopy;
  lines: StagedCopy;
  quarantine: StagedCopy;
  duplicates: StagedCopy;
  /** The months the batch's entries are booked into (each needs a line partition). */
  bookedPeriods: Set<string>;
  states: Map<string, StateSlot>;
  /** Every event this batch posted, and those it looked up. */
  posted: Map<string, PostedEvent>;
  head: PartitionHead;
};

export class OffsetGapError extends Error {
  constructor(position: LogPosition, expected: number) {
    super(`log gap on ${position.topic}/${position.partition}: the stored offset is ${expected} ` +
      `but the first message received is at ${position.offset}; refusing to skip messages`);
    this.name = 'OffsetGapError';
  }
}

/**
 * Projects the batch. `ensuredPeriods` are the months known to have a line partition;
 * when a batch needs another, nothing is written and `missingPeriods` says which, so the
 * caller can create them outside the transaction and call again. `approvalKeys` are the
 * keys an adjustment's approval may be signed by.
 */
export async function projectBatch(
  client: Client,
  batch: PartitionBatch,
  ensuredPeriods: ReadonlySet<string>,
  approvalKeys: ApprovalKeys,
  decisions: DecisionPath = 'hot',
): Promise<BatchResult> {
  // The lines' balance trigger keeps every line of the statement in a transition table,
  // and checks them with a grouping: at the default 4MB both spilled to temporary files
  // on a full batch (about 290 bytes an event written and read back). Bounded by the
  // batch's own bound (limits.batchMessagesMax), for this transaction only.
  await client.query(`SET LOCAL work_mem = '${batchWorkMem}'`);
  const head = await lockPartition(client, batch.topic, batch.partition);
  const firstNew = batch.messages.findIndex((m) => m.offset >= head.nextOffset);
  const empty = { posted: 0, duplicates: 0, quarantined: 0, nextOffset: head.nextOffset, missingPeriods: [] };
  if (firstNew === -1) return empty; // all seen already (a redelivery after a restart)
  const messages = batch.messages.slice(firstNew);
  const first = messages[0] as LogMessage;
  if (first.offset !== head.nextOffset) throw new OffsetGapError(first, head.nextOffset);
  const decide = decisions === 'hot' ? decideBatchHot : decideBatch;
  const writes = await decide(databaseSources(client), messages, head, approvalKeys);
  const missingPeriods = [...writes.bookedPeriods].filter((p) => !ensuredPeriods.has(p));
  if (missingPeriods.length > 0) return { ...empty, missingPeriods };
  await writeBatch(client, batch, writes, decisions);
  return { ...writes.counts, nextOffset: writes.head.nextOffset, missingPeriods: [] };
}

/** Room for a full batch's lines in memory (about 22,000 lines for 5,000 events). */
export const batchWorkMem = '64MB';

async function lockPartition(client: Client, topic: string, partition: number): Promise<PartitionHead> {
  await client.query(`INSERT INTO ledger.log_partitions (topic, partition) VALUES ($1, $2)
    ON CONFLICT DO NOTHING`, [topic, partition]);
  // The row lock fences the partition: a second projector (a member that lost the
  // partition in a rebalance) waits here, then finds the offset moved and skips.
  const result = await client.query<{ next_offset: string; chain_seq: string; chain_head: Buffer }>(
    `SELECT next_offset, chain_seq, chain_head FROM ledger.log_partitions
      WHERE topic = $1 AND partition = $2 FOR UPDATE`, [topic, partition]);
  const row = result.rows[0];
  invariant(row !== undefined, 'the partition row exists');
  return {
    nextOffset: Number(row.next_offset),
    chainSeq: Number(row.chain_seq),
    chainHead: row.chain_head.toString('hex'),
  };
}

/**
 * Messages are parsed and decided a chunk at a time, the lookups for each chunk in one
 * query each: a parsed message then lives only until its rows are encoded, so the young
 * generation's collections find little alive to copy (whole-batch parsing kept 5,000
 * parsed events alive across several of them).
 */
const decideChunkMessages = 500;

/**
 * The defining code of a batch's decisions and rows. The projector runs decideBatchHot
 * (hot-path.ts), held byte for byte equal to this by test/projector/hot-path.unit.spec.ts;
 * the ingest benchmark measures both.
 */
export async function decideBatch(
  sources: DecisionSources,
  messages: readonly LogMessage[],
  headBefore: PartitionHead,
  approvalKeys: ApprovalKeys,
): Promise<BatchWrites> {
  const closedPeriods = await sources.closedPeriods();
  const writes = newBatchWrites(headBefore);
  const { posted, states } = writes;
  const view = (key: string) => states.get(key)?.state;
  const postedEvent = (eventId: string) => posted.get(eventId);
  for (let start = 0; start < messages.length; start += decideChunkMessages) {
    const end = Math.min(start + decideChunkMessages, messages.length);
    const prepared: Prepared[] = [];
    for (let index = start; index < end; index += 1) prepared.push(prepareMessage((messages[index] as LogMessage).value));
    // What this batch posted or changed so far is already in the maps, and newer than the database.
    await sources.postedEvents(unseenEventIds(prepared, posted), posted);
    await sources.states(unseenRefs(prepared, states), states);
    for (let index = start; index < end; index += 1) {
      const message = messages[index] as LogMessage;
      invariant(message.offset === headBefore.nextOffset + index, 'a batch holds consecutive offsets');
      const outcome = decideMessage(prepared[index - start] as Prepared, postedEvent, view, approvalKeys);
      applyOutcome(writes, message, outcome, posted, closedPeriods);
    }
  }
  writes.head.nextOffset = headBefore.nextOffset + messages.length;
  return writes;
}

/** Empty COPYs for a batch's rows, and empty maps. */
export function newBatchWrites(headBefore: PartitionHead): BatchWrites {
  return {
    counts: { posted: 0, duplicates: 0, quarantined: 0 },
    raw: new StagedCopy('ledger.raw_messages', rawColumns),
    entries: new StagedCopy('ledger.journal_entries', entryColumns),
    lines: new StagedCopy('ledger.journal_lines', lineColumns),
    quarantine: new StagedCopy('ledger.quarantine', quarantineColumns),
    duplicates: new StagedCopy('ledger.duplicate_deliveries', duplicateColumns),
    bookedPeriods: new Set(),
    states: new Map(),
    posted: new Map(),
    head: { ...headBefore },
  };
}

function unseenEventIds(prepared: readonly Prepared[], posted: ReadonlyMap<string, PostedEvent>): string[] {
  const ids = new Set<string>();
  for (const p of prepared) {
    if (p.kind === 'envelope' && !posted.has(p.envelope.eventId)) ids.add(p.envelope.eventId);
  }
  return [...ids];
}

function unseenRefs(prepared: readonly Prepared[], states: ReadonlyMap<string, StateSlot>): string[] {
  const keys = new Set<string>();
  for (const p of prepared) {
    for (const key of refsOfPrepared(p)) if (!states.has(key)) keys.add(key);
  }
  return [...keys];
}

function applyOutcome(
  writes: BatchWrites,
  message: LogMessage,
  outcome: MessageOutcome,
  posted: Map<string, PostedEvent>,
  closedPeriods: ReadonlySet<string>,
): void {
  const position = { topic: message.topic, partition: message.partition, offset: message.offset };
  const kind = outcome.kind;
  writeRawRow(writes.raw, message, kind);
  if (kind === 'quarantined') {
    writes.counts.quarantined += 1;
    writeQuarantineRow(writes.quarantine, message, outcome);
    return;
  }
  if (kind === 'duplicate') {
    writes.counts.duplicates += 1;
    writeDuplicateRow(writes.duplicates, message, outcome);
    return;
  }
  const booking = bookingFor(outcome.envelope.occurredAt, closedPeriods);
  const entry = sealEntry({
    entryId: entryIdFor(position),
    eventId: outcome.envelope.eventId,
    eventType: outcome.envelope.type,
    position,
    chainSeq: writes.head.chainSeq + 1,
    effectiveAt: outcome.envelope.occurredAt,
    bookedPeriod: booking.bookedPeriod,
    late: booking.late,
    rule: outcome.posting.rule,
    ruleVersion: outcome.posting.ruleVersion,
    payloadSha256: outcome.envelope.payloadSha256,
    subject: outcome.posting.subject,
    lines: outcome.posting.lines,
    prevHash: writes.head.chainHead,
  });
  writeEntryRows(writes, entry);
  writes.bookedPeriods.add(entry.bookedPeriod);
  writes.head.chainSeq = entry.chainSeq;
  writes.head.chainHead = entry.hash;
  writes.counts.posted += 1;
  posted.set(entry.eventId, { payloadSha256: entry.payloadSha256, entryId: entry.entryId, position });
  for (const [key, state] of outcome.posting.changes) {
    writes.states.set(key, { state, version: writes.states.get(key)?.version ?? 0, dirty: true });
  }
}

export function writeQuarantineRow(
  q: StagedCopy, message: LogMessage, outcome: Extract<MessageOutcome, { kind: 'quarantined' }>,
): void {
  q.row();
  q.value(message.topic); q.value(message.partition); q.value(message.offset);
  q.value(outcome.eventId); q.value(outcome.type); q.value(outcome.reason); q.value(outcome.message);
}

export function writeDuplicateRow(
  d: StagedCopy, message: LogMessage, outcome: Extract<MessageOutcome, { kind: 'duplicate' }>,
): void {
  d.row();
  d.value(message.topic); d.value(message.partition); d.value(message.offset);
  d.value(outcome.envelope.eventId); d.value(outcome.original.entryId);
}

const noHeaders = '[]';
const noValue = Buffer.alloc(0);

export function writeRawRow(raw: StagedCopy, message: LogMessage, outcome: MessageOutcome['kind']): void {
  raw.row();
  raw.value(message.topic); raw.value(message.partition); raw.value(message.offset);
  raw.value(message.key); raw.value(message.value);
  raw.value(message.headers.length === 0 ? noHeaders : JSON.stringify(message.headers.map(headerJson)));
  raw.millis(message.timestampMs);
  raw.binaryString(sha256Binary(message.value ?? noValue));
  raw.value(outcome);
}

function headerJson(header: LogMessage['headers'][number]) {
  return { key: header.key, value: header.value?.toString('base64') ?? null };
}

function writeEntryRows(writes: BatchWrites, e: JournalEntry): void {
  const booked = `${e.bookedPeriod}-01`;
  const r = writes.entries;
  r.row();
  r.value(e.entryId); r.value(e.eventId); r.value(e.eventType); r.value(e.position.topic);
  r.value(e.position.partition); r.value(e.position.offset); r.value(e.chainSeq); r.value(e.effectiveAt);
  r.value(booked); r.value(e.late); r.value(e.rule); r.value(e.ruleVersion); r.value(e.payloadSha256);
  r.value(e.subject.currency ?? null); r.value(e.subject.market ?? null);
  r.value(e.subject.owner_id ?? null); r.value(e.subject.rental_id ?? null);
  r.value(e.prevHash); r.value(e.hash); r.value(e.lines.length);
  const lines = writes.lines;
  for (let index = 0; index < e.lines.length; index += 1) {
    const l = e.lines[index] as JournalEntry['lines'][number];
    lines.row();
    lines.value(e.entryId); lines.value(index + 1); lines.value(booked); lines.value(e.effectiveAt);
    lines.value(l.account); lines.value(l.side); lines.value(l.amount.minor); lines.value(l.amount.currency);
    lines.value(l.dims.owner_id ?? null); lines.value(l.dims.rental_id ?? null);
    lines.value(l.dims.driver_id ?? null); lines.value(l.dims.market ?? null);
    lines.value(l.dims.processor ?? null);
  }
}

function databaseSources(client: Client): DecisionSources {
  return {
    closedPeriods: () => loadClosedPeriods(client),
    postedEvents: (eventIds, into) => loadPostedEvents(client, eventIds, into),
    states: (keys, into) => loadStates(client, keys, into),
  };
}

async function loadPostedEvents(client: Client, eventIds: string[], posted: Map<string, PostedEvent>): Promise<void> {
  if (eventIds.length === 0) return;
  const result = await client.query<{
    event_id: string; payload_sha256: Buffer; entry_id: string; topic: string; partition: number; offset: string;
  }>(`SELECT event_id, payload_sha256, entry_id, topic, partition, "offset"
        FROM ledger.journal_entries WHERE event_id = ANY($1::uuid[])`, [eventIds]);
  for (const row of result.rows) {
    posted.set(row.event_id, {
      payloadSha256: row.payload_sha256.toString('hex'),
      entryId: row.entry_id,
      position: { topic: row.topic, partition: row.partition, offset: Number(row.offset) },
    });
  }
}

async function loadStates(client: Client, keys: string[], states: Map<string, StateSlot>): Promise<void> {
  if (keys.length === 0) return;
  const result = await client.query<{ ref_key: string; state: string; version: string }>(
    `SELECT ref_key, state, version FROM ledger.projection_state
      WHERE ref_key = ANY($1::text[])`, [keys]);
  for (const row of result.rows) {
    states.set(row.ref_key, { state: decodeState(row.state), version: Number(row.version), dirty: false });
  }
}

/**
 * The closed periods, read under a shared lock that `ledger period close` takes
 * exclusively (reports/periods.ts): a close waits for the batches in flight, and a batch
 * after it sees it, so no entry is ever booked into a period closed under it.
 */
async function loadClosedPeriods(client: Client): Promise<Set<string>> {
  await client.query(`SELECT pg_advisory_xact_lock_shared(hashtext('ledger.close_period'))`);
  const result = await client.query<{ period: string }>(
    `SELECT to_char(period, 'YYYY-MM') AS period FROM ledger.closed_periods`);
  return new Set(result.rows.map((r) => r.period));
}

const rawColumns: readonly CopyColumn[] = [['topic', 'text'], ['partition', 'int4'], ['offset', 'int8'],
  ['key', 'bytea'], ['value', 'bytea'], ['headers', 'jsonb'], ['log_timestamp', 'timestamptz'],
  ['value_sha256', 'bytea'], ['outcome', 'text']];
const entryColumns: readonly CopyColumn[] = [['entry_id', 'uuid'], ['event_id', 'uuid'], ['event_type', 'text'],
  ['topic', 'text'], ['partition', 'int4'], ['offset', 'int8'], ['chain_seq', 'int8'], ['effective_at', 'timestamptz'],
  ['booked_period', 'date'], ['late', 'bool'], ['rule', 'text'], ['rule_version', 'int4'],
  ['payload_sha256', 'bytea'], ['subject_currency', 'text'], ['subject_market', 'text'],
  ['subject_owner_id', 'text'], ['subject_rental_id', 'text'], ['prev_hash', 'bytea'], ['entry_hash', 'bytea'],
  ['line_count', 'int2']];
// side is the enum ledger.side, whose binary form is its label's text.
const lineColumns: readonly CopyColumn[] = [['entry_id', 'uuid'], ['line_no', 'int2'], ['booked_period', 'date'],
  ['effective_at', 'timestamptz'], ['account', 'text'], ['side', 'text'], ['amount_minor', 'int8'],
  ['currency', 'text'], ['owner_id', 'text'], ['rental_id', 'text'], ['driver_id', 'text'], ['market', 'text'],
  ['processor', 'text']];
const quarantineColumns: readonly CopyColumn[] = [['topic', 'text'], ['partition', 'int4'], ['offset', 'int8'],
  ['event_id', 'text'], ['event_type', 'text'], ['reason', 'text'], ['message', 'text']];
const duplicateColumns: readonly CopyColumn[] = [['topic', 'text'], ['partition', 'int4'], ['offset', 'int8'],
  ['event_id', 'uuid'], ['original_entry_id', 'uuid']];
const newStateColumns: readonly CopyColumn[] = [['ref_key', 'text'], ['state', 'text'], ['version', 'int8']];

async function writeBatch(client: Client, batch: PartitionBatch, writes: BatchWrites, decisions: DecisionPath): Promise<void> {
  // Entries before lines: the lines' trigger checks each line's entry exists.
  await writes.raw.send(client);
  await writes.entries.send(client);
  await writes.lines.send(client);
  await writes.quarantine.send(client);
  await writes.duplicates.send(client);
  if (decisions === 'hot') await writeStates(client, writes.states);
  else await writeStatesDefining(client, writes.states);
  await client.query(`UPDATE ledger.log_partitions SET next_offset = $3, chain_seq = $4, chain_head = $5
    WHERE topic = $1 AND partition = $2`, [batch.topic, batch.partition, writes.head.nextOffset,
    writes.head.chainSeq, Buffer.from(writes.head.chainHead, 'hex')]);
}

export class StateConflictError extends Error {
  constructor(expected: number, written: number) {
    super(`projection state changed under this batch: ${written} of ${expected} keys updated; retrying`);
    this.name = 'StateConflictError';
  }
}

/**
 * Every changed key is written at the version this batch read. New keys (version 0) are
 * COPYed straight into the table: if another partition's transaction created one
 * meanwhile (a producer reusing an id across ordering keys), its primary key refuses the
 * row (23505). Known keys are updated only where the version is still the one read: if
 * another transaction changed one meanwhile, fewer rows are updated. Either way the batch
 * is retried, and the retry sees the key (the rules then reject the event as a duplicate
 * reference, or decide it on the newer state). An upsert through a staging table did both
 * at once, at twice the server's time.
 */
async function writeStates(client: Client, states: Map<string, StateSlot>): Promise<void> {
  const { created, changed, changedCount } = stageStatesHot(states);
  await created.send(client);
  if (changedCount === 0) {
    changed.discard();
    return;
  }
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS state_batch
    (ref_key text, state text, version_read bigint) ON COMMIT DELETE ROWS`);
  await changed.send(client);
  const updated = await client.query(`UPDATE ledger.projection_state AS s
      SET state = b.state, version = b.version_read + 1
     FROM state_batch b
    WHERE s.ref_key = b.ref_key AND s.version = b.version_read`);
  if (updated.rowCount !== changedCount) throw new StateConflictError(changedCount, updated.rowCount ?? 0);
}

/** writeStates with the defining code's encoding (the ingest benchmark's baseline). */
async function writeStatesDefining(client: Client, states: Map<string, StateSlot>): Promise<void> {
  const { created, changed } = stageStates(states);
  await created.send(client);
  if (changed.length === 0) return;
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS state_batch
    (ref_key text, state text, version_read bigint) ON COMMIT DELETE ROWS`);
  await copyBinary(client, 'state_batch', stateColumns, changed);
  const updated = await client.query(`UPDATE ledger.projection_state AS s
      SET state = b.state, version = b.version_read + 1
     FROM state_batch b
    WHERE s.ref_key = b.ref_key AND s.version = b.version_read`);
  if (updated.rowCount !== changed.length) throw new StateConflictError(changed.length, updated.rowCount ?? 0);
}

const stateColumns: readonly CopyColumn[] = [['ref_key', 'text'], ['state', 'text'], ['version_read', 'int8']];

/** The changed states encoded: new keys as COPY rows, known keys with the version read (the defining code of stageStatesHot). */
export function stageStates(states: Map<string, StateSlot>): { created: StagedCopy; changed: CopyValue[][] } {
  const created = new StagedCopy('ledger.projection_state', newStateColumns);
  const changed: CopyValue[][] = [];
  for (const [key, { state, version, dirty }] of states) {
    if (!dirty) continue;
    if (version === 0) {
      created.row();
      created.value(key); created.value(encodeState(state)); created.value(1);
    } else {
      changed.push([key, encodeState(state), version]);
    }
  }
  return { created, changed };
}

/**
 * A batch that needs a month's line partition first gets it (outside the batch's
 * transaction, so no lock is held across it) and is tried again; so is a batch that lost
 * a race on a new state key to another partition's transaction. Both are bounded.
 */
export async function projectBatchWithRetries(
  pool: Pool, batch: PartitionBatch, ensured: Set<string>, approvalKeys: ApprovalKeys, decisions: DecisionPath = 'hot',
) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await withTransaction(pool, (client) => projectBatch(client, batch, ensured, approvalKeys, decisions));
      if (result.missingPeriods.length === 0) return result;
      for (const period of result.missingPeriods) {
        await pool.query('SELECT ledger.ensure_line_partition($1::date)', [`${period}-01`]);
        ensured.add(period);
      }
    } catch (error) {
      const lostRace = error instanceof StateConflictError || (error as { code?: string }).code === '23505';
      if (!lostRace || attempt >= limits.transactionAttemptsMax) throw error;
    }
    if (attempt >= limits.transactionAttemptsMax) {
      throw new Error(`batch ${batch.topic}/${batch.partition} could not be projected in ${attempt} attempts`);
    }
  }
}

export async function existingLinePartitions(pool: Pool): Promise<Set<string>> {
  const result = await pool.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'ledger.journal_lines'::regclass`);
  return new Set(result.rows.map((r) => r.relname.replace(/^journal_lines_(\d{4})_(\d{2})$/, '$1-$2')));
}

