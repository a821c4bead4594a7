// A reconciliation run with 1,000,000 processor rows against the journal they match:
// seconds and peak memory (targets: under 60 s, under 1 GB). The journal is built
// synthetically for speed but through the same tables the projector writes (raw archive,
// hash-chained entries with valid hashes, balanced lines, log partitions), so that every
// integrity check runs on it for real and passes. Mix: 60% charges, 20% refunds, 15%
// owner transfers, 5% processor payouts (each also a bank line).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { sha256Hex } from '../src/ledger/canonical.ts';
import { copyRows, type CopyValue } from '../src/db/copy.ts';
import { createPool } from '../src/db/database.ts';
import { entryIdFor, genesisHash, sealEntry, type JournalEntry } from '../src/ledger/entry.ts';
import { fromMinor, minorToDecimalString } from '../src/ledger/money.ts';
import type { Line } from '../src/ledger/rules.ts';
import { integrityChecks } from '../src/reconciliation/checks.ts';
import { runReconciliation } from '../src/reconciliation/run.ts';
import { benchDatabase, nowMs, perSecond, type BenchDatabase } from './support.ts';

const rowsWanted = 1_000_000;
const partitions = 4;
const topic = 'marketplace.events';
const batchEntries = 25_000;
const monthStartMs = Date.parse('2026-10-01T00:00:00Z');
const spanMs = 30 * 86_400_000;
const runDate = '2026-10-31';

type Synthetic = { entry: JournalEntry; value: string; csvRow: string; bankRow: string | null };

/** The heap a run gets in the measured child process: the target is under 1 GiB in all. */
const childHeapMiB = 768;

export async function benchReconcile(): Promise<void> {
  const db = await benchDatabase();
  try {
    const setupStarted = nowMs();
    const files = await buildJournalAndFiles(db);
    const setupMs = nowMs() - setupStarted;
    const child = await runInChild(db.serviceUrl, files);
    const checksStarted = nowMs();
    await integrityChecks(db.pool, Date.parse('2026-11-01T00:00:00Z'), null);
    const checksMs = nowMs() - checksStarted;
    process.stdout.write([
      `data: ${rowsWanted} processor rows and ${files.bankLines} bank lines against ${rowsWanted} journal entries ` +
        `(${files.lines} lines); setup ${(setupMs / 1000).toFixed(1)} s`,
      `outcomes: ${child.outcomes}`,
      `checks: ${child.failed.length === 0 ? 'all ok' : child.failed.join('; ')}`,
      `reconcile run (its own process, heap capped at ${childHeapMiB} MiB): ${(child.runMs / 1000).toFixed(1)} s ` +
        `(${perSecond(rowsWanted, child.runMs)} processor rows/s); the integrity checks alone take ` +
        `${(checksMs / 1000).toFixed(1)} s of it (they run beside the matching)`,
      `peak memory of that process: rss ${mib(child.maxRssBytes)} MiB`,
      `targets: under 60 s (${child.runMs < 60_000 ? 'met' : 'NOT met'}), under 1 GiB ` +
        `(${child.maxRssBytes < 2 ** 30 ? 'met' : 'NOT met'})`,
    ].join('\n') + '\n');
  } finally {
    await db.close();
  }
}

type ChildResult = { runMs: number; maxRssBytes: number; outcomes: string; failed: string[] };

/** Runs the reconciliation in a fresh process, so that its peak memory is its own. */
async function runInChild(url: string, files: { processor: string; bank: string }): Promise<ChildResult> {
  const script = `import('${path.join(import.meta.dirname, 'reconcile.ts')}').then((m) => m.childRun())`;
  const child = spawn(process.execPath, [`--max-old-space-size=${childHeapMiB}`, '--import', 'tsx', '-e', script], {
    env: { ...process.env, BENCH_RECON_URL: url, BENCH_RECON_PROCESSOR: files.processor, BENCH_RECON_BANK: files.bank },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  if (code !== 0) throw new Error(`the reconcile process exited with ${code}: ${output}`);
  return JSON.parse(output) as ChildResult;
}

/** The measured process: one run, as the service role, then its figures on stdout. */
export async function childRun(): Promise<void> {
  const pool = createPool(process.env.BENCH_RECON_URL as string, null, 4);
  try {
    const started = nowMs();
    const run = await runReconciliation(pool, {
      date: runDate, processor: { path: process.env.BENCH_RECON_PROCESSOR as string, format: 'csv' },
      bank: { path: process.env.BENCH_RECON_BANK as string, format: 'csv' }, requestedBy: 'bench',
      graceDays: 2, toleranceDays: 3, now: () => new Date(),
    });
    const runMs = nowMs() - started;
    const result: ChildResult = {
      runMs, maxRssBytes: process.resourceUsage().maxRSS * 1024,
      outcomes: Object.entries(run.outcomes).map(([o, t]) => `${o} ${t.count}`).join(', '),
      failed: run.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
    };
    process.stdout.write(JSON.stringify(result));
  } finally {
    await pool.end();
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}

async function buildJournalAndFiles(db: BenchDatabase) {
  const processor = path.join(db.dataDir, `processor-${runDate}.csv`);
  const bank = path.join(db.dataDir, `bank-${runDate}.csv`);
  const processorOut = createWriteStream(processor);
  const bankOut = createWriteStream(bank);
  processorOut.write('balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id\n');
  bankOut.write('booking_date,value_date,amount,currency,reference,description\n');
  await db.adminPool.query(`SELECT ledger.ensure_line_partition('2026-10-01')`);
  const heads = Array.from({ length: partitions }, () => genesisHash);
  let lines = 0;
  let bankLines = 0;
  for (let first = 0; first < rowsWanted; first += batchEntries) {
    const batch: Synthetic[] = [];
    for (let index = first; index < Math.min(first + batchEntries, rowsWanted); index += 1) {
      const made = synthetic(index, heads[index % partitions] as string);
      heads[index % partitions] = made.entry.hash;
      batch.push(made);
      lines += made.entry.lines.length;
    }
    await writeBatch(db, batch);
    const csv = batch.map((s) => s.csvRow).join('');
    if (!processorOut.write(csv)) await once(processorOut, 'drain');
    const bankText = batch.flatMap((s) => (s.bankRow === null ? [] : [s.bankRow])).join('');
    bankLines += bankText.split('\n').length - 1;
    if (!bankOut.write(bankText)) await once(bankOut, 'drain');
  }
  processorOut.end();
  bankOut.end();
  await Promise.all([once(processorOut, 'finish'), once(bankOut, 'finish')]);
  for (let partition = 0; partition < partitions; partition += 1) {
    const count = Math.ceil((rowsWanted - partition) / partitions);
    await db.adminPool.query(`INSERT INTO ledger.log_partitions (topic, partition, next_offset, chain_seq, chain_head)
      VALUES ($1, $2, $3, $3, $4)`, [topic, partition, count, Buffer.from(heads[partition] as string, 'hex')]);
  }
  await db.adminPool.query('ANALYZE');
  return { processor, bank, lines, bankLines };
}

async function writeBatch(db: BenchDatabase, batch: readonly Synthetic[]): Promise<void> {
  const client = await db.adminPool.connect();
  try {
    await client.query('BEGIN');
    await copyRows(client, 'ledger.raw_messages', ['topic', 'partition', 'offset', 'key', 'value', 'log_timestamp',
      'value_sha256', 'outcome'], batch.map((s): CopyValue[] => [topic, s.entry.position.partition,
      s.entry.position.offset, null, Buffer.from(s.value), s.entry.effectiveAt, Buffer.from(sha256Hex(s.value), 'hex'),
      'posted']));
    await copyRows(client, 'ledger.journal_entries', ['entry_id', 'event_id', 'event_type', 'topic', 'partition',
      'offset', 'chain_seq', 'effective_at', 'booked_period', 'late', 'rule', 'rule_version', 'payload_sha256',
      'subject_currency', 'prev_hash', 'entry_hash', 'line_count'], batch.map(({ entry: e }): CopyValue[] => [
      e.entryId, e.eventId, e.eventType, topic, e.position.partition, e.position.offset, e.chainSeq, e.effectiveAt,
      '2026-10-01', false, e.rule, e.ruleVersion, Buffer.from(e.payloadSha256, 'hex'), 'USD',
      Buffer.from(e.prevHash, 'hex'), Buffer.from(e.hash, 'hex'), e.lines.length]));
    await copyRows(client, 'ledger.journal_lines', ['entry_id', 'line_no', 'booked_period', 'effective_at', 'account',
      'side', 'amount_minor', 'currency', 'owner_id', 'rental_id', 'driver_id', 'market', 'processor'],
    batch.flatMap(({ entry: e }) => e.lines.map((l, n): CopyValue[] => [e.entryId, n + 1, '2026-10-01', e.effectiveAt,
      l.account, l.side, l.amount.minor, 'USD', l.dims.owner_id ?? null, l.dims.rental_id ?? null, null,
      l.dims.market ?? null, l.dims.processor ?? null])));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

function line(account: string, side: 'debit' | 'credit', minor: bigint, dims: Line['dims']): Line {
  return { account, side, amount: fromMinor('USD', minor), dims };
}

/** Entry `index` of the synthetic journal, its archived message, its processor row and bank line. */
function synthetic(index: number, prevHash: string): Synthetic {
  const position = { topic, partition: index % partitions, offset: Math.floor(index / partitions) };
  const effectiveMs = monthStartMs + Math.floor((index * spanMs) / rowsWanted);
  const iso = new Date(effectiveMs).toISOString();
  const effectiveAt = `${iso.slice(0, 23)}000Z`;
  const created = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const available = new Date(effectiveMs + 2 * 86_400_000).toISOString();
  const totalMinor = 10_000n + BigInt(index % 5_000);
  const stripe = { processor: 'stripe' };
  const owner = { owner_id: `o_${Math.floor(index / 20) % 1_000}` };
  const kind = index % 20;
  let type: string;
  let data: Record<string, string>;
  let lines: Line[];
  let row: { category: string; id: string; grossMinor: bigint; feeMinor: bigint };
  let bankRow: string | null = null;
  if (kind < 12) {
    const feeMinor = (totalMinor * 3n) / 100n;
    const commissionMinor = totalMinor / 5n;
    type = 'payment.captured';
    data = { processor_ref: `ch_${index}`, currency: 'USD', total: money(totalMinor), processor_fee: money(feeMinor) };
    lines = [line('1100', 'debit', totalMinor - feeMinor, stripe), line('5000', 'debit', feeMinor, stripe),
      line('2300', 'credit', commissionMinor, { rental_id: `r_${index}`, market: 'US-CA' }),
      line('2010', 'credit', totalMinor - commissionMinor, owner)];
    row = { category: 'charge', id: `ch_${index}`, grossMinor: totalMinor, feeMinor };
  } else if (kind < 19) {
    const refund = kind < 16;
    const amountMinor = refund ? totalMinor / 2n : totalMinor / 3n;
    const id = `${refund ? 're' : 'tr'}_${index}`;
    type = refund ? 'payment.refunded' : 'payout.paid';
    data = { processor_ref: id, currency: 'USD', total: money(amountMinor) };
    lines = [line('2010', 'debit', amountMinor, owner), line('1100', 'credit', amountMinor, stripe)];
    row = { category: refund ? 'refund' : 'transfer', id, grossMinor: -amountMinor, feeMinor: 0n };
  } else {
    const amountMinor = totalMinor * 10n;
    const arrival = new Date(effectiveMs + 86_400_000).toISOString().slice(0, 10);
    type = 'processor.payout';
    data = { processor_payout_id: `po_${index}`, currency: 'USD', amount: money(amountMinor), arrival_date: arrival };
    lines = [line('1000', 'debit', amountMinor, {}), line('1100', 'credit', amountMinor, stripe)];
    row = { category: 'payout', id: `po_${index}`, grossMinor: -amountMinor, feeMinor: 0n };
    bankRow = `${arrival},${arrival},${money(amountMinor)},USD,po_${index},STRIPE PAYOUT\n`;
  }
  const eventId = `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
  const value = JSON.stringify({ event_id: eventId, type, schema_version: 1, occurred_at: iso, producer: 'bench', data });
  const entry = sealEntry({
    entryId: entryIdFor(position), eventId, eventType: type, position, chainSeq: position.offset + 1, effectiveAt,
    bookedPeriod: '2026-10', late: false, rule: type, ruleVersion: 1, payloadSha256: sha256Hex(value),
    subject: { currency: 'USD' }, lines, prevHash,
  });
  const csvRow = `txn_${index},${created},${available.slice(0, 10)} ${available.slice(11, 19)},usd,` +
    `${money(row.grossMinor)},${money(row.feeMinor)},${money(row.grossMinor - row.feeMinor)},${row.category},${row.id}\n`;
  return { entry, value, csvRow, bankRow };
}

function money(minor: bigint): string {
  return minorToDecimalString(minor, 2);
}
