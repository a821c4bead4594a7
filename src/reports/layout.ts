// A run's layout for the renderers: one table per template section (a row per group, a
// column per figure, each figure cell linked to its lineage), the detail section if the
// report has one (gl-detail), and the charts. Pure: the detail rows come in as a source.
import type { ComputedFigure } from './compute.ts';
import type { Cell, Chart, Column, RenderInput, RunHeader, Section } from './render/types.ts';
import type { Template } from './template.ts';

export type LayoutInput = {
  template: Template;
  header: RunHeader;
  figures: readonly ComputedFigure[];
  detailRows: (() => AsyncIterable<readonly Cell[]>) | null;
  lineageBaseUrl: string;
  dataSha256: string;
};

export const detailColumns: readonly Column[] = [
  { key: 'entry_id', title: 'Entry', kind: 'text', width: 38 },
  { key: 'event_id', title: 'Event', kind: 'text', width: 38 },
  { key: 'type', title: 'Type', kind: 'text', width: 18 },
  { key: 'effective_at', title: 'Effective time', kind: 'datetime', width: 28 },
  { key: 'account', title: 'Account', kind: 'text', width: 8 },
  { key: 'side', title: 'Side', kind: 'text', width: 7 },
  { key: 'amount', title: 'Amount', kind: 'money', width: 14 },
  { key: 'currency', title: 'Currency', kind: 'text', width: 8 },
  { key: 'dims', title: 'Dimensions', kind: 'text', width: 40 },
  { key: 'position', title: 'Log position', kind: 'text', width: 26 },
];

export function layoutRun(input: LayoutInput): RenderInput {
  const { template } = input;
  const sections: Section[] = template.sections.map((section) => {
    const figures = input.figures.filter((f) => f.section === section.name);
    const columns: Column[] = [
      ...section.groupBy.map((dim) => ({ key: dim, title: dimTitle(dim), kind: 'text' as const, width: 14 })),
      ...section.figures.map((f) => ({
        key: f.key, title: f.title, width: 16,
        kind: f.measure === 'count_entries' || f.measure === 'count_groups' ? 'count' as const
          : f.measure === 'threshold' ? 'text' as const : 'money' as const,
      })),
    ];
    return { name: section.name, title: section.title, columns, rows: tableRows(section.groupBy, figures, template) };
  });
  if (template.detail !== null && input.detailRows !== null) {
    sections.push({ name: template.detail.name, title: template.detail.title, columns: detailColumns,
      rows: input.detailRows });
  }
  return {
    header: input.header,
    figures: input.figures.map(({ id, key, dims, value }) => ({ id, key, dims, value })),
    sections,
    charts: charts(template, input.figures),
    lineageBaseUrl: input.lineageBaseUrl,
    dataSha256: input.dataSha256,
  };
}

function dimTitle(dim: string): string {
  return { currency: 'Currency', market: 'Market', owner_id: 'Owner', account: 'Account' }[dim] ?? dim;
}

function tableRows(groupBy: readonly string[], figures: readonly ComputedFigure[], template: Template): Cell[][] {
  const rows = new Map<string, Cell[]>();
  for (const f of figures) {
    const key = JSON.stringify(groupBy.map((d) => f.dims[d]));
    let row = rows.get(key);
    if (row === undefined) {
      row = groupBy.map((d) => f.dims[d] ?? '');
      rows.set(key, row);
    }
    const currency = f.kind === 'money' ? (f.dims.currency ?? template.currency ?? 'USD') : undefined;
    row.push({ value: f.value, figureId: f.id, ...(currency === undefined ? {} : { currency }) });
  }
  return [...rows.values()];
}

function charts(template: Template, figures: readonly ComputedFigure[]): Chart[] {
  const result: Chart[] = [];
  for (const chart of template.charts) {
    const selected = figures.filter((f) => f.key === chart.figure);
    const currencies = [...new Set(selected.map((f) => f.dims.currency ?? template.currency ?? 'USD'))].sort();
    for (const currency of currencies) {
      const bars = selected.filter((f) => (f.dims.currency ?? template.currency ?? 'USD') === currency)
        .map((f) => ({ label: f.dims[chart.label] ?? '', value: f.value }));
      result.push({ title: `${chart.title} (${currency})`, currency, bars });
    }
  }
  return result;
}
