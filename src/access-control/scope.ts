// A grant's scope (API.md, Scope): `{currencies?, markets?}`, a missing key meaning all.
// An object is in scope when its currency and its market are; an object without a market
// (a processor payout) needs all markets. A report run is in scope when every figure is.
// Out of scope reads as absent: callers turn a false here into 404, never 403.
import { isCurrencyCode, type CurrencyCode } from '../ledger/money.ts';
import { UserError } from '../errors.ts';

export type Scope = {
  /** null: every currency. */
  readonly currencies: readonly CurrencyCode[] | null;
  /** null: every market. */
  readonly markets: readonly string[] | null;
};

export const everything: Scope = { currencies: null, markets: null };

/** What an object is about: a figure, a journal line, an event, a run's figure. */
export type Subject = { readonly currency: CurrencyCode | null; readonly market: string | null };

const marketPattern = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;
const scopeListMax = 64;

export function inScope(scope: Scope, subject: Subject): boolean {
  if (scope.currencies !== null && (subject.currency === null || !scope.currencies.includes(subject.currency))) {
    return false;
  }
  if (scope.markets !== null && (subject.market === null || !scope.markets.includes(subject.market))) return false;
  return true;
}

/** A run (or any set of subjects) is in scope only when every one of them is. */
export function allInScope(scope: Scope, subjects: Iterable<Subject>): boolean {
  for (const subject of subjects) if (!inScope(scope, subject)) return false;
  return true;
}

/** True when every object `inner` admits, `outer` admits too. */
export function scopeCovers(outer: Scope, inner: Scope): boolean {
  const covers = <T>(o: readonly T[] | null, i: readonly T[] | null) => o === null || (i !== null && i.every((x) => o.includes(x)));
  return covers(outer.currencies, inner.currencies) && covers(outer.markets, inner.markets);
}

/** Parses a scope from a request body or a flag; each mistake names its field. */
export function parseScope(value: unknown, field = 'scope'): Scope {
  if (value === undefined || value === null) return everything;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('invalid_scope', `${field} must be an object {currencies?, markets?}`, field);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'currencies' && key !== 'markets') {
      throw new UserError('invalid_scope', `${field}.${key} is not a scope key (currencies, markets)`, `${field}.${key}`);
    }
  }
  const currencies = parseList(record.currencies, `${field}.currencies`, (c) => isCurrencyCode(c), 'USD or CAD');
  const markets = parseList(record.markets, `${field}.markets`, (m) => typeof m === 'string' && marketPattern.test(m),
    'a market code such as US-CA');
  return { currencies: currencies as CurrencyCode[] | null, markets: markets as string[] | null };
}

function parseList(value: unknown, field: string, valid: (item: unknown) => boolean, what: string): unknown[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > scopeListMax) {
    throw new UserError('invalid_scope', `${field} must be a list of 1 to ${scopeListMax} items (leave it out for all)`,
      field);
  }
  value.forEach((item, index) => {
    if (!valid(item)) throw new UserError('invalid_scope', `${field}[${index}] ${JSON.stringify(item)} is not ${what}`, field);
  });
  return [...new Set(value)].sort();
}

/** The stored and shown form: keys only where restricted. */
export function scopeJson(scope: Scope): { currencies?: string[]; markets?: string[] } {
  return {
    ...(scope.currencies === null ? {} : { currencies: [...scope.currencies] }),
    ...(scope.markets === null ? {} : { markets: [...scope.markets] }),
  };
}

export function describeScope(scope: Scope): string {
  const part = (name: string, list: readonly string[] | null) => (list === null ? `all ${name}` : list.join(','));
  return `${part('currencies', scope.currencies)}; ${part('markets', scope.markets)}`;
}
