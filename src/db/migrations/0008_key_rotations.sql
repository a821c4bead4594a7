-- Key rotations (`ledger keys rotate`): a new signing key for a ledger that has already
-- signed is an explicit, recorded act, never a silent one. Append-only: the history of
-- which key signed when is not rewritten. Trust does not come from here: `ledger verify`
-- trusts only the pinned keys (the service's own, the data dir's retired ones,
-- LEDGER_TRUSTED_KEYS); this table tells people what happened and lets the service know
-- that its current key was adopted on purpose.
CREATE TABLE ledger.key_rotations (
  rotation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rotated_at timestamptz NOT NULL,
  key_id text NOT NULL REFERENCES ledger.signing_keys (key_id),
  -- The key the data dir held before: 'retired' (its public key kept under keys/retired),
  -- 'replaced' (the data dir had no key, or it came from LEDGER_SIGNING_KEY), or 'none'
  -- (nothing had been signed yet).
  previous_key_id text,
  previous_key text NOT NULL CHECK (previous_key IN ('retired', 'replaced', 'none')),
  CHECK ((previous_key = 'retired') = (previous_key_id IS NOT NULL)),
  -- The keys that had signed checkpoints or report manifests before, as the database named them.
  signed_before text[] NOT NULL,
  rotated_by text NOT NULL CHECK (rotated_by <> '')
);

SELECT ledger.make_append_only('ledger.key_rotations'::regclass);

GRANT SELECT, INSERT ON ledger.key_rotations TO ledger_writer;
