// Where the embedded PostgreSQL's binaries and cluster live, and as whom it runs.
// PostgreSQL refuses to run as root, so as root it runs as the unprivileged `postgres`
// user, which must reach both its binaries (inside the clone's node_modules) and its
// cluster (under LEDGER_DATA_DIR). A clone in root's home (0700), or a data directory made
// 0750, is out of that user's reach, and nothing of the user's is ever chmod-ed to make it
// reachable. Instead:
// - the binaries are copied to `relocationBase/postgres-<content hash>` (root's, 0755: the
//   postgres user may run them, not change them), verified by hash before they are renamed
//   into place, so a copy under that name is complete and is reused as it is;
// - the cluster lives in `relocationBase/clusters/<random id>` (postgres, 0700), and
//   LEDGER_DATA_DIR/pg-location records where, so every later command finds it.
// Run as anyone else, PostgreSQL runs as that user, from the package, under LEDGER_DATA_DIR.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, invariant } from '../errors.ts';
import { privateFileMode } from '../storage/files.ts';

/** The unprivileged user PostgreSQL runs as when this process is root. */
export type Account = { readonly name: string; readonly uid: number; readonly gid: number };
export type Binaries = { readonly postgres: string; readonly initdb: string };

export const serverUser = 'postgres';
export const relocationBase = '/var/lib/ledger/embedded-postgres';
const clustersDir = path.join(relocationBase, 'clusters');
/** LEDGER_DATA_DIR/pg-location: the cluster's home when it is not the data directory itself. */
export const locationFileName = 'pg-location';
/** The binaries' folders PostgreSQL needs at run time (share: timezones, initdb's templates). */
const nativeParts = ['bin', 'lib', 'share'] as const;

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The `postgres` account, created (as a system user) when the machine has none. */
export function postgresAccount(): Account {
  const found = accountIds(serverUser);
  if (found !== null) return found;
  try {
    execFileSync('groupadd', ['--system', '-f', serverUser], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '-g', serverUser, '--no-create-home', serverUser], { stdio: 'ignore' });
  } catch (error) {
    throw new UserError('embedded_postgres', `running as root, PostgreSQL must run as the user ${serverUser}, which ` +
      `does not exist and could not be created (${(error as Error).message.split('\n')[0]}); create it ` +
      `(useradd --system ${serverUser}), run as an ordinary user, or set DATABASE_URL`);
  }
  const created = accountIds(serverUser);
  invariant(created !== null, `the user ${serverUser} exists once created`);
  return created;
}

function accountIds(name: string): Account | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    const gid = Number(execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    invariant(Number.isSafeInteger(uid) && Number.isSafeInteger(gid), `id prints numbers for ${name}`);
    return { name, uid, gid };
  } catch {
    return null;
  }
}

/**
 * Whether `account` can enter (and with `list`, also read) every one of `dirs`, asked of
 * the system itself: a shell run as that account, started the way PostgreSQL will be (uid
 * and gid set, no supplementary groups), so ACLs and every parent's mode count as they
 * will for the server.
 */
export function canReach(account: Account, dirs: readonly string[], access: 'enter' | 'list' = 'enter'): boolean {
  const test = access === 'list' ? 'test -r "$d" && test -x "$d"' : 'test -x "$d"';
  const probe = spawnSync('/bin/sh', ['-c', `for d do ${test} || exit 1; done`, 'sh', ...dirs],
    { uid: account.uid, gid: account.gid, stdio: 'ignore', cwd: '/', timeout: 10_000 });
  return probe.error === undefined && probe.status === 0;
}

/** The package's binaries, or as root, when the postgres user cannot reach them, a verified copy it can. */
export async function reachableBinaries(packaged: Binaries, account: Account | null): Promise<Binaries> {
  const nativeDir = path.dirname(path.dirname(packaged.postgres));
  const partsOf = (dir: string) => nativeParts.map((part) => path.join(dir, part));
  if (account === null || canReach(account, partsOf(nativeDir), 'list')) return packaged;
  const copyDir = await verifiedCopy(nativeDir);
  if (!canReach(account, partsOf(copyDir), 'list')) {
    throw new UserError('embedded_postgres', `the user ${account.name} cannot reach PostgreSQL's binaries, nor their ` +
      `copy in ${copyDir}: make every folder above it enterable by others (o+x), or set DATABASE_URL`);
  }
  return { postgres: path.join(copyDir, 'bin', 'postgres'), initdb: path.join(copyDir, 'bin', 'initdb') };
}

const digestFileName = 'CONTENT-SHA256';

/** relocationBase/postgres-<hash>: made through a temporary name, checked, then renamed into place. */
async function verifiedCopy(nativeDir: string): Promise<string> {
  const digest = await treeDigest(nativeDir);
  const copyDir = path.join(relocationBase, `postgres-${digest.slice(0, 16)}`);
  const recorded = await readFile(path.join(copyDir, digestFileName), 'utf8').catch(() => null);
  if (recorded?.trim() === digest) return copyDir;
  await makeSharedDir(relocationBase);
  await removeStaleTemporaries(relocationBase, `postgres-${digest.slice(0, 16)}.tmp-`);
  const temporary = path.join(relocationBase, temporaryName(`postgres-${digest.slice(0, 16)}.tmp-`));
  try {
    await makeSharedDir(temporary);
    for (const part of nativeParts) await copyTree(path.join(nativeDir, part), path.join(temporary, part));
    const copied = await treeDigest(temporary);
    if (copied !== digest) throw new Error(`the copy of PostgreSQL's binaries in ${temporary} differs from ${nativeDir}`);
    await writeFile(path.join(temporary, digestFileName), `${digest}\n`, { mode: 0o644 });
    await rename(temporary, copyDir).catch((error: NodeJS.ErrnoException) => {
      // Another command made the same copy first; its copy is as good as ours.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return copyDir;
}

/**
 * SHA-256 over the sorted list of every file, link and folder under the binaries' folders:
 * path, kind, whether executable, and the file's own SHA-256 or the link's target.
 */
async function treeDigest(rootDir: string): Promise<string> {
  const lines: string[] = [];
  for (const part of nativeParts) await describeTree(rootDir, part, lines, 0);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

const treeDepthMax = 16;

async function describeTree(rootDir: string, relative: string, lines: string[], depth: number): Promise<void> {
  invariant(depth <= treeDepthMax, `PostgreSQL's binaries nest at most ${treeDepthMax} folders deep`);
  const full = path.join(rootDir, relative);
  const info = await lstat(full);
  if (info.isSymbolicLink()) {
    lines.push(`link ${relative} ${await readlink(full)}`);
  } else if (info.isDirectory()) {
    lines.push(`dir ${relative}`);
    for (const name of (await readdir(full)).sort()) await describeTree(rootDir, path.join(relative, name), lines, depth + 1);
  } else {
    const executable = (info.mode & 0o111) !== 0 ? 'x' : '-';
    lines.push(`file ${relative} ${executable} ${createHash('sha256').update(await readFile(full)).digest('hex')}`);
  }
}

/** Folders 0755 and files 0644 or 0755, whatever the umask: the postgres user reads them. */
async function copyTree(from: string, to: string): Promise<void> {
  const info = await lstat(from);
  if (info.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (info.isDirectory()) {
    await makeSharedDir(to);
    for (const name of await readdir(from)) await copyTree(path.join(from, name), path.join(to, name));
  } else {
    await copyFile(from, to);
    await chmod(to, (info.mode & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

async function makeSharedDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
}

/**
 * The folder holding the cluster (`pg`) and its temporaries: the data directory, or the
 * one LEDGER_DATA_DIR/pg-location records, or as root, when the postgres user cannot
 * reach the data directory, a new one in relocationBase, recorded there before use.
 */
export async function clusterHome(dataDir: string, account: Account | null): Promise<string> {
  const recorded = await recordedHome(dataDir);
  if (recorded !== null) return recorded;
  if (account === null || canReach(account, [dataDir])) return dataDir;
  if (await exists(path.join(dataDir, 'pg'))) {
    throw new UserError('embedded_postgres', `the user ${account.name} cannot reach the PostgreSQL cluster in ` +
      `${path.join(dataDir, 'pg')}: make every folder above it enterable by that user, or run as an ordinary user`);
  }
  const home = path.join(clustersDir, randomBytes(8).toString('hex'));
  try {
    await makeSharedDir(clustersDir);
    await mkdir(home, { mode: 0o700 });
    await chown(home, account.uid, account.gid);
  } catch (error) {
    throw new UserError('embedded_postgres', `the user ${account.name} cannot reach ${dataDir}, and the cluster's ` +
      `fallback folder ${home} could not be made (${(error as NodeJS.ErrnoException).code ?? String(error)}): set ` +
      'LEDGER_DATA_DIR to a folder every parent of which others may enter, or set DATABASE_URL');
  }
  if (!canReach(account, [home])) {
    throw new UserError('embedded_postgres', `the user ${account.name} cannot reach ${home}: make ` +
      `${relocationBase} and its parents enterable by others, or set DATABASE_URL`);
  }
  if (await recordOnce(dataDir, home)) return home;
  // Another command's first start recorded its cluster first: that one is the data dir's.
  await rm(home, { recursive: true, force: true });
  const winner = await recordedHome(dataDir);
  invariant(winner !== null, `${locationFileName} exists once another command recorded it`);
  return winner;
}

const locationPrefix = `${locationFileName}.tmp-`;

/** Writes pg-location unless it exists: written under a temporary name, then linked (which never overwrites). */
async function recordOnce(dataDir: string, home: string): Promise<boolean> {
  await removeStaleTemporaries(dataDir, locationPrefix);
  const temporary = path.join(dataDir, temporaryName(locationPrefix));
  await writeFile(temporary, `${home}\n`, { mode: privateFileMode });
  try {
    await link(temporary, path.join(dataDir, locationFileName));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/** The home recorded in LEDGER_DATA_DIR/pg-location; only a folder under clustersDir is accepted. */
async function recordedHome(dataDir: string): Promise<string | null> {
  const file = path.join(dataDir, locationFileName);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  const home = text.trim();
  if (path.dirname(home) !== clustersDir || !/^[0-9a-f]{16}$/.test(path.basename(home))) {
    throw new UserError('embedded_postgres', `${file} names ${JSON.stringify(home)}, which is not a cluster folder ` +
      `in ${clustersDir}; restore it or remove the file to start an empty cluster`);
  }
  if (!(await exists(home))) {
    throw new UserError('embedded_postgres', `the PostgreSQL cluster recorded in ${file} (${home}) is missing; ` +
      'restore it, or remove the file to start an empty cluster');
  }
  return home;
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}

/** Whether a process with this id exists (EPERM: it does, and belongs to another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `dir/<prefix><pid>-<hex>` entries whose process is gone: the temporaries of a
 * command that was killed. A live process's are left alone; a pid reused meanwhile only
 * delays the removal to a later start. What the killed command had started there (an
 * initdb outlives a `kill -9` of its parent until its next write) is stopped first.
 */
export async function removeStaleTemporaries(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length))?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || alive(pid)) continue;
    await killProcessesIn(path.join(dir, name));
    await rm(path.join(dir, name), { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}

const orphanExitWaitMs = 5_000;

/**
 * SIGKILLs every process working in `dir` (its working directory there, or `dir` in its
 * arguments) and waits for them to go. The folder's name is unique to one killed command,
 * so nothing else can match. Linux only: elsewhere there is no /proc to ask.
 */
async function killProcessesIn(dir: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const args = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`) || args.includes(dir)) pids.push(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + orphanExitWaitMs;
  while (Date.now() < deadline) {
    const states = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')));
    // Gone, or a zombie (dead, waiting for init to reap it: it writes nothing more).
    if (states.every((stat) => stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')'))))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The temporary name for work done by this process (see removeStaleTemporaries). */
export function temporaryName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`;
}
