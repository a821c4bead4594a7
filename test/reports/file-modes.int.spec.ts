// Issue 12 item 10 (reports): report files hold tax identities (form 1099-K), so every
// file a run writes (json, csv, xlsx, pdf, manifest) is 0640 in folders 0750, and the
// process umask may only narrow that. How: with umask 022 and then 077 (set in this test
// process, which vitest runs as a forked child), a form-1099-k run, a re-rendering of it
// into a new folder, renderAll into a new folder and a published reconciliation run
// write their files; each file's and each folder's permission bits are read with stat.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { reconciliationRenderInput } from '../../src/reconciliation/render.ts';
import { renderAll } from '../../src/reports/render/index.ts';
import { publishRenderedRun, renderStoredRun } from '../../src/reports/runs.ts';
import { bankHeader, capture, processorHeader } from '../reconciliation/support.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { reportContext, runReport } from '../support/reports.ts';
import { renderInput } from './render-fixture.ts';

const permissions = async (file: string) => (await stat(file)).mode & 0o777;

/** Every folder (from `root` down) and file under it, with its permission bits. */
async function modesUnder(root: string): Promise<{ dirs: number[]; files: Map<string, number> }> {
  const dirs = [await permissions(root)];
  const files = new Map<string, number>();
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) dirs.push(await permissions(full));
    else files.set(path.relative(root, full), await permissions(full));
  }
  return { dirs, files };
}

function expectModes(found: { dirs: number[]; files: Map<string, number> }, dir: number, file: number, formats: number) {
  expect(found.dirs.map((mode) => mode.toString(8))).toEqual(found.dirs.map(() => dir.toString(8)));
  expect(found.files.size).toBeGreaterThanOrEqual(formats);
  for (const [name, mode] of found.files) expect(mode.toString(8), name).toBe(file.toString(8));
}

describe.each([
  { umask: 0o022, dir: 0o750, file: 0o640 },
  { umask: 0o077, dir: 0o700, file: 0o600 },
])('report file modes under umask $umask', ({ umask, dir, file }) => {
  let ledger: TestLedger;
  let scratch: string;
  let previousUmask: number;
  beforeAll(async () => {
    previousUmask = process.umask(umask);
    ledger = await createTestLedger();
    await ledger.publish([capture(1, '2026-10-01T10:00:00Z')]);
    await ledger.project();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'report-modes-'));
  });
  afterAll(async () => {
    process.umask(previousUmask);
    await ledger?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('a run, its re-rendering and renderAll write private files in private folders', async () => {
    const run = await runReport(ledger, 'form-1099-k', { year: '2026', min_amount: '1', min_transactions: '0' });
    expectModes(await modesUnder(path.join(ledger.dataDir, 'reports')), dir, file, 5);
    const again = path.join(scratch, 'again', 'nested');
    await renderStoredRun(await reportContext(ledger), run.run_id, again, ['json', 'csv', 'xlsx', 'pdf']);
    expectModes(await modesUnder(path.join(scratch, 'again')), dir, file, 5);
    await renderAll(renderInput(), path.join(scratch, 'all'), 'fixture');
    expectModes(await modesUnder(path.join(scratch, 'all')), dir, file, 4);
  });

  it('a published reconciliation run writes private files in private folders', async () => {
    const processor = path.join(scratch, 'processor.csv');
    const bank = path.join(scratch, 'bank.csv');
    await writeFile(processor, `${processorHeader}\n`);
    await writeFile(bank, `${bankHeader}\n`);
    const record = await runReconciliation(ledger.db.pool, {
      date: '2026-10-05', processor: { path: processor, format: 'csv' }, bank: { path: bank, format: 'csv' },
      requestedBy: 'test', graceDays: 2, toleranceDays: 3, now: () => new Date('2026-10-05T23:30:00Z'),
    });
    const outDir = path.join(scratch, 'recon');
    await publishRenderedRun(await reportContext(ledger), reconciliationRenderInput(record), path.join(outDir, 'run'));
    expectModes(await modesUnder(outDir), dir, file, 5);
  });
});
