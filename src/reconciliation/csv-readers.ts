// The processor balance file and the bank statement (CSV), read as streams: each record
// becomes a typed row or a bad row (file, line, reason), in file order, one at a time.
// A file whose header lacks a column the contract names, or cannot be split, cannot be read
// at all: that is an InputFileError (with its line and column when known), which the run
// records as a failed check.
import { csvRecords } from './csv.ts';
import { InputFileError, type InputText } from './input-file.ts';
import { reconLimits } from './limits.ts';
import {
  bankColumns, parseBankRow, parseProcessorRow, processorColumns, type RowValues,
} from './parse.ts';
import type { BadRow, BankLine, FilePosition, ProcessorRow } from './types.ts';

export function readProcessorCsv(input: InputText, file: string): AsyncGenerator<ProcessorRow | BadRow> {
  return readCsv(input, file, processorColumns, parseProcessorRow);
}

export function readBankCsv(input: InputText, file: string): AsyncGenerator<BankLine | BadRow> {
  return readCsv(input, file, bankColumns, parseBankRow);
}

async function* readCsv<C extends string, T>(
  input: InputText, file: string, columns: readonly C[],
  parse: (values: RowValues<C>, at: FilePosition) => T | BadRow,
): AsyncGenerator<T | BadRow> {
  let positions: Map<C, number> | null = null;
  let headerWidth = 0;
  let rows = 0;
  for await (const record of csvRecords(input.chunks)) {
    if (positions === null) {
      if (record.error !== undefined) {
        const at = record.column === null ? null : { line: record.line, column: record.column };
        throw InputFileError.at(file, at, `the header row is unreadable: ${record.error}`);
      }
      positions = headerPositions(record.fields, columns, file, record.line);
      headerWidth = record.fields.length;
      continue;
    }
    rows += 1;
    if (rows > reconLimits.fileRowsMax) {
      throw InputFileError.at(file, { line: record.line, column: 1 }, `more than ${reconLimits.fileRowsMax} rows`);
    }
    const at = { file, line: record.line };
    if (record.error !== undefined) {
      yield record.column === null ? { file, line: record.line, reason: record.error }
        : { file, line: record.line, column: record.column, reason: record.error };
    } else if (record.fields.length !== headerWidth) {
      yield { ...at, reason: `has ${record.fields.length} columns; the header has ${headerWidth}` };
    } else {
      yield parse(valuesOf(record.fields, positions), at);
    }
  }
  if (positions === null) throw InputFileError.at(file, null, 'the file is empty (no header row)');
}

function headerPositions<C extends string>(
  header: readonly string[], columns: readonly C[], file: string, line: number,
): Map<C, number> {
  const names = header.map((name) => name.trim().toLowerCase());
  const positions = new Map<C, number>();
  const missing: string[] = [];
  for (const column of columns) {
    const index = names.indexOf(column);
    if (index < 0) missing.push(column);
    else positions.set(column, index);
  }
  if (missing.length > 0) {
    throw InputFileError.at(file, { line, column: 1 }, `the header lacks the column(s) ${missing.join(', ')}`);
  }
  return positions;
}

function valuesOf<C extends string>(fields: readonly string[], positions: ReadonlyMap<C, number>): RowValues<C> {
  const values = {} as Record<C, string>;
  for (const [column, index] of positions) values[column] = fields[index] as string;
  return values;
}
