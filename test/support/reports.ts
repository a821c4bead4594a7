// Report runs for tests: the same engine as `ledger report run`, with a signing key in
// the test ledger's data directory, and the run's figures by key and dims.
import { loadSigningKey } from '../../src/signing/keys.ts';
import { createRun, loadRun, type ReportContext } from '../../src/reports/runs.ts';
import type { TestLedger } from './ledger.ts';

export async function reportContext(ledger: TestLedger): Promise<ReportContext> {
  return {
    pool: ledger.db.pool,
    key: await loadSigningKey(ledger.dataDir, null),
    dataDir: ledger.dataDir,
    lineageBaseUrl: 'http://localhost:8080/figures',
  };
}

export async function runReport(
  ledger: TestLedger, report: string, params: Record<string, string>, now = new Date('2027-01-02T03:04:05Z'),
) {
  const ctx = await reportContext(ledger);
  const created = await createRun(ctx, { report, params, requestedBy: 'test', now });
  const stored = await loadRun(ledger.db.pool, created.run_id);
  return { ...created, header: stored.header, figures: stored.figures };
}

/** `key dims-values… value`, in the run's order: compact to compare with expectations. */
export function shown(figures: ReadonlyArray<{ key: string; dims: Record<string, string>; value: string }>): string[] {
  return figures.map((f) => `${f.key} ${Object.values(f.dims).join(' ')} ${f.value}`.replace(/\s+/g, ' '));
}
