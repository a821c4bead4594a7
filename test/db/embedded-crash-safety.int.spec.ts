// A SIGKILL at any moment of the very first start never leaves the data directory broken.
// Method: the real CLI (`ledger migrate --json`, embedded PostgreSQL, DATABASE_URL and
// KAFKA_BROKERS unset) runs, each time on a fresh data dir, and is killed at a point found
// from LEDGER_DEBUG's phase lines and initdb's own folder — early in initdb (its folders
// made) and near its end (template0 made), as the server starts, and once it accepts connections but
// before the database exists — and a normal run that follows must succeed, leave no
// initdb temporary (nor the password file initdb reads) behind, and, when the killed run's server was left running, reuse it. As root, the data
// dirs alternate between a folder the postgres user can enter (the cluster lives in it)
// and a 0700 one (the cluster lives elsewhere). Last, a postmaster.pid left naming a dead
// process, or a live one that is not a postgres of the cluster (pids are reused), must not
// stop the next start. Every server is stopped at the end.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterHomeOf, embeddedEnv, removeCluster, runCli, type RunOptions } from '../support/embedded-cluster.ts';

const markers = {
  initialising: 'postgres: initialising PostgreSQL',
  starting: 'postgres: starting PostgreSQL',
  accepting: 'postgres: PostgreSQL is accepting connections',
} as const;

const isRoot = process.getuid?.() === 0;
const parents: string[] = [];

/** A fresh data dir; `enterable`: in a folder any user may enter, else in a 0700 one. */
async function freshDataDir(enterable: boolean): Promise<string> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'ledger-crash-'));
  parents.push(parent);
  const dataDir = path.join(parent, 'data');
  if (enterable) {
    await chmod(parent, 0o755);
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
  }
  return dataDir;
}

function migrate(dataDir: string, options: Omit<RunOptions, 'env'> = {}) {
  return runCli(['migrate', '--json'], { env: embeddedEnv({ LEDGER_DATA_DIR: dataDir }), ...options });
}

async function expectNothingLeftBehind(dataDir: string): Promise<void> {
  const home = await clusterHomeOf(dataDir);
  const leftovers = (await readdir(home)).filter((name) => name.startsWith('pg.initdb-'));
  expect(leftovers, `initdb temporaries in ${home}`).toEqual([]);
  expect((await stat(path.join(home, 'pg', 'PG_VERSION'))).isFile()).toBe(true);
  // Earlier versions gave initdb the password in the temp folder, and a kill left it there.
  const password = (await readFile(path.join(dataDir, 'pg-password'), 'utf8')).trim();
  for (const name of await readdir(os.tmpdir())) {
    if (!name.startsWith('ledger-pg-')) continue;
    const text = await readFile(path.join(os.tmpdir(), name), 'utf8').catch(() => '');
    expect(text.trim(), `${name} in the temp folder holds the cluster's password`).not.toBe(password);
  }
}

describe('a first start killed at any moment', () => {
  afterAll(async () => {
    for (const parent of parents) {
      await removeCluster(path.join(parent, 'data'));
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('leaves a data dir the next command starts from, whatever the phase it was killed in', async () => {
    // A few kills, not dozens: each costs two CLI runs and an initdb. Inside initdb, the
    // kill waits for what initdb has made: its folders (early), then template0 (late).
    const kills = [
      { marker: markers.initialising, initdbPath: 'global' },
      { marker: markers.initialising, initdbPath: 'base/4' },
      { marker: markers.starting },
      { marker: markers.accepting },
    ];
    for (const [index, kill] of kills.entries()) {
      const dataDir = await freshDataDir(!isRoot || index % 2 === 0);
      const killOn = { ...kill, dataDir };
      const at = `a kill at "${kill.marker}"${kill.initdbPath === undefined ? '' : ` once initdb made ${kill.initdbPath}`}`;
      const killed = await migrate(dataDir, { killOn });
      expect(killed.signal, `${at} came too late:\n${killed.stderr}`).toBe('SIGKILL');
      const next = await migrate(dataDir);
      expect(next.code, `after ${at}:\n${next.stderr}`).toBe(0);
      expect(JSON.parse(next.stdout)).toHaveProperty('applied');
      // The killed run's server, up but without the database, was left running: reused, and the database made.
      if (killOn.marker === markers.accepting) expect(next.stderr).toContain('postgres: reusing PostgreSQL');
      await expectNothingLeftBehind(dataDir);
      await removeCluster(dataDir);
    }
  }, 900_000);

  it('replaces a postmaster.pid whose process is gone, or is not a postgres of the cluster', async () => {
    const dataDir = await freshDataDir(true);
    const first = await migrate(dataDir);
    expect(first.code, first.stderr).toBe(0);
    const pidFile = path.join(await clusterHomeOf(dataDir), 'pg', 'postmaster.pid');
    // As root the file names a process of the postgres user, which postgres itself would take for a live server.
    const owner = isRoot ? await stat(path.dirname(pidFile)) : undefined;
    const gone = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('close', resolve));
    const other = spawn('sleep', ['600'], { stdio: 'ignore', ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) });
    try {
      for (const [what, pid] of [['gone', gone.pid], ['not a postgres', other.pid]] as const) {
        await writeFile(pidFile, `${pid}\n${path.dirname(pidFile)}\n${Math.floor(Date.now() / 1000)}\n5\n\n` +
          '127.0.0.1\n  5432001    65536\nready   \n');
        const run = await migrate(dataDir);
        expect(run.code, `a postmaster.pid naming a process ${what}:\n${run.stderr}`).toBe(0);
        expect(run.stderr).toContain('postgres: starting PostgreSQL');
      }
    } finally {
      other.kill('SIGKILL');
    }
    await removeCluster(dataDir);
  }, 300_000);
});
