// One part of gl-detail's work in a process of its own, for the reports benchmark to time
// beside the whole command: `read` (the month's rows by the same COPY, decoded and
// dropped: the floor under every rendering), `write BYTES` (that many bytes written to a
// file through SHA-256 in 256 KiB chunks: the floor of putting the files on disk), or one
// rendering alone (`json`, `csv`, `xlsx`, `pdf`) from its own read of the rows. Prints one
// JSON line: wall ms, CPU ms (every thread: zlib's included) and the rows or bytes.
// Usage: node --import tsx bench/gl-detail-part.ts DATABASE_URL OUT_DIR PART [BYTES]
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { createPool } from '../src/db/database.ts';
import { detailRowsSource } from '../src/reports/detail.ts';
import { detailColumns } from '../src/reports/layout.ts';
import { renderers } from '../src/reports/render/index.ts';
import type { RenderInput, ReportFormat } from '../src/reports/render/types.ts';

const [url = '', outDir = '', part = '', bytesArg = '0'] = process.argv.slice(2);
const started = performance.now();
const cpuStart = process.cpuUsage();
let count = 0;
const pool = createPool(url, null, 2);
try {
  const watermark = await currentWatermark();
  const rows = detailRowsSource(pool, { periodStart: '2026-10-01' } as never, watermark);
  if (part === 'read') {
    for await (const batch of rows().batches()) count += batch.length;
  } else if (part === 'write') {
    count = await writeBytes(Number(bytesArg), path.join(outDir, 'floor.bin'));
  } else {
    const input: RenderInput = {
      header: { report: 'gl-detail', title: 'General ledger detail, 2026-10', run_id: 'bench', template_version: '1',
        params: { period: '2026-10' }, watermark, generated_at: '2026-11-01T02:00:03Z', requested_by: 'bench',
        supersedes: null, checkpoint: null },
      figures: [], charts: [], lineageBaseUrl: 'http://localhost:8080/api/figures', dataSha256: 'a'.repeat(64),
      sections: [{ name: 'GL detail', title: 'General ledger detail', columns: detailColumns, rows }],
    };
    await renderers[part as ReportFormat](input, path.join(outDir, `alone.${part}`));
  }
} finally {
  await pool.end();
}
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(`${JSON.stringify({ part, ms: Math.round(performance.now() - started),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000), count })}\n`);

async function currentWatermark(): Promise<Record<string, number>> {
  const result = await pool.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, partition, next_offset FROM ledger.log_partitions');
  return Object.fromEntries(result.rows.map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset) - 1]));
}

async function writeBytes(total: number, file: string): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 'x');
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let written = 0; written < total; written += chunk.length) {
    const piece = total - written < chunk.length ? chunk.subarray(0, total - written) : chunk;
    hash.update(piece);
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  hash.digest();
  return total;
}
