// A report run's progress while it renders: rows rendered, of the run's rows once per
// format (gl-detail's detail rows counted in the database first). Only the streamed
// sections (gl-detail's detail) are counted as the renderers pull them, at no cost per row
// beyond a counter; the small tables of figures count when their format is done. Each
// format's share is capped at its plan and completed when it ends, so a renderer that
// reads a section twice (the pdf's column bands) or stops early cannot run the count past
// the total.
import type { Pool } from '../db/database.ts';
import { SqlParams, watermarkSql, windowSql, type RunParams } from './query.ts';
import type { Cell, RenderInput, ReportFormat, Section } from './render/types.ts';

/** `onProgress(rowsRendered, rowsTotal)`: at the start, every `reportEveryRows` pulled rows, and after each format. */
export type RenderProgress = (rowsRendered: number, rowsTotal: number) => void;

const reportEveryRows = 1_000;

/** The detail rows a run renders: the same rows detail.ts streams (the period's lines at or below the watermark). */
export async function countDetailRows(
  pool: Pool, run: RunParams, watermark: Readonly<Record<string, number>>,
): Promise<number> {
  const p = new SqlParams();
  const window = windowSql('period', undefined, 'l', run, p);
  const result = await pool.query<{ rows: string }>(`SELECT count(*) AS rows
    FROM ledger.journal_lines l JOIN ledger.journal_entries e USING (entry_id)
    WHERE ${window} AND ${watermarkSql(p, watermark)}`, p.values);
  return Number(result.rows[0]?.rows ?? 0);
}

export class RenderCounter {
  private readonly perFormat: number;
  private readonly total: number;
  private finishedRows = 0;
  private pulled = 0;

  /** `streamedRows`: the rows of the layout's streamed sections (countDetailRows). */
  constructor(
    layout: RenderInput, streamedRows: number, formats: readonly ReportFormat[], private readonly onProgress: RenderProgress,
  ) {
    this.perFormat = layout.sections.reduce((sum, s) => sum + (typeof s.rows === 'function' ? 0 : s.rows.length), 0) +
      streamedRows;
    this.total = this.perFormat * formats.length;
    onProgress(0, this.total);
  }

  /** The same input, its streamed sections counted as they are read. */
  wrap(input: RenderInput): RenderInput {
    return { ...input, sections: input.sections.map((section) => this.counted(section)) };
  }

  /** A format is written: its whole share is done. */
  finished(): void {
    this.finishedRows = Math.min(this.total, this.finishedRows + this.perFormat);
    this.pulled = 0;
    this.onProgress(this.finishedRows, this.total);
  }

  private counted(section: Section): Section {
    const rows = section.rows;
    if (typeof rows !== 'function') return section;
    const pull = () => {
      this.pulled += 1;
      if (this.pulled % reportEveryRows === 0) {
        this.onProgress(this.finishedRows + Math.min(this.pulled, this.perFormat), this.total);
      }
    };
    return {
      ...section,
      // No extra promise per row: next() is the source's own, counted as it is asked for.
      rows: () => {
        const source = rows()[Symbol.asyncIterator]();
        const iterator: AsyncIterator<readonly Cell[]> = {
          next: () => { pull(); return source.next(); },
          // A renderer that stops early (break) closes the source: its query pages end there.
          return: async (value?: unknown) => (source.return === undefined
            ? { done: true as const, value: undefined } : source.return(value)),
        };
        return { [Symbol.asyncIterator]: () => iterator };
      },
    };
  }
}
