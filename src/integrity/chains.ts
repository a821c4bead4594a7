// The hash chains of `ledger verify`: every entry's hash recomputed from its stored fields
// and lines, every partition's chain followed from genesis to the head log_partitions
// stores. One pass over the whole journal, every run: a row changed by a superuser with
// the triggers disabled is found only by reading it, so no entry is skipped because an
// earlier run or a checkpoint saw it (docs/reconciliation.md, "Why every run verifies
// everything").
//
// The pass reads entries and lines through two cursors, both in entry_id order, in one
// repeatable-read snapshot, and merges them here: PostgreSQL walks two primary-key indexes
// and looks nothing up entry by entry. Entry ids sort by (topic, partition, offset)
// (entry.ts) and the projector numbers a chain in offset order, so each chain arrives in
// chain order; an entry that does not is itself a finding. Rows come as raw text (no
// per-column parsing by the driver, bytea as hex from PostgreSQL), and nothing is kept
// per entry but the hashes the checkpoints name, so memory stays at about two pages.
import { hash } from 'node:crypto';
import type { Client, Pool } from '../db/database.ts';
import { invariant } from '../errors.ts';
import type { Side } from '../ledger/chart.ts';
import { entryHashInput, genesisHash, type JournalEntry } from '../ledger/entry.ts';
import type { Dims } from '../ledger/events.ts';
import { currencies, fromMinor, type CurrencyCode } from '../ledger/money.ts';
import type { Line, Subject } from '../ledger/rules.ts';

/** Recomputed hashes by `topic/partition/seq`: only those a checkpoint names, and each genesis. */
export type ChainHashes = Map<string, string>;

/** Findings, the first few in full and the rest counted: a wrecked journal must not flood memory. */
export class Problems {
  readonly shown: string[] = [];
  total = 0;
  constructor(readonly shownMax: number) {}
  add(problem: string): void {
    this.total += 1;
    if (this.shown.length < this.shownMax) this.shown.push(problem);
  }
}

export type ChainWalk = { problems: Problems; hashes: ChainHashes; entriesChecked: number; chains: number };

/**
 * Rows per FETCH: small enough that a page dies young (a page that outlives V8's young
 * generation is copied into the old one, and collecting that cost a quarter of the walk),
 * large enough that round trips do not count.
 */
export const chainPageEntries = 1_000;
export const chainPageLines = 4_000;

/** A row as PostgreSQL sent it: one string per column, null for NULL. */
type TextRow = (string | null)[];
const asText = { getTypeParser: () => (value: string) => value };

/**
 * The columns as the hash covers them: ids cast to uuid, hashes as hex from encode(), times
 * from to_char() with a fixed pattern, so that a column whose type a superuser changed
 * fails the query (or the hash) rather than be read in another form.
 */
const entryColumns = `entry_id::uuid, event_id::uuid, event_type, topic, partition, "offset", chain_seq,
  to_char(effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), to_char(booked_period, 'YYYY-MM'),
  late, rule, rule_version, encode(payload_sha256, 'hex'), subject_currency, subject_market, subject_owner_id,
  subject_rental_id, encode(prev_hash, 'hex'), encode(entry_hash, 'hex'), line_count`;
const lineColumns = `entry_id, line_no, account, side, amount_minor, currency, owner_id, rental_id, driver_id,
  market, processor`;

/** An entry as stored, its lines filled in by the walk; `lineCount` is what the entry says. */
type StoredEntry = Omit<JournalEntry, 'lines'> & { lines: Line[]; lineCount: number };
/** A line as stored; `line` is null when its currency is outside the chart (no hash can match). */
type StoredLine = { entryId: string; lineNo: number; currency: string; line: Line | null };

function storedEntry(row: TextRow): StoredEntry {
  const text = row as string[]; // the columns read here are NOT NULL
  const subject: Subject = {};
  if (row[13] !== null) subject.currency = row[13] as CurrencyCode;
  if (row[14] !== null) subject.market = row[14] as string;
  if (row[15] !== null) subject.owner_id = row[15] as string;
  if (row[16] !== null) subject.rental_id = row[16] as string;
  return {
    entryId: text[0], eventId: text[1], eventType: text[2],
    position: { topic: text[3], partition: Number(text[4]), offset: Number(text[5]) },
    chainSeq: Number(text[6]), effectiveAt: text[7], bookedPeriod: text[8], late: text[9] === 't', rule: text[10],
    ruleVersion: Number(text[11]), payloadSha256: text[12], subject, lines: [], prevHash: text[17], hash: text[18],
    lineCount: Number(text[19]),
  } as StoredEntry;
}

function storedLine(row: TextRow): StoredLine {
  const dims: Dims = {};
  if (row[6] !== null) dims.owner_id = row[6];
  if (row[7] !== null) dims.rental_id = row[7];
  if (row[8] !== null) dims.driver_id = row[8];
  if (row[9] !== null) dims.market = row[9];
  if (row[10] !== null) dims.processor = row[10];
  const currency = row[5] as string;
  const amount = Object.hasOwn(currencies, currency)
    ? fromMinor(currency as CurrencyCode, BigInt(row[4] as string)) : null;
  const line = amount === null ? null : { account: row[2] as string, side: row[3] as Side, amount, dims };
  return { entryId: row[0] as string, lineNo: Number(row[1]), currency, line };
}

/**
 * Fills in the entry's lines as they were hashed; else says why they cannot be, and then
 * no hash can match: a currency outside the chart, or a side that is neither (the enum
 * could have been given a label), both of which the fast writer would take as they are.
 */
function withLines(entry: StoredEntry, lines: readonly StoredLine[]): string | null {
  for (const l of lines) {
    if (l.line === null) return `line ${l.lineNo} is in ${l.currency}, not a chart currency`;
    if (l.line.side !== 'debit' && l.line.side !== 'credit') return `line ${l.lineNo} is on side ${l.line.side}`;
    entry.lines.push(l.line);
  }
  return null;
}

/**
 * The entry hash by its definition, entryHashInput (entry.ts: canonical JSON), never the
 * projector's entryHashInputFast: a fault in the code that wrote the hashes must not be
 * repeated by the code that checks them.
 */
export function recomputedHash(entry: Omit<JournalEntry, 'hash'>): string {
  return hash('sha256', entryHashInput(entry), 'hex');
}

/** A chain being followed: where it stands, and the head log_partitions stores for it. */
type Chain = {
  topic: string; partition: number; headSeq: number | null; headHash: string | null;
  expectedSeq: number; previousHash: string; wantedSeqs: Set<number>;
};

/**
 * Walks every chain inside the caller's repeatable-read transaction. `wanted` names the
 * positions (`topic/partition/seq`) whose recomputed hash the checkpoint checks need.
 */
/** `onProgress(entriesChecked, entriesInChains)` after each page; the total is what the chains' heads count. */
export type WalkProgress = (entriesChecked: number, entriesTotal: number) => void;

export async function walkChains(
  client: Client, wanted: ReadonlySet<string>, shownMax: number, onProgress?: WalkProgress,
): Promise<ChainWalk> {
  const walk: ChainWalk = { problems: new Problems(shownMax), hashes: new Map(), entriesChecked: 0, chains: 0 };
  const chains = await readChains(client, wanted, walk.hashes);
  walk.chains = chains.size;
  const total = [...chains.values()].reduce((sum, c) => sum + (c.headSeq ?? 0), 0);
  onProgress?.(0, total);
  await client.query(`DECLARE chain_entries NO SCROLL CURSOR FOR
    SELECT ${entryColumns} FROM ledger.journal_entries ORDER BY entry_id`);
  await client.query(`DECLARE chain_lines NO SCROLL CURSOR FOR
    SELECT ${lineColumns} FROM ledger.journal_lines ORDER BY entry_id, line_no`);
  const lines = new LineCursor(client, walk.problems);
  const entries = new PageCursor(client, 'chain_entries', chainPageEntries);
  let chain: Chain | null = null;
  for (let page = await entries.next(); page.length > 0; page = await entries.next()) {
    for (const row of page) {
      const entry = storedEntry(row);
      await lines.fillThrough(entry.entryId);
      // Entries come partition by partition: the chain of the one before is almost always this one's.
      if (chain === null || chain.topic !== entry.position.topic || chain.partition !== entry.position.partition) {
        chain = chainOf(chains, entry, walk.problems, wanted);
      }
      followEntry(chain, entry, lines.take(entry.entryId), walk);
    }
    onProgress?.(walk.entriesChecked, total);
  }
  await lines.fillThrough(null); // lines after the last entry belong to none
  await client.query('CLOSE chain_entries; CLOSE chain_lines');
  for (const chain of chains.values()) checkHead(chain, walk.problems);
  return walk;
}

async function readChains(
  client: Client, wanted: ReadonlySet<string>, hashes: ChainHashes,
): Promise<Map<string, Chain>> {
  const heads = await client.query<{ topic: string; partition: number; chain_seq: string; chain_head: string }>(
    `SELECT topic, partition, chain_seq, encode(chain_head, 'hex') AS chain_head FROM ledger.log_partitions
      ORDER BY topic, partition`);
  const chains = new Map<string, Chain>();
  for (const h of heads.rows) {
    const chain = newChain(h.topic, h.partition, wanted);
    chain.headSeq = Number(h.chain_seq);
    chain.headHash = h.chain_head;
    chains.set(`${h.topic}/${h.partition}`, chain);
    hashes.set(`${h.topic}/${h.partition}/0`, genesisHash);
  }
  return chains;
}

function newChain(topic: string, partition: number, wanted: ReadonlySet<string>): Chain {
  const prefix = `${topic}/${partition}/`;
  const wantedSeqs = new Set([...wanted].filter((k) => k.startsWith(prefix))
    .map((k) => Number(k.slice(prefix.length))));
  return { topic, partition, headSeq: null, headHash: null, expectedSeq: 1, previousHash: genesisHash, wantedSeqs };
}

/** The entry's chain; one without a head in log_partitions is followed too, and reported once. */
function chainOf(
  chains: Map<string, Chain>, entry: StoredEntry, problems: Problems, wanted: ReadonlySet<string>,
): Chain {
  const { topic, partition } = entry.position;
  const key = `${topic}/${partition}`;
  let chain = chains.get(key);
  if (chain === undefined) {
    problems.add(`${key}: entries (the first ${entry.entryId}) on a partition without a chain head in log_partitions`);
    chain = newChain(topic, partition, wanted);
    chains.set(key, chain);
  }
  return chain;
}

/** How a finding names an entry: its id, its event and its log position. */
function entryText(entry: StoredEntry): string {
  const { topic, partition, offset } = entry.position;
  return `entry ${entry.entryId} (event ${entry.eventId}, ${topic}/${partition}@${offset})`;
}

/** One entry of a chain: its place in the chain, its lines, its hash; findings only when wrong. */
function followEntry(chain: Chain, entry: StoredEntry, lines: readonly StoredLine[], walk: ChainWalk): void {
  const { topic, partition } = entry.position;
  const { problems } = walk;
  if (entry.chainSeq > chain.expectedSeq) {
    problems.add(`${topic}/${partition}: chain entries ${chain.expectedSeq}..${entry.chainSeq - 1} are ` +
      `missing before ${entryText(entry)}`);
  } else if (entry.chainSeq < chain.expectedSeq) {
    problems.add(`${entryText(entry)}: chain entry ${entry.chainSeq} comes after entry ${chain.expectedSeq - 1} ` +
      'in log order');
  }
  if (entry.prevHash !== chain.previousHash) {
    problems.add(`${entryText(entry)}: previous hash does not match the chain`);
  }
  let numbered = true;
  for (let index = 0; index < lines.length; index += 1) numbered &&= (lines[index] as StoredLine).lineNo === index + 1;
  if (lines.length !== entry.lineCount || !numbered) {
    problems.add(`${entryText(entry)}: has ${lines.length} lines; the entry says ${entry.lineCount}`);
  }
  const unreadable = withLines(entry, lines);
  const recomputed = unreadable === null ? recomputedHash(entry) : null;
  if (unreadable !== null) problems.add(`${entryText(entry)}: ${unreadable}`);
  else if (recomputed !== entry.hash) problems.add(`${entryText(entry)}: content does not match its hash`);
  if (chain.wantedSeqs.has(entry.chainSeq)) {
    walk.hashes.set(`${topic}/${partition}/${entry.chainSeq}`, recomputed ?? 'no hash (unreadable lines)');
  }
  chain.previousHash = entry.hash;
  chain.expectedSeq = entry.chainSeq + 1;
  walk.entriesChecked += 1;
}

function checkHead(chain: Chain, problems: Problems): void {
  if (chain.headSeq === null) return; // reported when its first entry was read
  const lastSeq = chain.expectedSeq - 1;
  if (lastSeq !== chain.headSeq || chain.previousHash !== chain.headHash) {
    problems.add(`${chain.topic}/${chain.partition}: the stored head (seq ${chain.headSeq}) does not match the ` +
      `last entry (seq ${lastSeq})`);
  }
}

/**
 * FETCH page by page from a cursor of the current transaction, rows as raw text, one page
 * ahead: PostgreSQL reads the next page while this one is being hashed.
 */
class PageCursor {
  #done = false;
  #coming: Promise<TextRow[]> | null = null;
  constructor(readonly client: Client, readonly name: string, readonly pageRows: number) {}

  async next(): Promise<TextRow[]> {
    if (this.#done) return [];
    const page = await (this.#coming ?? this.#fetch());
    this.#coming = null;
    if (page.length < this.pageRows) this.#done = true;
    else this.#coming = this.#fetch();
    return page;
  }

  #fetch(): Promise<TextRow[]> {
    const fetching = this.client.query<TextRow>({
      text: `FETCH ${this.pageRows} FROM ${this.name}`, rowMode: 'array', types: asText,
    }).then((result) => result.rows);
    fetching.catch(() => undefined); // awaited by next(); a failure must not go unhandled meanwhile
    return fetching;
  }
}

/**
 * The lines cursor, buffered a page ahead of the entry being followed. Lines whose entry
 * id sorts before that entry's belong to no entry (the entries cursor passed their id
 * without a match): they are reported as they go by, so the buffer holds one entry's lines
 * and one page at most.
 */
class LineCursor {
  #rows: StoredLine[] = [];
  #at = 0;
  readonly #pages: PageCursor;
  #exhausted = false;
  /** The entry id of the last orphan reported: its further lines (they come next) are not. */
  #orphanEntryId: string | null = null;

  constructor(client: Client, readonly problems: Problems) {
    this.#pages = new PageCursor(client, 'chain_lines', chainPageLines);
  }

  /** Reads on until a buffered line sorts after `entryId` (null: to the end). */
  async fillThrough(entryId: string | null): Promise<void> {
    for (;;) {
      this.#dropOrphansBefore(entryId);
      const last = this.#rows[this.#rows.length - 1];
      const covered = last !== undefined && this.#at < this.#rows.length && entryId !== null && last.entryId > entryId;
      if (covered || this.#exhausted) return;
      const page = await this.#pages.next();
      if (page.length < chainPageLines) this.#exhausted = true;
      this.#rows = this.#rows.slice(this.#at).concat(page.map(storedLine));
      this.#at = 0;
    }
  }

  /** The buffered lines of `entryId`, in line order; fillThrough(entryId) came first. */
  take(entryId: string): StoredLine[] {
    const taken: StoredLine[] = [];
    while (this.#at < this.#rows.length && (this.#rows[this.#at] as StoredLine).entryId === entryId) {
      taken.push(this.#rows[this.#at] as StoredLine);
      this.#at += 1;
    }
    invariant(this.#at >= this.#rows.length || (this.#rows[this.#at] as StoredLine).entryId > entryId,
      'the lines before the entry were reported as orphans');
    return taken;
  }

  #dropOrphansBefore(entryId: string | null): void {
    while (this.#at < this.#rows.length) {
      const line = this.#rows[this.#at] as StoredLine;
      if (entryId !== null && line.entryId >= entryId) return;
      if (line.entryId !== this.#orphanEntryId) {
        this.#orphanEntryId = line.entryId;
        this.problems.add(`lines of entry ${line.entryId} (line ${line.lineNo} first) belong to no journal entry`);
      }
      this.#at += 1;
    }
  }
}

/**
 * Up to a page of one chain after `afterSeq`, entries with their lines, decoded as the walk
 * decodes them: a tool for tests that play a superuser rewriting a chain.
 */
export async function readChainPage(
  pool: Pool, topic: string, partition: number, afterSeq: number,
): Promise<JournalEntry[]> {
  const entries = await pool.query<TextRow>({
    text: `SELECT ${entryColumns} FROM ledger.journal_entries WHERE topic = $1 AND partition = $2 AND chain_seq > $3
      ORDER BY chain_seq LIMIT ${chainPageEntries}`,
    values: [topic, partition, afterSeq], rowMode: 'array', types: asText,
  });
  const stored = entries.rows.map(storedEntry);
  const lines = await pool.query<TextRow>({
    text: `SELECT ${lineColumns} FROM ledger.journal_lines WHERE entry_id = ANY($1::uuid[]) ORDER BY entry_id, line_no`,
    values: [stored.map((e) => e.entryId)], rowMode: 'array', types: asText,
  });
  const byEntry = new Map<string, StoredLine[]>();
  for (const line of lines.rows.map(storedLine)) {
    const list = byEntry.get(line.entryId) ?? [];
    list.push(line);
    byEntry.set(line.entryId, list);
  }
  return stored.map((entry) => {
    const unreadable = withLines(entry, byEntry.get(entry.entryId) ?? []);
    invariant(unreadable === null, `entry ${entry.entryId}: ${unreadable}`);
    return entry;
  });
}
