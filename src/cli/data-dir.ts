// LEDGER_DATA_DIR as the commands meet it. A command that will write there checks first
// that it can, so that a read-only directory stops it before it records anything in the
// database whose file it then could not write (a checkpoint, a report or reconciliation
// run). Any file-system refusal that still escapes a command (a folder inside the data
// dir made read-only, a full disk, an --out folder it may not write) is the machine's
// state, not a bug: it becomes one line naming the path and what to do.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { makePrivateDir } from '../storage/files.ts';

/** Creates the data dir if it is missing and proves it writable, or says in one line why not. */
export async function ensureWritableDataDir(dataDir: string): Promise<void> {
  try {
    await makePrivateDir(dataDir);
  } catch (error) {
    throw fileSystemUserError(error, dataDir) ?? error;
  }
  const probe = path.join(dataDir, `.write-check-${process.pid}`);
  try {
    await writeFile(probe, '', { mode: 0o600 });
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !refusedCodes.has(code)) throw error;
    throw dataDirError(code, dataDir, 'cannot create a file in it');
  }
}

const refusedCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST']);

/**
 * The one-line error for a file-system refusal (permission, read-only, full, not a
 * directory), found on the error or its causes; null for anything else, which stays a bug.
 */
export function fileSystemUserError(error: unknown, dataDir: string | null): UserError | null {
  const found = refusal(error);
  if (found === null) return null;
  const { code, syscall, path: where } = found;
  const inDataDir = dataDir !== null && where !== undefined && within(path.resolve(where), dataDir);
  // EEXIST is a refusal only where a directory was wanted and a file stands (mkdir -p).
  if (code === 'EEXIST' && !(syscall === 'mkdir' && inDataDir)) return null;
  const what = `${syscall ?? 'access'} ${where ?? ''}`.trim();
  if (inDataDir && dataDir !== null) return dataDirError(code, dataDir, what);
  if (where === undefined && syscall === undefined) return null;
  return new UserError('file_refused', `cannot ${what}: ${reasons[code] ?? code} (${code})`);
}

const reasons: Readonly<Record<string, string>> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', ENOTDIR: 'a path component is not a directory',
};

function dataDirError(code: string, dataDir: string, what: string): UserError {
  const name = `LEDGER_DATA_DIR ${dataDir}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError('data_dir_full', `${name} is full (${what}: ${reasons[code]}); free some space on its disk`);
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return new UserError('data_dir_not_directory', `${name} is not a directory (${what}: ${code}); ` +
      'set LEDGER_DATA_DIR to a directory, or remove the file that stands in its way');
  }
  const user = process.getuid?.() ?? 'this user';
  return new UserError('data_dir_not_writable', `${name} is not writable (${what}: ${reasons[code] ?? code}); ` +
    `make it writable by uid ${user}, or set LEDGER_DATA_DIR to a directory that is`);
}

type Refusal = { code: string; syscall: string | undefined; path: string | undefined };

function refusal(error: unknown): Refusal | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const { code, syscall, path: where } = current as NodeJS.ErrnoException;
    if (typeof code === 'string' && refusedCodes.has(code)) return { code, syscall, path: where };
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** `candidate` is the data dir, inside it, or a folder above it that mkdir -p had to create. */
function within(candidate: string, dataDir: string): boolean {
  return candidate === dataDir || candidate.startsWith(dataDir + path.sep) || dataDir.startsWith(candidate + path.sep);
}
