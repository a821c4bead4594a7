// The `ledger` command as operators' scripts use it (CLI.md): --json prints exactly one
// JSON object on stdout; a user's mistake (bad command, bad flag, bad value, missing
// file, an unreachable database) exits non-zero with one line on stderr naming what was
// wrong, and no stack trace.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';

describe('the ledger command', () => {
  let ledger: TestLedger;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ledger = await createTestLedger();
    env = { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '' };
  });
  afterAll(async () => ledger.close());

  const ledgerCommand = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['bin/ledger.mjs', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });

  function expectUserError(args: string[], pattern: RegExp, extraEnv: NodeJS.ProcessEnv = {}) {
    const result = ledgerCommand(args, extraEnv);
    expect(result.status, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ledger: /);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  }

  it('refuses unknown commands, unknown flags and malformed values in one line', () => {
    expectUserError(['frobnicate'], /unknown command "frobnicate"/);
    expectUserError(['project', '--fast'], /Unknown option '--fast'/);
    expectUserError(['events', 'generate', '--seed', 'x', '--rentals', '10', '--month', '2026-10'], /--seed "x"/);
    expectUserError(['events', 'generate', '--seed', '1', '--rentals', '10', '--month', '2026-13'], /--month "2026-13"/);
    expectUserError(['report', 'run', 'revenue', '--period', '2026-13'], /period "2026-13" is not YYYY-MM/);
    expectUserError(['report', 'run', 'profit', '--period', '2026-10'], /no report "profit"; reports: /);
    expectUserError(['report', 'run', 'trial-balance'], /needs as_of/);
    expectUserError(['report', 'run', 'trial-balance', '--as-of', 'yesterday'], /as_of "yesterday"/);
    expectUserError(['report', 'run', 'revenue', '--period', '2026-10', '--format', 'docx'], /--format "docx"/);
    expectUserError(['period', 'close', '2099-01'], /2099-01 has not ended yet/);
    expectUserError(['lineage', 'fig_nothing'], /no figure "fig_nothing"/);
    expectUserError(['report', 'show', 'not-a-run'], /no report run/);
  });

  it('names a missing file and an unreachable database', () => {
    expectUserError(['events', 'publish', path.join(ledger.dataDir, 'missing.ndjson')], /cannot read .*missing\.ndjson/);
    expectUserError(['verify'], /cannot reach PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/,
      { DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' });
    expectUserError(['report', 'verify', 'x.json', '--manifest', path.join(ledger.dataDir, 'none.json')],
      /cannot read manifest/);
  });

  it('prints exactly one JSON object with --json, and projects what it published', async () => {
    const file = path.join(ledger.dataDir, 'events.ndjson');
    await writeFile(file, [eventLine('tax.remitted', '2026-10-20T00:00:00Z', { remittance_id: 'rem_1',
      market: 'US-CA', currency: 'USD', amount: '10.00', period: '2026-09' }), 'not json'].join('\n') + '\n');
    const published = ledgerCommand(['events', 'publish', file, '--json']);
    expect(JSON.parse(published.stdout)).toEqual({ published: 2 });
    const projected = ledgerCommand(['project', '--json']);
    expect(projected.status, projected.stderr).toBe(0);
    expect(projected.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(projected.stdout)).toMatchObject({ posted: 1, duplicates: 0, quarantined: 1 });
    const quarantine = JSON.parse(ledgerCommand(['quarantine', 'list', '--json']).stdout);
    expect(quarantine.items).toEqual([expect.objectContaining({ reason: 'malformed_json', offset: expect.any(Number) })]);
    const verified = ledgerCommand(['verify', '--json']);
    expect(verified.status, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
    const closed = ledgerCommand(['period', 'close', '2026-09', '--json']);
    expect(JSON.parse(closed.stdout)).toMatchObject({ period: '2026-09' });
    expectUserError(['period', 'close', '2026-09'], /2026-09 is already closed/);
  });
});
