// Small pure formatters of the auditor pages.
import { createHash, createPublicKey } from 'node:crypto';

/** True when two decimal strings name the same number ("12.50" and "12.5"; "-0" and "0"), compared exactly. */
export function sameDecimal(a: string, b: string): boolean {
  const parse = (text: string) => {
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
    return match === null ? null : { negative: match[1] === '-', whole: match[2] as string, fraction: match[3] ?? '' };
  };
  const x = parse(a);
  const y = parse(b);
  if (x === null || y === null) return a === b;
  const places = Math.max(x.fraction.length, y.fraction.length);
  const scaled = (p: { negative: boolean; whole: string; fraction: string }) =>
    (p.negative ? -1n : 1n) * BigInt(p.whole + p.fraction.padEnd(places, '0'));
  return scaled(x) === scaled(y);
}

/** The first 12 hex digits of a hash, for a table cell; the whole hash goes in its title. */
export function shortHash(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
}

/** SHA-256 (hex) of a public key's DER (SubjectPublicKeyInfo): what `openssl pkey -pubin -outform DER | sha256sum` prints. */
export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** A time filter as a person types it (a date, a datetime-local value, or RFC 3339), read as UTC. */
export function instantText(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${text}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) return `${text}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(text)) return `${text}Z`;
  return text;
}
