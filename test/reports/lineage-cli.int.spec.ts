// Issue 12 item 12 (lineage part): `ledger lineage FIGURE --cursor C` with a cursor this
// service never issued is the caller's mistake: exit 2, one line on stderr naming the
// cursor, no stack, nothing on stdout; a cursor it did issue pages on. How: captures are
// projected into a fresh ledger and a revenue run is made through the engine; then the
// real `ledger` command is spawned, as operators' scripts run it, with cursors crafted to
// reach the database (an entry id that is not a uuid, a line number beyond smallint, a
// term past the last), malformed JSON and base64, and one taken from a real first page.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figureLineage } from '../../src/reports/lineage.ts';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';

const crafted = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

describe('ledger lineage --cursor', () => {
  let ledger: TestLedger;
  let figureId: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(Array.from({ length: 6 }, (_unused, n) => captureLine(n)));
    await ledger.project();
    const run = await runReport(ledger, 'revenue', { period: '2026-10' });
    figureId = run.figures.find((f) => f.key === 'deferred_added')!.id;
    env = { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '' };
  });
  afterAll(async () => ledger?.close());

  const lineage = (args: string[]) =>
    spawnSync(process.execPath, ['bin/ledger.mjs', 'lineage', figureId, ...args], { env, encoding: 'utf8' });

  const cursors: [string, string][] = [
    ['an entry id that is not a uuid', crafted({ term: 0, after: ['not-a-uuid', 1] })],
    ['a line number beyond smallint', crafted({ term: 0, after: ['00000000-0000-4000-8000-000000000001', 99_999] })],
    ['a term past the last', crafted({ term: 99, after: null })],
    ['an after that is not a pair', crafted({ term: 0, after: 'x' })],
    ['a JSON array', crafted([0, null])],
    ['not base64url JSON', '!!!not-a-cursor'],
    ['a very long string', 'A'.repeat(5_000)],
  ];

  // Each spawn compiles the CLI: the first three, which reached PostgreSQL before, go
  // through the command; every case goes through figureLineage, which the command calls.
  it.each(cursors.slice(0, 3))('the command refuses %s in one line, exit 2', (_what, cursor) => {
    const result = lineage(['--cursor', cursor]);
    expect(result.status, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ledger: cursor ".*" is not one this service issued/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it.each(cursors)('figureLineage refuses %s naming the cursor', async (_what, cursor) => {
    await expect(figureLineage(ledger.db.pool, figureId, { cursor })).rejects.toMatchObject({
      name: 'UserError', code: 'bad_cursor', message: expect.stringMatching(/^cursor ".{1,41}" is not one this service issued/),
    });
  });

  it('pages on with a cursor it issued', () => {
    const first = lineage(['--limit', '1', '--json']);
    expect(first.status, first.stderr).toBe(0);
    const page = JSON.parse(first.stdout) as { lines: unknown[]; next_cursor: string | null };
    expect(page.lines).toHaveLength(1);
    expect(page.next_cursor).not.toBeNull();
    const second = lineage(['--limit', '1', '--json', '--cursor', page.next_cursor!]);
    expect(second.status, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as { lines: unknown[] }).lines).toHaveLength(1);
  });
});
