// Every list is paged: `limit` (bounded by limits.pageRowsMax) and an opaque `cursor`
// that the server made. A cursor is base64url JSON {v: 1, k: key}; anything else is a
// 400 naming the field, never a database error.
import { Type } from 'typebox';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';

export const pageRowsDefault = 100;
const cursorCharactersMax = 600;

/** The query string of a plain paged list: `limit` and `cursor`, nothing else. */
export const PagingQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.pageRowsMax })),
  cursor: Type.Optional(Type.String({ maxLength: cursorCharactersMax })),
}, { additionalProperties: false });

export function pageLimit(value: number | undefined): number {
  if (value === undefined) return pageRowsDefault;
  if (!Number.isSafeInteger(value) || value < 1 || value > limits.pageRowsMax) {
    throw new UserError('invalid_field', `limit must be a whole number from 1 to ${limits.pageRowsMax}`, 'limit');
  }
  return value;
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');
}

/** The key a cursor carries, checked by `valid`; null for no cursor. */
export function decodeCursor<T extends string | number>(
  cursor: string | undefined, valid: (key: unknown) => key is T,
): T | null {
  if (cursor === undefined || cursor === '') return null;
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]{1,512}$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  } catch {
    parsed = null;
  }
  const key = (parsed as { v?: unknown; k?: unknown } | null)?.k;
  if ((parsed as { v?: unknown } | null)?.v !== 1 || !valid(key)) {
    throw new UserError('invalid_cursor', 'cursor is not one this server gave out; start again without it', 'cursor');
  }
  return key;
}

export const isWholeNumber = (key: unknown): key is number => typeof key === 'number' && Number.isSafeInteger(key) && key >= 0;
export const isShortString = (key: unknown): key is string => typeof key === 'string' && key.length <= 200;
