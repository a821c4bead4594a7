// An input file that cannot be read is a recorded, failed run, never an abort: malformed
// or truncated camt.053 XML, a wrong root element, a DOCTYPE (XXE, entity expansion),
// bytes that are not UTF-8, a CSV whose header cannot be split or lacks columns, a folder
// and a file without read permission. Each run is stored in PostgreSQL with the
// `input_files` check failed and naming file:line:column (where the parser knows them);
// the side of that file is not judged while the other side still is. Through
// runReconciliation against real PostgreSQL, the nightly job's inbox, and
// `ledger reconcile --json`, which prints the usual report and exits 1.
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSigningKeyPem } from '../support/keys.ts';
import { generateSettlementFiles } from '../../src/generator/settlement-files.ts';
import { jobIdentity, runNightlyReconciliation } from '../../src/reconciliation/nightly.ts';
import type { RunRecord } from '../../src/reconciliation/record.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { bankHeader, capture } from './support.ts';

const date = '2026-10-31';

describe('unreadable input files give a recorded, failed run', () => {
  let ledger: TestLedger;
  let dir: string;
  let processorCsv: string;
  let bankCamt: string;

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 1 });
    const lines = [capture(1, '2026-10-01T10:00:00Z'), eventLine('processor.payout', '2026-10-03T03:00:00Z', {
      processor_payout_id: 'po_1', processor: 'stripe', currency: 'USD', amount: '-12.34', arrival_date: '2026-10-05' })];
    await ledger.publish(lines);
    await ledger.project();
    const files = generateSettlementFiles(lines, { date });
    processorCsv = files.processorCsv;
    bankCamt = files.bankCamt053;
    dir = await mkdtemp(path.join(os.tmpdir(), 'recon-unreadable-'));
    await chmod(dir, 0o755); // the permission case runs the command as another user
    await writeFile(path.join(dir, 'processor.csv'), processorCsv);
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function bankFile(name: string, content: string | Buffer): Promise<string> {
    const full = path.join(dir, name);
    await writeFile(full, content);
    return full;
  }

  const reconcile = (bank: string) => runReconciliation(ledger.db.pool, {
    date, processor: { path: path.join(dir, 'processor.csv'), format: 'csv' },
    bank: { path: bank, format: bank.endsWith('.xml') ? 'camt053' : 'csv' }, requestedBy: 'test',
    graceDays: 2, toleranceDays: 3, now: () => new Date('2026-11-01T02:00:00Z'),
  });

  /** The run as stored: its input check failed with `detail`, the processor side still reconciled. */
  async function expectRecordedFailure(run: RunRecord, detail: RegExp): Promise<void> {
    const stored = await ledger.db.pool.query<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }>(
      'SELECT ok, checks FROM ledger.reconciliation_runs WHERE run_id = $1', [run.run_id]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]!.ok).toBe(false);
    const input = stored.rows[0]!.checks.find((c) => c.name === 'input_files');
    expect(input?.ok).toBe(false);
    expect(input?.detail).toMatch(detail);
    expect(input?.detail).toMatch(/its side was not reconciled/);
    // The processor side is judged; the bank side's payout is not called missing.
    expect(run.outcomes.matched.count).toBe(2);
    expect(run.breaks.filter((b) => b.source === 'bank' && b.outcome === 'missing_externally')).toEqual([]);
  }

  it('names file, line and column for malformed, truncated and wrongly rooted camt.053', async () => {
    const cases: [string, string, RegExp][] = [
      ['mismatched.xml', bankCamt.replace('</Amt>', '</Amount>'),
        /bank: mismatched\.xml:\d+:\d+: the XML is not well-formed \(unexpected close tag/],
      ['truncated.xml', bankCamt.slice(0, Math.floor(bankCamt.length * 0.6)),
        /bank: truncated\.xml:\d+:\d+: the XML is not well-formed \(unclosed tag/],
      ['empty.xml', '', /bank: empty\.xml:1:0: the XML is not well-formed \(document must contain a root element/],
      ['invoice.xml', '<?xml version="1.0"?>\n<Invoice><Total>1</Total></Invoice>',
        /bank: invoice\.xml:2:9: the root element is <Invoice>, not the <Document> of a camt\.053 statement/],
      ['camt052.xml', '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">\n  <BkToCstmrAcctRpt/>',
        /bank: camt052\.xml:2:21: <Document> holds <BkToCstmrAcctRpt>, not <BkToCstmrStmt>/],
    ];
    for (const [name, content, detail] of cases) {
      const run = await reconcile(await bankFile(name, content));
      await expectRecordedFailure(run, detail);
      expect(run.inputs[1]).toMatchObject({ file: name, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
  });

  it('refuses a DOCTYPE: an external entity is never read, an entity never expanded', async () => {
    const xxe = `<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
      `<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>`;
    const laughs = `<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
      `<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n` +
      `<Document><BkToCstmrStmt>&d;&d;&d;&d;</BkToCstmrStmt></Document>`;
    const undeclared = bankCamt.replace('<AddtlNtryInf>', '<AddtlNtryInf>&passwd;');
    for (const [name, content, detail] of [
      ['xxe.xml', xxe, /bank: xxe\.xml:2:\d+: a DOCTYPE is refused/],
      ['laughs.xml', laughs, /bank: laughs\.xml:1:\d+: a DOCTYPE is refused/],
      ['entity.xml', undeclared, /bank: entity\.xml:\d+:\d+: the XML is not well-formed \(undefined entity/],
    ] as const) {
      const run = await reconcile(await bankFile(name, content));
      await expectRecordedFailure(run, detail);
      expect(JSON.stringify(run)).not.toMatch(/root:x:0|aaaaaaaaaaaaaaaaaaaa/);
    }
  });

  it('names the first byte that is not UTF-8, in XML and in CSV', async () => {
    const [head, tail] = [bankCamt.slice(0, bankCamt.indexOf('</AddtlNtryInf>')), bankCamt.slice(bankCamt.indexOf('</AddtlNtryInf>'))];
    const latin1 = Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(tail)]); // é in ISO-8859-1
    const line = head.split('\n').length;
    const column = head.length - head.lastIndexOf('\n');
    await expectRecordedFailure(await reconcile(await bankFile('latin1.xml', latin1)),
      new RegExp(`bank: latin1\\.xml:${line}:${column}: the file is not UTF-8: a character broken off at byte 0x3C`));
    const csv = Buffer.concat([Buffer.from(`${bankHeader}\n2026-10-05,2026-10-05,-12.34,USD,po_1,PAY`),
      Buffer.from([0xff]), Buffer.from('OUT\n')]);
    await expectRecordedFailure(await reconcile(await bankFile('binary.csv', csv)),
      /bank: binary\.csv:2:42: the file is not UTF-8: byte 0xFF cannot start a character at byte 103/);
    const cut = Buffer.from(`${bankHeader}\n2026-10-05,2026-10-05,-12.34,USD,po_1,caf\u00e9`).subarray(0, -1);
    await expectRecordedFailure(await reconcile(await bankFile('cut.csv', cut)),
      /bank: cut\.csv:2:42: the file is not UTF-8: the file ends inside a character/);
    // U+FFFD written as UTF-8 is a character like any other: that file is read.
    const replacement = await reconcile(await bankFile('fffd.csv', `${bankHeader}\n2026-10-05,2026-10-05,-12.34,USD,po_1,PAYOUT \uFFFD\n`));
    expect(replacement.checks.find((c) => c.name === 'input_files')).toMatchObject({ ok: true });
    expect(replacement.outcomes.matched.count).toBe(3);
  });

  it('names the place a CSV stops being splittable, and a folder given as a file', async () => {
    await expectRecordedFailure(await reconcile(await bankFile('quote.csv', `booking_date,value_date,amount,currency,"reference\n`)),
      /bank: quote\.csv:1:41: the header row is unreadable: a quoted field is not closed before the end of the file/);
    await expectRecordedFailure(await reconcile(await bankFile('header.csv', 'booking_date,amount\n2026-10-05,1.00\n')),
      /bank: header\.csv:1:1: the header lacks the column\(s\) value_date, currency, reference, description/);
    await expectRecordedFailure(await reconcile(await bankFile('blank.csv', '')), /bank: blank\.csv: the file is empty/);
    const folder = path.join(dir, 'folder.csv');
    await mkdir(folder);
    await expectRecordedFailure(await reconcile(folder), /bank: folder\.csv: it is a directory, not a file/);
    // A stray quote in a row is a bad row with its column; the rest of the file is read.
    const run = await reconcile(await bankFile('stray.csv', `${bankHeader}\n2026-10-05,2026-10-05,-12.34,USD,po"1,PAYOUT\n`));
    expect(run.checks.find((c) => c.name === 'input_files')?.detail)
      .toMatch(/bank: 1 bad row\(s\) in stray\.csv, first at stray\.csv:2:36: a quote inside an unquoted field/);
    expect(run.inputs[1]?.bad_rows).toEqual([{ file: 'stray.csv', line: 2, column: 36, reason: 'a quote inside an unquoted field' }]);
  });

  it('the nightly job records a malformed statement from its inbox instead of failing', async () => {
    const inbox = path.join(dir, 'inbox');
    await mkdir(inbox, { recursive: true });
    await writeFile(path.join(inbox, `processor-${date}.csv`), processorCsv);
    await writeFile(path.join(inbox, `bank-${date}.xml`), bankCamt.slice(0, Math.floor(bankCamt.length * 0.6)));
    const run = await runNightlyReconciliation(ledger.db.pool, { dataDir: path.join(dir, 'nightly'), reconInboxDir: inbox,
      reconTimeUtc: '02:00', reconGraceDays: 2, reconToleranceDays: 3, signingKeyPem: null, trustedKeyFiles: [] },
    new Date('2026-11-01T02:00:00Z'));
    expect(run.requested_by).toBe(jobIdentity);
    await expectRecordedFailure(run, new RegExp(`bank: bank-${date}\\.xml:\\d+:\\d+: the XML is not well-formed`));
  });

  describe('through `ledger reconcile --json`', () => {
    const command = (bank: string, dataDir: string, asUser: { uid?: number; gid?: number } = {}) => spawnSync(
      process.execPath, ['bin/ledger.mjs', 'reconcile', '--date', date, '--processor', path.join(dir, 'processor.csv'),
        '--bank', bank, '--json'],
      // One signing key for every data dir here: the runs' reports are signed on one ledger.
      { env: { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: dataDir, KAFKA_BROKERS: '',
        LEDGER_SIGNING_KEY: testSigningKeyPem },
        encoding: 'utf8', ...asUser });

    function expectFailedReport(result: ReturnType<typeof command>, detail: RegExp) {
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      const printed = JSON.parse(result.stdout) as { run_id: string; outcomes: object; breaks: unknown[];
        checks: { name: string; ok: boolean; detail: string }[]; report: { files: Record<string, string> } };
      expect(printed).toMatchObject({ run_id: expect.any(String), outcomes: expect.any(Object), breaks: expect.any(Array) });
      expect(printed.checks.find((c) => c.name === 'input_files')).toMatchObject({ ok: false, detail: expect.stringMatching(detail) });
      expect(Object.keys(printed.report.files).sort()).toEqual(['csv', 'json', 'manifest', 'pdf', 'xlsx']);
      return printed;
    }

    it('records a malformed camt.053 and exits 1 with the report (it was exit 70 and no record)', async () => {
      const bank = await bankFile('broken-cli.xml', bankCamt.replace('<Stmt>', '<Stmt>\n  <Ntry></Stmt>'));
      const printed = expectFailedReport(command(bank, path.join(dir, 'data')), /bank: broken-cli\.xml:\d+:\d+: the XML is not well-formed/);
      const stored = await ledger.db.pool.query('SELECT 1 FROM ledger.reconciliation_runs WHERE run_id = $1', [printed.run_id]);
      expect(stored.rowCount).toBe(1);
    });

    it('records a bank file the command may not read', async () => {
      const data = path.join(dir, 'data-other');
      await mkdir(data, { recursive: true });
      const bank = await bankFile('secret.csv', `${bankHeader}\n`);
      await chmod(bank, 0o000);
      // Root reads any file: then the command runs as nobody, over a data folder it owns.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      if (asUser.uid !== undefined) await chown(data, asUser.uid, asUser.gid);
      expectFailedReport(command(bank, data, asUser), /bank: secret\.csv: cannot read the file: permission denied \(EACCES\)/);
    });
  });
});
