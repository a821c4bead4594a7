// The outside world's side of a generated stream (RECONCILIATION.md, Inputs): the card
// processor's balance file and the bank statement, as CSV and as camt.053 XML, consistent
// with the events, so that a reconciliation of the stream's journal finds no break. Faults
// can be injected on request, each returned with the outcome a reconciliation must report
// for it. Pure: no I/O, no clock; the same lines and options give the same files.
//
// A processor row is created at the event's time (to the second) and available two days
// later; a payout's bank line is booked on its arrival date, a tax remittance's on the
// day it was remitted. The files of date D hold what happened up to the end of D.
import { sha256Hex } from '../ledger/canonical.ts';
import { currencies, isCurrencyCode, parseAmount, minorToDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { Rng } from './prng.ts';
import { dayMs } from './time.ts';

export type SettlementFaults = {
  /** A charge row whose gross is 1.00 more than the capture's total. */
  readonly amountMismatch?: boolean;
  /** A charge row for a capture the journal does not have. */
  readonly chargeMissingFromJournal?: boolean;
  /** A refund whose row is left out of the file, beyond the grace window. */
  readonly entryMissingFromFile?: boolean;
  /** A transfer row written twice (same balance_transaction_id). */
  readonly duplicateRow?: boolean;
  /** A payout's bank line booked outside the date tolerance of its arrival date. */
  readonly bankLineOutsideTolerance?: boolean;
};

export type SettlementOptions = {
  /** `YYYY-MM-DD`: the files hold processor rows created and bank lines booked up to the end of it. */
  readonly date: string;
  readonly seed?: number;
  readonly faults?: SettlementFaults;
  /** The reconciliation's settings the faults must be clear of (defaults 2 and 3). */
  readonly graceDays?: number;
  readonly toleranceDays?: number;
};

/** What a reconciliation must report for an injected fault, with the lineage to find it. */
export type ExpectedBreak = {
  readonly fault: keyof SettlementFaults;
  readonly outcome: 'amount_mismatch' | 'missing_in_ledger' | 'missing_externally' | 'duplicate_external';
  readonly source: 'processor' | 'bank';
  readonly category: string;
  readonly reference: string;
  /** The journal side: the event behind the entry (missing_externally, amount_mismatch). */
  readonly eventId: string | null;
  /** The external side: the line in the CSV file, and in the camt.053 file for bank lines. */
  readonly line: number | null;
  readonly xmlLine: number | null;
};

export type SettlementFiles = {
  readonly processorCsv: string;
  readonly bankCsv: string;
  readonly bankCamt053: string;
  readonly expected: ExpectedBreak[];
};

type ProcessorRowDraft = {
  id: string; createdMs: number; currency: CurrencyCode; grossMinor: bigint; feeMinor: bigint;
  category: string; sourceId: string; eventId: string;
};
type BankLineDraft = {
  bookingDay: number; currency: CurrencyCode; amountMinor: bigint; reference: string; description: string;
  eventId: string; category: 'payout' | 'tax_remittance'; arrivalDay: number | null;
};
type Event = { eventId: string; type: string; occurredMs: number; data: Record<string, unknown> };

export function generateSettlementFiles(lines: readonly string[], options: SettlementOptions): SettlementFiles {
  const endDay = Date.parse(`${options.date}T00:00:00Z`) / dayMs;
  if (!Number.isInteger(endDay)) throw new Error(`settlement files: ${options.date} is not a date`);
  const events = uniqueEvents(lines);
  const drafts = draftsOf(events);
  const processor = drafts.rows.filter((r) => r.createdMs < (endDay + 1) * dayMs);
  const bank = drafts.lines.filter((l) => l.bookingDay <= endDay);
  const injected = injectFaults(processor, bank, events, { ...options, endDay });
  const bankCamt = camt053(bank, options.date);
  const expected = injected.map((e) => ({
    ...e.expected,
    line: e.row !== null ? processor.indexOf(e.row) + 2 : e.bankLine !== null ? bank.indexOf(e.bankLine) + 2 : null,
    xmlLine: e.bankLine !== null ? bankCamt.lines.get(e.bankLine) ?? null : null,
  }));
  return { processorCsv: processorCsv(processor), bankCsv: bankCsv(bank), bankCamt053: bankCamt.text, expected };
}

/** Each event once (a redelivery is the same event), well-formed ones only, in time order. */
function uniqueEvents(lines: readonly string[]): Event[] {
  const seen = new Set<string>();
  const events: Event[] = [];
  for (const line of lines) {
    let parsed: { event_id?: unknown; type?: unknown; occurred_at?: unknown; data?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      continue;
    }
    if (typeof parsed.event_id !== 'string' || typeof parsed.type !== 'string') continue;
    if (typeof parsed.occurred_at !== 'string' || typeof parsed.data !== 'object' || parsed.data === null) continue;
    const eventId = parsed.event_id.toLowerCase();
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    events.push({ eventId, type: parsed.type, occurredMs: Date.parse(parsed.occurred_at),
      data: parsed.data as Record<string, unknown> });
  }
  return events.sort((a, b) => a.occurredMs - b.occurredMs);
}

function minorOf(data: Record<string, unknown>, field: string, currency: CurrencyCode): bigint {
  const parsed = parseAmount(data[field], currency, { allowNegative: true });
  if (!parsed.ok) throw new Error(`settlement files: ${field} ${parsed.reason}`);
  return parsed.money.minor;
}

function txnId(eventId: string, category: string): string {
  return `txn_${sha256Hex(`${eventId}/${category}`).slice(0, 24)}`;
}

function draftsOf(events: readonly Event[]): { rows: ProcessorRowDraft[]; lines: BankLineDraft[] } {
  const transfers = new Map<string, string>();
  const rows: ProcessorRowDraft[] = [];
  const lines: BankLineDraft[] = [];
  for (const event of events) {
    const data = event.data;
    const currency = String(data.currency);
    if (!isCurrencyCode(currency)) continue;
    const minor = (field: string) => minorOf(data, field, currency);
    const row = (category: string, sourceId: unknown, grossMinor: bigint, feeMinor: bigint) => {
      if (grossMinor === 0n && feeMinor === 0n) return;
      rows.push({ id: txnId(event.eventId, category), createdMs: Math.floor(event.occurredMs / 1000) * 1000,
        currency, grossMinor, feeMinor, category, sourceId: String(sourceId), eventId: event.eventId });
    };
    switch (event.type) {
      case 'payment.captured': row('charge', data.processor_ref, minor('total'), minor('processor_fee')); break;
      case 'payment.refunded': row('refund', data.processor_ref, -minor('total'), 0n); break;
      case 'deposit.released': row('refund', data.processor_ref, -minor('amount'), 0n); break;
      case 'dispute.opened': row('dispute', data.processor_ref, -minor('amount'), minor('dispute_fee')); break;
      case 'dispute.won': row('dispute_reversal', data.processor_ref, minor('amount'), 0n); break;
      case 'payout.paid':
        transfers.set(String(data.payout_id), String(data.processor_ref));
        row('transfer', data.processor_ref, -minor('amount'), 0n);
        break;
      case 'payout.failed': row('transfer_reversal', transfers.get(String(data.payout_id)), minor('amount'), 0n); break;
      case 'processor.payout':
        row('payout', data.processor_payout_id, -minor('amount'), 0n);
        lines.push(payoutLine(event, currency, minor('amount')));
        break;
      case 'tax.remitted':
        lines.push({ bookingDay: Math.floor(event.occurredMs / dayMs), currency, amountMinor: -minor('amount'),
          reference: String(data.remittance_id), description: `TAX ${String(data.market)} ${String(data.period)}`,
          eventId: event.eventId, category: 'tax_remittance', arrivalDay: null });
        break;
      default:
        break;
    }
  }
  lines.sort((a, b) => a.bookingDay - b.bookingDay);
  return { rows, lines };
}

function payoutLine(event: Event, currency: CurrencyCode, amountMinor: bigint): BankLineDraft {
  const arrivalDay = Date.parse(`${String(event.data.arrival_date)}T00:00:00Z`) / dayMs;
  const processor = String(event.data.processor).toUpperCase();
  return {
    bookingDay: arrivalDay, currency, amountMinor, reference: String(event.data.processor_payout_id),
    description: `${processor} PAYOUT`, eventId: event.eventId, category: 'payout', arrivalDay,
  };
}

type Injected = {
  expected: Omit<ExpectedBreak, 'line' | 'xmlLine'>;
  row: ProcessorRowDraft | null;
  bankLine: BankLineDraft | null;
};

type FaultContext = SettlementOptions & { endDay: number };

function pick<T>(fault: string, eligible: readonly T[], context: FaultContext): T {
  if (eligible.length === 0) throw new Error(`settlement files: nothing to inject ${fault} into by ${context.date}`);
  return eligible[new Rng(context.seed ?? 1, `settlement-${fault}`).below(eligible.length)] as T;
}

function injectFaults(
  rows: ProcessorRowDraft[], lines: BankLineDraft[], events: readonly Event[], context: FaultContext,
): Injected[] {
  const faults = context.faults ?? {};
  const graceMs = (context.graceDays ?? 2) * dayMs;
  const endMs = (context.endDay + 1) * dayMs;
  const effectiveMs = new Map(events.map((e) => [e.eventId, e.occurredMs]));
  const injected: Injected[] = [];
  const expect = (fault: keyof SettlementFaults, outcome: ExpectedBreak['outcome'], source: ExpectedBreak['source'],
    at: { category: string; reference: string; eventId: string | null },
    row: ProcessorRowDraft | null, bankLine: BankLineDraft | null) => {
    injected.push({ expected: { fault, outcome, source, ...at }, row, bankLine });
  };
  if (faults.amountMismatch === true) {
    const row = pick('amountMismatch', rows.filter((r) => r.category === 'charge'), context);
    row.grossMinor += 100n;
    expect('amountMismatch', 'amount_mismatch', 'processor',
      { category: 'charge', reference: row.sourceId, eventId: row.eventId }, row, null);
  }
  if (faults.chargeMissingFromJournal === true) {
    const row = strayCharge(context);
    rows.splice(rows.findIndex((r) => r.createdMs > row.createdMs) >>> 0, 0, row);
    expect('chargeMissingFromJournal', 'missing_in_ledger', 'processor',
      { category: 'charge', reference: row.sourceId, eventId: null }, row, null);
  }
  if (faults.entryMissingFromFile === true) {
    const row = pick('entryMissingFromFile', rows.filter((r) => r.category === 'refund' &&
      (effectiveMs.get(r.eventId) ?? endMs) + graceMs <= endMs), context);
    rows.splice(rows.indexOf(row), 1);
    expect('entryMissingFromFile', 'missing_externally', 'processor',
      { category: 'refund', reference: row.sourceId, eventId: row.eventId }, null, null);
  }
  if (faults.duplicateRow === true) {
    const row = pick('duplicateRow', rows.filter((r) => r.category === 'transfer'), context);
    const copy = { ...row };
    rows.splice(rows.indexOf(row) + 1, 0, copy);
    expect('duplicateRow', 'duplicate_external', 'processor',
      { category: 'transfer', reference: row.sourceId, eventId: null }, copy, null);
  }
  if (faults.bankLineOutsideTolerance === true) injectBankDate(lines, context, expect);
  return injected;
}

function strayCharge(context: FaultContext): ProcessorRowDraft {
  const tag = sha256Hex(`stray charge ${context.seed ?? 1} ${context.date}`);
  return {
    id: `txn_${tag.slice(0, 24)}`, createdMs: context.endDay * dayMs + 12 * 3_600_000, currency: 'USD',
    grossMinor: 12_345n, feeMinor: 388n, category: 'charge', sourceId: `ch_${tag.slice(24, 48)}`, eventId: '',
  };
}

function injectBankDate(lines: BankLineDraft[], context: FaultContext, expect: (
  fault: keyof SettlementFaults, outcome: ExpectedBreak['outcome'], source: ExpectedBreak['source'],
  at: { category: string; reference: string; eventId: string | null },
  row: ProcessorRowDraft | null, bankLine: BankLineDraft | null) => void): void {
  const shiftDays = (context.toleranceDays ?? 3) + 2;
  const line = pick('bankLineOutsideTolerance', lines.filter((l) => l.arrivalDay !== null &&
    l.arrivalDay + shiftDays <= context.endDay), context);
  line.bookingDay = (line.arrivalDay as number) + shiftDays;
  lines.sort((a, b) => a.bookingDay - b.bookingDay);
  const at = { category: 'payout', reference: line.reference };
  expect('bankLineOutsideTolerance', 'missing_in_ledger', 'bank', { ...at, eventId: null }, null, line);
  expect('bankLineOutsideTolerance', 'missing_externally', 'bank', { ...at, eventId: line.eventId }, null, null);
}

function decimal(minor: bigint, currency: CurrencyCode): string {
  return minorToDecimalString(minor, currencies[currency].exponent);
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function dayDate(day: number): string {
  return new Date(day * dayMs).toISOString().slice(0, 10);
}

function processorCsv(rows: readonly ProcessorRowDraft[]): string {
  const out = ['balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id'];
  for (const r of rows) {
    out.push([r.id, utcTime(r.createdMs), utcTime(r.createdMs + 2 * dayMs), r.currency.toLowerCase(),
      decimal(r.grossMinor, r.currency), decimal(r.feeMinor, r.currency), decimal(r.grossMinor - r.feeMinor, r.currency),
      r.category, r.sourceId].map(csvField).join(','));
  }
  return `${out.join('\n')}\n`;
}

function bankCsv(lines: readonly BankLineDraft[]): string {
  const out = ['booking_date,value_date,amount,currency,reference,description'];
  for (const l of lines) {
    out.push([dayDate(l.bookingDay), dayDate(l.bookingDay), decimal(l.amountMinor, l.currency), l.currency,
      l.reference, l.description].map(csvField).join(','));
  }
  return `${out.join('\n')}\n`;
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One statement per currency (a camt.053 Stmt is one account), each entry on its own lines. */
function camt053(lines: readonly BankLineDraft[], date: string): { text: string; lines: Map<BankLineDraft, number> } {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">', '  <BkToCstmrStmt>',
    `    <GrpHdr><MsgId>STMT-${date}</MsgId><CreDtTm>${date}T23:59:59</CreDtTm></GrpHdr>`];
  const at = new Map<BankLineDraft, number>();
  for (const currency of Object.keys(currencies) as CurrencyCode[]) {
    const own = lines.filter((l) => l.currency === currency);
    if (own.length === 0) continue;
    out.push('    <Stmt>', `      <Id>STMT-${date}-${currency}</Id>`, `      <CreDtTm>${date}T23:59:59</CreDtTm>`,
      `      <Acct><Id><Othr><Id>OPERATING-${currency}</Id></Othr></Id><Ccy>${currency}</Ccy></Acct>`);
    for (const l of own) {
      at.set(l, out.length + 1);
      const amount = decimal(l.amountMinor < 0n ? -l.amountMinor : l.amountMinor, currency);
      out.push('      <Ntry>', `        <Amt Ccy="${currency}">${amount}</Amt>`,
        `        <CdtDbtInd>${l.amountMinor < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd>`, '        <Sts>BOOK</Sts>',
        `        <BookgDt><Dt>${dayDate(l.bookingDay)}</Dt></BookgDt>`,
        `        <ValDt><Dt>${dayDate(l.bookingDay)}</Dt></ValDt>`,
        `        <NtryDtls><TxDtls><Refs><EndToEndId>${xmlText(l.reference)}</EndToEndId></Refs></TxDtls></NtryDtls>`,
        `        <AddtlNtryInf>${xmlText(l.description)}</AddtlNtryInf>`, '      </Ntry>');
    }
    out.push('    </Stmt>');
  }
  out.push('  </BkToCstmrStmt>', '</Document>');
  return { text: `${out.join('\n')}\n`, lines: at };
}
