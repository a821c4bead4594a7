// The fixed list of reasons a message is quarantined (EVENTS.md, "What every rejection
// must show"). Each comes with a message naming the field and value at fault.

export const rejectionReasons = [
  'malformed_json',
  'invalid_envelope',
  'unsupported_version',
  'unknown_type',
  'conflicting_duplicate',
  'invalid_field',
  'invalid_amount',
  'unbalanced',
  'unapproved_adjustment',
  'unknown_reference',
  'duplicate_reference',
  'exceeds_remaining',
  'rental_closed',
] as const;
export type RejectionReason = (typeof rejectionReasons)[number];

export type Rejection = {
  readonly kind: 'rejected';
  readonly reason: RejectionReason;
  readonly message: string;
};

export function reject(reason: RejectionReason, message: string): Rejection {
  return { kind: 'rejected', reason, message };
}
