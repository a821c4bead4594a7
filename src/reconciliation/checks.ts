// The integrity checks of every run (RECONCILIATION.md): what `ledger verify` proves (hash
// chains and checkpoints, append-only, log completeness, balanced entries, a zero trial
// balance per currency), and what reconciliation adds: every line's account in the chart
// with exactly its dimensions (the database's CHECK enforces it, but a superuser can drop
// a constraint), owners whose payable is negative, and open quarantined records.
import type { Pool } from '../db/database.ts';
import { verifyLedger, type Check } from '../integrity/verify.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { chart, dimensionNames } from '../ledger/chart.ts';

export type { Check };

const problemsShownMax = 20;

export async function integrityChecks(pool: Pool, endMs: number, trusted: TrustedKeys | null): Promise<Check[]> {
  const verified = await verifyLedger(pool, trusted === null ? {} : { trusted });
  return [
    ...verified.checks,
    await checkAccountsAndDimensions(pool),
    await checkNegativePayables(pool, endMs),
    await checkOpenQuarantine(pool),
  ];
}

function check(name: string, problems: readonly string[], more: number, okDetail: string): Check {
  if (problems.length === 0) return { name, ok: true, detail: okDetail };
  const suffix = more > 0 ? `; and ${more} more` : '';
  return { name, ok: false, detail: problems.join('; ') + suffix };
}

/** The chart as SQL rows: code, then one boolean per dimension column (true: required). */
function chartValues(): string {
  return chart.map((account) => `('${account.code}', ${dimensionNames
    .map((d) => (account.dimensions.includes(d) ? 'true' : 'false')).join(', ')})`).join(',\n');
}

async function checkAccountsAndDimensions(pool: Pool): Promise<Check> {
  const mismatch = dimensionNames.map((d) => `(l.${d} IS NOT NULL) <> c.${d}`).join(' OR ');
  const rows = await pool.query<{ entry_id: string; line_no: number; account: string; known: boolean; lines: string }>(
    `WITH chart (account, ${dimensionNames.join(', ')}) AS (VALUES ${chartValues()}),
      bad AS (SELECT l.entry_id, l.line_no, l.account, c.account IS NOT NULL AS known
                FROM ledger.journal_lines l LEFT JOIN chart c ON c.account = l.account
               WHERE c.account IS NULL OR ${mismatch} OR ${dimensionNames.map((d) => `l.${d} = ''`).join(' OR ')})
    SELECT b.*, (SELECT count(*) FROM bad) AS lines FROM bad b ORDER BY b.entry_id, b.line_no
     LIMIT ${problemsShownMax}`);
  const problems = rows.rows.map((r) => r.known
    ? `entry ${r.entry_id} line ${r.line_no}: account ${r.account} without exactly its dimensions`
    : `entry ${r.entry_id} line ${r.line_no}: account ${r.account} is not in the chart`);
  const total = Number(rows.rows[0]?.lines ?? 0);
  return check('accounts_and_dimensions', problems, total - problems.length,
    'every line is on an account of the chart, with exactly its dimensions');
}

async function checkNegativePayables(pool: Pool, endMs: number): Promise<Check> {
  const rows = await pool.query<{ owner_id: string; currency: string; payable: string; owners: string }>(
    `WITH payable AS (SELECT owner_id, currency,
            sum(CASE WHEN side = 'credit' THEN amount_minor ELSE -amount_minor END) AS payable
          FROM ledger.journal_lines WHERE account = '2010' AND effective_at < $1
          GROUP BY owner_id, currency)
    SELECT p.*, (SELECT count(*) FROM payable WHERE payable < 0) AS owners FROM payable p
     WHERE p.payable < 0 ORDER BY p.owner_id, p.currency LIMIT ${problemsShownMax}`, [new Date(endMs).toISOString()]);
  const problems = rows.rows.map((r) => `owner ${r.owner_id} payable ${r.payable} minor units of ${r.currency}`);
  const total = Number(rows.rows[0]?.owners ?? 0);
  return check('owners_negative_payable', problems, total - problems.length, 'no owner has a negative payable');
}

async function checkOpenQuarantine(pool: Pool): Promise<Check> {
  const rows = await pool.query<{ topic: string; partition: number; offset: string; reason: string; records: string }>(
    `SELECT q.topic, q.partition, q."offset", q.reason, (SELECT count(*) FROM ledger.quarantine) AS records
       FROM ledger.quarantine q ORDER BY q.topic, q.partition, q."offset" LIMIT ${problemsShownMax}`);
  const problems = rows.rows.map((r) => `${r.topic}/${r.partition}@${r.offset} quarantined (${r.reason})`);
  const total = Number(rows.rows[0]?.records ?? 0);
  return check('open_quarantine', problems, total - problems.length, 'no quarantined record is open');
}
