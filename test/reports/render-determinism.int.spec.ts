// Proves that a run renders to the same bytes every time, in every format: the same input
// is rendered twice with the process clock set a year apart (vitest fakes Date, which
// exceljs, archiver and pdfkit all read) and in two time zones, and the files must be
// byte-identical, with each renderer's returned SHA-256 equal to the file's. It then
// checks where the clock would have leaked: every xlsx zip entry carries generated_at as
// its DOS time (central directory and local header, read from the zip's bytes), the
// workbook's created/modified are generated_at, and the pdf's CreationDate/ModDate are
// generated_at while its /ID changes with the run's data. Needs temporary files only.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderers } from '../../src/reports/render/index.ts';
import { reportFormats, type RenderInput } from '../../src/reports/render/types.ts';
import { detailSection, header, renderInput } from './render-fixture.ts';
import { dosTimeDate, readXlsx, zipEntryTimes } from './render-readers.ts';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-determinism-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });
afterEach(() => { vi.useRealTimers(); });

const input = (): RenderInput => ({
  ...renderInput([detailSection(300, true)]),
  dataSha256: 'a'.repeat(64),
});

async function renderAt(format: (typeof reportFormats)[number], clock: string, timeZone: string, name: string) {
  const previousTimeZone = process.env['TZ'];
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(clock));
  process.env['TZ'] = timeZone;
  try {
    const file = path.join(dir, `${name}.${format}`);
    const sha256 = await renderers[format](input(), file);
    const bytes = await readFile(file);
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    return bytes;
  } finally {
    if (previousTimeZone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = previousTimeZone;
    vi.useRealTimers();
  }
}

describe('byte-identical renders', () => {
  for (const format of reportFormats) {
    it(`${format}: same bytes with the clock a year apart and in another time zone`, async () => {
      const first = await renderAt(format, '2030-01-02T03:04:05Z', 'UTC', 'first');
      const second = await renderAt(format, '2031-06-07T19:58:31Z', 'America/New_York', 'second');
      expect(first.length).toBeGreaterThan(100);
      expect(second.equals(first)).toBe(true);
    });
  }

  it('xlsx: every zip entry and the workbook carry generated_at, not the clock', async () => {
    const bytes = await renderAt('xlsx', '2030-01-02T03:04:05Z', 'Asia/Tokyo', 'dates');
    const expected = dosTimeDate(new Date(header.generated_at));
    const entries = zipEntryTimes(bytes);
    expect(entries.length).toBeGreaterThan(8);
    for (const entry of entries) {
      expect({ name: entry.name, time: entry.centralTime, date: entry.centralDate })
        .toEqual({ name: entry.name, time: expected.time, date: expected.date });
      expect([entry.localTime, entry.localDate]).toEqual([expected.time, expected.date]);
    }
    const { core } = readXlsx(bytes);
    expect(core).toContain('<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-01T02:00:03Z</dcterms:created>');
    expect(core).toContain('<dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-01T02:00:03Z</dcterms:modified>');
    expect(core).not.toContain('lastPrinted');
  });

  it('pdf: dates are generated_at, and the document /ID follows the data', async () => {
    const bytes = await renderAt('pdf', '2030-01-02T03:04:05Z', 'UTC', 'ids');
    const text = bytes.toString('latin1');
    // pdfkit writes each info value as its own object: CreationDate and ModDate are the
    // only dates in the file, and both are generated_at.
    expect(text).toMatch(/\/CreationDate \d+ 0 R/);
    expect(text).toMatch(/\/ModDate \d+ 0 R/);
    expect([...text.matchAll(/\(D:(\d{14})Z\)/g)].map((match) => match[1])).toEqual(['20261101020003', '20261101020003']);
    const id = /\/ID \[<([0-9a-f]{32})> <\1>\]/.exec(text)?.[1];
    expect(id).toBeDefined();
    const otherRun: RenderInput = { ...input(), header: { ...header, run_id: 'another-run' } };
    await renderers.pdf(otherRun, path.join(dir, 'other.pdf'));
    const otherId = /\/ID \[<([0-9a-f]{32})>/.exec((await readFile(path.join(dir, 'other.pdf'))).toString('latin1'))?.[1];
    expect(otherId).toBeDefined();
    expect(otherId).not.toBe(id);
  });
});
