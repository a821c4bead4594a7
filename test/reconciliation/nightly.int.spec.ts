// The nightly job and the command. The job reconciles the day before under its own
// identity with the files of the inbox (processor-D.csv, bank-D.csv or bank-D.xml); a
// missing file is a recorded run with a failed input check, not a silent skip. The command
// `ledger reconcile` prints the contract's object with --json, writes the run's json file,
// exits 1 on a break and 2 with one line for a file that does not exist. The schedule is
// node-cron in UTC and stops cleanly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSettlementFiles } from '../../src/generator/settlement-files.ts';
import { jobIdentity, runNightlyReconciliation, startNightlyReconciliation } from '../../src/reconciliation/nightly.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { capture, chargeRow, processorHeader } from './support.ts';

describe('the nightly job and `ledger reconcile`', () => {
  let ledger: TestLedger;
  let lines: string[];
  let dataDir: string;
  let inbox: string;

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    lines = [capture(1, '2026-10-01T10:00:00Z'), capture(2, '2026-10-02T10:00:00Z')];
    await ledger.publish(lines);
    await ledger.project();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recon-nightly-'));
    inbox = path.join(dataDir, 'inbox');
    await mkdir(inbox, { recursive: true });
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const config = () => ({ dataDir, reconInboxDir: inbox, reconTimeUtc: '02:00', reconGraceDays: 2,
    reconToleranceDays: 3, signingKeyPem: null, trustedKeyFiles: [] });

  it('reports a missing bank file as a failed run, and reconciles the side it has', async () => {
    await writeFile(path.join(inbox, 'processor-2026-10-09.csv'), [processorHeader, chargeRow(1), ''].join('\n'));
    const run = await runNightlyReconciliation(ledger.db.pool, config(), new Date('2026-10-10T02:00:00Z'));
    expect(run).toMatchObject({ date: '2026-10-09', requested_by: jobIdentity, ok: false });
    const input = run.checks.find((c) => c.name === 'input_files');
    expect(input?.ok).toBe(false);
    expect(input?.detail).toMatch(/bank: bank-2026-10-09\.csv is missing .*its side was not reconciled/);
    expect(run.breaks.map((b) => [b.outcome, b.reference])).toEqual([['missing_externally', 'ch_2']]);
    const stored = await ledger.db.pool.query<{ requested_by: string; ok: boolean }>(
      'SELECT requested_by, ok FROM ledger.reconciliation_runs WHERE run_id = $1', [run.run_id]);
    expect(stored.rows).toEqual([{ requested_by: jobIdentity, ok: false }]);
    const runFile = path.join(dataDir, 'reconciliation', `reconciliation-2026-10-09-${run.run_id}.json`);
    expect(existsSync(runFile)).toBe(true);
    // Files people open are not for every account on the machine (issue 12, item 10).
    const umask = process.umask();
    expect((await stat(runFile)).mode & 0o777).toBe(0o640 & ~umask);
    expect((await stat(path.dirname(runFile))).mode & 0o777).toBe(0o750 & ~umask);
  });

  it('takes a camt.053 statement from the inbox when there is no bank CSV', async () => {
    const files = generateSettlementFiles(lines, { date: '2026-10-10' });
    await writeFile(path.join(inbox, 'processor-2026-10-10.csv'), files.processorCsv);
    await writeFile(path.join(inbox, 'bank-2026-10-10.xml'), files.bankCamt053);
    const run = await runNightlyReconciliation(ledger.db.pool, config(), new Date('2026-10-11T02:00:00Z'));
    expect(run.inputs.map((i) => [i.file, i.format, i.problem])).toEqual([
      ['processor-2026-10-10.csv', 'csv', null], ['bank-2026-10-10.xml', 'camt053', null]]);
    expect(run.ok).toBe(true);
    expect(run.outcomes.matched.count).toBe(2);
  });

  it('schedules the job with node-cron and stops it', () => {
    const said: string[] = [];
    const stop = startNightlyReconciliation(ledger.db.pool, { ...config(), reconTimeUtc: '03:15' }, (l) => said.push(l));
    expect(said).toEqual([`ledger: nightly reconciliation at 03:15 UTC from ${inbox}`]);
    stop();
  });

  it('`ledger reconcile --json` prints the run, writes its file and exits 1 on a break', async () => {
    const processor = path.join(dataDir, 'p.csv');
    const bank = path.join(dataDir, 'b.csv');
    await writeFile(processor, [processorHeader, chargeRow(1), chargeRow(3), ''].join('\n'));
    await writeFile(bank, 'booking_date,value_date,amount,currency,reference,description\n');
    const env = { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: dataDir, KAFKA_BROKERS: '' };
    const result = spawnSync(process.execPath, ['bin/ledger.mjs', 'reconcile', '--date', '2026-10-20', '--processor',
      processor, '--bank', bank, '--json'], { env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(1);
    const printed = JSON.parse(result.stdout) as { run_id: string; outcomes: Record<string, { count: number }>;
      breaks: { outcome: string; reference: string; external: { file: string; line: number } | null }[];
      checks: { name: string; ok: boolean }[]; file: string };
    expect(printed.outcomes.matched?.count).toBe(1);
    expect(printed.breaks.map((b) => [b.outcome, b.reference, b.external?.line ?? null])).toEqual([
      ['missing_in_ledger', 'ch_3', 3], ['missing_externally', 'ch_2', null]]);
    expect(printed.checks.every((c) => c.ok)).toBe(true);
    expect(JSON.parse(await readFile(printed.file, 'utf8'))).toMatchObject({ run_id: printed.run_id });
    // The run is also the `reconciliation` report, in every format, signed.
    const report = (printed as unknown as { report: { run_id: string; files: Record<string, string> } }).report;
    expect(Object.keys(report.files).sort()).toEqual(['csv', 'json', 'manifest', 'pdf', 'xlsx']);
    const reportJson = JSON.parse(await readFile(report.files.json!, 'utf8'));
    expect(reportJson).toMatchObject({ report: 'reconciliation', run_id: printed.run_id, params: { date: '2026-10-20' } });
    const verified = spawnSync(process.execPath, ['bin/ledger.mjs', 'report', 'verify', report.files.xlsx!, '--manifest',
      report.files.manifest!, '--json'], { env, encoding: 'utf8' });
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, run_id: printed.run_id });
    // A person resolves a break from the command line, once; a second resolution is refused.
    const breakId = (printed.breaks[0] as unknown as { break_id: string }).break_id;
    const resolve = (reason: string) => spawnSync(process.execPath, ['bin/ledger.mjs', 'reconcile', 'resolve', breakId,
      '--reason', reason, '--by', 'controller', '--json'], { env, encoding: 'utf8' });
    const resolved = resolve('charge refunded outside the platform; ticket FIN-12');
    expect(resolved.status, resolved.stderr).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ resolved_by: 'controller', reason: 'charge refunded outside the platform; ticket FIN-12' });
    const again = resolve('second thoughts');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already resolved; a resolution is never edited/);

    const missing = spawnSync(process.execPath, ['bin/ledger.mjs', 'reconcile', '--date', '2026-10-20', '--processor',
      path.join(dataDir, 'nope.csv'), '--bank', bank], { env, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--processor .*nope\.csv: no such file/)]);
  });
});
