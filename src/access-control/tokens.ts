// API tokens: 256 random bits behind a recognisable prefix (so a leaked token is easy to
// find in logs and repositories), shown once, stored only as their SHA-256, with an
// expiry, revocable. A token's SHA-256 is looked up directly: no timing-sensitive string
// comparison of secrets ever happens in this process.
import { randomBytes } from 'node:crypto';
import { sha256 } from '../ledger/canonical.ts';

export const tokenPrefix = 'ldg_';
const tokenSecretBytes = 32;
const tokenPattern = /^ldg_[A-Za-z0-9_-]{43}$/;
/** Tokens last at most this long; a script's token is renewed, never eternal. */
export const tokenDurationMsMax = 366 * 24 * 60 * 60 * 1000;
export const tokenDurationMsDefault = 90 * 24 * 60 * 60 * 1000;

export type IssuedToken = { readonly tokenId: string; readonly secret: string; readonly secretSha256: Buffer };

export function issueToken(): IssuedToken {
  const secret = `${tokenPrefix}${randomBytes(tokenSecretBytes).toString('base64url')}`;
  return { tokenId: `tok_${randomBytes(8).toString('hex')}`, secret, secretSha256: sha256(secret) };
}

/** The hash to look up, or null for what cannot be one of ours (401 without a query). */
export function tokenLookupHash(presented: string): Buffer | null {
  return tokenPattern.test(presented) ? sha256(presented) : null;
}
