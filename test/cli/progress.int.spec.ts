// Progress as an operator sees it (issue 15): each long command run on a terminal shows
// counts, a rate and an ETA on stderr, one line rewritten in place, and a last line; the
// commands run under a real pseudo-terminal (util-linux `script`). With --json, or when
// stderr is no terminal, no progress appears and stdout is exactly what it always was.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSettlementFiles } from '../../src/generator/settlement-files.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
const number = (text: string | undefined) => Number((text ?? 'NaN').replaceAll(',', ''));

describe('progress on a terminal', () => {
  let ledger: TestLedger;
  let env: NodeJS.ProcessEnv;
  let events: string;
  let eventCount: number;

  /** The command with stdin, stdout and stderr on a pseudo-terminal, then redirected as `redirect` says (sh syntax). */
  function onTerminal(args: string[], redirect = '') {
    const command = [process.execPath, 'bin/ledger.mjs', ...args].map(quote).join(' ') + redirect;
    const result = spawnSync('script', ['-qfec', command, '/dev/null'], { env, encoding: 'utf8' });
    return { status: result.status, terminal: result.stdout };
  }
  const piped = (args: string[]) => spawnSync(process.execPath, ['bin/ledger.mjs', ...args], { env, encoding: 'utf8' });

  beforeAll(async () => {
    ledger = await createTestLedger();
    env = { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '' };
    events = path.join(ledger.dataDir, 'events.ndjson');
    const generated = piped(['events', 'generate', '--seed', '7', '--rentals', '300', '--month', '2026-10',
      '--out', events, '--json']);
    expect(generated.status, generated.stderr).toBe(0);
    eventCount = (JSON.parse(generated.stdout) as { events: number }).events;
  });
  afterAll(async () => ledger.close());

  it('publishes and projects with counts of a known total, a rate and an ETA, on stderr only', async () => {
    const out = path.join(ledger.dataDir, 'publish.out');
    const publish = onTerminal(['events', 'publish', events], ` >${quote(out)}`);
    expect(publish.status, publish.terminal).toBe(0);
    const total = eventCount.toLocaleString('en-US');
    expect(publish.terminal).toMatch(new RegExp(`\\rpublishing: ${total} of ${total} lines \\(100%\\)`));
    expect(publish.terminal).toMatch(new RegExp(`\\rpublishing: ${total} lines in [\\d.ms]+, [\\d,]+ lines/s`));
    // stdout went to the file: the usual sentence and nothing of the progress.
    expect(await readFile(out, 'utf8')).toBe(`published ${eventCount} lines of ${events} to marketplace.events\n`);

    const project = onTerminal(['project'], ` >${quote(out)}`);
    expect(project.status, project.terminal).toBe(0);
    // The total is known before the first batch: the log's end offsets minus the committed ones.
    expect(project.terminal).toMatch(new RegExp(`\\rprojecting: 0 of ${total} messages \\(0%\\)`));
    expect(project.terminal).toMatch(new RegExp(`\\rprojecting: ${total} messages in `));
    expect(project.terminal).toMatch(/messages\/s/);
    expect(await readFile(out, 'utf8')).toMatch(/^posted \d+, duplicates \d+, quarantined \d+\n$/);
  });

  it('verifies and renders a report with their totals, and ends each with a last line', () => {
    const verify = onTerminal(['verify'], ' >/dev/null');
    expect(verify.status, verify.terminal).toBe(0);
    const walked = /\rverifying: 0 of ([\d,]+) entries/.exec(verify.terminal);
    expect(walked, verify.terminal).not.toBeNull();
    expect(number(walked?.[1])).toBeGreaterThan(0);
    expect(verify.terminal).toContain(`\rverifying: ${walked?.[1]} entries in `);

    const report = onTerminal(['report', 'run', 'gl-detail', '--period', '2026-10'], ' >/dev/null');
    expect(report.status, report.terminal).toBe(0);
    const planned = /\rrendering: 0 of ([\d,]+) rows \(0%\)/.exec(report.terminal);
    expect(planned, report.terminal).not.toBeNull();
    // Every journal line of the month, once per format (json, csv, xlsx, pdf), and more: the figures' tables.
    expect(number(planned?.[1])).toBeGreaterThan(4 * 300);
    expect(report.terminal).toContain(`\rrendering: ${planned?.[1]} rows in `);
  });

  it('reconciles with the rows counted in its files first', async () => {
    const lines = (await readFile(events, 'utf8')).trim().split('\n');
    const files = generateSettlementFiles(lines, { date: '2026-10-31' });
    const processor = path.join(ledger.dataDir, 'processor.csv');
    const bank = path.join(ledger.dataDir, 'bank.xml');
    await writeFile(processor, files.processorCsv);
    await writeFile(bank, files.bankCamt053);
    const run = onTerminal(['reconcile', '--date', '2026-10-31', '--processor', processor, '--bank', bank], ' >/dev/null');
    const counted = /\rreconciling: 0 of ([\d,]+) rows/.exec(run.terminal);
    expect(counted, run.terminal).not.toBeNull();
    expect(number(counted?.[1])).toBeGreaterThan(0);
    // The count before reading is the count read: the ETA had the right total.
    expect(run.terminal).toContain(`\rreconciling: ${counted?.[1]} rows in `);
  });

  it('shows no progress with --json, nor when stderr is no terminal', () => {
    // --json on a terminal: the terminal shows the one JSON object and nothing else.
    const json = onTerminal(['verify', '--json']);
    expect(json.status, json.terminal).toBe(0);
    expect(json.terminal.endsWith('\r\n')).toBe(true);
    expect(json.terminal.trimEnd().split('\r\n')).toHaveLength(1);
    expect(JSON.parse(json.terminal)).toMatchObject({ ok: true });

    // stdout on the terminal, stderr not: nothing but the result.
    const errors = path.join(ledger.dataDir, 'stderr.txt');
    const noTerminal = onTerminal(['report', 'run', 'gl-detail', '--period', '2026-10'], ` 2>${quote(errors)}`);
    expect(noTerminal.status, noTerminal.terminal).toBe(0);
    expect(noTerminal.terminal).not.toMatch(/rendering:/);
    expect(noTerminal.terminal).toMatch(/^run [0-9a-f-]{36}\r\n/);

    // Pipes, as scripts run it: stderr stays empty, stdout is exactly one JSON object.
    for (const args of [['project'], ['verify'], ['report', 'run', 'trial-balance', '--as-of', '2026-11-01', '--json']]) {
      const result = piped(args);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      if (args.includes('--json')) expect(Object.keys(JSON.parse(result.stdout) as object)).toEqual(['run_id', 'files']);
    }
  });
});
