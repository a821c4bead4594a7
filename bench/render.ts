// gl-detail of 1,000,000 synthetic journal lines rendered to xlsx with exceljs's
// streaming writer: rows per second and peak memory (RSS sampled every 25 ms, target
// under 512 MB), against two baselines measured in the same run on the same rows:
// producing the rows alone (the source's own cost), and the csv rendering (plain text
// through the same hashing sink). No database: the rows are generated in the process,
// one at a time, as the engine's query stream hands them over.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderCsv } from '../src/reports/render/csv.ts';
import { detailColumns } from '../src/reports/layout.ts';
import type { Cell, Column, RenderInput, Section } from '../src/reports/render/types.ts';
import { renderXlsx } from '../src/reports/render/xlsx.ts';
import { nowMs, perSecond } from './support.ts';

const rowsWanted = 1_000_000;
const memoryTargetBytes = 512 * 2 ** 20;

/** The columns gl-detail really has (the layout's), so the benchmark renders the real shape. */
const columns: readonly Column[] = detailColumns;

const accounts = ['1100', '2000', '2100', '2200', '2300', '2310', '4000', '4010', '5100'];

/** One line as the journal would give it: distinct ids, a real-looking amount, both currencies. */
function line(index: number): Cell[] {
  const currency = index % 5 === 0 ? 'CAD' : 'USD';
  const hex = index.toString(16).padStart(12, '0');
  const amount = `${(index * 7919) % 250_000}.${String((index * 31) % 100).padStart(2, '0')}`;
  return [
    `0190a1b2-c3d4-7e5f-8a9b-${hex}`, `evt_01J${hex}${hex.slice(0, 8)}`, 'payment.captured',
    `2026-10-${String(1 + (index % 31)).padStart(2, '0')}T${String(index % 24).padStart(2, '0')}:14:05.${String(index % 1_000_000).padStart(6, '0')}Z`,
    accounts[index % accounts.length]!, index % 2 === 0 ? 'debit' : 'credit', { value: amount, currency }, currency,
    `{"market":"US-CA","rental_id":"r_${hex}"}`, `marketplace.events/${index % 6}@${Math.floor(index / 6)}`,
  ];
}

function glDetail(rowCount: number): Section {
  return {
    name: 'GL detail', title: 'General ledger detail, 2026-10', columns,
    rows: async function* generate(): AsyncGenerator<readonly Cell[]> {
      for (let index = 0; index < rowCount; index += 1) yield line(index);
    },
  };
}

function benchInput(rowCount: number): RenderInput {
  return {
    header: {
      report: 'gl-detail', title: 'General ledger detail, October 2026', run_id: 'bench-gl-detail',
      template_version: '1', params: { period: '2026-10' }, watermark: { 'marketplace.events/0': rowCount },
      generated_at: '2026-11-01T02:00:03Z', requested_by: 'bench', supersedes: null, checkpoint: null,
    },
    figures: [], sections: [glDetail(rowCount)], charts: [],
    lineageBaseUrl: 'http://localhost:8080/api/figures', dataSha256: '',
  };
}

async function measured(work: () => Promise<unknown>): Promise<{ ms: number; peakRssBytes: number; startRssBytes: number }> {
  const startRssBytes = process.memoryUsage().rss;
  let peakRssBytes = startRssBytes;
  const sampler = setInterval(() => { peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss); }, 25);
  const started = nowMs();
  await work();
  const ms = nowMs() - started;
  clearInterval(sampler);
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  return { ms, peakRssBytes, startRssBytes };
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

export async function benchRenderGlDetail(rowCount: number = rowsWanted): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-render-'));
  try {
    const source = await measured(async () => {
      for await (const row of (glDetail(rowCount).rows as () => AsyncIterable<readonly Cell[]>)()) if (row.length === 0) break;
    });
    const csvFile = path.join(dir, 'gl-detail.csv');
    const csv = await measured(() => renderCsv(benchInput(rowCount), csvFile));
    const xlsxFile = path.join(dir, 'gl-detail.xlsx');
    const xlsx = await measured(() => renderXlsx(benchInput(rowCount), xlsxFile));
    const xlsxBytes = (await stat(xlsxFile)).size;
    const csvBytes = (await stat(csvFile)).size;
    process.stdout.write([
      `data: ${rowCount} synthetic gl-detail lines, 10 columns, USD and CAD`,
      `baseline: producing the rows alone: ${source.ms} ms, ${perSecond(rowCount, source.ms)} rows/s`,
      `baseline: csv rendering: ${csv.ms} ms, ${perSecond(rowCount, csv.ms)} rows/s, ${mib(csvBytes)} MiB, ` +
        `peak RSS ${mib(csv.peakRssBytes)} MB`,
      `gl-detail xlsx (exceljs streaming writer): ${xlsx.ms} ms, ${perSecond(rowCount, xlsx.ms)} rows/s ` +
        `(${(xlsx.ms / Math.max(csv.ms, 1)).toFixed(1)}× the csv), ${mib(xlsxBytes)} MiB; peak RSS ` +
        `${mib(xlsx.peakRssBytes)} MB (${mib(xlsx.peakRssBytes - xlsx.startRssBytes)} MB above its start; ` +
        `target < ${mib(memoryTargetBytes)} MB: ${xlsx.peakRssBytes < memoryTargetBytes ? 'met' : 'MISSED'})`,
      '',
    ].join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchRenderGlDetail(process.argv[2] === undefined ? rowsWanted : Number(process.argv[2]));
}
