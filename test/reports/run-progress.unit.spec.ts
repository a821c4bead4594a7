// A report run's rendering progress: rows of each format, the streamed section counted as
// a renderer pulls it, each format's share capped and completed when it ends.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countInputRows } from '../../src/reconciliation/row-count.ts';
import type { Cell, RenderInput } from '../../src/reports/render/types.ts';
import { RenderCounter } from '../../src/reports/run-progress.ts';

function layout(detailRows: number): RenderInput {
  async function* rows(): AsyncIterable<readonly Cell[]> {
    for (let i = 0; i < detailRows; i += 1) yield [`row ${i}`];
  }
  return {
    header: {} as RenderInput['header'], figures: [], charts: [], lineageBaseUrl: '', dataSha256: '',
    sections: [
      { name: 'totals', title: 'Totals', columns: [], rows: [['a'], ['b'], ['c']] },
      { name: 'detail', title: 'Detail', columns: [], rows },
    ],
  };
}

async function pull(input: RenderInput, times = 1): Promise<number> {
  let seen = 0;
  for (let pass = 0; pass < times; pass += 1) {
    for (const section of input.sections) {
      if (typeof section.rows === 'function') for await (const _row of section.rows()) seen += 1;
    }
  }
  return seen;
}

describe('a report run\'s rendering progress', () => {
  it('plans every row once per format and counts the streamed rows as they are read', async () => {
    const told: Array<[number, number]> = [];
    const counter = new RenderCounter(layout(2_500), 2_500, ['json', 'csv'], (done, total) => told.push([done, total]));
    expect(told).toEqual([[0, 5_006]]);
    expect(await pull(counter.wrap(layout(2_500)))).toBe(2_500);
    expect(told.slice(1)).toEqual([[1_000, 5_006], [2_000, 5_006]]);
    counter.finished();
    expect(told.at(-1)).toEqual([2_503, 5_006]);
  });

  it('never passes a format\'s share, when a renderer reads a section twice, nor the total', async () => {
    const told: Array<[number, number]> = [];
    const counter = new RenderCounter(layout(1_000), 1_000, ['pdf'], (done, total) => told.push([done, total]));
    await pull(counter.wrap(layout(1_000)), 3);
    expect(Math.max(...told.map(([done]) => done))).toBeLessThanOrEqual(1_003);
    counter.finished();
    counter.finished();
    expect(told.at(-1)).toEqual([1_003, 1_003]);
  });

  it('lets a renderer that stops early close the source', async () => {
    let closed = false;
    async function* rows(): AsyncIterable<readonly Cell[]> {
      try {
        for (let i = 0; ; i += 1) yield [`row ${i}`];
      } finally {
        closed = true;
      }
    }
    const input: RenderInput = { ...layout(0), sections: [{ name: 'detail', title: 'Detail', columns: [], rows }] };
    const counter = new RenderCounter(input, 10, ['json'], () => undefined);
    const wrapped = counter.wrap(input).sections[0]?.rows as () => AsyncIterable<readonly Cell[]>;
    for await (const row of wrapped()) if (row[0] === 'row 3') break;
    expect(closed).toBe(true);
  });
});

describe('the rows of a reconciliation\'s files, counted before the run reads them', () => {
  it('counts a CSV\'s lines after its header and a camt.053\'s entries, across read chunks', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'row-count-'));
    try {
      await writeFile(path.join(dir, 'p.csv'), 'a,b\n1,2\n3,4');
      await writeFile(path.join(dir, 'empty.csv'), '');
      // 3,000 entries of about 700 bytes: more than 2 MiB, so that tags straddle the 1 MiB chunks.
      const entry = `<Ntry><Amt Ccy="USD">1.00</Amt>${' '.repeat(660)}</Ntry>\n`;
      await writeFile(path.join(dir, 'b.xml'), `<Document><BkToCstmrStmt><Stmt>${entry.repeat(3_000)}` +
        '<camt:Ntry/></Stmt></BkToCstmrStmt></Document>');
      expect(await countInputRows(path.join(dir, 'p.csv'), 'csv')).toBe(2);
      expect(await countInputRows(path.join(dir, 'empty.csv'), 'csv')).toBe(0);
      expect(await countInputRows(path.join(dir, 'b.xml'), 'camt053')).toBe(3_001);
      expect(await countInputRows(path.join(dir, 'missing.csv'), 'csv')).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
