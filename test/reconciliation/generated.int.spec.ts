// Generated settlement files against the journal of the same generated stream: with no
// fault they reconcile with zero breaks (at the end of the stream, and mid-month where
// the last days' items are pending, not breaks); with each fault of the issue injected,
// the run reports exactly the injected outcomes, each with its lineage (the journal entry
// and its log position, or the file and line), and nothing else. The bank statement is
// read as CSV and as camt.053 XML, with the same result.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { generateSettlementFiles, type ExpectedBreak, type SettlementOptions } from '../../src/generator/settlement-files.ts';
import type { BreakRecord, RunRecord } from '../../src/reconciliation/record.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';

const allFaults = {
  amountMismatch: true, chargeMissingFromJournal: true, entryMissingFromFile: true, duplicateRow: true,
  bankLineOutsideTolerance: true,
} as const;

describe('reconciling generated files against the generated stream', () => {
  let ledger: TestLedger;
  let lines: string[];
  let dir: string;
  let fileNo = 0;

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 3 });
    lines = generateEventStream({ seed: 7, rentals: 150, month: '2026-10', approve: testApprover });
    await ledger.publish(lines);
    await ledger.project();
    dir = await mkdtemp(path.join(os.tmpdir(), 'recon-generated-'));
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function reconcile(options: SettlementOptions, bankFormat: 'csv' | 'camt053' = 'csv') {
    const files = generateSettlementFiles(lines, options);
    fileNo += 1;
    const processorPath = path.join(dir, `processor-${fileNo}.csv`);
    const bankPath = path.join(dir, `bank-${fileNo}.${bankFormat === 'csv' ? 'csv' : 'xml'}`);
    await writeFile(processorPath, files.processorCsv);
    await writeFile(bankPath, bankFormat === 'csv' ? files.bankCsv : files.bankCamt053);
    const run = await runReconciliation(ledger.db.pool, {
      date: options.date, processor: { path: processorPath, format: 'csv' }, bank: { path: bankPath, format: bankFormat },
      requestedBy: 'test', graceDays: 2, toleranceDays: 3, now: () => new Date('2027-01-01T00:00:00Z'),
    });
    return { run, files, processorFile: path.basename(processorPath), bankFile: path.basename(bankPath) };
  }

  it('finds no break and every check ok once everything has settled', async () => {
    const { run } = await reconcile({ date: '2026-12-31' });
    expect(run.breaks).toEqual([]);
    expect(run.outcomes.pending.count).toBe(0);
    expect(run.outcomes.matched.count).toBeGreaterThan(800);
    expect(run.checks.filter((c) => !c.ok)).toEqual([]);
    expect(run.ok).toBe(true);
    expect(run.inputs.map((i) => i.sha256)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/),
      expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  it('finds no break mid-month: what has not settled yet is pending', async () => {
    const { run } = await reconcile({ date: '2026-10-20' });
    expect(run.breaks).toEqual([]);
    expect(run.outcomes.pending.count).toBeGreaterThan(0);
    expect(run.outcomes.matched.count).toBeGreaterThan(100);
    expect(run.breaks_open).toBe(0);
  });

  for (const bankFormat of ['csv', 'camt053'] as const) {
    it(`reports each injected fault as exactly its outcome, with its lineage (bank as ${bankFormat})`, async () => {
      const { run, files, processorFile, bankFile } = await reconcile({ date: '2026-10-25', faults: allFaults },
        bankFormat);
      expect(files.expected).toHaveLength(6);
      expect(run.breaks.map(summary)).toEqual(
        expect.arrayContaining(files.expected.map((e) => expectedSummary(e, bankFormat, processorFile, bankFile))));
      expect(run.breaks).toHaveLength(files.expected.length);
      for (const b of run.breaks.filter((x) => x.ledger !== null)) {
        expect(b.ledger?.topic).toBe('marketplace.events');
        expect(b.ledger?.offset).toBeGreaterThanOrEqual(0);
      }
      const mismatch = run.breaks.find((b) => b.outcome === 'amount_mismatch');
      expect(mismatch?.difference).toBe('1.00');
      expect(run.ok).toBe(false);
    });
  }

  it('records a re-run of the same day and inputs as a new run with identical outcomes', async () => {
    const first = await reconcile({ date: '2026-10-26', faults: allFaults });
    const second = await reconcile({ date: '2026-10-26', faults: allFaults });
    expect(second.run.run_id).not.toBe(first.run.run_id);
    expect(second.run.supersedes).toBe(first.run.run_id);
    expect(second.run.outcomes).toEqual(first.run.outcomes);
    expect(second.run.categories).toEqual(first.run.categories);
    const comparable = (run: RunRecord) => run.breaks.map((b) => ({ ...b, external: { ...b.external, file: '' } }));
    expect(comparable(second.run)).toEqual(comparable(first.run));
    const stored = await ledger.db.pool.query<{ runs: string }>(
      `SELECT count(*) AS runs FROM ledger.reconciliation_runs WHERE run_date = '2026-10-26'`);
    expect(stored.rows[0]?.runs).toBe('2');
  });
});

function summary(b: BreakRecord) {
  return {
    outcome: b.outcome, source: b.source, category: b.category, reference: b.reference,
    eventId: b.ledger?.event_id ?? null, file: b.external?.file ?? null, line: b.external?.line ?? null,
  };
}

function expectedSummary(e: ExpectedBreak, bankFormat: 'csv' | 'camt053', processorFile: string, bankFile: string) {
  const line = e.source === 'bank' && bankFormat === 'camt053' ? e.xmlLine : e.line;
  const file = line === null ? null : e.source === 'processor' ? processorFile : bankFile;
  const amountMismatchHasBoth = e.outcome === 'amount_mismatch';
  return {
    outcome: e.outcome, source: e.source, category: e.category, reference: e.reference, eventId: e.eventId,
    file: amountMismatchHasBoth ? processorFile : file, line,
  };
}
