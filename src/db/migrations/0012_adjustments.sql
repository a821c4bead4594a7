-- Manual adjustments (API.md): a person requests a balanced entry, a second person
-- approves it, and only then does the service sign the approval and append
-- adjustment.posted to the log, so the journal stays a projection of the log. Both acts
-- are rows of their own, never edited; the approval names the event it appended.
CREATE TABLE access.adjustment_requests (
  adjustment_id text PRIMARY KEY CHECK (adjustment_id ~ '^adj_[0-9a-f]{24}$'),
  request_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  requested_by text NOT NULL CHECK (requested_by <> ''),
  requested_at timestamptz NOT NULL,
  currency text NOT NULL CHECK (currency IN ('USD', 'CAD')),
  reason text NOT NULL,
  lines jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array' AND jsonb_array_length(lines) >= 2)
);

CREATE TABLE access.adjustment_approvals (
  adjustment_id text PRIMARY KEY REFERENCES access.adjustment_requests (adjustment_id),
  approved_by text NOT NULL CHECK (approved_by <> ''),
  approved_at timestamptz NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  approval_id text NOT NULL,
  key_id text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$')
);

-- The database holds the four-eyes rule too: an approval by the requester is refused here
-- whatever the code above it does.
CREATE FUNCTION access.refuse_self_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM access.adjustment_requests r
              WHERE r.adjustment_id = NEW.adjustment_id AND r.requested_by = NEW.approved_by) THEN
    RAISE EXCEPTION 'adjustment % approved by its requester %', NEW.adjustment_id, NEW.approved_by
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER adjustment_four_eyes BEFORE INSERT ON access.adjustment_approvals
  FOR EACH ROW EXECUTE FUNCTION access.refuse_self_approval();
ALTER TABLE access.adjustment_approvals ENABLE ALWAYS TRIGGER adjustment_four_eyes;

SELECT ledger.make_append_only(t) FROM unnest(ARRAY['access.adjustment_requests',
  'access.adjustment_approvals']::regclass[]) AS t;
GRANT SELECT, INSERT ON access.adjustment_requests, access.adjustment_approvals TO ledger_writer;
