// The journal read over HTTP (API.md, Routes): an account's balance as of a time, and the
// quarantine. A balance sums exactly the lines the trial-balance report would (the same
// `as_of` window, src/reports/query.ts), so the two never differ. Scope: a journal line's
// subject is its currency and, where its account has one, its market dimension; a line
// without a market is in scope only for a grant with all markets. Quarantined messages
// have no currency or market one can trust, so only a grant of ledger:read on everything
// sees them (docs/contract-readings.md). Reads here are not recorded in the trail.
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Pool } from '../../db/database.ts';
import { invariant, UserError } from '../../errors.ts';
import { accountByCode, type Dimension } from '../../ledger/chart.ts';
import { currencies, minorToDecimalString, type CurrencyCode } from '../../ledger/money.ts';
import { parseAsOf } from '../../reports/params.ts';
import { SqlParams, windowSql } from '../../reports/query.ts';
import { decodeCursor, encodeCursor, pageLimit, PagingQuery } from '../paging.ts';
import { callerScopes, grantInScope, type HttpApp } from '../server.ts';

const dimValue = Type.Optional(Type.String({ minLength: 1, maxLength: 200 }));
const Currency = Type.Union([Type.Literal('USD'), Type.Literal('CAD')]);
invariant(Object.keys(currencies).sort().join() === 'CAD,USD', 'the balance route names every currency of money.ts');

const BalanceQuery = Type.Object({
  currency: Currency,
  as_of: Type.Optional(Type.String({ maxLength: 40 })),
  owner_id: dimValue, rental_id: dimValue, driver_id: dimValue, market: dimValue, processor: dimValue,
}, { additionalProperties: false });


const balanceDims: readonly Dimension[] = ['owner_id', 'rental_id', 'driver_id', 'market', 'processor'];

/** The dimensions asked for, each one the account has; another is a 400 naming it. */
function askedDims(query: Partial<Record<Dimension, string>>, accountDims: readonly Dimension[], code: string) {
  const dims: Partial<Record<Dimension, string>> = {};
  for (const dim of balanceDims) {
    const value = query[dim];
    if (value === undefined) continue;
    if (!accountDims.includes(dim)) {
      const has = accountDims.length === 0 ? 'no dimensions' : `only ${accountDims.join(', ')}`;
      throw new UserError('invalid_field', `${dim}: account ${code} has ${has}`, dim);
    }
    dims[dim] = value;
  }
  return dims;
}

type BalanceRow = { debits: string; credits: string; lines: string };

async function sumLines(pool: Pool, code: string, currency: CurrencyCode, asOf: string,
  dims: Partial<Record<Dimension, string>>): Promise<BalanceRow> {
  const p = new SqlParams();
  const where = [`l.account = ${p.add(code)}`, `l.currency = ${p.add(currency)}`,
    windowSql('as_of', undefined, 'l', { asOf }, p)];
  for (const [dim, value] of Object.entries(dims)) where.push(`l.${dim} = ${p.add(value)}`);
  const result = await pool.query<BalanceRow>(`SELECT
      coalesce(sum(l.amount_minor) FILTER (WHERE l.side = 'debit'), 0)::text AS debits,
      coalesce(sum(l.amount_minor) FILTER (WHERE l.side = 'credit'), 0)::text AS credits,
      count(*)::text AS lines
    FROM ledger.journal_lines l WHERE ${where.join(' AND ')}`, p.values);
  const row = result.rows[0];
  if (row === undefined) throw new Error('invariant violated: an aggregate returned no row');
  return row;
}

/** The quarantine's order, newest first: `µs since the epoch:partition:offset:topic`. */
const quarantineKeyPattern = /^(\d{1,20}):(\d{1,10}):(\d{1,20}):(.{1,249})$/;
const isQuarantineKey = (key: unknown): key is string => typeof key === 'string' && quarantineKeyPattern.test(key);

/** Quarantined messages carry no trusted currency or market: only a grant on everything sees them. */
function seesQuarantine(request: FastifyRequest): boolean {
  return callerScopes(request).some((s) => s.currencies === null && s.markets === null);
}

type QuarantineRow = {
  topic: string; partition: number; offset: string; reason: string; message: string; event_id: string | null;
  event_type: string | null; quarantined_at: Date; at_us: string;
};

export function ledgerRoutes(pool: Pool) {
  return (app: HttpApp) => {
    app.get('/api/accounts/:code/balance', {
      config: { permission: 'ledger:read' },
      schema: { tags: ['ledger'], params: Type.Object({ code: Type.String({ pattern: '^[0-9]{4}$' }) }),
        querystring: BalanceQuery },
    }, async (request) => {
      const { code } = request.params;
      const account = accountByCode(code);
      if (account === undefined) throw new UserError('not_found', `no account ${code} in the chart`);
      const q = request.query;
      const currency: CurrencyCode = q.currency;
      const dims = askedDims(q, account.dimensions, code);
      // A balance of a market account over every market is in scope only for a grant of all markets.
      const market = account.dimensions.includes('market') ? dims.market ?? null : null;
      grantInScope(request, 'ledger:read', { currency: q.currency, market }, `balance of account ${code} in this scope`);
      const asOf = q.as_of === undefined ? request.at.toISOString() : parseAsOf(q.as_of);
      const row = await sumLines(pool, code, q.currency, asOf, dims);
      const debits = BigInt(row.debits);
      const credits = BigInt(row.credits);
      const exponent = currencies[currency].exponent;
      const balance = account.normal === 'debit' ? debits - credits : credits - debits;
      return { account: code, currency: q.currency, as_of: asOf, dims, normal_side: account.normal,
        debits: minorToDecimalString(debits, exponent), credits: minorToDecimalString(credits, exponent),
        balance: minorToDecimalString(balance, exponent), lines: Number(row.lines) };
    });

    app.get('/api/quarantine', {
      config: { permission: 'ledger:read' },
      schema: { tags: ['ledger'], querystring: PagingQuery },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const after = decodeCursor(request.query.cursor, isQuarantineKey);
      if (!seesQuarantine(request)) return { items: [], next_cursor: null };
      const key = after === null ? null : quarantineKeyPattern.exec(after);
      const rows = await pool.query<QuarantineRow>(`SELECT topic, partition, "offset"::text AS "offset", reason, message,
          event_id, event_type, quarantined_at, (extract(epoch FROM quarantined_at) * 1000000)::bigint::text AS at_us
        FROM ledger.quarantine
       WHERE $1::bigint IS NULL OR ((extract(epoch FROM quarantined_at) * 1000000)::bigint, partition, "offset", topic)
             < ($1::bigint, $2::int, $3::bigint, $4::text)
       ORDER BY quarantined_at DESC, partition DESC, "offset" DESC, topic DESC LIMIT $5`,
      [key?.[1] ?? null, key?.[2] ?? null, key?.[3] ?? null, key?.[4] ?? null, limit + 1]);
      const page = rows.rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({ topic: r.topic, partition: r.partition, offset: Number(r.offset), reason: r.reason,
          message: r.message, event_id: r.event_id, event_type: r.event_type,
          quarantined_at: r.quarantined_at.toISOString() })),
        next_cursor: rows.rows.length > limit && last !== undefined
          ? encodeCursor(`${last.at_us}:${last.partition}:${last.offset}:${last.topic}`) : null,
      };
    });
  };
}
