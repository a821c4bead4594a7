// The readers of the processor file, the bank CSV and camt.053: rows come out typed, in
// order, with the physical line they start on; a bad row (missing column, unparsable
// amount or date, unknown category, stray quote) comes out as a bad row with its file,
// line and reason while the rest is still read; a file whose header lacks a column is
// refused whole, and so is XML that is not well-formed. Files are written to a temporary
// folder and read as streams.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSettlementFiles } from '../../src/generator/settlement-files.ts';
import { readCamt053 } from '../../src/reconciliation/camt053.ts';
import { CsvSplitter, type CsvRecord } from '../../src/reconciliation/csv.ts';
import { readBankCsv, readProcessorCsv } from '../../src/reconciliation/csv-readers.ts';
import { openInputText } from '../../src/reconciliation/input-file.ts';
import { parseSignedMinor, parseUtcTime } from '../../src/reconciliation/parse.ts';
import { dayMs } from '../../src/reconciliation/types.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'recon-readers-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, text);
  return full;
}

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

function split(chunks: string[]): CsvRecord[] {
  const splitter = new CsvSplitter(40);
  const out: CsvRecord[] = [];
  for (const c of chunks) splitter.push(c, out);
  splitter.end(out);
  return out;
}

describe('CSV records', () => {
  it('reads quotes, doubled quotes, CRLF and a line break inside quotes, across chunk boundaries', () => {
    const records = split(['a,"b,1"\r', '\n"say ""hi""",x\r\n"two\nlines"', ',y\n\nlast,']);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b,1'] }, { line: 2, fields: ['say "hi"', 'x'] },
      { line: 3, fields: ['two\nlines', 'y'] }, { line: 6, fields: ['last', ''] },
    ]);
  });

  it('reports a stray quote and an over-long row with their lines, and goes on', () => {
    const records = split(['ok,1\nba"d,2\n', `${'x'.repeat(50)}\n"unclosed,3\nnext,4\n`]);
    expect(records.map((r) => [r.line, r.error ?? r.fields.join('|')])).toEqual([
      [1, 'ok|1'], [2, 'a quote inside an unquoted field'], [3, 'the row is longer than 40 characters'],
      [4, 'a quoted field is not closed before the end of the file'],
    ]);
  });
});

describe('amounts and times', () => {
  it('reads signed decimals exactly and refuses anything else', () => {
    expect(parseSignedMinor('-12.5', 'USD', 'gross')).toEqual({ ok: true, value: -1250n });
    expect(parseSignedMinor('0.07', 'USD', 'gross')).toEqual({ ok: true, value: 7n });
    for (const bad of ['+5', '1e3', '1,250.00', ' 5', '.5', '5.', '12.345', '']) {
      expect(parseSignedMinor(bad, 'USD', 'gross').ok).toBe(false);
    }
  });

  it('reads created_utc as UTC and refuses impossible dates', () => {
    expect(parseUtcTime('2026-10-31 23:59:59')).toBe(Date.parse('2026-10-31T23:59:59Z'));
    expect(parseUtcTime('2026-02-30 00:00:00')).toBeNull();
    expect(parseUtcTime('2026-10-31T23:59:59')).toBeNull();
  });

  it('reads times exactly as the Date round trip it replaced, on edges and a sweep', () => {
    // The definition parseUtcTime had before it remembered dates: Date.UTC, then the
    // ISO text of the result must give back the input (so 24:00:00, 02-30 and years
    // below 100, which Date.UTC moves to 19xx, are all refused).
    const roundTrip = (text: string): number | null => {
      const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
      if (m === null) return null;
      const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      const back = new Date(ms).toISOString();
      return `${back.slice(0, 10)} ${back.slice(11, 19)}` === text ? ms : null;
    };
    const edges = ['2026-10-31 24:00:00', '2026-10-31 23:60:00', '2026-10-31 23:59:60', '2024-02-29 12:00:00',
      '2023-02-29 12:00:00', '2000-02-29 00:00:00', '1900-02-29 00:00:00', '0099-01-01 00:00:00',
      '0100-01-01 00:00:00', '1969-12-31 23:59:59', '9999-12-31 23:59:59', '2026-00-10 00:00:00',
      '2026-13-01 00:00:00', '2026-10-00 00:00:00', '2026-10-31 00:00:00\n', ' 2026-10-31 00:00:00',
      '2026-10-31 0:00:00', '２０２６-10-31 00:00:00', '2026-1a-31 00:00:00', ''];
    let seed = 7;
    const digit = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return String(seed % 10); };
    const sweep = Array.from({ length: 20_000 }, () => {
      const d = (n: number) => Array.from({ length: n }, digit).join('');
      return `${d(4)}-${d(2)}-${d(2)} ${d(2)}:${d(2)}:${d(2)}`;
    });
    for (const text of [...edges, ...sweep, ...edges]) expect([text, parseUtcTime(text)]).toEqual([text, roundTrip(text)]);
  });
});

describe('the processor file', () => {
  const header = 'reporting_category,balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,source_id,extra';
  it('reads rows in any column order and reports each bad row with its line and reason', async () => {
    const name = await file('processor.csv', [header,
      'charge,txn_1,2026-10-01 10:00:00,2026-10-03 10:00:00,usd,100.00,3.20,96.80,ch_1,x',
      'charge,txn_2,2026-10-01 10:00:00,2026-10-03 10:00:00,usd,1O0.00,3.20,96.80,ch_2,x',
      'chargeback,txn_3,2026-10-01 10:00:00,2026-10-03 10:00:00,usd,100.00,0,100.00,ch_3,x',
      'refund,txn_4,2026-13-01 10:00:00,2026-10-03 10:00:00,usd,-5.00,0,-5.00,re_4,x',
      'refund,txn_5,2026-10-01 10:00:00,2026-10-03 10:00:00,usd,-5.00,0',
      'refund,txn_6,2026-10-01 10:00:00,2026-10-03 10:00:00,eur,-5.00,0,-5.00,re_6,x',
      'refund,txn_7,2026-10-01 10:00:00,2026-10-03 10:00:00,usd,-5.00,0,-5.00,re_7,x', ''].join('\n'));
    const rows = await all(readProcessorCsv(openInputText(name, 'processor.csv'), 'processor.csv'));
    expect(rows.map((r) => ('reason' in r ? `${r.file}:${r.line} ${r.reason}` : `${r.line} ${r.balanceTransactionId}`)))
      .toEqual([
        '2 txn_1',
        'processor.csv:3 gross: "1O0.00" is not a plain decimal',
        'processor.csv:4 reporting_category "chargeback" is not one of charge, refund, dispute, dispute_reversal, ' +
          'transfer, transfer_reversal, payout',
        'processor.csv:5 created_utc "2026-13-01 10:00:00" is not YYYY-MM-DD HH:MM:SS',
        'processor.csv:6 has 7 columns; the header has 10',
        'processor.csv:7 currency "eur" is not configured in the ledger',
        '8 txn_7',
      ]);
    expect(rows[0]).toMatchObject({ grossMinor: 10_000n, feeMinor: 320n, currency: 'USD', category: 'charge' });
  });

  it('refuses a file whose header lacks a column, naming it', async () => {
    const name = await file('short.csv', 'balance_transaction_id,created_utc\n');
    await expect(all(readProcessorCsv(openInputText(name, 'short.csv'), 'short.csv')))
      .rejects.toThrow(/short\.csv:1:1: the header lacks the column\(s\) available_on_utc, currency/);
  });
});

describe('the bank statement', () => {
  it('reads CSV lines and reports a bad one', async () => {
    const name = await file('bank.csv', ['booking_date,value_date,amount,currency,reference,description',
      '2026-10-05,2026-10-05,1818.58,CAD,po_1,"STRIPE, PAYOUT"', '2026-10-06,,-20.00,usd,rmt_1,TAX',
      '2026-10-07,2026-10-07,-20.00,USD,,FEE'].join('\r\n'));
    const rows = await all(readBankCsv(openInputText(name, 'bank.csv'), 'bank.csv'));
    expect(rows).toMatchObject([
      { line: 2, amountMinor: 181_858n, currency: 'CAD', reference: 'po_1', description: 'STRIPE, PAYOUT' },
      { line: 3, reason: 'currency "usd" is not an upper-case ISO 4217 code' },
      { line: 4, amountMinor: -2_000n, reference: '' },
    ]);
  });

  it('reads camt.053: signs from CdtDbtInd, the entry\'s line, pending entries skipped', async () => {
    const lines = [
      JSON.stringify({ event_id: 'e1', type: 'processor.payout', occurred_at: '2026-10-03T03:00:00Z', data: {
        processor_payout_id: 'po_1', processor: 'stripe', currency: 'USD', amount: '-12.34', arrival_date: '2026-10-05' } }),
      JSON.stringify({ event_id: 'e2', type: 'tax.remitted', occurred_at: '2026-10-20T14:00:00Z', data: {
        remittance_id: 'rmt_1', market: 'CA-ON', currency: 'CAD', amount: '99.00', period: '2026-09' } }),
    ];
    const camt = generateSettlementFiles(lines, { date: '2026-10-31' }).bankCamt053
      .replace('</BkToCstmrStmt>', '<Stmt><Ntry><Amt Ccy="USD">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts>' +
        '<BookgDt><Dt>2026-10-30</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt>');
    const name = await file('bank.xml', camt);
    const rows = await all(readCamt053(openInputText(name, 'bank.xml'), 'bank.xml'));
    expect(rows).toMatchObject([
      { reference: 'po_1', amountMinor: -1_234n, currency: 'USD', bookingDay: Date.parse('2026-10-05T00:00:00Z') / dayMs,
        line: 9 },
      { reference: 'rmt_1', amountMinor: -9_900n, currency: 'CAD', description: 'TAX CA-ON 2026-09' },
      { skipped: 'status PDNG is not booked' },
    ]);
  });

  it('refuses camt.053 XML where it stops being well-formed, naming line and column, after what came before', async () => {
    const name = await file('broken.xml', '<Document><BkToCstmrStmt><Stmt><Ntry><Amt Ccy="USD">5.00</Amt>' +
      '<CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-10-01</Dt></BookgDt><NtryRef>r1</NtryRef></Ntry>\n<Ntry><Amt>');
    const rows: object[] = [];
    const reading = (async () => {
      for await (const row of readCamt053(openInputText(name, 'broken.xml'), 'broken.xml')) rows.push(row);
    })();
    await expect(reading).rejects.toThrow('broken.xml:2:11: the XML is not well-formed (unclosed tag: Amt); ' +
      'the rest of the file was not read');
    expect(rows).toMatchObject([{ reference: 'r1', amountMinor: -500n, line: 1 }]);
  });
});
