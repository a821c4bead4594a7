// One reconciliation run for a date (RECONCILIATION.md): the journal's items indexed, the
// processor file and the bank statement streamed through the matcher, what nobody claimed
// judged, breaks carried from the preceding run, the integrity checks, and the record
// stored whole. Branching lives here; the rules live in match.ts and breaks.ts.
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { carryBreaks } from './breaks.ts';
import { readCamt053 } from './camt053.ts';
import { integrityChecks, type Check } from './checks.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { readBankCsv, readProcessorCsv } from './csv-readers.ts';
import {
  digestFile, InputFileError, openInputText, readRefusal, type InputDigest, type TextPosition,
} from './input-file.ts';
import { loadLedgerItems, loadLineages } from './journal-items.ts';
import { reconLimits } from './limits.ts';
import { countInputRows } from './row-count.ts';
import { Matcher, type RowVerdict } from './match.ts';
import { isBadRow, parseDay } from './parse.ts';
import { breakRecord, outcomeTotals, type InputRecord, type RunRecord } from './record.ts';
import { insertRun, latestRunOf, priorBreaks, resolutionsOf } from './store.ts';
import {
  dayMs, type BadRow, type BankLine, type MatchSettings, type ProcessorRow, type Source,
} from './types.ts';

export type InputSpec = { readonly path: string; readonly format: 'csv' | 'camt053' };

export type RunRequest = {
  /** `YYYY-MM-DD`. */
  readonly date: string;
  readonly processor: InputSpec;
  readonly bank: InputSpec;
  /** A person, or a service identity such as `reconciliation-job`. */
  readonly requestedBy: string;
  readonly graceDays: number;
  readonly toleranceDays: number;
  readonly now: () => Date;
  /** The keys whose checkpoints and manifests the integrity checks accept (null: origin not checked). */
  readonly trusted?: TrustedKeys | null;
  /** Told of each row read from the two files, of the rows counted in them first (row-count.ts). */
  readonly onProgress?: (rowsRead: number, rowsTotal: number) => void;
};

export const defaultSettingsDays = { graceDays: 2, toleranceDays: 3 } as const;

/** The bank statement's format from its name: `.xml` is camt.053, anything else CSV. */
export function bankFormatOf(filePath: string): 'csv' | 'camt053' {
  return path.extname(filePath).toLowerCase() === '.xml' ? 'camt053' : 'csv';
}

export async function runReconciliation(pool: Pool, request: RunRequest): Promise<RunRecord> {
  const runDay = parseDay(request.date);
  if (runDay === null) throw new UserError('bad_flag', `--date ${JSON.stringify(request.date)} is not a date (YYYY-MM-DD)`);
  for (const days of [request.graceDays, request.toleranceDays]) {
    if (!Number.isInteger(days) || days < 0 || days > reconLimits.settingDaysMax) {
      throw new UserError('bad_config', `grace and tolerance must be whole days from 0 to ${reconLimits.settingDaysMax}`);
    }
  }
  const startedAt = request.now();
  const settings: MatchSettings = { runDay, graceDays: request.graceDays, toleranceDays: request.toleranceDays };
  const endMs = (runDay + 1) * dayMs;
  const matcher = new Matcher(settings);
  // The checks read the journal on their own connections while the files stream through
  // the matcher: PostgreSQL works on one core while JavaScript matches on the other.
  const checking = integrityChecks(pool, endMs, request.trusted ?? null);
  checking.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  const journal = await loadLedgerItems(pool, endMs, (item) => matcher.addLedgerItem(item));
  const offer = (row: ProcessorRow | BankLine): RowVerdict =>
    ('balanceTransactionId' in row ? matcher.offerProcessorRow(row) : matcher.offerBankLine(row));
  const onRow = await rowProgress(request);
  const processor = await readInput('processor', request.processor, offer, onRow);
  const bank = await readInput('bank', request.bank, offer, onRow);
  // A side whose file could not be read whole is not judged: what the file did not show
  // may be in the part that was not read.
  const unread = new Set([processor, bank].filter((i) => i.problem !== null).map((i) => i.role));
  const matched = matcher.finish(unread);
  const items = carryBreaks(matched.items, await priorBreaks(pool, runDay), runDay);
  const lineages = await loadLineages(pool, items.flatMap((i) => (i.ledger === null ? [] : [i.ledger])));
  const resolutions = await resolutionsOf(pool, [...new Set(items.map((i) => i.breakId))]);
  const checks: Check[] = [inputCheck([processor, bank]), ...await checking];
  const breaks = items.map((item) => breakRecord(item, resolutions.get(item.breakId) ?? null, lineages))
    .filter((b) => b.status !== 'pending');
  const breaksOpen = breaks.filter((b) => b.status === 'open').length;
  const record: RunRecord = {
    run_id: randomUUID(), date: request.date, requested_by: request.requestedBy,
    started_at: startedAt.toISOString(), finished_at: laterOf(startedAt, request.now()).toISOString(),
    supersedes: await latestRunOf(pool, runDay),
    params: { grace_days: request.graceDays, tolerance_days: request.toleranceDays },
    inputs: [processor, bank], watermark: journal.watermark, ...outcomeTotals(matched.tallies),
    breaks, breaks_open: breaksOpen, checks, ok: breaksOpen === 0 && checks.every((c) => c.ok),
  };
  await insertRun(pool, record, items, lineages);
  return record;
}

function laterOf(a: Date, b: Date): Date {
  return b.getTime() >= a.getTime() ? b : a;
}

type Counts = { rows: number; outside: number; notBooked: number; bad: number; badRows: BadRow[] };

/** Counts the files' rows first, then tells onProgress of each row read; nothing without onProgress. */
async function rowProgress(request: RunRequest): Promise<() => void> {
  const onProgress = request.onProgress;
  if (onProgress === undefined) return () => undefined;
  const total = await countInputRows(request.processor.path, request.processor.format) +
    await countInputRows(request.bank.path, request.bank.format);
  let read = 0;
  onProgress(0, total);
  return () => { read += 1; onProgress(read, total); };
}

async function readInput(
  role: Source, spec: InputSpec, offer: (row: ProcessorRow | BankLine) => RowVerdict, onRow: () => void,
): Promise<InputRecord> {
  const file = path.basename(spec.path);
  const counts: Counts = { rows: 0, outside: 0, notBooked: 0, bad: 0, badRows: [] };
  const base = { role, file, path: path.resolve(spec.path), format: spec.format };
  if (!existsSync(spec.path)) return inputRecord(base, counts, null, `${file} is missing (expected at ${base.path})`);
  const refused = notAFile(spec.path, file);
  if (refused !== null) return inputRecord(base, counts, null, refused);
  const input = openInputText(spec.path, file);
  const rows = role === 'processor' ? readProcessorCsv(input, file)
    : spec.format === 'camt053' ? readCamt053(input, file) : readBankCsv(input, file);
  try {
    for await (const row of rows) {
      counts.rows += 1;
      onRow();
      if ('skipped' in row) counts.notBooked += 1;
      else if (isBadRow(row)) {
        counts.bad += 1;
        if (counts.badRows.length < reconLimits.badRowsListedMax) counts.badRows.push(row);
      } else if (offer(row) === 'outside_window') counts.outside += 1;
    }
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    // The record still names the bytes it refused: the whole file is hashed again.
    return inputRecord(base, counts, await digestFile(spec.path), error.message, error.position);
  }
  return inputRecord(base, counts, input.digest(), null);
}

/** Why a path is no file to read (a folder, a device, no permission to look), or null. */
function notAFile(filePath: string, file: string): string | null {
  try {
    const stat = statSync(filePath);
    if (stat.isDirectory()) return `${file}: it is a directory, not a file`;
    return stat.isFile() ? null : `${file}: not a regular file`;
  } catch (error) {
    return `${file}: ${readRefusal(error)}`;
  }
}

function inputRecord(
  base: Pick<InputRecord, 'role' | 'file' | 'path' | 'format'>, counts: Counts,
  digest: InputDigest | null, problem: string | null, problemAt: TextPosition | null = null,
): InputRecord {
  return {
    ...base, sha256: digest?.sha256 ?? null, bytes: digest?.bytes ?? null, problem, problem_at: problemAt,
    rows: counts.rows,
    rows_outside_window: counts.outside, rows_not_booked: counts.notBooked, bad_rows_count: counts.bad,
    bad_rows: counts.badRows.map((b) => ({ file: b.file, line: b.line, column: b.column ?? null, reason: b.reason })),
  };
}

/** Every input present, readable, and without a bad row: else the run cannot vouch for that side. */
function inputCheck(inputs: readonly InputRecord[]): Check {
  const problems: string[] = [];
  for (const input of inputs) {
    if (input.problem !== null) problems.push(`${input.role}: ${input.problem}; its side was not reconciled`);
    if (input.bad_rows_count > 0) {
      const first = input.bad_rows[0];
      problems.push(`${input.role}: ${input.bad_rows_count} bad row(s) in ${input.file}` + (first === undefined ? ''
        : `, first at ${first.file}:${first.line}${first.column === null ? '' : `:${first.column}`}: ${first.reason}`));
    }
  }
  if (problems.length === 0) {
    return { name: 'input_files', ok: true, detail: inputs.map((i) => `${i.file}: ${i.rows} rows read`).join('; ') };
  }
  return { name: 'input_files', ok: false, detail: problems.join('; ') };
}
