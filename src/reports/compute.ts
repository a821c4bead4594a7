// Computes a template's figures over the journal at one snapshot: one aggregate query
// per section over lines, one over entries for counts, then formulas, thresholds and
// group counts in TypeScript. Each figure keeps the definition that made it, so that its
// lineage can select exactly the lines it sums.
import type { Client } from '../db/database.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { figureId, type Figure } from './figures.ts';
import {
  contributionSql, entryDimSql, entryFilterSql, lineDimSql, lineFilterSql, lineMeasures, SqlParams,
  watermarkSql, type RunParams,
} from './query.ts';
import type { FigureDef, SectionDef, Template } from './template.ts';

export type Thresholds = { minAmountMinor: bigint; minTransactions: bigint };

/** A computed figure with what its lineage needs. */
export type ComputedFigure = Figure & {
  readonly section: string;
  readonly definition: FigureDef;
  /** Minor units for money, a count for counts, 0/1 for a threshold. */
  readonly amount: bigint;
  readonly kind: 'money' | 'count' | 'flag';
};

type Group = { dims: Record<string, string>; present: boolean; values: Map<string, bigint> };

export async function computeFigures(
  client: Client, template: Template, run: RunParams, watermark: Readonly<Record<string, number>>,
  runId: string, thresholds: Thresholds,
): Promise<ComputedFigure[]> {
  const bySection = new Map<string, Group[]>();
  for (const section of template.sections) {
    const groups = await sectionGroups(client, template, section, run, watermark);
    applyDerived(section, groups, thresholds);
    bySection.set(section.name, groups);
  }
  applyGroupCounts(template, bySection);
  const figures: ComputedFigure[] = [];
  for (const section of template.sections) {
    for (const group of bySection.get(section.name) ?? []) {
      if (!keepGroup(section, group)) continue;
      for (const def of section.figures) {
        figures.push(toFigure(template, section, def, group, runId));
      }
    }
  }
  return figures;
}

function keepGroup(section: SectionDef, group: Group): boolean {
  if (!group.present) return false;
  if (section.rows === 'present') return true;
  return section.figures.some((f) => f.measure !== 'threshold' && (group.values.get(f.key) ?? 0n) !== 0n);
}

function toFigure(template: Template, section: SectionDef, def: FigureDef, group: Group, runId: string) {
  const amount = group.values.get(def.key) ?? 0n;
  const kind: ComputedFigure['kind'] = def.measure === 'count_entries' || def.measure === 'count_groups'
    ? 'count' : def.measure === 'threshold' ? 'flag' : 'money';
  const currency = (group.dims.currency ?? template.currency ?? 'USD') as CurrencyCode;
  const value = kind === 'money' ? toDecimalString(fromMinor(currency, amount))
    : kind === 'flag' ? (amount === 1n ? 'true' : 'false') : amount.toString();
  return {
    id: figureId(runId, def.key, group.dims), key: def.key, dims: group.dims, value,
    section: section.name, definition: def, amount, kind,
  };
}

async function sectionGroups(
  client: Client, template: Template, section: SectionDef, run: RunParams, watermark: Readonly<Record<string, number>>,
): Promise<Group[]> {
  const groups = new Map<string, Group>();
  const lineDefs = section.figures.filter((f) => lineMeasures.has(f.measure));
  const countDefs = section.figures.filter((f) => f.measure === 'count_entries');
  if (lineDefs.length > 0) {
    const { sql, values } = linesQuery(template, section, lineDefs, run, watermark);
    mergeRows(groups, section, lineDefs, (await client.query(sql, values)).rows);
  }
  if (countDefs.length > 0) {
    const { sql, values } = entriesQuery(template, section, countDefs, run, watermark);
    mergeRows(groups, section, countDefs, (await client.query(sql, values)).rows);
  }
  return [...groups.values()].sort((a, b) => compareDims(section, a.dims, b.dims));
}

function compareDims(section: SectionDef, a: Record<string, string>, b: Record<string, string>): number {
  for (const dim of section.groupBy) {
    const left = a[dim] ?? '';
    const right = b[dim] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

function linesQuery(
  template: Template, section: SectionDef, defs: readonly FigureDef[], run: RunParams,
  watermark: Readonly<Record<string, number>>,
) {
  const p = new SqlParams();
  const dims = section.groupBy.map((d, i) => `${lineDimSql[d]} AS d${i}`);
  const filters = defs.map((def) => `(${lineFilterSql(def, run, p)})`);
  const sums = defs.map((def, i) => `coalesce(sum(${contributionSql(def)}) FILTER (WHERE ${filters[i]}), 0) AS f${i}`);
  const currency = template.currency === null ? '' : ` AND l.currency = ${p.add(template.currency)}`;
  const sql = `SELECT ${[...dims, ...sums].join(', ')}, count(*) FILTER (WHERE ${filters.join(' OR ')}) AS present
    FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
    WHERE ${watermarkSql(p, watermark)} AND (${filters.join(' OR ')})${currency}
    GROUP BY ${section.groupBy.map((_, i) => `d${i}`).join(', ') || '()'}`;
  return { sql, values: p.values };
}

function entriesQuery(
  template: Template, section: SectionDef, defs: readonly FigureDef[], run: RunParams,
  watermark: Readonly<Record<string, number>>,
) {
  const p = new SqlParams();
  const dims = section.groupBy.map((d, i) => `${entryDimSql[d]} AS d${i}`);
  const filters = defs.map((def) => `(${entryFilterSql(def, run, p)})`);
  const counts = defs.map((_, i) => `count(*) FILTER (WHERE ${filters[i]}) AS f${i}`);
  const currency = template.currency === null ? '' : ` AND e.subject_currency = ${p.add(template.currency)}`;
  const sql = `SELECT ${[...dims, ...counts].join(', ')}, count(*) AS present FROM ledger.journal_entries e
    WHERE ${watermarkSql(p, watermark)} AND (${filters.join(' OR ')})${currency}
    GROUP BY ${section.groupBy.map((_, i) => `d${i}`).join(', ') || '()'}`;
  return { sql, values: p.values };
}

function mergeRows(groups: Map<string, Group>, section: SectionDef, defs: readonly FigureDef[], rows: unknown[]) {
  for (const raw of rows as Record<string, string | null>[]) {
    // Dims in alphabetical order, as canonical JSON writes them: the same order in the run,
    // its manifest and every re-rendering.
    const dims: Record<string, string> = {};
    const ordered = section.groupBy.map((dim, i) => [dim, raw[`d${i}`] ?? ''] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [dim, value] of ordered) dims[dim] = value;
    const key = JSON.stringify(section.groupBy.map((d) => dims[d]));
    const group = groups.get(key) ?? { dims, present: false, values: new Map<string, bigint>() };
    defs.forEach((def, i) => group.values.set(def.key, BigInt(raw[`f${i}`] ?? '0')));
    group.present ||= BigInt(raw.present ?? '0') > 0n;
    groups.set(key, group);
  }
}

/** Formulas and thresholds, within one group, in definition order. */
function applyDerived(section: SectionDef, groups: Group[], thresholds: Thresholds): void {
  for (const group of groups) {
    for (const def of section.figures) {
      if (def.formula !== undefined) {
        let total = 0n;
        for (const [sign, term] of def.formula) total += (sign === '+' ? 1n : -1n) * (group.values.get(term) ?? 0n);
        group.values.set(def.key, total);
      }
      if (def.threshold !== undefined) {
        const amount = group.values.get(def.threshold.amount) ?? 0n;
        const count = group.values.get(def.threshold.count) ?? 0n;
        // Both thresholds are strict (REPORTS.md form-1099-k).
        const reportable = amount > thresholds.minAmountMinor && count > thresholds.minTransactions;
        group.values.set(def.key, reportable ? 1n : 0n);
      }
    }
  }
}

/** owners_negative_payable: groups of another section whose figure is below a bound, per this group's dims. */
function applyGroupCounts(template: Template, bySection: Map<string, Group[]>): void {
  for (const section of template.sections) {
    for (const def of section.figures) {
      if (def.of === undefined) continue;
      const source = bySection.get(def.of.section) ?? [];
      const bound = BigInt(def.of.below.replace('.', ''));
      for (const group of bySection.get(section.name) ?? []) {
        const matching = source.filter((s) => s.present && section.groupBy.every((d) => s.dims[d] === group.dims[d])
          && (s.values.get(def.of!.figure) ?? 0n) < bound);
        group.values.set(def.key, BigInt(matching.length));
      }
    }
  }
}
