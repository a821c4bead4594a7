// A run as the report engine renders it (REPORTS.md, `reconciliation`): the header, one
// figure per (outcome, source, category, currency) count and amount, and sections for the
// outcomes, the breaks with their lineage, the checks and the inputs. Pure: the engine adds
// the header hashing (dataSha256) and the lineage base URL, and writes the files.
import { figure } from '../reports/figures.ts';
import type { Cell, RenderInput, Section } from '../reports/render/types.ts';
import type { BreakRecord, RunRecord } from './record.ts';

export const reconciliationTemplateVersion = '1';

export type ReconciliationRender = Omit<RenderInput, 'dataSha256' | 'lineageBaseUrl'>;

export function reconciliationRenderInput(run: RunRecord): ReconciliationRender {
  const figures = run.categories.flatMap((c) => {
    const dims = { outcome: c.outcome, source: c.source, category: c.category, currency: c.currency };
    return [figure(run.run_id, 'count', dims, String(c.count)), figure(run.run_id, 'amount', dims, c.amount)];
  });
  return {
    header: {
      report: 'reconciliation', title: `Reconciliation ${run.date}`, run_id: run.run_id,
      template_version: reconciliationTemplateVersion, params: { date: run.date }, watermark: run.watermark,
      generated_at: run.finished_at, requested_by: run.requested_by, supersedes: run.supersedes, checkpoint: null,
    },
    figures,
    sections: [outcomesSection(run, figures), breaksSection(run.breaks), checksSection(run), inputsSection(run)],
    charts: [],
  };
}

function outcomesSection(run: RunRecord, figures: ReconciliationRender['figures']): Section {
  const idOf = (key: string, dims: Record<string, string>) =>
    figures.find((f) => f.key === key && f.dims.outcome === dims.outcome && f.dims.source === dims.source &&
      f.dims.category === dims.category && f.dims.currency === dims.currency)?.id;
  const rows = run.categories.map((c): Cell[] => {
    const dims = { outcome: c.outcome, source: c.source, category: c.category, currency: c.currency };
    const countId = idOf('count', dims);
    const amountId = idOf('amount', dims);
    return [c.outcome, c.source, c.category, c.currency,
      { value: String(c.count), ...(countId === undefined ? {} : { figureId: countId }) },
      { value: c.amount, currency: c.currency, ...(amountId === undefined ? {} : { figureId: amountId }) }];
  });
  return {
    name: 'Outcomes', title: 'Counts and amounts per outcome and category',
    columns: [
      { key: 'outcome', title: 'Outcome', kind: 'text' }, { key: 'source', title: 'Source', kind: 'text' },
      { key: 'category', title: 'Category', kind: 'text' }, { key: 'currency', title: 'Currency', kind: 'text' },
      { key: 'count', title: 'Count', kind: 'count' }, { key: 'amount', title: 'Amount', kind: 'money' },
    ],
    rows,
  };
}

function breakRow(b: BreakRecord): Cell[] {
  const amount = (value: string | null): Cell => (value === null ? null : { value, currency: b.currency });
  return [
    b.break_id, b.outcome, b.status, b.source, b.category, b.currency, b.reference,
    amount(b.ledger_amount), amount(b.external_amount), amount(b.difference), b.opened_on, String(b.age_days),
    b.ledger?.entry_id ?? null, b.ledger?.event_id ?? null,
    b.ledger === null ? null : `${b.ledger.topic}/${b.ledger.partition}@${b.ledger.offset}`,
    b.external === null ? null : `${b.external.file}:${b.external.line}`,
    b.resolution === null ? null : `${b.resolution.resolved_by}, ${b.resolution.resolved_at}: ${b.resolution.reason}`,
  ];
}

function breaksSection(breaks: readonly BreakRecord[]): Section {
  const text = (key: string, title: string) => ({ key, title, kind: 'text' as const });
  const money = (key: string, title: string) => ({ key, title, kind: 'money' as const });
  return {
    name: 'Breaks', title: 'Breaks, with their lineage',
    columns: [
      text('break_id', 'Break'), text('outcome', 'Outcome'), text('status', 'Status'), text('source', 'Source'),
      text('category', 'Category'), text('currency', 'Currency'), text('reference', 'Reference'),
      money('ledger_amount', 'Ledger'), money('external_amount', 'External'), money('difference', 'Difference'),
      { key: 'opened_on', title: 'Opened', kind: 'date' }, { key: 'age_days', title: 'Age (days)', kind: 'count' },
      text('entry_id', 'Journal entry'), text('event_id', 'Event'), text('log_position', 'Log position'),
      text('file_line', 'File:line'), text('resolution', 'Resolution'),
    ],
    rows: breaks.map(breakRow),
  };
}

function checksSection(run: RunRecord): Section {
  return {
    name: 'Checks', title: 'Integrity checks',
    columns: [{ key: 'name', title: 'Check', kind: 'text' }, { key: 'ok', title: 'Result', kind: 'text' },
      { key: 'detail', title: 'Detail', kind: 'text' }],
    rows: run.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]),
  };
}

function inputsSection(run: RunRecord): Section {
  return {
    name: 'Inputs', title: 'Input files',
    columns: [
      { key: 'role', title: 'Role', kind: 'text' }, { key: 'file', title: 'File', kind: 'text' },
      { key: 'sha256', title: 'SHA-256', kind: 'text' }, { key: 'rows', title: 'Rows', kind: 'count' },
      { key: 'bad_rows', title: 'Bad rows', kind: 'count' }, { key: 'problem', title: 'Problem', kind: 'text' },
    ],
    rows: run.inputs.map((i) => [i.role, i.file, i.sha256, String(i.rows), String(i.bad_rows_count), i.problem]),
  };
}
