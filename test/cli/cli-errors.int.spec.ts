// Users' mistakes and the machine's state give one line, never a stack (CLI.md), and
// nothing is left half done without saying so. Each case runs `ledger` as a real process:
// - `events publish` that stops part-way (a line too long to read on the embedded log, a
//   line the Kafka broker refuses) says how many lines are in the log and at which line
//   it stopped, in --json too, and the log holds exactly those lines;
// - `events publish` of a directory, a missing and an unreadable file;
// - a read-only LEDGER_DATA_DIR (and one that is a file, and one that cannot be created)
//   for every command of CLI.md's table: each exits 0, 1 or 2 with at most one line on
//   stderr; the commands that write there exit 2 naming the directory before they record
//   anything. As root, chmod alone does not stop a write, so the child runs under setpriv
//   without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: root then meets the permission bits;
// - impossible dates in every date flag (the pure checks: date-flags.unit.spec.ts);
// - a password given as ?password= in DATABASE_URL is never printed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openEmbeddedLog } from '../../src/log/embedded/index.ts';
import { openKafkaLog } from '../../src/log/kafka/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { captureLine } from '../support/ledger.ts';
import { testSigningKeyPem } from '../support/keys.ts';

const topic = 'marketplace.events';
const stackLine = /\n\s+at /;

/** Without these capabilities root is held to a file's permission bits like anyone else. */
const dropOverrides = ['--bounding-set=-dac_override,-dac_read_search,-fowner', '--'];
const isRoot = process.getuid?.() === 0;
/** For the tests that start `ledger` a few dozen times, on two busy cores. */
const spawnsTimeoutMs = 900_000;

type Run = SpawnSyncReturns<string>;

function ledger(args: string[], env: NodeJS.ProcessEnv, options: { unprivileged?: boolean } = {}): Run {
  const command = [process.execPath, 'bin/ledger.mjs', ...args];
  const [file, ...rest] = options.unprivileged === true && isRoot ? ['setpriv', ...dropOverrides, ...command] : command;
  return spawnSync(file as string, rest, { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
}

function expectOneLineError(result: Run, pattern: RegExp): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr, result.stderr).not.toMatch(stackLine);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ledger: /);
  expect(lines[0]).toMatch(pattern);
}

async function logMessages(endOffsets: Promise<Map<number, number>>): Promise<number> {
  return [...(await endOffsets).values()].reduce((sum, end) => sum + end, 0);
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('ledger with bad input and an unusable data dir', () => {
  let db: TestDatabase;
  let scratch: string;
  let baseEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    if (isRoot) {
      const probe = spawnSync('setpriv', [...dropOverrides, 'true']);
      if (probe.status !== 0) throw new Error('these tests run as root and need setpriv (util-linux) to drop CAP_DAC_OVERRIDE');
    }
    db = await createTestDatabase();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'ledger-cli-errors-'));
    // One signing key for every data dir of this file: they all sign on one ledger (db).
    baseEnv = { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: '', LEDGER_PROJECTOR_THREADS: '0',
      LEDGER_SIGNING_KEY: testSigningKeyPem };
  });
  afterAll(async () => {
    await db.drop();
    await rm(scratch, { recursive: true, force: true });
  });

  async function freshDir(name: string): Promise<string> {
    const dir = path.join(scratch, name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  describe('events publish', () => {
    it('stops at a line too long to read, having published every line before it, and says so', async () => {
      // 7,000 lines with a blank one at line 10 (line numbers count it, the count does not),
      // then a line over the 4 MiB read limit at line 7,001 (8 MiB; one byte over it in the
      // --json run), then more good lines.
      const lines = Array.from({ length: 7_000 }, (_, i) => (i === 9 ? '' : captureLine(i)));
      const withLongLine = async (name: string, bytes: number) => {
        const file = path.join(scratch, name);
        await writeFile(file, `${[...lines, 'x'.repeat(bytes), captureLine(90_001), captureLine(90_002)].join('\n')}\n`);
        return file;
      };
      const file = await withLongLine('long-line.ndjson', 8 * 1024 * 1024);

      const textDir = await freshDir('publish-text');
      const text = ledger(['events', 'publish', file], { ...baseEnv, LEDGER_DATA_DIR: textDir });
      expectOneLineError(text, new RegExp(`^ledger: published 6999 lines of ${escaped(file)}; stopped at line 7001: ` +
        'the line is longer than 4194304 bytes.*line 7001 and those after it are not in the log'));
      expect(text.stdout).toBe('');
      const textLog = openEmbeddedLog(path.join(textDir, 'log'));
      expect(await logMessages(textLog.producer.endOffsets(topic))).toBe(6_999);
      await textLog.producer.close();

      const jsonFile = await withLongLine('just-too-long-line.ndjson', 4 * 1024 * 1024 + 1);
      const jsonDir = await freshDir('publish-json');
      const json = ledger(['events', 'publish', jsonFile, '--json'], { ...baseEnv, LEDGER_DATA_DIR: jsonDir });
      expectOneLineError(json, /published 6999 lines/);
      expect(json.stdout.trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        published: 6_999,
        error: { code: 'publish_stopped', file: jsonFile, line: 7_001, in_doubt: null, reason: expect.stringMatching(/longer than/) },
      });
      const jsonLog = openEmbeddedLog(path.join(jsonDir, 'log'));
      expect(await logMessages(jsonLog.producer.endOffsets(topic))).toBe(6_999);
      await jsonLog.producer.close();
    });

    it('stops at a line the Kafka broker refuses (over message.max.bytes) and names it', async () => {
      const brokers = inject('kafkaBrokers');
      const kafkaTopic = `cli-errors.publish.${process.pid}.${Date.now()}`;
      const lines = Array.from({ length: 5_000 }, (_, i) => captureLine(i));
      lines.push(`{"padding":"${'y'.repeat(1536 * 1024)}"}`, captureLine(5_001));
      const file = path.join(scratch, 'too-large.ndjson');
      await writeFile(file, `${lines.join('\n')}\n`);
      const env = { ...baseEnv, KAFKA_BROKERS: brokers, LEDGER_TOPICS: kafkaTopic, LEDGER_PARTITIONS: '2',
        LEDGER_DATA_DIR: await freshDir('publish-kafka') };
      const result = ledger(['events', 'publish', file, '--json'], env);
      // kafkajs logs the broker's refusal too (KAFKA_BROKERS' own log lines); the error is the last line.
      expect(result.stderr).not.toMatch(stackLine);
      const lastLine = result.stderr.trim().split('\n').at(-1) as string;
      expectOneLineError({ ...result, stderr: `${lastLine}\n` }, new RegExp(`^ledger: published 5000 lines of ${escaped(file)}; stopped at line 5001: ` +
        `publishing to ${escaped(kafkaTopic)} failed: .*line 5001 may be in the log, those after it are not`));
      expect(JSON.parse(result.stdout)).toMatchObject({ published: 5_000, error: { line: 5_001,
        in_doubt: { from_line: 5_001, to_line: 5_001 } } });
      const log = openKafkaLog(loadConfig({ KAFKA_BROKERS: brokers, LEDGER_DATA_DIR: scratch }), { log: () => undefined });
      try {
        expect(await logMessages(log.producer.endOffsets(kafkaTopic))).toBe(5_000);
      } finally {
        await log.producer.close();
      }
    });

    it('refuses a directory, a missing file and an unreadable file in one line', async () => {
      const env = { ...baseEnv, LEDGER_DATA_DIR: await freshDir('publish-files') };
      const dir = await freshDir('a-directory');
      expectOneLineError(ledger(['events', 'publish', dir], env), new RegExp(`${escaped(dir)} is a directory`));
      const missing = path.join(scratch, 'missing.ndjson');
      expectOneLineError(ledger(['events', 'publish', missing], env),
        new RegExp(`cannot read ${escaped(missing)}: no such file`));
      const unreadable = path.join(scratch, 'unreadable.ndjson');
      await writeFile(unreadable, `${captureLine(1)}\n`);
      await chmod(unreadable, 0o000);
      expectOneLineError(ledger(['events', 'publish', unreadable], env, { unprivileged: true }),
        new RegExp(`cannot read ${escaped(unreadable)}: permission denied`));
    });
  });

  describe('a data dir it may not write', () => {
    // Every command of CLI.md's table (and the few more the program has), with arguments
    // that would carry it past its flags. `writes`: with DATABASE_URL and the embedded log
    // it must stop, naming LEDGER_DATA_DIR; `database`: it needs PostgreSQL, so without
    // DATABASE_URL (the embedded server keeps its data there) it must stop too.
    type Case = { args: string[]; writes: boolean; database: boolean };
    function everyCommand(files: string): Case[] {
      const events = path.join(files, 'events.ndjson');
      const both = { writes: true, database: true };
      const reads = { writes: false, database: true };
      return [
        { args: ['serve'], ...both },
        { args: ['migrate'], ...reads },
        { args: ['events', 'generate', '--seed', '1', '--rentals', '2', '--month', '2026-10', '--out',
          path.join(files, 'generated.ndjson')], writes: false, database: false },
        { args: ['events', 'publish', events], writes: true, database: false },
        { args: ['project'], ...both },
        { args: ['quarantine', 'list'], ...reads },
        { args: ['verify'], ...reads },
        { args: ['report', 'run', 'trial-balance', '--as-of', '2026-10-01'], ...both },
        { args: ['report', 'list'], ...reads },
        { args: ['report', 'show', 'no-such-run'], ...reads },
        { args: ['report', 'render', 'no-such-run'], ...both },
        { args: ['report', 'verify', events, '--manifest', events], writes: false, database: false },
        // Exporting reads the key (LEDGER_SIGNING_KEY here); it never makes one.
        { args: ['keys', 'export', '--out', path.join(files, 'key.pem')], writes: false, database: false },
        { args: ['keys', 'rotate'], ...both },
        { args: ['access', 'users'], ...reads },
        { args: ['access', 'roles'], writes: false, database: false },
        { args: ['access', 'review'], ...both },
        { args: ['checkpoint'], ...both },
        { args: ['lineage', 'fig_none'], ...reads },
        { args: ['reconcile', '--date', '2026-10-01', '--processor', events, '--bank', events], ...both },
        { args: ['reconcile', 'resolve', 'brk_none', '--reason', 'test'], ...reads },
        { args: ['period', 'close', '2026-09'], ...reads },
      ];
    }

    async function filesDir(): Promise<string> {
      const files = await freshDir('inputs');
      await writeFile(path.join(files, 'events.ndjson'), `${captureLine(1)}\n`);
      return files;
    }

    function expectHandled(result: Run, args: string[]): void {
      const shown = `ledger ${args.join(' ')}: exit ${result.status}, stderr ${result.stderr}`;
      expect(result.error, shown).toBeUndefined();
      expect([0, 1, 2], shown).toContain(result.status);
      expect(result.stderr, shown).not.toMatch(stackLine);
      if (result.status !== 0) expect(result.stderr, shown).toMatch(/^ledger: [^\n]+\n$/);
    }

    async function recorded(): Promise<Record<string, string>> {
      const counts = await db.adminPool.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM ledger.report_runs) AS reports,
                (SELECT count(*) FROM ledger.reconciliation_runs) AS reconciliations,
                (SELECT count(*) FROM ledger.checkpoints) AS checkpoints`);
      return counts.rows[0] as Record<string, string>;
    }

    it('gives every command one line or success, and stops the writers before they record anything', async () => {
      const dataDir = await freshDir('read-only');
      await chmod(dataDir, 0o555);
      const env = { ...baseEnv, LEDGER_DATA_DIR: dataDir };
      const files = await filesDir();
      const before = await recorded();
      for (const { args, writes } of everyCommand(files)) {
        const result = ledger(args, env, { unprivileged: true });
        expectHandled(result, args);
        if (writes) {
          expectOneLineError(result, new RegExp(`LEDGER_DATA_DIR ${escaped(dataDir)} is not writable .*make it writable`));
        }
      }
      // Nothing recorded whose file could not be written: no report run, reconciliation run or checkpoint.
      expect(await recorded()).toEqual(before);
    }, spawnsTimeoutMs);

    it('names a data dir that cannot be created, or is a file, with the embedded defaults too', async () => {
      const parent = await freshDir('read-only-parent');
      await chmod(parent, 0o555);
      const uncreatable = path.join(parent, 'data');
      const aFile = path.join(scratch, 'data-is-a-file');
      await writeFile(aFile, 'not a directory\n');
      const files = await filesDir();
      const variants = [
        { dataDir: uncreatable, databaseUrl: db.url, pattern: /is not writable \(mkdir .*permission denied/ },
        { dataDir: aFile, databaseUrl: '', pattern: /is not a directory/ },
      ];
      for (const { dataDir, databaseUrl, pattern } of variants) {
        const env = { ...baseEnv, LEDGER_DATA_DIR: dataDir, DATABASE_URL: databaseUrl };
        // Some that need the directory (the check is one, before any command; every command
        // met a read-only one above): a writer, and one that only reads the database.
        const needing = everyCommand(files).filter((c) => c.writes || (c.database && databaseUrl === ''))
          .filter((c) => ['events publish', 'report run', 'verify'].some((name) => `${c.args.join(' ')} `.startsWith(`${name} `)));
        expect(needing.length).toBeGreaterThanOrEqual(2);
        for (const { args } of needing) {
          expectOneLineError(ledger(args, env, { unprivileged: true }),
            new RegExp(`LEDGER_DATA_DIR ${escaped(dataDir)} ${pattern.source}`));
        }
      }
    }, spawnsTimeoutMs);

    it('names a folder inside the data dir, and an --out folder, that it may not write', async () => {
      const dataDir = await freshDir('read-only-reports');
      await mkdir(path.join(dataDir, 'reports'));
      await chmod(path.join(dataDir, 'reports'), 0o555);
      const env = { ...baseEnv, LEDGER_DATA_DIR: dataDir };
      expectOneLineError(ledger(['report', 'run', 'trial-balance', '--as-of', '2026-10-01'], env, { unprivileged: true }),
        new RegExp(`LEDGER_DATA_DIR ${escaped(dataDir)} is not writable \\(mkdir ${escaped(dataDir)}/reports/`));
      const readOnlyOut = await freshDir('read-only-out');
      await chmod(readOnlyOut, 0o555);
      expectOneLineError(ledger(['keys', 'export', '--out', path.join(readOnlyOut, 'key.pem')], env, { unprivileged: true }),
        new RegExp(`cannot open ${escaped(readOnlyOut)}/key\\.pem: permission denied`));
    });
  });

  it('refuses impossible dates in every date flag, naming it (date-flags.unit.spec.ts has the times)', async () => {
    const env = { ...baseEnv, LEDGER_DATA_DIR: await freshDir('dates') };
    const cases: Array<[string[], RegExp]> = [
      [['report', 'run', 'trial-balance', '--as-of', '2026-02-30'], /as_of "2026-02-30": 2026-02 has 28 days/],
      [['report', 'run', 'revenue', '--period', '0000-06'], /period "0000-06" is not YYYY-MM: there is no year 0000/],
      [['report', 'run', 'form-1099-k', '--year', '0000'], /year "0000": there is no year 0000/],
      [['period', 'close', '0000-06'], /period "0000-06" is not YYYY-MM: there is no year 0000/],
      [['events', 'generate', '--seed', '1', '--rentals', '1', '--month', '0000-06'], /--month "0000-06" .*no year 0000/],
    ];
    for (const [args, pattern] of cases) expectOneLineError(ledger(args, env), pattern);
    // A real leap day still runs, labelled as asked.
    const leapDay = ledger(['report', 'run', 'trial-balance', '--as-of', '2028-02-29', '--json'], env);
    expect(leapDay.status, leapDay.stderr).toBe(0);
  }, spawnsTimeoutMs);

  it('never prints a password given in the query string of DATABASE_URL', () => {
    const result = ledger(['verify'], { ...baseEnv, LEDGER_DATA_DIR: scratch,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none?sslmode=disable&password=hunter2secret' });
    expectOneLineError(result, /cannot reach PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none\?sslmode=disable&password=\*\*\*/);
    expect(result.stderr).not.toContain('hunter2secret');
  });
});
