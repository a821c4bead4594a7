// ISO 20022 camt.053 bank statements (BkToCstmrStmt), read as a stream with saxes: each
// booked entry (Ntry) becomes a bank line, in document order, with the line its <Ntry>
// opens on. Only the entry's own fields are held, each bounded, so memory stays flat
// whatever the statement's size. Any version of camt.053 (.001.02 to .001.13) reads the
// same: element names are compared without their namespace prefix.
//
// What is read (docs/contract-readings, reconciliation): amount = Amt, signed by
// CdtDbtInd (CRDT positive, DBIT negative), currency = Amt/@Ccy, booking date =
// BookgDt/Dt (or the date of BookgDt/DtTm), reference = the first of TxDtls/Refs/EndToEndId
// (unless NOTPROVIDED), TxDtls/RmtInf/Ustrd, NtryRef; description = AddtlNtryInf. Entries
// whose status (Sts or Sts/Cd) is not BOOK are not booked lines and are skipped.
//
// A file that is not a camt.053 statement is refused whole, with its line and column: XML
// that is not well-formed (a truncated file), a root other than <Document> holding
// <BkToCstmrStmt>, or any DOCTYPE. A statement has no DTD, and refusing one refuses every
// entity declaration with it: nothing external is fetched, nothing is expanded.
import { SaxesParser } from 'saxes';
import { InputFileError, type InputText, type TextPosition } from './input-file.ts';
import { reconLimits } from './limits.ts';
import { badRow, parseCurrency, parseDay, parseUnsignedMinor } from './parse.ts';
import type { BadRow, BankLine, FilePosition } from './types.ts';

/** A statement entry that is not a booked line (pending or information only). */
export type SkippedEntry = FilePosition & { readonly skipped: string };

type EntryFields = {
  line: number;
  currency: string;
  texts: Map<string, string>;
};

/** Paths inside <Ntry> whose text is kept. */
const keptPaths = new Set([
  'Amt', 'CdtDbtInd', 'Sts', 'Sts/Cd', 'BookgDt/Dt', 'BookgDt/DtTm', 'ValDt/Dt', 'NtryRef', 'AddtlNtryInf',
  'NtryDtls/TxDtls/Refs/EndToEndId', 'NtryDtls/TxDtls/RmtInf/Ustrd',
]);

export async function* readCamt053(input: InputText, file: string): AsyncGenerator<BankLine | BadRow | SkippedEntry> {
  const parser = new SaxesParser({ position: true });
  const ready: (BankLine | BadRow | SkippedEntry)[] = [];
  const path: string[] = [];
  let entry: EntryFields | null = null;
  let entryDepth = -1;
  let text = '';
  let entries = 0;
  let statement = false;
  const here = () => ({ line: parser.line, column: parser.column });
  parser.on('doctype', () => {
    throw InputFileError.at(file, here(), 'a DOCTYPE is refused: a camt.053 statement has none, and its ' +
      'entities are never read or expanded; the rest of the file was not read');
  });
  parser.on('opentag', (tag) => {
    const name = localName(tag.name);
    path.push(name);
    if (path.length <= 2) expectStatement(path, file, here());
    if (name === 'BkToCstmrStmt') statement = true;
    text = '';
    if (name === 'Ntry' && entry === null) {
      entry = { line: parser.line, currency: '', texts: new Map() };
      entryDepth = path.length;
    } else if (entry !== null && name === 'Amt' && path.length === entryDepth + 1) {
      const ccy = tag.attributes.Ccy;
      entry.currency = typeof ccy === 'string' ? ccy : '';
    }
  });
  parser.on('text', (chunk) => {
    if (entry !== null && text.length + chunk.length <= reconLimits.rowCharsMax) text += chunk;
  });
  parser.on('closetag', () => {
    if (entry !== null) {
      if (path.length === entryDepth) {
        entries += 1;
        ready.push(toBankLine(entry, file));
        entry = null;
      } else {
        const inner = path.slice(entryDepth).join('/');
        if (keptPaths.has(inner)) entry.texts.set(inner, text.trim());
      }
    }
    path.pop();
    text = '';
  });
  try {
    for await (const chunk of input.chunks) {
      parser.write(chunk);
      yield* ready;
      ready.length = 0;
      if (entries > reconLimits.fileRowsMax) {
        throw InputFileError.at(file, here(), `more than ${reconLimits.fileRowsMax} entries`);
      }
    }
    parser.close();
  } catch (error) {
    yield* ready; // the entries read before the fault were read whole
    if (error instanceof InputFileError) throw error;
    throw notWellFormed(error, file, here());
  }
  yield* ready;
  if (!statement) throw InputFileError.at(file, here(), 'not a camt.053 statement (no BkToCstmrStmt element)');
}

/** The root must be <Document> and hold <BkToCstmrStmt> (camt.052 or pain.001 are not statements). */
function expectStatement(path: readonly string[], file: string, at: TextPosition): void {
  if (path.length === 1 && path[0] !== 'Document') {
    throw InputFileError.at(file, at, `the root element is <${path[0]}>, not the <Document> of a camt.053 statement`);
  }
  if (path.length === 2 && path[1] !== 'BkToCstmrStmt') {
    throw InputFileError.at(file, at, `<Document> holds <${path[1]}>, not <BkToCstmrStmt>: not a camt.053 statement`);
  }
}

/** saxes says `line:column: reason`; the reason, with the place it stopped. */
function notWellFormed(error: unknown, file: string, at: TextPosition): InputFileError {
  const message = (error as Error).message.split('\n')[0] ?? 'unreadable';
  const found = /^(\d+):(\d+): (.*)$/.exec(message);
  const position = found === null ? at : { line: Number(found[1]), column: Number(found[2]) };
  const reason = found === null ? message : found[3];
  return InputFileError.at(file, position, `the XML is not well-formed (${reason}); the rest of the file was not read`);
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function toBankLine(entry: EntryFields, file: string): BankLine | BadRow | SkippedEntry {
  const at = { file, line: entry.line };
  const texts = entry.texts;
  const status = texts.get('Sts/Cd') ?? texts.get('Sts') ?? 'BOOK';
  if (status !== 'BOOK') return { ...at, skipped: `status ${status} is not booked` };
  const booking = texts.get('BookgDt/Dt') ?? texts.get('BookgDt/DtTm')?.slice(0, 10) ?? '';
  const bookingDay = parseDay(booking);
  if (bookingDay === null) return badRow(at, `BookgDt ${JSON.stringify(booking)} is not a date`);
  const currency = parseCurrency(entry.currency, 'upper');
  if (!currency.ok) return badRow(at, `Amt/@Ccy: ${currency.reason}`);
  const amount = parseUnsignedMinor(texts.get('Amt') ?? '', currency.value, 'Amt');
  if (!amount.ok) return badRow(at, amount.reason);
  const direction = texts.get('CdtDbtInd');
  if (direction !== 'CRDT' && direction !== 'DBIT') {
    return badRow(at, `CdtDbtInd ${JSON.stringify(direction ?? '')} is neither CRDT nor DBIT`);
  }
  return {
    file: at.file, line: at.line, bookingDay, currency: currency.value,
    amountMinor: direction === 'CRDT' ? amount.value : -amount.value,
    reference: referenceOf(texts), description: texts.get('AddtlNtryInf') ?? '',
  };
}

function referenceOf(texts: ReadonlyMap<string, string>): string {
  const endToEnd = texts.get('NtryDtls/TxDtls/Refs/EndToEndId');
  if (endToEnd !== undefined && endToEnd !== '' && endToEnd !== 'NOTPROVIDED') return endToEnd;
  return texts.get('NtryDtls/TxDtls/RmtInf/Ustrd') || texts.get('NtryRef') || '';
}
