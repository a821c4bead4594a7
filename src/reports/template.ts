// Report templates (reports-templates/*.json): each figure of REPORTS.md defined as data
// over the journal (accounts, side, event types, window, grouping), so that one
// definition computes the figure, selects its lineage and labels it. Parsing checks every
// definition against the chart and the measures this engine knows. Pure.
import { accountByCode } from '../ledger/chart.ts';
import { eventTypes } from '../ledger/envelope.ts';

/** How lines (or entries) become a figure's value. Amounts read in their normal side. */
export type Measure =
  | 'debits' | 'credits' | 'debit_balance' | 'credit_balance' | 'count_entries'
  | 'formula' | 'count_groups' | 'threshold';

/**
 * Which lines count, by booked time (ACCOUNTING.md Periods: a late entry counts in the
 * period it was booked into, so a closed period's reports never change): `period` is the
 * month, `before_period` everything booked before it, `through_period` up to its end,
 * `as_of` booked before the instant. `year` and `month` (form 1099-K) follow the
 * effective time of the capture, as REPORTS.md says.
 */
export type Window = 'period' | 'before_period' | 'through_period' | 'as_of' | 'year' | 'month';

export type GroupDim = 'currency' | 'market' | 'owner_id' | 'account';
export const groupDims: readonly GroupDim[] = ['currency', 'market', 'owner_id', 'account'];

export type FigureDef = {
  readonly key: string;
  readonly title: string;
  readonly measure: Measure;
  readonly accounts?: readonly string[];
  readonly eventTypes?: readonly string[];
  readonly window?: Window;
  readonly month?: number;
  readonly formula?: ReadonlyArray<readonly ['+' | '-', string]>;
  readonly of?: { readonly section: string; readonly figure: string; readonly below: string };
  readonly threshold?: { readonly amount: string; readonly count: string };
};

export type SectionDef = {
  readonly name: string;
  readonly title: string;
  readonly groupBy: readonly GroupDim[];
  /** present: every group with a line; nonzero: only groups with a non-zero figure. */
  readonly rows: 'present' | 'nonzero';
  readonly figures: readonly FigureDef[];
};

export type Template = {
  readonly report: string;
  readonly version: string;
  readonly title: string;
  readonly parameters: readonly string[];
  readonly currency: 'USD' | 'CAD' | null;
  readonly sections: readonly SectionDef[];
  readonly detail: { readonly name: string; readonly title: string; readonly window: Window } | null;
  readonly charts: readonly { readonly title: string; readonly figure: string; readonly label: GroupDim }[];
};

const measures: readonly Measure[] = ['debits', 'credits', 'debit_balance', 'credit_balance',
  'count_entries', 'formula', 'count_groups', 'threshold'];
const windows: readonly Window[] = ['period', 'before_period', 'through_period', 'as_of', 'year', 'month'];

/** Throws with the template's name and the field at fault: a bad template is our bug. */
export function parseTemplate(source: string, json: unknown): Template {
  const t = json as Record<string, unknown>;
  const fail = (what: string): never => { throw new Error(`template ${source}: ${what}`); };
  if (typeof t.report !== 'string' || typeof t.version !== 'string' || typeof t.title !== 'string') {
    fail('report, version and title are strings');
  }
  const sections = (t.sections as Record<string, unknown>[] | undefined) ?? fail('sections missing');
  const parsedSections = sections.map((s) => parseSection(s, fail));
  const keys = new Set<string>();
  for (const section of parsedSections) {
    for (const f of section.figures) keys.add(f.key);
  }
  for (const section of parsedSections) checkReferences(section, parsedSections, fail);
  const detail = t.detail as Record<string, string> | undefined;
  const charts = (t.charts as { title: string; figure: string; label: GroupDim }[] | undefined) ?? [];
  for (const chart of charts) if (!keys.has(chart.figure)) fail(`chart figure ${chart.figure} is not defined`);
  return {
    report: t.report as string,
    version: t.version as string,
    title: t.title as string,
    parameters: (t.parameters as string[] | undefined) ?? [],
    currency: t.currency === 'USD' || t.currency === 'CAD' ? t.currency : null,
    sections: parsedSections,
    detail: detail === undefined ? null
      : { name: detail.name as string, title: detail.title as string, window: detail.window as Window },
    charts,
  };
}

function parseSection(s: Record<string, unknown>, fail: (what: string) => never): SectionDef {
  const groupBy = (s.group_by as GroupDim[] | undefined) ?? fail(`section ${String(s.name)}: group_by missing`);
  for (const dim of groupBy) if (!groupDims.includes(dim)) fail(`section ${String(s.name)}: unknown dim ${dim}`);
  const rows = s.rows === 'nonzero' ? 'nonzero' : 'present';
  const figures = ((s.figures as Record<string, unknown>[] | undefined) ?? []).map((f) => parseFigure(f, fail));
  return { name: s.name as string, title: s.title as string, groupBy, rows, figures };
}

function parseFigure(f: Record<string, unknown>, fail: (what: string) => never): FigureDef {
  const key = typeof f.key === 'string' ? f.key : fail('a figure without a key');
  const measure = (f.formula !== undefined ? 'formula' : f.measure) as Measure;
  if (!measures.includes(measure)) fail(`figure ${key}: unknown measure ${String(f.measure)}`);
  const accounts = f.accounts as string[] | undefined;
  for (const code of accounts ?? []) if (accountByCode(code) === undefined) fail(`figure ${key}: account ${code}`);
  const types = f.event_types as string[] | undefined;
  for (const type of types ?? []) {
    if (!(eventTypes as readonly string[]).includes(type)) fail(`figure ${key}: event type ${type}`);
  }
  const window = f.window as Window | undefined;
  const needsWindow = ['debits', 'credits', 'debit_balance', 'credit_balance', 'count_entries'].includes(measure);
  if (needsWindow && (window === undefined || !windows.includes(window))) fail(`figure ${key}: window`);
  if (window === 'month' && !(Number.isInteger(f.month) && (f.month as number) >= 1 && (f.month as number) <= 12)) {
    fail(`figure ${key}: month 1–12`);
  }
  return {
    key, title: typeof f.title === 'string' ? f.title : key, measure,
    ...(accounts === undefined ? {} : { accounts }),
    ...(types === undefined ? {} : { eventTypes: types }),
    ...(window === undefined ? {} : { window }),
    ...(f.month === undefined ? {} : { month: f.month as number }),
    ...(f.formula === undefined ? {} : { formula: f.formula as Array<['+' | '-', string]> }),
    ...(f.of === undefined ? {} : { of: f.of as FigureDef['of'] & object }),
    ...(f.threshold === undefined ? {} : { threshold: f.threshold as FigureDef['threshold'] & object }),
  };
}

function checkReferences(section: SectionDef, all: readonly SectionDef[], fail: (what: string) => never) {
  const own = new Set(section.figures.map((f) => f.key));
  for (const f of section.figures) {
    for (const [, term] of f.formula ?? []) if (!own.has(term)) fail(`figure ${f.key}: term ${term}`);
    if (f.threshold !== undefined && (!own.has(f.threshold.amount) || !own.has(f.threshold.count))) {
      fail(`figure ${f.key}: threshold terms`);
    }
    if (f.of !== undefined) {
      const target = all.find((s) => s.name === f.of?.section);
      if (target === undefined || !target.figures.some((g) => g.key === f.of?.figure)) fail(`figure ${f.key}: of`);
    }
  }
}
