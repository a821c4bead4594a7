// What the report engine hands the renderers: one stored run (header and figures) and
// its layout (sections of rows). Renderers are pure functions of this input plus a place
// to write bytes: no clock, no database, so the same run renders to the same bytes.

import type { Figure } from '../figures.ts';

export type ReportFormat = 'json' | 'csv' | 'xlsx' | 'pdf';
export const reportFormats: readonly ReportFormat[] = ['json', 'csv', 'xlsx', 'pdf'];

/** The run as REPORTS.md's json rendering shows it, plus what the other formats print. */
export type RunHeader = {
  readonly report: string;
  readonly title: string;
  readonly run_id: string;
  readonly template_version: string;
  readonly params: Readonly<Record<string, string>>;
  /** `topic/partition` → last offset projected into the journal that the run read. */
  readonly watermark: Readonly<Record<string, number>>;
  /** RFC 3339 UTC; the only time inside any rendered file. */
  readonly generated_at: string;
  readonly requested_by: string;
  readonly supersedes: string | null;
  /** The signed journal checkpoint the run read (its id and Merkle root), if any. */
  readonly checkpoint: { readonly checkpoint_id: number; readonly merkle_root: string } | null;
};

export type ColumnKind = 'text' | 'money' | 'count' | 'date' | 'datetime';

export type Column = {
  readonly key: string;
  readonly title: string;
  readonly kind: ColumnKind;
  /** Suggested width in characters (xlsx) or relative width (pdf). */
  readonly width?: number;
};

/**
 * A cell: plain text, or a value (a decimal string for money, an integer string for a
 * count) that may be a figure (then it links to that figure's lineage) and, for money,
 * carries its currency for the number format.
 */
export type Cell =
  | string
  | null
  | { readonly value: string; readonly figureId?: string; readonly currency?: string };

export type Section = {
  /** Sheet name in xlsx (≤ 31 characters, unique), heading in pdf. */
  readonly name: string;
  readonly title: string;
  readonly columns: readonly Column[];
  /** Rows in order. Large sections (gl-detail) are async iterables read once per rendering. */
  readonly rows: readonly (readonly Cell[])[] | (() => AsyncIterable<readonly Cell[]>);
};

/** A bar chart (pdf): revenue by market, say. Values are decimal strings. */
export type Chart = {
  readonly title: string;
  readonly currency: string;
  readonly bars: readonly { readonly label: string; readonly value: string }[];
};

export type RenderInput = {
  readonly header: RunHeader;
  readonly figures: readonly Figure[];
  readonly sections: readonly Section[];
  readonly charts: readonly Chart[];
  /**
   * Base URL of the service's figure pages, where each figure's lineage is read:
   * `${lineageBaseUrl}/${figureId}` (the xlsx links and the pdf's figure ids point there).
   */
  readonly lineageBaseUrl: string;
  /** SHA-256 (hex) of the run's json rendering, printed in the pdf header. */
  readonly dataSha256: string;
};

/** Writes one rendering to `path` and returns the file's SHA-256 (hex). */
export type Renderer = (input: RenderInput, path: string) => Promise<string>;
