// `ledger verify`: recomputes what the database claims. Each check reports ok and a
// detail that names what is wrong (the entry, the offset), so that a row changed or
// deleted by a superuser who first disabled the triggers is found and named.
import { canonicalJson } from '../ledger/canonical.ts';
import { entryHash, genesisHash, type JournalEntry } from '../ledger/entry.ts';
import { headsRoot, type CheckpointBody } from '../ledger/merkle.ts';
import { fromMinor, type CurrencyCode } from '../ledger/money.ts';
import type { Line, Subject } from '../ledger/rules.ts';
import type { Dims } from '../ledger/events.ts';
import type { Side } from '../ledger/chart.ts';
import type { Pool } from '../db/database.ts';
import { verifySignature } from '../signing/keys.ts';
import type { CheckpointFile } from './checkpoints.ts';

export type Check = { name: string; ok: boolean; detail: string };
export type VerifyReport = { ok: boolean; checks: Check[] };

const problemsShownMax = 20;
const chainPageEntries = 5_000;

export async function verifyLedger(
  pool: Pool, options: { exportedCheckpoints?: readonly CheckpointFile[] } = {},
): Promise<VerifyReport> {
  const checks: Check[] = [];
  const chain = await checkHashChains(pool);
  checks.push(chain.check);
  checks.push(await checkCheckpoints(pool, chain.hashes));
  if (options.exportedCheckpoints !== undefined) {
    checks.push(checkExportedCheckpoints(options.exportedCheckpoints, chain.hashes));
  }
  checks.push(await checkAppendOnly(pool));
  checks.push(await checkCompleteness(pool));
  checks.push(await checkBalancedEntries(pool));
  checks.push(await checkTrialBalance(pool));
  return { ok: checks.every((c) => c.ok), checks };
}

function check(name: string, problems: string[], okDetail: string): Check {
  if (problems.length === 0) return { name, ok: true, detail: okDetail };
  const shown = problems.slice(0, problemsShownMax).join('; ');
  const more = problems.length > problemsShownMax ? `; and ${problems.length - problemsShownMax} more` : '';
  return { name, ok: false, detail: shown + more };
}

type EntryRow = {
  entry_id: string; event_id: string; event_type: string; topic: string; partition: number; offset: string;
  chain_seq: string; effective_at: string; booked_period: string; late: boolean; rule: string;
  rule_version: number; payload_sha256: Buffer; prev_hash: Buffer; entry_hash: Buffer; line_count: number;
  subject_currency: CurrencyCode | null; subject_market: string | null; subject_owner_id: string | null;
  subject_rental_id: string | null;
};
type LineRow = {
  entry_id: string; line_no: number; account: string; side: Side; amount_minor: string; currency: CurrencyCode;
  owner_id: string | null; rental_id: string | null; driver_id: string | null; market: string | null;
  processor: string | null;
};

/** Known hashes by `topic/partition/seq`, for the checkpoint checks. */
type ChainHashes = Map<string, string>;

async function checkHashChains(pool: Pool): Promise<{ check: Check; hashes: ChainHashes }> {
  const hashes: ChainHashes = new Map();
  const problems: string[] = [];
  const partitions = await pool.query<{ topic: string; partition: number; chain_seq: string; chain_head: Buffer }>(
    'SELECT topic, partition, chain_seq, chain_head FROM ledger.log_partitions ORDER BY topic, partition');
  let entriesChecked = 0;
  for (const p of partitions.rows) {
    let previousHash = genesisHash;
    let expectedSeq = 1;
    hashes.set(`${p.topic}/${p.partition}/0`, genesisHash);
    for (;;) {
      const page = await readChainPage(pool, p.topic, p.partition, expectedSeq - 1);
      for (const entry of page) {
        const where = `entry ${entry.entryId} (event ${entry.eventId}, ${p.topic}/${p.partition}@${entry.position.offset})`;
        if (entry.chainSeq !== expectedSeq) {
          problems.push(`${p.topic}/${p.partition}: chain entries ${expectedSeq}..${entry.chainSeq - 1} are ` +
            `missing before ${where}`);
        }
        if (entry.prevHash !== previousHash) problems.push(`${where}: previous hash does not match the chain`);
        if (entry.problem !== null) problems.push(`${where}: ${entry.problem}`);
        const recomputed = entryHash(entry);
        if (recomputed !== entry.hash) problems.push(`${where}: content does not match its hash`);
        hashes.set(`${p.topic}/${p.partition}/${entry.chainSeq}`, recomputed);
        previousHash = entry.hash;
        expectedSeq = entry.chainSeq + 1;
        entriesChecked += 1;
      }
      if (page.length < chainPageEntries) break;
    }
    const headSeq = Number(p.chain_seq);
    if (expectedSeq - 1 !== headSeq || previousHash !== p.chain_head.toString('hex')) {
      problems.push(`${p.topic}/${p.partition}: the stored head (seq ${headSeq}) does not match the last ` +
        `entry (seq ${expectedSeq - 1})`);
    }
  }
  return {
    check: check('hash_chains', problems, `${entriesChecked} entries in ${partitions.rows.length} chains recomputed`),
    hashes,
  };
}

type ChainEntry = JournalEntry & { problem: string | null };

export async function readChainPage(pool: Pool, topic: string, partition: number, afterSeq: number): Promise<ChainEntry[]> {
  const entries = await pool.query<EntryRow>(`SELECT entry_id, event_id, event_type, topic, partition, "offset",
      chain_seq, to_char(effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS effective_at,
      to_char(booked_period, 'YYYY-MM') AS booked_period, late, rule, rule_version, payload_sha256,
      subject_currency, subject_market, subject_owner_id, subject_rental_id, prev_hash, entry_hash, line_count
    FROM ledger.journal_entries WHERE topic = $1 AND partition = $2 AND chain_seq > $3
    ORDER BY chain_seq LIMIT ${chainPageEntries}`, [topic, partition, afterSeq]);
  const ids = entries.rows.map((e) => e.entry_id);
  const lines = await pool.query<LineRow>(`SELECT entry_id, line_no, account, side, amount_minor, currency,
      owner_id, rental_id, driver_id, market, processor
    FROM ledger.journal_lines WHERE entry_id = ANY($1::uuid[]) ORDER BY entry_id, line_no`, [ids]);
  const byEntry = new Map<string, LineRow[]>();
  for (const line of lines.rows) {
    const list = byEntry.get(line.entry_id) ?? [];
    list.push(line);
    byEntry.set(line.entry_id, list);
  }
  return entries.rows.map((row) => toChainEntry(row, byEntry.get(row.entry_id) ?? []));
}

function toChainEntry(row: EntryRow, lineRows: LineRow[]): ChainEntry {
  const lines: Line[] = lineRows.map((l) => ({
    account: l.account, side: l.side, amount: fromMinor(l.currency, BigInt(l.amount_minor)), dims: dimsOf(l),
  }));
  const numbered = lineRows.every((l, index) => l.line_no === index + 1);
  const problem = lineRows.length !== row.line_count || !numbered
    ? `has ${lineRows.length} lines; the entry says ${row.line_count}` : null;
  return {
    entryId: row.entry_id, eventId: row.event_id, eventType: row.event_type,
    position: { topic: row.topic, partition: row.partition, offset: Number(row.offset) },
    chainSeq: Number(row.chain_seq), effectiveAt: row.effective_at, bookedPeriod: row.booked_period,
    late: row.late, rule: row.rule, ruleVersion: row.rule_version,
    payloadSha256: row.payload_sha256.toString('hex'), subject: subjectOf(row), lines,
    prevHash: row.prev_hash.toString('hex'),
    hash: row.entry_hash.toString('hex'), problem,
  };
}

function subjectOf(row: EntryRow): Subject {
  const subject: Subject = {};
  if (row.subject_currency !== null) subject.currency = row.subject_currency;
  if (row.subject_market !== null) subject.market = row.subject_market;
  if (row.subject_owner_id !== null) subject.owner_id = row.subject_owner_id;
  if (row.subject_rental_id !== null) subject.rental_id = row.subject_rental_id;
  return subject;
}

function dimsOf(l: LineRow): Dims {
  const dims: Dims = {};
  if (l.owner_id !== null) dims.owner_id = l.owner_id;
  if (l.rental_id !== null) dims.rental_id = l.rental_id;
  if (l.driver_id !== null) dims.driver_id = l.driver_id;
  if (l.market !== null) dims.market = l.market;
  if (l.processor !== null) dims.processor = l.processor;
  return dims;
}

function checkpointProblems(
  label: string, body: CheckpointBody, signature: Buffer, publicKeyPem: string | undefined, hashes: ChainHashes,
): string[] {
  const problems: string[] = [];
  if (publicKeyPem === undefined || !verifySignature(publicKeyPem, canonicalJson(body), signature)) {
    problems.push(`${label}: signature does not verify`);
  }
  if (headsRoot(body.heads) !== body.merkle_root) problems.push(`${label}: Merkle root does not match its heads`);
  for (const head of body.heads) {
    const now = hashes.get(`${head.topic}/${head.partition}/${head.chainSeq}`);
    if (now !== head.hash) {
      problems.push(`${label}: ${head.topic}/${head.partition} entry ${head.chainSeq} hashes to ` +
        `${now ?? 'nothing (missing)'}, the checkpoint says ${head.hash}`);
    }
  }
  return problems;
}

async function checkCheckpoints(pool: Pool, hashes: ChainHashes): Promise<Check> {
  const rows = await pool.query<{ checkpoint_id: string; body: string; signature: Buffer; public_key_pem: string }>(
    `SELECT c.checkpoint_id, c.body, c.signature, k.public_key_pem FROM ledger.checkpoints c
       LEFT JOIN ledger.signing_keys k USING (key_id) ORDER BY c.checkpoint_id`);
  const problems = rows.rows.flatMap((r) => checkpointProblems(`checkpoint ${r.checkpoint_id}`,
    JSON.parse(r.body) as CheckpointBody, r.signature, r.public_key_pem, hashes));
  return check('checkpoints', problems, `${rows.rows.length} signed checkpoints match the chains`);
}

function checkExportedCheckpoints(files: readonly CheckpointFile[], hashes: ChainHashes): Check {
  const problems = files.flatMap((f) => checkpointProblems(`exported checkpoint ${f.checkpoint_id}`, f.body,
    Buffer.from(f.signature, 'base64'), f.public_key_pem, hashes));
  return check('exported_checkpoints', problems, `${files.length} exported checkpoint files match the chains`);
}

const appendOnlyTables = ['raw_messages', 'journal_entries', 'journal_lines', 'quarantine',
  'duplicate_deliveries', 'signing_keys', 'checkpoints', 'closed_periods'];

async function checkAppendOnly(pool: Pool): Promise<Check> {
  const problems: string[] = [];
  const triggers = await pool.query<{ table_name: string; tgname: string; tgenabled: string }>(
    `SELECT c.relname AS table_name, t.tgname, t.tgenabled FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'ledger' AND t.tgname LIKE 'append_only_%'`);
  for (const table of appendOnlyTables) {
    for (const trigger of ['append_only_rows', 'append_only_truncate']) {
      const found = triggers.rows.find((t) => t.table_name === table && t.tgname === trigger);
      if (found === undefined) problems.push(`${table}: trigger ${trigger} is missing`);
      else if (found.tgenabled !== 'A') problems.push(`${table}: trigger ${trigger} is not enabled ALWAYS`);
    }
  }
  const partitions = triggers.rows.filter((t) => t.table_name.startsWith('journal_lines_') && t.tgenabled !== 'A');
  for (const t of partitions) problems.push(`${t.table_name}: trigger ${t.tgname} is not enabled ALWAYS`);
  const privileges = await pool.query<{ table_name: string; privilege: string }>(
    `SELECT t AS table_name, p AS privilege FROM unnest($1::text[]) t, unnest(ARRAY['UPDATE','DELETE','TRUNCATE']) p
      WHERE has_table_privilege('ledger_writer', 'ledger.' || t, p)`, [appendOnlyTables]);
  for (const r of privileges.rows) problems.push(`ledger_writer holds ${r.privilege} on ${r.table_name}`);
  return check('append_only', problems, 'journal tables refuse UPDATE, DELETE and TRUNCATE');
}

async function checkCompleteness(pool: Pool): Promise<Check> {
  const rows = await pool.query<{
    topic: string; partition: number; next_offset: string; raw: string; raw_max: string | null;
    posted: string; entries: string; duplicate: string; duplicates: string; quarantined: string; quarantine: string;
  }>(`SELECT p.topic, p.partition, p.next_offset,
      (SELECT count(*) FROM ledger.raw_messages r WHERE r.topic = p.topic AND r.partition = p.partition) AS raw,
      (SELECT max("offset") FROM ledger.raw_messages r WHERE r.topic = p.topic AND r.partition = p.partition) AS raw_max,
      (SELECT count(*) FROM ledger.raw_messages r WHERE r.topic = p.topic AND r.partition = p.partition
          AND outcome = 'posted') AS posted,
      (SELECT count(*) FROM ledger.journal_entries e WHERE e.topic = p.topic AND e.partition = p.partition) AS entries,
      (SELECT count(*) FROM ledger.raw_messages r WHERE r.topic = p.topic AND r.partition = p.partition
          AND outcome = 'duplicate') AS duplicate,
      (SELECT count(*) FROM ledger.duplicate_deliveries d WHERE d.topic = p.topic AND d.partition = p.partition) AS duplicates,
      (SELECT count(*) FROM ledger.raw_messages r WHERE r.topic = p.topic AND r.partition = p.partition
          AND outcome = 'quarantined') AS quarantined,
      (SELECT count(*) FROM ledger.quarantine q WHERE q.topic = p.topic AND q.partition = p.partition) AS quarantine
    FROM ledger.log_partitions p ORDER BY p.topic, p.partition`);
  const problems: string[] = [];
  let messages = 0;
  for (const r of rows.rows) {
    const name = `${r.topic}/${r.partition}`;
    const read = Number(r.next_offset);
    messages += read;
    if (Number(r.raw) !== read || (read > 0 && Number(r.raw_max) !== read - 1)) {
      const holes = await findHoles(pool, r.topic, r.partition, read);
      problems.push(`${name}: ${read} messages read but ${r.raw} archived; offsets not accounted for: ${holes}`);
    }
    if (r.posted !== r.entries) problems.push(`${name}: ${r.posted} messages posted but ${r.entries} entries`);
    if (r.duplicate !== r.duplicates) {
      problems.push(`${name}: ${r.duplicate} duplicates archived but ${r.duplicates} recorded`);
    }
    if (r.quarantined !== r.quarantine) {
      problems.push(`${name}: ${r.quarantined} quarantined archived but ${r.quarantine} recorded`);
    }
    if (Number(r.entries) + Number(r.duplicates) + Number(r.quarantine) !== read) {
      problems.push(`${name}: entries ${r.entries} + duplicates ${r.duplicates} + quarantined ${r.quarantine} ` +
        `≠ ${read} messages read`);
    }
  }
  return check('log_completeness', problems, `${messages} messages in ${rows.rows.length} partitions accounted for`);
}

async function findHoles(pool: Pool, topic: string, partition: number, read: number): Promise<string> {
  const holes = await pool.query<{ offset: string }>(`SELECT s AS "offset" FROM generate_series(0, $3::bigint - 1) s
      WHERE NOT EXISTS (SELECT 1 FROM ledger.raw_messages r
        WHERE r.topic = $1 AND r.partition = $2 AND r."offset" = s) ORDER BY s LIMIT ${problemsShownMax}`,
  [topic, partition, read]);
  return holes.rows.map((h) => h.offset).join(', ') || 'none missing (extra rows beyond the stored offset)';
}

async function checkBalancedEntries(pool: Pool): Promise<Check> {
  const rows = await pool.query<{ entry_id: string; currency: string; net: string }>(
    `SELECT entry_id, currency, sum(CASE WHEN side = 'debit' THEN amount_minor ELSE -amount_minor END) AS net
       FROM ledger.journal_lines GROUP BY entry_id, currency
     HAVING sum(CASE WHEN side = 'debit' THEN amount_minor ELSE -amount_minor END) <> 0
      LIMIT ${problemsShownMax + 1}`);
  const problems = rows.rows.map((r) => `entry ${r.entry_id} is off by ${r.net} minor units of ${r.currency}`);
  return check('balanced_entries', problems, 'every entry balances per currency');
}

async function checkTrialBalance(pool: Pool): Promise<Check> {
  const rows = await pool.query<{ currency: string; net: string }>(
    `SELECT currency, sum(CASE WHEN side = 'debit' THEN amount_minor ELSE -amount_minor END) AS net
       FROM ledger.journal_lines GROUP BY currency ORDER BY currency`);
  const problems = rows.rows.filter((r) => r.net !== '0')
    .map((r) => `${r.currency} debits − credits = ${r.net} minor units`);
  const shown = rows.rows.map((r) => r.currency).join(', ') || 'no currency yet';
  return check('trial_balance_zero', problems, `trial balance is zero in ${shown}`);
}
