// A scale-out setting that cannot be used stops `ledger serve` before it opens anything,
// with one line naming the setting and exit 2: a missing or malformed report schedule
// (LEDGER_SCHEDULE_FILE), a leader poll interval out of range (LEDGER_LEADER_POLL_MS).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('`ledger serve` with scale-out settings it cannot use', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'serve-bad-config-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  const serve = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['bin/ledger.mjs', 'serve'], {
    env: { ...process.env, LEDGER_DATA_DIR: dir, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', ...env },
    encoding: 'utf8',
  });

  it('names a schedule file that is missing or malformed, and a poll interval out of range', async () => {
    const missing = serve({ LEDGER_SCHEDULE_FILE: path.join(dir, 'nowhere.json') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^ledger: the report schedule .*nowhere\.json cannot be used: ENOENT.*\n$/);
    const malformed = path.join(dir, 'schedule.json');
    await writeFile(malformed, JSON.stringify({ schedules: [{ name: 'x', report: 'revenue', cadence: 'daily', at: '2am' }] }));
    const bad = serve({ LEDGER_SCHEDULE_FILE: malformed });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^ledger: the report schedule .*schedule\.json cannot be used: schedule x: at must be HH:MM\n$/);
    const poll = serve({ LEDGER_LEADER_POLL_MS: '0' });
    expect(poll.status).toBe(2);
    expect(poll.stderr).toBe('ledger: LEDGER_LEADER_POLL_MS="0" is not a whole number from 100 to 60000\n');
  });
});
