// Report figures as REPORTS.md's json rendering shows them: a stable id, a key, dims and
// a decimal string value. Pure.
import { sha256Hex, canonicalJson } from '../ledger/canonical.ts';

export type Figure = {
  readonly id: string;
  readonly key: string;
  readonly dims: Readonly<Record<string, string>>;
  readonly value: string;
};

/** Stable within a run: the same (run, key, dims) always has the same id. */
export function figureId(runId: string, key: string, dims: Readonly<Record<string, string>>): string {
  return `fig_${sha256Hex(canonicalJson([runId, key, dims])).slice(0, 24)}`;
}

export function figure(runId: string, key: string, dims: Record<string, string>, value: string): Figure {
  return { id: figureId(runId, key, dims), key, dims, value };
}
