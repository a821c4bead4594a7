// The report engine on a projected, generated stream, as an auditor would use it. For
// every figure of a revenue run, its lineage's signed sum equals the figure and every
// lineage line reaches its archived raw message (whose bytes hash to the recorded
// SHA-256). The xlsx and csv, read back without exceljs, give the json's values. A stored
// run renders again to byte-identical files; every file checks out
// offline against its signed manifest (`ledger report verify`, no database), and a file
// with one byte changed does not. A closed period's report never changes when a late
// event arrives; the next period's report shows it. The scheduler catches up runs missed
// while the service was down, once.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { figureLineage } from '../../src/reports/lineage.ts';
import { closePeriod } from '../../src/reports/periods.ts';
import { renderStoredRun } from '../../src/reports/runs.ts';
import { catchUp } from '../../src/reports/scheduler.ts';
import { parseScheduleFile } from '../../src/reports/schedule.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { decimalToMinor, parseCsv, readXlsx, sheetRows } from './render-readers.ts';
import { reportContext, runReport } from '../support/reports.ts';

const lines = generateEventStream({ seed: 9, rentals: 400, month: '2026-10', approve: testApprover });

describe('report runs, lineage and verification', () => {
  let ledger: TestLedger;
  let revenue: Awaited<ReturnType<typeof runReport>>;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(lines);
    await ledger.project();
    revenue = await runReport(ledger, 'revenue', { period: '2026-10' });
  });
  afterAll(async () => ledger.close());

  it('gives every revenue figure a lineage whose signed sum is the figure', async () => {
    const checked = revenue.figures.filter((f) => f.definition.measure !== 'threshold');
    expect(checked.length).toBeGreaterThan(30);
    for (const figure of checked) {
      let cursor: string | null = null;
      let total = 0n;
      let lines = 0;
      let sum = '';
      do {
        const page: Awaited<ReturnType<typeof figureLineage>> =
          await figureLineage(ledger.db.pool, figure.id, { limit: 1000, cursor });
        // The lines' own contributions, added up here, give the figure too.
        for (const line of page.lines) total += BigInt(line.contribution.replace('.', ''));
        lines += page.lines.length;
        sum = page.sum;
        cursor = page.next_cursor;
      } while (cursor !== null);
      const where = `${figure.key} ${JSON.stringify(figure.dims)}`;
      expect(sum, where).toBe(figure.value);
      expect(total, where).toBe(BigInt(figure.value.replace('.', '')));
      if (figure.value !== '0.00' && figure.value !== '0') expect(lines, where).toBeGreaterThan(0);
    }
  });

  it('pages a lineage with a cursor and reaches the archived message of every line', async () => {
    const big = revenue.figures.find((f) => f.key === 'deferred_added' && f.dims.market === 'US-CA')!;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await figureLineage(ledger.db.pool, big.id, { limit: 50, cursor });
      for (const line of page.lines) {
        seen.push(`${line.entry_id}/${line.line_no}`);
        const raw = await ledger.db.pool.query<{ value: Buffer; value_sha256: Buffer }>(
          'SELECT value, value_sha256 FROM ledger.raw_messages WHERE topic = $1 AND partition = $2 AND "offset" = $3',
          [line.topic, line.partition, line.offset]);
        const message = raw.rows[0]!;
        expect(createHash('sha256').update(message.value).digest('hex')).toBe(line.message_sha256);
        expect(JSON.parse(message.value.toString('utf8')).event_id.toLowerCase()).toBe(line.event_id);
      }
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 1000);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('renders a stored run again to byte-identical files', async () => {
    const again = await renderStoredRun(await reportContext(ledger), revenue.run_id,
      path.join(ledger.dataDir, 'again'), ['json', 'csv', 'xlsx', 'pdf']);
    for (const format of ['json', 'csv', 'xlsx', 'pdf'] as const) {
      const first = await readFile(revenue.files[format]!);
      const second = await readFile(again.files[format]!);
      expect(second.equals(first), format).toBe(true);
    }
  });

  it('reads back the same figure values from the xlsx and the csv as from the json, with an independent reader', async () => {
    const json = JSON.parse(await readFile(revenue.files.json!, 'utf8')) as { figures: Array<{ id: string; value: string }> };
    const expected = new Map(json.figures.map((f) => [f.id, decimalToMinor(f.value)]));
    const xlsx = readXlsx(await readFile(revenue.files.xlsx!));
    const lineageSheet = xlsx.sheets.find((sheet) => sheet.name === 'Lineage')!;
    const header = sheetRows(lineageSheet, 10)[0]!.map((c) => c?.value ?? null);
    const valueColumn = header.indexOf('Value');
    const fromXlsx = new Map(sheetRows(lineageSheet, header.length).slice(1)
      .map((row) => [row[0]!.value, decimalToMinor(row[valueColumn]!.value)]));
    expect(fromXlsx).toEqual(expected);
    const links = [...xlsx.sheets.find((sheet) => sheet.name === 'Revenue')!.links.values()];
    expect(links.length).toBe(expected.size);
    expect(links.every((link) => /^http:\/\/localhost:8080\/figures\/fig_[0-9a-f]+$/.test(link))).toBe(true);
    const csv = parseCsv(await readFile(revenue.files.csv!, 'utf8'));
    const figureHeader = csv.findIndex((record) => record[0] === 'figure_id');
    const columns = csv[figureHeader]!;
    const fromCsv = new Map(csv.slice(figureHeader + 1, figureHeader + 1 + expected.size)
      .map((record) => [record[0]!, decimalToMinor(record[columns.indexOf('value')]!)]));
    expect(fromCsv).toEqual(expected);
  });

  it('checks every file offline against its signed manifest, and refuses a changed byte', async () => {
    const keyFile = path.join(ledger.dataDir, 'public.pem');
    const offline = (file: string) => spawnSync(process.execPath, ['bin/ledger.mjs', 'report', 'verify', file,
      '--manifest', revenue.files.manifest!, '--public-key', keyFile, '--json'], {
      // No database and no data directory: verification needs neither.
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LEDGER_DATA_DIR: '/nonexistent' },
      encoding: 'utf8',
    });
    const manifest = JSON.parse(await readFile(revenue.files.manifest!, 'utf8'));
    await writeFile(keyFile, manifest.public_key_pem);
    for (const format of ['json', 'csv', 'xlsx', 'pdf'] as const) {
      const result = offline(revenue.files[format]!);
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, run_id: revenue.run_id, format });
    }
    const tampered = path.join(ledger.dataDir, 'tampered.csv');
    const bytes = await readFile(revenue.files.csv!);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x01;
    await writeFile(tampered, bytes);
    const result = offline(tampered);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false });
  });

  it('keeps a closed period\'s report unchanged when a late event arrives; the next period shows it', async () => {
    await closePeriod(ledger.db.pool, '2026-10', 'controller', 'month-end close', new Date('2026-11-30T00:00:00Z'));
    const before = await runReport(ledger, 'revenue', { period: '2026-10' });
    const novemberBefore = await runReport(ledger, 'revenue', { period: '2026-11' });
    await ledger.publish([eventLine('payment.captured', '2026-10-15T12:00:00Z', {
      payment_id: 'late_pay', rental_id: 'late_rental', driver_id: 'late_driver', owner_id: 'late_owner',
      market: 'US-CA', processor: 'stripe', processor_ref: 'ch_late', currency: 'USD', rental_amount: '100.00',
      commission: '20.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '0',
      processor_fee: '3.00', total: '124.00' })]);
    expect((await ledger.project()).posted).toBe(1);
    const late = await ledger.db.pool.query(`SELECT late, to_char(booked_period, 'YYYY-MM') AS booked
      FROM ledger.journal_entries WHERE subject_rental_id = 'late_rental'`);
    expect(late.rows).toEqual([{ late: true, booked: '2026-11' }]);
    const after = await runReport(ledger, 'revenue', { period: '2026-10' });
    expect(after.header.supersedes).toBe(before.run_id);
    const values = (run: typeof before) => run.figures.map((f) => `${f.key} ${JSON.stringify(f.dims)} ${f.value}`);
    expect(values(after)).toEqual(values(before));
    const novemberAfter = await runReport(ledger, 'revenue', { period: '2026-11' });
    const gbv = (run: typeof before) => run.figures
      .find((f) => f.key === 'gross_booking_value' && f.dims.currency === 'USD' && f.dims.market === 'US-CA')?.value;
    const cents = (value: string | undefined) => BigInt((value ?? '0').replace('.', ''));
    expect(cents(gbv(novemberAfter)) - cents(gbv(novemberBefore))).toBe(11_500n); // R + P + S of the late capture
  });

  it('catches up scheduled runs missed while the service was down, and only once', async () => {
    const schedule = parseScheduleFile({ catch_up_max: 10, schedules: [
      { name: 'tb-daily', report: 'trial-balance', cadence: 'daily', at: '02:00', params: { as_of: '{run_date}' } },
    ] });
    const ctx = await reportContext(ledger);
    const log = () => undefined;
    const first = await catchUp(ctx, schedule, new Date('2026-11-03T12:00:00Z'), log);
    expect(first.map((r) => r.due_at)).toEqual(['2026-11-03T02:00:00.000Z']);
    const afterDowntime = await catchUp(ctx, schedule, new Date('2026-11-06T03:00:00Z'), log);
    expect(afterDowntime.map((r) => r.due_at)).toEqual(
      ['2026-11-04T02:00:00.000Z', '2026-11-05T02:00:00.000Z', '2026-11-06T02:00:00.000Z']);
    expect(await catchUp(ctx, schedule, new Date('2026-11-06T03:00:00Z'), log)).toEqual([]);
    const runs = await ledger.db.pool.query(`SELECT r.requested_by, r.params->>'as_of' AS as_of
      FROM ledger.scheduled_runs s JOIN ledger.report_runs r USING (run_id) ORDER BY s.due_at`);
    expect(runs.rows).toEqual(['2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06']
      .map((asOf) => ({ requested_by: 'scheduler', as_of: asOf })));
  });
});
