// How many rows a reconciliation's input files hold, counted in one quick pass before the
// run reads them, so that its progress has a total (and an ETA): a CSV's lines after the
// header, a camt.053 statement's <Ntry> elements. An estimate: a quoted field with a line
// break counts twice; the run's own reading stays the truth.
import { createReadStream } from 'node:fs';
import { countFileLines } from '../storage/files.ts';

const ntryPattern = /<(?:[A-Za-z0-9_.-]+:)?Ntry[\s/>]/g;
const carryChars = 64;

/** Rows in the file by its format; 0 when it cannot be read (the run then says why). */
export async function countInputRows(filePath: string, format: 'csv' | 'camt053'): Promise<number> {
  try {
    return format === 'csv' ? Math.max(0, (await countFileLines(filePath)) - 1) : await countNtry(filePath);
  } catch {
    return 0;
  }
}


async function countNtry(filePath: string): Promise<number> {
  let count = 0;
  let carry = '';
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    const text = carry + chunk.toString('latin1');
    // A tag counts in the chunk where it ends: one that straddles two chunks is counted once.
    for (const match of text.matchAll(ntryPattern)) if (match.index + match[0].length > carry.length) count += 1;
    carry = text.slice(-carryChars);
  }
  return count;
}
