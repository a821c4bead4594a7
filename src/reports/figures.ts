// Report figures as REPORTS.md's json rendering shows them: a stable id, a key, dims and
// a decimal string value. Pure.
import { sha256Hex, canonicalJson } from '../ledger/canonical.ts';
import type { Subject } from '../access-control/scope.ts';

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

/**
 * What a figure is about, for scope (API.md, Scope): its currency (from its dims, else the
 * report's own, as 1099-K is USD only) and its market (null when it has none: such a
 * figure is in scope only for a scope with every market).
 */
export function figureSubject(figure: Pick<Figure, 'dims'>, reportCurrency: 'USD' | 'CAD' | null): Subject {
  const currency = figure.dims.currency ?? reportCurrency;
  return { currency: currency === 'USD' || currency === 'CAD' ? currency : null, market: figure.dims.market ?? null };
}
