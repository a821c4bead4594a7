// `ledger verify`: recomputes what the database claims. Each check reports ok and a
// detail that names what is wrong (the entry, the offset), so that a row changed or
// deleted by a superuser who first disabled the triggers is found and named. The chains
// and checkpoints are chain-checks.ts (the walk itself: chains.ts); the set-based checks,
// each one statement that PostgreSQL runs, are here.
import type { Pool } from '../db/database.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { check, problemsShownMax, type Check } from './chain-checks.ts';
import { chainChecksInThread } from './chain-thread.ts';
import { checkServiceLogin } from './service-login-check.ts';
import { verifyTrail } from '../access-control/trail.ts';
import type { CheckpointFile } from './checkpoints.ts';
import { checkCheckpointFiles } from './checkpoint-files.ts';
import { checkReportManifests } from './manifests.ts';

export type { Check } from './chain-checks.ts';
export { readChainPage } from './chains.ts';

export type VerifyReport = { ok: boolean; checks: Check[] };

export type VerifyOptions = {
  /** An auditor's exported checkpoint files, checked against the chains. */
  readonly exportedCheckpoints?: readonly CheckpointFile[];
  /**
   * The pinned keys (trust.ts): a checkpoint or report manifest signed by any other key
   * fails. Without them, signatures are checked with the database's own keys, which proves
   * integrity, not origin (the checks' details say so).
   */
  readonly trusted?: TrustedKeys;
  /** The data dir's checkpoint folder: each checkpoint of the database must have its file there. */
  readonly checkpointsDir?: string;
  /** Told of the chain walk, the longest part: entries recomputed of the entries in the chains. */
  readonly onProgress?: (entriesChecked: number, entriesTotal: number) => void;
};

export async function verifyLedger(pool: Pool, options: VerifyOptions = {}): Promise<VerifyReport> {
  // The chains are walked on a thread of their own while PostgreSQL runs the set-based
  // checks on a second connection, and the caller's own work (a reconciliation's matching)
  // keeps the main thread: JavaScript and PostgreSQL busy on both cores at once.
  const trusted = options.trusted ?? null;
  const chains = chainChecksInThread(pool, options.exportedCheckpoints, trusted, options.onProgress);
  chains.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  const others = setBasedChecks(pool, trusted, options.checkpointsDir);
  others.catch(() => undefined);
  const walked = await chains;
  const checks: Check[] = [walked.chains, walked.checkpoints];
  if (walked.exported !== null) checks.push(walked.exported);
  checks.push(...await others);
  return { ok: checks.every((c) => c.ok), checks };
}

/** In this order, one after the other: each is one statement that PostgreSQL runs alone. */
async function setBasedChecks(pool: Pool, trusted: TrustedKeys | null, checkpointsDir?: string): Promise<Check[]> {
  return [
    ...checkpointsDir === undefined ? [] : [await checkCheckpointFiles(pool, checkpointsDir)],
    await checkReportManifests(pool, trusted),
    await checkAppendOnly(pool),
    await checkServiceLogin(pool),
    await checkAuditTrail(pool),
    await checkCompleteness(pool),
    await checkBalancedEntries(pool),
    await checkTrialBalance(pool),
  ];
}

/** Every append-only table, schema-qualified: the journal's, the reports', reconciliation's and access's. */
const appendOnlyTables = ['ledger.raw_messages', 'ledger.journal_entries', 'ledger.journal_lines', 'ledger.quarantine',
  'ledger.duplicate_deliveries', 'ledger.signing_keys', 'ledger.checkpoints', 'ledger.closed_periods',
  'ledger.key_rotations', 'ledger.report_runs', 'ledger.report_figures', 'ledger.report_files',
  'ledger.reconciliation_runs', 'ledger.reconciliation_items', 'ledger.reconciliation_resolutions',
  'access.identities', 'access.grants', 'access.grant_approvals', 'access.grant_revocations', 'access.tokens',
  'access.token_revocations', 'access.audit_trail', 'access.adjustment_requests', 'access.adjustment_approvals'];

async function checkAppendOnly(pool: Pool): Promise<Check> {
  const problems: string[] = [];
  const triggers = await pool.query<{ table_name: string; tgname: string; tgenabled: string }>(
    `SELECT n.nspname || '.' || c.relname AS table_name, t.tgname, t.tgenabled FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('ledger', 'access') AND t.tgname LIKE 'append_only_%'`);
  for (const table of appendOnlyTables) {
    for (const trigger of ['append_only_rows', 'append_only_truncate']) {
      const found = triggers.rows.find((t) => t.table_name === table && t.tgname === trigger);
      if (found === undefined) problems.push(`${table}: trigger ${trigger} is missing`);
      else if (found.tgenabled !== 'A') problems.push(`${table}: trigger ${trigger} is not enabled ALWAYS`);
    }
  }
  const partitions = triggers.rows.filter((t) => t.table_name.startsWith('ledger.journal_lines_') && t.tgenabled !== 'A');
  for (const t of partitions) problems.push(`${t.table_name}: trigger ${t.tgname} is not enabled ALWAYS`);
  const privileges = await pool.query<{ table_name: string; privilege: string }>(
    `SELECT t AS table_name, p AS privilege FROM unnest($1::text[]) t, unnest(ARRAY['UPDATE','DELETE','TRUNCATE']) p
      WHERE has_table_privilege('ledger_writer', t, p)`, [appendOnlyTables]);
  for (const r of privileges.rows) problems.push(`ledger_writer holds ${r.privilege} on ${r.table_name}`);
  return check('append_only', problems, `${appendOnlyTables.length} journal, report, reconciliation and access tables ` +
    'refuse UPDATE, DELETE and TRUNCATE');
}

type CompletenessRow = {
  topic: string; partition: number; next_offset: string; raw: string; raw_max: string | null;
  posted: string; entries: string; duplicate: string; duplicates: string; quarantined: string; quarantine: string;
};

/**
 * Counted in one pass over each table, grouped by partition (a subquery per partition and
 * figure read the archive five times per partition).
 */
const completenessQuery = `WITH raw AS (SELECT topic, partition, count(*) AS raw, max("offset") AS raw_max,
      count(*) FILTER (WHERE outcome = 'posted') AS posted,
      count(*) FILTER (WHERE outcome = 'duplicate') AS duplicate,
      count(*) FILTER (WHERE outcome = 'quarantined') AS quarantined
    FROM ledger.raw_messages GROUP BY topic, partition),
  entries AS (SELECT topic, partition, count(*) AS entries FROM ledger.journal_entries GROUP BY topic, partition),
  duplicates AS (SELECT topic, partition, count(*) AS duplicates FROM ledger.duplicate_deliveries
    GROUP BY topic, partition),
  quarantine AS (SELECT topic, partition, count(*) AS quarantine FROM ledger.quarantine GROUP BY topic, partition)
SELECT p.topic, p.partition, p.next_offset, coalesce(r.raw, 0) AS raw, r.raw_max, coalesce(r.posted, 0) AS posted,
    coalesce(e.entries, 0) AS entries, coalesce(r.duplicate, 0) AS duplicate, coalesce(d.duplicates, 0) AS duplicates,
    coalesce(r.quarantined, 0) AS quarantined, coalesce(q.quarantine, 0) AS quarantine
  FROM ledger.log_partitions p
  LEFT JOIN raw r USING (topic, partition) LEFT JOIN entries e USING (topic, partition)
  LEFT JOIN duplicates d USING (topic, partition) LEFT JOIN quarantine q USING (topic, partition)
 ORDER BY p.topic, p.partition`;

async function checkCompleteness(pool: Pool): Promise<Check> {
  const rows = await pool.query<CompletenessRow>(completenessQuery);
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

/** The access audit trail: every row's hash recomputed along the chain; a changed or missing row is named. */
async function checkAuditTrail(pool: Pool): Promise<Check> {
  const walked = await verifyTrail(pool);
  return check('audit_trail', walked.problems, `${walked.rows} audit trail rows recomputed, each chained to the one before`);
}
