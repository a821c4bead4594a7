// Proves how the renderers treat the file they write: the SHA-256 a renderer returns is
// the file's (re-read and hashed here); a rendering that fails — its file cannot be
// created, or a row is malformed, or a streamed source fails half-way through a large
// section — rejects promptly instead of hanging, and leaves neither the file nor its
// `.partial` behind, for every format. Temporary files only.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderers } from '../../src/reports/render/index.ts';
import { reportFormats, type Cell, type Section } from '../../src/reports/render/types.ts';
import { detailColumns, detailRow, detailSection, renderInput, revenueSection } from './render-fixture.ts';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-files-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function failingSource(rowsBeforeFailure: number): Section {
  return {
    name: 'GL detail', title: 'General ledger detail', columns: detailColumns,
    rows: async function* rows(): AsyncGenerator<readonly Cell[]> {
      for (let index = 0; index < rowsBeforeFailure; index += 1) yield detailRow(index);
      throw new Error('the journal query failed');
    },
  };
}

describe('rendered files', () => {
  for (const format of reportFormats) {
    it(`${format}: returns the file's SHA-256`, async () => {
      const file = path.join(dir, `ok.${format}`);
      const sha256 = await renderers[format](renderInput(), file);
      expect(sha256).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));
    });

    it(`${format}: rejects when the file cannot be written, and leaves nothing`, async () => {
      const missing = path.join(dir, `missing-${format}`);
      await expect(renderers[format](renderInput([detailSection(5_000, true)]), path.join(missing, 'out')))
        .rejects.toThrow(/ENOENT/);
      expect(existsSync(missing)).toBe(false);
    });

    it(`${format}: rejects a malformed row, and leaves nothing`, async () => {
      const target = path.join(dir, `malformed-${format}`);
      await mkdir(target);
      const short = { ...revenueSection, rows: [['USD', 'US-CA']] };
      await expect(renderers[format]({ ...renderInput(), sections: [short] }, path.join(target, 'out')))
        .rejects.toThrow(/has 2 cells for 5 columns/);
      expect(await readdir(target)).toEqual([]);
    });

    it(`${format}: rejects when a streamed source fails half-way, and leaves nothing`, async () => {
      const target = path.join(dir, `source-${format}`);
      await mkdir(target);
      await expect(renderers[format](renderInput([failingSource(20_000)]), path.join(target, 'out')))
        .rejects.toThrow(/the journal query failed/);
      expect(await readdir(target)).toEqual([]);
    });
  }
});
