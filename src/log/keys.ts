// The ordering key of each event type (EVENTS.md): events that must stay in order share a
// key, hence a partition. A line whose key cannot be read goes to partition 0. Pure.
const keyFieldByType: Readonly<Record<string, string>> = {
  'payment.captured': 'rental_id',
  'rental.completed': 'rental_id',
  'rental.cancelled': 'rental_id',
  'payment.refunded': 'rental_id',
  'deposit.released': 'rental_id',
  'deposit.applied': 'rental_id',
  'dispute.opened': 'rental_id',
  'dispute.won': 'rental_id',
  'payout.paid': 'owner_id',
  'payout.failed': 'owner_id',
  'processor.payout': 'processor_payout_id',
  'tax.remitted': 'market',
  'adjustment.posted': 'adjustment_id',
};

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** The message key for a line of an event file, or null when it cannot be read. */
export function orderingKey(line: Buffer): Buffer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decoder.decode(line));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const { type, data } = parsed as { type?: unknown; data?: unknown };
  const field = typeof type === 'string' ? keyFieldByType[type] : undefined;
  if (field === undefined || data === null || typeof data !== 'object') return null;
  const value = (data as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? Buffer.from(value, 'utf8') : null;
}
