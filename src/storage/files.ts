// Files people open (reports with tax identities, checkpoints, reconciliation runs) are
// not for every account on the machine: written 0640 in folders 0750. The modes are given
// at creation, so the process umask still narrows them further, never widens them.
import { createReadStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const privateFileMode = 0o640;
export const privateDirMode = 0o750;

/** mkdir -p with privateDirMode for each folder it creates (existing folders are left as they are). */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: privateDirMode });
}

/** Writes through a temporary name and renames, so a reader never sees half a file. */
export async function writePrivateFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await makePrivateDir(path.dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, data, { mode: privateFileMode });
  await rename(temporary, file);
}

/** Lines in a file, a last line without its newline counted too: one quick pass, for progress totals. */
export async function countFileLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  return last === 0x0a ? lines : lines + 1;
}
