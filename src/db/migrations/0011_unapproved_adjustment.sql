-- EVENTS.md added the reason `unapproved_adjustment`: an adjustment.posted without a valid
-- signed approval. The quarantine's list of reasons follows the contract's fixed list
-- (src/ledger/rejections.ts); rows already there keep their reasons.
ALTER TABLE ledger.quarantine DROP CONSTRAINT quarantine_reason_check;
ALTER TABLE ledger.quarantine ADD CONSTRAINT quarantine_reason_check CHECK (reason IN ('malformed_json',
  'invalid_envelope', 'unsupported_version', 'unknown_type', 'conflicting_duplicate', 'invalid_field',
  'invalid_amount', 'unbalanced', 'unapproved_adjustment', 'unknown_reference', 'duplicate_reference',
  'exceeds_remaining', 'rental_closed'));
