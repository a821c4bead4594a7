// `ledger verify`'s results, kept (ledger.verify_runs, append-only) so that the web pages
// can show the last one. Recording is best effort: a verification run with a login that
// may only read still prints its result, and says it kept none.
import type { Pool } from '../db/database.ts';
import type { Check } from './chain-checks.ts';
import type { VerifyReport } from './verify.ts';

export type VerificationRecord = {
  readonly verifyId: number; readonly finishedAt: Date; readonly ok: boolean; readonly checks: readonly Check[];
  readonly withExportedCheckpoints: boolean;
};

/** Keeps the report; returns null, or why it could not be kept (the caller says so and goes on). */
export async function recordVerification(
  pool: Pool, report: VerifyReport, withExportedCheckpoints: boolean, finishedAt: Date,
): Promise<string | null> {
  try {
    await pool.query(`INSERT INTO ledger.verify_runs (finished_at, ok, checks, with_exported_checkpoints)
      VALUES ($1, $2, $3, $4)`, [finishedAt, report.ok, JSON.stringify(report.checks), withExportedCheckpoints]);
    return null;
  } catch (error) {
    return (error as { message?: string }).message ?? String(error);
  }
}

export async function lastVerification(pool: Pool): Promise<VerificationRecord | null> {
  const found = await pool.query<{ verify_id: string; finished_at: Date; ok: boolean; checks: Check[];
    with_exported_checkpoints: boolean }>(`SELECT verify_id, finished_at, ok, checks, with_exported_checkpoints
      FROM ledger.verify_runs ORDER BY verify_id DESC LIMIT 1`);
  const row = found.rows[0];
  return row === undefined ? null : { verifyId: Number(row.verify_id), finishedAt: row.finished_at, ok: row.ok,
    checks: row.checks, withExportedCheckpoints: row.with_exported_checkpoints };
}
