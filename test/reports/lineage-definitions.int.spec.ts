// Issue 12 item 14: a figure's lineage follows the definitions its run used, not the
// template on disk today. How: the templates are copied to a temporary folder (v1) and a
// revenue run is made from it; a second folder holds revenue v2, whose net_revenue drops
// the refunds, whose recognized_commission (a term of net_revenue) reads 4010 instead of
// 4000 and whose deferred_added reads one account of three. The v1 run's lineage
// (terms, every line, the sum) is the same whichever folder is current, and a v2 run's
// lineage follows v2. A template edited without a new version is refused for new runs. A
// run made before runs stored definitions (its run_definitions row removed as the owner,
// which only a test may do) is explained by today's template only when that template has
// the run's version and still defines the figures as the run did; otherwise refused in
// one clear message. The v1 run re-renders byte for byte with v2 on disk.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { figureLineage, type Lineage } from '../../src/reports/lineage.ts';
import { createRun, loadRun, renderStoredRun, type ReportContext } from '../../src/reports/runs.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { reportContext } from '../support/reports.ts';

const templatesDir = path.join(import.meta.dirname, '..', '..', 'reports-templates');

type Json = Record<string, unknown>;
type FigureJson = { key: string; formula?: unknown; accounts?: string[] } & Json;

/** A copy of the templates with revenue.json changed by `edit`. */
async function templatesWith(root: string, name: string, edit: (revenue: Json) => void): Promise<string> {
  const dir = path.join(root, name);
  await cp(templatesDir, dir, { recursive: true });
  const file = path.join(dir, 'revenue.json');
  const revenue = JSON.parse(await readFile(file, 'utf8')) as Json;
  edit(revenue);
  await writeFile(file, JSON.stringify(revenue, null, 2));
  return dir;
}

function revenueFigure(revenue: Json, key: string): FigureJson {
  const sections = revenue.sections as { figures: FigureJson[] }[];
  return sections[0]!.figures.find((f) => f.key === key)!;
}

/** Every page of a figure's lineage, as one: terms, lines in order, sum. */
async function fullLineage(ledger: TestLedger, id: string, dir?: string) {
  const lines: Lineage['lines'] = [];
  let cursor: string | null = null;
  let page: Lineage;
  do {
    page = await figureLineage(ledger.db.pool, id, { limit: 40, cursor }, dir === undefined ? {} : { templatesDir: dir });
    lines.push(...page.lines);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return { value: page.value, sum: page.sum, terms: page.terms, lines };
}

describe('lineage follows the definitions a run used', () => {
  let ledger: TestLedger;
  let root: string;
  let v1: string;
  let v2: string;
  let v1Edited: string;
  let ctx: ReportContext;
  let run1: Awaited<ReturnType<typeof loadRun>>;
  const figure = (run: typeof run1, key: string) =>
    run.figures.find((f) => f.key === key && f.dims.currency === 'USD' && f.value !== '0.00')!;

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(generateEventStream({ seed: 21, rentals: 120, month: '2026-10', approve: testApprover }));
    await ledger.project();
    root = await mkdtemp(path.join(os.tmpdir(), 'lineage-definitions-'));
    v1 = await templatesWith(root, 'v1', () => undefined);
    v2 = await templatesWith(root, 'v2', (revenue) => {
      revenue.version = '2';
      revenue.title = 'Revenue (v2)';
      revenueFigure(revenue, 'net_revenue').formula = [['+', 'recognized_commission']];
      revenueFigure(revenue, 'recognized_commission').accounts = ['4010'];
      revenueFigure(revenue, 'deferred_added').accounts = ['2300'];
    });
    // The same version, one of net_revenue's terms reading another account.
    v1Edited = await templatesWith(root, 'v1-edited', (revenue) => {
      revenueFigure(revenue, 'recognized_commission').accounts = ['4010'];
    });
    ctx = { ...await reportContext(ledger), templatesDir: v1 };
    const created = await createRun(ctx, { report: 'revenue', params: { period: '2026-10' }, requestedBy: 'test',
      now: new Date('2027-01-02T03:04:05Z') });
    run1 = await loadRun(ledger.db.pool, created.run_id);
  });
  afterAll(async () => {
    await ledger?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('explains a v1 figure by v1 rules after the template became v2', async () => {
    const net = figure(run1, 'net_revenue');
    const added = figure(run1, 'deferred_added');
    const before = [await fullLineage(ledger, net.id, v1), await fullLineage(ledger, added.id, v1)];
    expect(before[0]!.terms.map((t) => t.key)).toHaveLength(6);
    const after = [await fullLineage(ledger, net.id, v2), await fullLineage(ledger, added.id, v2)];
    expect(after).toEqual(before);
    for (const lineage of after) expect(lineage.sum).toBe(lineage.value);
    expect(new Set(after[0]!.lines.map((line) => line.account))).toContain('4000');
    expect(new Set(after[1]!.lines.map((line) => line.account))).toEqual(new Set(['2300', '2310', '2320']));
  });

  it('explains a v2 run by v2 rules', async () => {
    const created = await createRun({ ...ctx, templatesDir: v2 }, { report: 'revenue', params: { period: '2026-10' },
      requestedBy: 'test', now: new Date('2027-01-02T03:04:05Z') });
    const run2 = await loadRun(ledger.db.pool, created.run_id);
    expect(run2.header.template_version).toBe('2');
    const added = await fullLineage(ledger, figure(run2, 'deferred_added').id);
    expect(new Set(added.lines.map((line) => line.account))).toEqual(new Set(['2300']));
    expect(added.sum).toBe(added.value);
    const net = await fullLineage(ledger, figure(run2, 'net_revenue').id);
    expect(net.terms).toEqual([]);
    expect(new Set(net.lines.map((line) => line.account))).toEqual(new Set(['4010']));
  });

  it('re-renders the v1 run byte for byte with v2 on disk', async () => {
    const again = await renderStoredRun({ ...ctx, templatesDir: v2 }, run1.header.run_id, path.join(root, 'again'),
      ['json', 'csv', 'xlsx', 'pdf']);
    for (const format of ['json', 'csv', 'xlsx', 'pdf'] as const) {
      const name = path.basename(again.files[format]!);
      const first = await readFile(path.join(ledger.dataDir, 'reports', run1.header.run_id, name));
      expect((await readFile(again.files[format]!)).equals(first), format).toBe(true);
    }
  });

  it('refuses a run from a template changed without a new version', async () => {
    await expect(createRun({ ...ctx, templatesDir: v1Edited }, { report: 'revenue', params: { period: '2026-10' },
      requestedBy: 'test', now: new Date('2027-01-02T03:04:05Z') }))
      .rejects.toThrow(/template revenue version 1 differs from the version 1 earlier runs used.*new "version"/);
  });

  it('keeps the stored definitions append-only', async () => {
    await expect(ledger.db.pool.query('UPDATE ledger.report_definitions SET definitions = definitions'))
      .rejects.toThrow();
    await expect(ledger.db.pool.query('DELETE FROM ledger.run_definitions')).rejects.toThrow();
  });

  it('explains a run made before definitions were stored only by an unchanged template of its version', async () => {
    const net = figure(run1, 'net_revenue');
    const expected = await fullLineage(ledger, net.id, v1);
    await ledger.db.adminPool.query(`ALTER TABLE ledger.run_definitions DISABLE TRIGGER append_only_rows;
      DELETE FROM ledger.run_definitions WHERE run_id = '${run1.header.run_id}';
      ALTER TABLE ledger.run_definitions ENABLE ALWAYS TRIGGER append_only_rows;`);
    expect(await fullLineage(ledger, net.id, v1)).toEqual(expected);
    await expect(fullLineage(ledger, net.id, v2))
      .rejects.toThrow(/made before runs stored their definitions, with revenue template version 1; the template now is version 2/);
    await expect(fullLineage(ledger, net.id, v1Edited))
      .rejects.toThrow(/no longer defines recognized_commission as the run did/);
  });
});
