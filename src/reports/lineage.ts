// A figure's lineage (REPORTS.md): the journal lines it sums (or the entries it counts),
// each with its entry, event_id, log position and the SHA-256 of the archived raw
// message, and their signed sum, which equals the figure. The lines are selected by the
// same filter that computed the figure (query.ts), at the run's watermark, so they are
// exactly the figure's lines however much the journal has grown since. The filter, the
// formula's terms, the parameters and the currency come from the definitions the run
// stored (definitions.ts), never from today's template: a template changed after a run
// must not explain the old figure with new rules.
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import type { Pool } from '../db/database.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { figureId } from './figures.ts';
import {
  contributionSql, entryDimSql, entryFilterSql, lineDimSql, lineFilterSql, lineMeasures, SqlParams,
  watermarkSql, type RunParams,
} from './query.ts';
import { resolveParams } from './params.ts';
import { canonicalJson } from '../ledger/canonical.ts';
import { definitionsOfRun, type RunDefinitions, type RunIdentity } from './definitions.ts';
import type { Manifest } from './manifest.ts';
import type { FigureDef, GroupDim, Template } from './template.ts';

export type LineageLine = {
  entry_id: string; line_no: number | null; event_id: string; event_type: string; account: string | null;
  side: string | null; amount: string | null; currency: string | null; contribution: string;
  topic: string; partition: number; offset: number; message_sha256: string;
};

export type Lineage = {
  figure: { id: string; key: string; dims: Record<string, string>; run_id: string; report: string };
  value: string;
  terms: Array<{ figure_id: string; key: string; sign: 1 | -1 }>;
  lines: LineageLine[];
  sum: string;
  next_cursor: string | null;
};

type Term = { def: FigureDef; sign: 1n | -1n; key: string };

export type LineageOptions = {
  /** Where today's templates are, for a run made before runs stored their definitions. */
  readonly templatesDir?: string;
  /**
   * Told the figure's dims (as stored) and report before anything else of it is read or
   * checked; throws to refuse (the API's scope: out of scope reads as absent).
   */
  readonly authorize?: (figure: { dims: Record<string, string>; report: string }) => void;
};

/** All a lineage page needs of its figure, its run and its kept sum: one round trip. */
type FigureRow = {
  run_id: string; key: string; value: string; kind: string; definition: FigureDef; dims: Record<string, string>;
  report: string; sum_value: string | null; definitions_sha256: string | null;
};

/** What every lineage page of a run needs of the run itself: its header, figures' dims, definitions. */
type RunFacts = {
  header: Manifest['run'];
  dimsByFigure: ReadonlyMap<string, Record<string, string>>;
  definitions: RunDefinitions;
};

/**
 * Runs are immutable (the database refuses UPDATE and DELETE of runs and their
 * definitions), so a run's parsed facts can be kept: parsing a large run's manifest on
 * every page was most of a page's time. Bounded, least recently used first out.
 */
const runFactsCache = new Map<string, Promise<RunFacts>>();
const runFactsCachedMax = 32;

async function runFacts(
  pool: Pool, figure: { run_id: string; definitions_sha256: string | null }, options: LineageOptions,
): Promise<RunFacts> {
  const runId = figure.run_id;
  // A run without stored definitions is explained by the template on disk, which may change.
  const key = `${runId}:${figure.definitions_sha256 ?? `on disk ${options.templatesDir ?? ''}`}`;
  const cached = runFactsCache.get(key);
  if (cached !== undefined) {
    runFactsCache.delete(key);
    runFactsCache.set(key, cached);
    return cached;
  }
  const loading = (async (): Promise<RunFacts> => {
    const found = await pool.query<{ manifest: string; definitions: string | null }>(`SELECT r.manifest, d.definitions
        FROM ledger.report_runs r
        LEFT JOIN ledger.run_definitions rd USING (run_id)
        LEFT JOIN ledger.report_definitions d USING (definitions_sha256)
       WHERE r.run_id = $1`, [runId]);
    const row = found.rows[0];
    if (row === undefined) throw new Error(`invariant violated: figure of run ${runId} without its run`);
    const manifest = JSON.parse(row.manifest) as Manifest;
    const definitions = await definitionsOfRun({ ...manifest.run, run_id: runId }, row.definitions, options.templatesDir);
    return { header: manifest.run, dimsByFigure: new Map(manifest.figures.map((f) => [f.id, f.dims])), definitions };
  })();
  if (figure.definitions_sha256 === null) return loading;
  runFactsCache.set(key, loading);
  loading.catch(() => runFactsCache.delete(key));
  while (runFactsCache.size > runFactsCachedMax) runFactsCache.delete(runFactsCache.keys().next().value as string);
  return loading;
}

export async function figureLineage(
  pool: Pool, id: string, page: { limit?: number; cursor?: string | null } = {}, options: LineageOptions = {},
): Promise<Lineage> {
  const limit = Math.min(Math.max(page.limit ?? 100, 1), limits.pageRowsMax);
  // Named, so each connection plans its joins once; the run's manifest and definitions
  // (large, and the same for every figure of the run) come from runFacts, read once a run.
  const found = await pool.query<FigureRow>({ name: 'reports.lineage_figure', text: `SELECT f.run_id, f.key, f.value,
      f.kind, f.definition, f.dims, r.report, s.sum_value, encode(rd.definitions_sha256, 'hex') AS definitions_sha256
    FROM ledger.report_figures f JOIN ledger.report_runs r USING (run_id)
    LEFT JOIN ledger.run_definitions rd USING (run_id)
    LEFT JOIN ledger.figure_lineage_sums s ON s.figure_id = f.figure_id
    WHERE f.figure_id = $1`, values: [id] });
  const row = found.rows[0];
  if (row === undefined) throw new UserError('not_found', `no figure ${JSON.stringify(id)}`);
  options.authorize?.({ dims: row.dims, report: row.report });
  const cursor = decodeCursor(page.cursor ?? null);
  if (row.report === 'reconciliation') {
    throw new UserError('no_lineage', `figure ${id} counts a reconciliation run's outcomes; the run's Breaks section ` +
      'gives each item\'s lineage (journal entry and log position, or file and line)');
  }
  // A page of a run explained by its stored definitions never changes: its lines are
  // within the run's watermark in an append-only journal, and the sum is kept.
  const pageKey = row.definitions_sha256 === null ? null : `${id}|${limit}|${page.cursor ?? ''}`;
  const kept = pageKey === null ? undefined : keptPages.get(pageKey);
  if (pageKey !== null && kept !== undefined) {
    keptPages.delete(pageKey);
    keptPages.set(pageKey, kept);
    return kept;
  }
  const lineage = await readPage(pool, id, row, cursor, limit, page.cursor ?? '', options);
  if (pageKey !== null) keepPage(pageKey, lineage);
  return lineage;
}

/** Pages kept, least recently used first out, bounded by pages and by lines (a page of 100 lines is ~30 KB). */
const keptPages = new Map<string, Lineage>();
const keptPagesMax = 256;
const keptLinesMax = 25_000;
let keptLines = 0;

function keepPage(key: string, lineage: Lineage): void {
  Object.freeze(lineage.lines);
  for (const line of lineage.lines) Object.freeze(line);
  Object.freeze(lineage);
  keptPages.set(key, lineage);
  keptLines += lineage.lines.length;
  while (keptPages.size > keptPagesMax || keptLines > keptLinesMax) {
    const [oldest, page] = keptPages.entries().next().value as [string, Lineage];
    keptPages.delete(oldest);
    keptLines -= page.lines.length;
  }
}

async function readPage(
  pool: Pool, id: string, row: FigureRow, cursor: { term: number; after: [string, number] | null }, limit: number,
  cursorText: string, options: LineageOptions,
): Promise<Lineage> {
  const facts = await runFacts(pool, row, options);
  const header = facts.header;
  // Dims come from the manifest (canonical key order), not from jsonb, which reorders keys.
  const dims = facts.dimsByFigure.get(id) ?? {};
  const { template, terms } = await figureDefinitions(pool, { ...header, run_id: row.run_id }, row, facts.definitions);
  const params = resolveParams(template, header.params).run;
  if (cursor.term >= terms.length) throw badCursor(cursorText);
  const currency = (dims.currency ?? template.currency ?? 'USD') as CurrencyCode;
  const context = { pool, params, dims, watermark: header.watermark, currencyFilter: template.currency };
  const lines: LineageLine[] = [];
  let next: string | null = null;
  for (let t = cursor.term; t < terms.length && lines.length < limit; t += 1) {
    const term = terms[t] as Term;
    const after = t === cursor.term ? cursor.after : null;
    const got = await termLines(context, term, after, limit - lines.length + 1);
    const take = got.slice(0, limit - lines.length);
    lines.push(...take);
    if (got.length > take.length) {
      const last = take.at(-1) as LineageLine;
      next = encodeCursor({ term: t, after: [last.entry_id, last.line_no ?? 0] });
    } else if (lines.length >= limit && t + 1 < terms.length) {
      next = encodeCursor({ term: t + 1, after: null });
    }
  }
  const kind = row.kind;
  const sum = row.sum_value ?? await lineageSum(pool, id, async () => {
    let total = 0n;
    for (const term of terms) total += term.sign * (await termSum(context, term));
    return kind === 'money' ? toDecimalString(fromMinor(currency, total)) : total.toString();
  });
  return {
    figure: { id, key: row.key, dims, run_id: row.run_id, report: row.report },
    value: row.value,
    terms: terms.length > 1 || terms[0]?.sign === -1n
      ? terms.map((term) => ({ figure_id: figureId(row.run_id, term.key, dims), key: term.key, sign: term.sign === 1n ? 1 : -1 }))
      : [],
    lines,
    sum,
    next_cursor: next,
  };
}

/** The run's template and the figure's terms, from the definitions the run used. */
async function figureDefinitions(
  pool: Pool, run: RunIdentity, row: { key: string; definition: FigureDef }, definitions: RunDefinitions,
): Promise<{ template: Template; terms: Term[] }> {
  const { template } = definitions;
  const section = template.sections.find((s) => s.figures.some((f) => f.key === row.key));
  const terms = termsOf(row.definition, section?.figures ?? []);
  if (!definitions.stored) {
    const own = section?.figures.find((f) => f.key === row.key);
    await assertLegacyDefinitions(pool, run.run_id, template, own === undefined ? null : [own, ...terms.map((t) => t.def)]);
  }
  return { template, terms };
}

/**
 * A run made before runs stored their definitions kept each figure's own definition: the
 * template on disk (already of the run's version) explains it only if it still defines
 * every figure this lineage reads exactly so. Otherwise the lineage is refused, not guessed.
 */
async function assertLegacyDefinitions(
  pool: Pool, runId: string, template: Template, used: readonly FigureDef[] | null,
): Promise<void> {
  const keys = [...new Set((used ?? []).map((def) => def.key))];
  const stored = await pool.query<{ key: string; definition: FigureDef }>(`SELECT DISTINCT ON (key) key, definition
    FROM ledger.report_figures WHERE run_id = $1 AND key = ANY($2::text[]) ORDER BY key`, [runId, keys]);
  const byKey = new Map(stored.rows.map((r) => [r.key, canonicalJson(r.definition)]));
  const changed = used === null ? 'the figure' : used.find((def) => byKey.get(def.key) !== canonicalJson(def))?.key;
  if (changed !== undefined) {
    throw new UserError('definitions_unknown', `run ${runId} was made before runs stored their definitions, and ` +
      `template ${template.report} version ${template.version} on disk no longer defines ${changed} as the run ` +
      'did; its lineage would follow other rules, so it is refused');
  }
}

function termsOf(def: FigureDef, siblings: readonly FigureDef[]): Term[] {
  if (def.formula === undefined) {
    if (!lineMeasures.has(def.measure) && def.measure !== 'count_entries') {
      throw new UserError('no_lineage', `figure ${def.key} (${def.measure}) is derived from other figures of ` +
        'its run; see their lineage');
    }
    return [{ def, sign: 1n, key: def.key }];
  }
  return def.formula.map(([sign, key]) => ({
    def: siblings.find((f) => f.key === key) as FigureDef, sign: sign === '+' ? 1n : -1n, key,
  }));
}

/** The lineage's signed sum, computed once per figure and kept (it cannot change). */
async function lineageSum(pool: Pool, id: string, compute: () => Promise<string>): Promise<string> {
  const kept = await pool.query<{ sum_value: string }>(
    'SELECT sum_value FROM ledger.figure_lineage_sums WHERE figure_id = $1', [id]);
  if (kept.rows[0] !== undefined) return kept.rows[0].sum_value;
  const sum = await compute();
  await pool.query(`INSERT INTO ledger.figure_lineage_sums (figure_id, sum_value) VALUES ($1, $2)
    ON CONFLICT DO NOTHING`, [id, sum]);
  return sum;
}

type LineageContext = {
  pool: Pool; params: RunParams; dims: Record<string, string>; watermark: Readonly<Record<string, number>>;
  currencyFilter: string | null;
};

function whereFor(context: LineageContext, def: FigureDef, p: SqlParams): string {
  const entries = def.measure === 'count_entries';
  const dimSql = entries ? entryDimSql : lineDimSql;
  const parts = [entries ? entryFilterSql(def, context.params, p) : lineFilterSql(def, context.params, p),
    watermarkSql(p, context.watermark)];
  for (const [dim, value] of Object.entries(context.dims)) parts.push(`${dimSql[dim as GroupDim]} = ${p.add(value)}`);
  if (context.currencyFilter !== null) {
    parts.push(`${entries ? 'e.subject_currency' : 'l.currency'} = ${p.add(context.currencyFilter)}`);
  }
  return parts.join(' AND ');
}

async function termLines(
  context: LineageContext, term: Term, after: [string, number] | null, limit: number,
): Promise<LineageLine[]> {
  const p = new SqlParams();
  const entries = term.def.measure === 'count_entries';
  const where = whereFor(context, term.def, p);
  // The page's keys first (a LIMIT in keyset order over the lines and their entries), and
  // only the page's rows then join the raw archive for their message's hash: the archive
  // is read for 100 rows, not for every line of the figure.
  const page = entries
    ? `SELECT e.entry_id, NULL::int AS line_no, e.event_id, e.event_type, NULL AS account, NULL AS side,
         NULL AS amount_minor, e.subject_currency AS currency, ${term.sign}::bigint AS contribution,
         e.topic, e.partition, e."offset"
       FROM ledger.journal_entries e
       WHERE ${where}${after === null ? '' : ` AND e.entry_id > ${p.add(after[0])}::uuid`}
       ORDER BY e.entry_id LIMIT ${limit}`
    : `SELECT l.entry_id, l.line_no, e.event_id, e.event_type, l.account, l.side, l.amount_minor, l.currency,
         ${term.sign}::bigint * (${contributionSql(term.def)}) AS contribution, e.topic, e.partition, e."offset"
       FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
       WHERE ${where}${after === null ? ''
         : ` AND (l.entry_id, l.line_no) > (${p.add(after[0])}::uuid, ${p.add(after[1])}::smallint)`}
       ORDER BY l.entry_id, l.line_no LIMIT ${limit}`;
  const sql = `WITH page AS (${page})
    SELECT page.*, encode(r.value_sha256, 'hex') AS message_sha256
      FROM page JOIN ledger.raw_messages r USING (topic, partition, "offset")
     ORDER BY page.entry_id, page.line_no`;
  const result = await context.pool.query<Record<string, string | number | null>>(sql, p.values);
  return result.rows.map((r) => toLine(r, entries));
}

function toLine(r: Record<string, string | number | null>, entries: boolean): LineageLine {
  const currency = (r.currency ?? 'USD') as CurrencyCode;
  const money = (minor: string | number | null) => (minor === null ? null
    : toDecimalString(fromMinor(currency, BigInt(minor))));
  return {
    entry_id: r.entry_id as string, line_no: r.line_no as number | null, event_id: r.event_id as string,
    event_type: r.event_type as string, account: r.account as string | null, side: r.side as string | null,
    amount: money(r.amount_minor ?? null), currency: r.currency as string | null,
    contribution: entries ? String(r.contribution) : (money(r.contribution ?? null) as string),
    topic: r.topic as string, partition: Number(r.partition), offset: Number(r.offset),
    message_sha256: r.message_sha256 as string,
  };
}

async function termSum(context: LineageContext, term: Term): Promise<bigint> {
  const p = new SqlParams();
  const entries = term.def.measure === 'count_entries';
  const where = whereFor(context, term.def, p);
  const sql = entries
    ? `SELECT count(*) AS total FROM ledger.journal_entries e WHERE ${where}`
    : `SELECT coalesce(sum(${contributionSql(term.def)}), 0) AS total
         FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id) WHERE ${where}`;
  const result = await context.pool.query<{ total: string }>(sql, p.values);
  return BigInt(result.rows[0]?.total ?? '0');
}

type Cursor = { term: number; after: [string, number] | null };

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** journal_lines.line_no is a smallint. */
const lineNoMax = 32_767;
/** Longer than any cursor this service issues; shown clipped in the refusal. */
const cursorCharsMax = 256;

/** A cursor as this service writes it: {term, after: null | [entry uuid, line number]}. */
function isCursor(value: unknown): value is Cursor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { term, after } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(term) || (term as number) < 0) return false;
  if (after === null) return true;
  return Array.isArray(after) && after.length === 2 && typeof after[0] === 'string' && uuidPattern.test(after[0]) &&
    Number.isSafeInteger(after[1]) && after[1] >= 0 && after[1] <= lineNoMax;
}

/** Checked whole before any query: a crafted cursor is the caller's mistake, told in one line. */
function decodeCursor(text: string | null): Cursor {
  if (text === null) return { term: 0, after: null };
  let parsed: unknown = undefined;
  if (text.length <= cursorCharsMax && /^[A-Za-z0-9_-]+$/.test(text)) {
    try {
      parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (!isCursor(parsed)) throw badCursor(text);
  return parsed;
}

function badCursor(text: string): UserError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new UserError('bad_cursor', `cursor ${JSON.stringify(shown)} is not one this service issued; ` +
    'leave it out to start from the first line', 'cursor');
}
