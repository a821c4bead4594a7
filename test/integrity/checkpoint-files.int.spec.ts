// A checkpoint whose file cannot be written (the checkpoint folder unwritable) does not fail
// the projector: the checkpoint is in the database, the failure is logged, and `ledger
// verify` names the checkpoint that has no exported file. The next projector run exports
// every checkpoint the folder lacks, written 0640 in a 0750 folder (files people open,
// src/storage/files.ts). A file that no longer says what the database says is named too.
// Method: the `ledger` command against a test ledger; the folder is made unwritable by a
// plain file in its place (a mode would not stop root, who may run these tests).
import { spawnSync } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';

type Verified = { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };

describe('exported checkpoint files', () => {
  let ledger: TestLedger;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    env = { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '',
      LEDGER_PROJECTOR_THREADS: '0', LEDGER_TRUSTED_KEYS: '', LEDGER_SIGNING_KEY: '' };
  });
  afterAll(async () => ledger.close());

  const ledgerCommand = (args: string[]) =>
    spawnSync(process.execPath, ['bin/ledger.mjs', ...args], { env, encoding: 'utf8' });
  const failedChecks = () => {
    const result = ledgerCommand(['verify', '--json']);
    const report = JSON.parse(result.stdout) as Verified;
    expect(result.status).toBe(report.ok ? 0 : 1);
    return Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
  };

  it('keeps projecting when the file cannot be written, names the checkpoint, and exports it at the next start', async () => {
    const dir = path.join(ledger.dataDir, 'checkpoints');
    await writeFile(dir, 'not a folder');
    await ledger.publish(Array.from({ length: 10 }, (_, n) => captureLine(n)));
    const projected = ledgerCommand(['project', '--json']);
    expect(projected.status, projected.stderr).toBe(0);
    expect(JSON.parse(projected.stdout)).toMatchObject({ posted: 10 });
    expect(projected.stderr).toContain(`ledger: checkpoint 1: file not written to ${dir}`);
    expect(failedChecks()).toEqual({ checkpoint_files: `cannot read ${dir} (ENOTDIR); checkpoint 1 has no exported ` +
      `file (checkpoint-00000001.json in ${dir}); the next checkpoint or start writes it` });

    await rm(dir);
    const again = ledgerCommand(['project', '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ posted: 0 });
    const file = path.join(dir, 'checkpoint-00000001.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ format: 'ledger-checkpoint/1', checkpoint_id: 1 });
    expect((await stat(file)).mode & 0o777).toBe(0o640 & ~process.umask());
    expect((await stat(dir)).mode & 0o777).toBe(0o750 & ~process.umask());
    expect(failedChecks()).toEqual({});
  });

  it('names a file that no longer says what the database says', async () => {
    const file = path.join(ledger.dataDir, 'checkpoints', 'checkpoint-00000001.json');
    const original = await readFile(file, 'utf8');
    const changed = JSON.parse(original);
    changed.body.created_at = '2020-01-01T00:00:00.000Z';
    await writeFile(file, JSON.stringify(changed));
    expect(failedChecks()).toEqual({ checkpoint_files:
      'checkpoint 1: its file checkpoint-00000001.json differs from the database\'s checkpoint' });
    await writeFile(file, original);
    expect(failedChecks()).toEqual({});
  });
});
