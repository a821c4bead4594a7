// renderAll reads a streamed section once per pass, shared by the renderings of the pass
// (json with csv, then xlsx with the rows the pdf looks at), and draws the pdf from a
// section's first rows and its length. These tests hold that to the bytes of each
// renderer reading the section on its own, with a section longer than the pdf's cap and
// than a read-ahead; they check that the read runs ahead of the slowest reader by a
// bounded number of rows, and that a rendering that fails stops the others and the read
// instead of leaving them waiting.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAll, renderers } from '../../src/reports/render/index.ts';
import { renderTogether, SharedReads } from '../../src/reports/render/shared-reads.ts';
import { reportFormats, type Cell, type RenderInput } from '../../src/reports/render/types.ts';
import { detailRow, detailSection, renderInput } from './render-fixture.ts';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-shared-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

describe('renderAll over shared reads', () => {
  it('writes the bytes each renderer writes reading the rows alone (pdf beyond its cap included)', async () => {
    let reads = 0;
    const counted = (rows: number): RenderInput => {
      const section = detailSection(rows, true);
      const source = section.rows as () => AsyncIterable<readonly Cell[]>;
      return { ...renderInput([{ ...section, rows: () => { reads += 1; return source(); } }]), dataSha256: '' };
    };
    const rendered = await renderAll(counted(12_345), path.join(dir, 'shared'), 'run');
    // One read per pass: json with csv, then xlsx with the pdf's rows.
    expect(reads).toBe(2);
    const dataSha256 = rendered.json.sha256;
    for (const format of reportFormats) {
      const alone = path.join(dir, `alone.${format}`);
      const sha = await renderers[format]({ ...counted(12_345), dataSha256: format === 'json' ? '' : dataSha256 }, alone);
      expect({ format, sha }).toEqual({ format, sha: rendered[format].sha256 });
      expect(await sha256(rendered[format].path)).toBe(sha);
    }
    const pdf = (await readFile(rendered.pdf.path)).toString('latin1');
    expect(pdf.length).toBeGreaterThan(1000);
  });
});

describe('shared reads', () => {
  it('every reader sees every row in order; the read keeps within a bound of the slowest', async () => {
    let pulled = 0;
    const rows = 50_000;
    const input: RenderInput = { ...renderInput([{ ...detailSection(rows, true), rows: async function* source() {
      for (let index = 0; index < rows; index += 1) {
        pulled += 1;
        yield detailRow(index);
      }
    } }]), dataSha256: '' };
    const shared = new SharedReads(input, 2);
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const read = async (branch: number, parkAfter: number | null) => {
      const seen: string[] = [];
      const section = shared.inputFor(branch).sections[1]!;
      for await (const row of (section.rows as () => AsyncIterable<readonly Cell[]>)()) {
        seen.push(row[9] as string);
        if (seen.length === parkAfter) await gate;
      }
      shared.finished(branch);
      return seen;
    };
    const slow = read(0, 10);
    const fast = read(1, null);
    // Let the fast reader run until the read stops for the parked one.
    for (let turn = 0; turn < 200; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    const pulledWhileParked = pulled;
    release();
    const [slowSeen, fastSeen] = await Promise.all([slow, fast]);
    const expected = Array.from({ length: rows }, (_unused, index) => detailRow(index)[9]);
    expect(slowSeen).toEqual(expected);
    expect(fastSeen).toEqual(expected);
    // At most the held batches (8 of 1,000 rows) and the one being filled ahead of row 10.
    expect(pulledWhileParked).toBeLessThanOrEqual(10_000);
    expect(pulledWhileParked).toBeGreaterThan(10);
  });

  it('a rendering that fails stops the others and ends the read', async () => {
    let ended = false;
    const input: RenderInput = { ...renderInput([{ ...detailSection(0, true), rows: async function* source() {
      try {
        for (let index = 0; ; index += 1) yield detailRow(index);
      } finally {
        ended = true;
      }
    } }]), dataSha256: '' };
    const failing = async (shared: RenderInput) => {
      let seen = 0;
      for await (const _row of (shared.sections[1]!.rows as () => AsyncIterable<readonly Cell[]>)()) {
        seen += 1;
        if (seen === 5_000) throw new Error('disk full');
      }
      return 'never';
    };
    // The other reader would read an endless section for ever if it were not stopped.
    const endless = (shared: RenderInput) => renderers.csv(shared, path.join(dir, 'endless.csv'));
    await expect(renderTogether(input, [endless, failing])).rejects.toThrow('disk full');
    expect(ended).toBe(true);
  });
});
