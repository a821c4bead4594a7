// Bulk writes with COPY FROM STDIN (text format): the projector's rows go to PostgreSQL
// in one round trip per table per batch. Text-format escaping is done here, once.
import { from as copyFrom } from 'pg-copy-streams';
import type { Client } from './database.ts';

export type CopyValue = string | number | bigint | boolean | Buffer | null;

const chunkBytesMax = 1024 * 1024;

export async function copyRows(
  client: Client,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly CopyValue[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const columnList = columns.map((c) => `"${c}"`).join(', ');
  const stream = client.query(copyFrom(`COPY ${table} (${columnList}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let parts: string[] = [];
  let partsLength = 0;
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`copyRows ${table}: row has ${row.length} values`);
    let text = encodeValue(row[0] as CopyValue);
    for (let index = 1; index < row.length; index += 1) text += `\t${encodeValue(row[index] as CopyValue)}`;
    parts.push(text);
    partsLength += text.length + 1;
    if (partsLength >= chunkBytesMax) {
      if (!stream.write(`${parts.join('\n')}\n`)) await new Promise((resolve) => stream.once('drain', resolve));
      parts = [];
      partsLength = 0;
    }
  }
  stream.end(parts.length === 0 ? '' : `${parts.join('\n')}\n`);
  await done;
}

function encodeValue(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return value.toString();
}

function escapeText(value: string): string {
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r');
}
