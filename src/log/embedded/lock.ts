// One writer per log. Two writers would hand out the same offsets twice, so the writer
// holds a lock file naming its pid; a lock left by a process that has died is taken over,
// because a crashed writer must not keep the log read-only forever.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, unlink } from 'node:fs/promises';
import { UserError, invariant } from '../../errors.ts';
import { isNotFound } from './store.ts';

type LockOwner = { pid: number; hostname: string; acquiredAt: string };

/** Two rounds are enough: one to find and remove a stale lock, one to take it. */
const lockAttemptsMax = 3;

export type WriterLock = { readonly path: string; release(): Promise<void> };

export async function acquireWriterLock(rootDir: string): Promise<WriterLock> {
  const path = join(rootDir, 'writer.lock');
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
  };
  const content = JSON.stringify(owner);
  for (let attempt = 0; attempt < lockAttemptsMax; attempt++) {
    if (await tryCreate(path, content)) {
      // Two processes removing the same stale lock at once could both get here; the one
      // whose content is not in the file lost that race.
      if ((await readFile(path, 'utf8')) !== content) break;
      return { path, release: () => releaseLock(path, content) };
    }
    const holder = await readOwnerSettled(path);
    if (holder !== null && ownerAlive(holder)) {
      throw new UserError(
        'log_locked',
        `the embedded log at ${rootDir} is being written by pid ${holder.pid} on ` +
          `${holder.hostname} since ${holder.acquiredAt}; stop it first (or, if no such ` +
          `process writes the log, remove ${path})`,
      );
    }
    await unlinkIfPresent(path);
  }
  throw new UserError('log_locked', `could not take the writer lock ${path}: another writer won`);
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** A writer writes its lock right after creating it, so an unreadable lock gets a moment. */
const lockSettleMs = 100;

async function readOwnerSettled(path: string): Promise<LockOwner | null> {
  const owner = await readOwner(path);
  if (owner !== null) return owner;
  await new Promise((resolve) => setTimeout(resolve, lockSettleMs));
  return readOwner(path);
}

/** Null for a lock file that vanished or was left half-written by a writer that died. */
async function readOwner(path: string): Promise<LockOwner | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string') return null;
    return { pid: parsed.pid, hostname: parsed.hostname, acquiredAt: String(parsed.acquiredAt) };
  } catch {
    return null;
  }
}

/**
 * A pid on another host cannot be checked from here, so it counts as alive: refusing is
 * safe, taking over would not be. Our own pid counts as alive too: a second writer in
 * this process is as wrong as one in another.
 */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  invariant(Number.isSafeInteger(owner.pid), 'a pid is an integer');
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function releaseLock(path: string, content: string): Promise<void> {
  let current: string;
  try {
    current = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  // Only our own lock is removed; a takeover by another writer is left alone.
  if (current === content) await unlinkIfPresent(path);
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
