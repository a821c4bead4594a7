// Running the real `ledger` CLI on its embedded PostgreSQL (DATABASE_URL and KAFKA_BROKERS
// unset in the child), killing it at a phase of its first start, and cleaning up every
// server such a run leaves: found through the cluster's postmaster.pid, wherever the
// cluster lives (LEDGER_DATA_DIR/pg, or the folder LEDGER_DATA_DIR/pg-location names).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export const cliPath = path.resolve('bin/ledger.mjs');

export type CliRun = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
};

/** The child's environment: embedded defaults, with LEDGER_DEBUG's phase lines on stderr. */
export function embeddedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_DEBUG: '1', ...extra };
  delete env.DATABASE_URL;
  delete env.KAFKA_BROKERS;
  return env;
}

const runMsMax = 240_000;

export type RunOptions = {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Another copy of bin/ledger.mjs. */
  readonly cli?: string;
  /** Run as this user (the test runs as root). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /**
   * SIGKILL the run once stderr shows `marker` and then, when given, once initdb's
   * temporary cluster holds `initdbPath` (a condition, polled, so the kill lands inside
   * initdb however slow the machine is today).
   */
  readonly killOn?: { readonly marker: string; readonly initdbPath?: string; readonly dataDir?: string };
};

/** Runs the CLI to its end (or to its kill). */
export function runCli(args: readonly string[], options: RunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? cliPath, ...args], {
      env: options.env, cwd: options.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], ...options.user,
    });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), runMsMax);
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const kill = options.killOn;
      if (kill !== undefined && !armed && stderr.includes(kill.marker)) {
        armed = true;
        if (kill.initdbPath === undefined || kill.dataDir === undefined) child.kill('SIGKILL');
        else void killWhenInitdbHolds(child, kill.dataDir, kill.initdbPath);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const pollMs = 5;

/** Kills `child` as soon as a `pg.initdb-*` folder of the cluster's home holds `relative` under pgdata. */
async function killWhenInitdbHolds(child: ChildProcess, dataDir: string, relative: string): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    const home = await clusterHomeOf(dataDir);
    const temporaries = (await readdir(home).catch(() => [])).filter((name) => name.startsWith('pg.initdb-'));
    for (const name of temporaries) {
      if (existsSync(path.join(home, name, 'pgdata', relative))) {
        child.kill('SIGKILL');
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The folder holding the cluster `pg`: the data dir, or the one its pg-location names. */
export async function clusterHomeOf(dataDir: string): Promise<string> {
  const recorded = await readFile(path.join(dataDir, 'pg-location'), 'utf8').catch(() => null);
  return recorded === null ? dataDir : recorded.trim();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const stopMsMax = 60_000;

/** Stops the server named by the cluster's postmaster.pid, if any (fast shutdown, then kill). */
export async function stopClusterServer(dataDir: string): Promise<void> {
  const pidFile = path.join(await clusterHomeOf(dataDir), 'pg', 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => null);
  const pid = Number(text?.split('\n')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + stopMsMax;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Stops the cluster's server and removes the cluster (when it lives outside) and the data dir. */
export async function removeCluster(dataDir: string): Promise<void> {
  await stopClusterServer(dataDir);
  const home = await clusterHomeOf(dataDir);
  if (home !== dataDir) await rm(home, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
}
