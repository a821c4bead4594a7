-- The journal and everything that records what became of each log message.
-- Why the database enforces as well as the code: a second, independent path guards
-- each invariant (balance, append-only, the chart), so one bug cannot silence both.

CREATE SCHEMA IF NOT EXISTS ledger;

-- The service works as ledger_writer: it may read and append, never rewrite.
DO $$
BEGIN
  CREATE ROLE ledger_writer NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT ledger_writer TO %I', current_user);
  END IF;
END $$;

CREATE TYPE ledger.side AS ENUM ('debit', 'credit');

-- Refuses UPDATE, DELETE and TRUNCATE for everyone; enabled ALWAYS so that
-- session_replication_role = replica does not bypass it. Only a superuser who
-- disables the trigger can change a row, and `ledger verify` catches that.
CREATE FUNCTION ledger.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% is refused: the journal is append-only; correct it with a new entry',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION ledger.make_append_only(target regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON %s '
    'FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change()', target);
  EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
    'FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change()', target);
  EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER append_only_rows', target);
  EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER append_only_truncate', target);
END $$;

-- Per log partition: where projection stands (the offset stored in the same transaction
-- as the batch's entries) and the head of its hash chain.
CREATE TABLE ledger.log_partitions (
  topic text NOT NULL CHECK (topic <> ''),
  partition integer NOT NULL CHECK (partition >= 0),
  next_offset bigint NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
  chain_seq bigint NOT NULL DEFAULT 0 CHECK (chain_seq >= 0),
  chain_head bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
    CHECK (length(chain_head) = 32),
  PRIMARY KEY (topic, partition)
);

-- The raw archive (EVENTS.md): every message read, exactly as received, with what became
-- of it. Lineage ends here, not at a Kafka position that retention may delete.
CREATE TABLE ledger.raw_messages (
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL CHECK ("offset" >= 0),
  key bytea,
  value bytea,
  headers jsonb NOT NULL DEFAULT '[]',
  log_timestamp timestamptz NOT NULL,
  value_sha256 bytea NOT NULL CHECK (length(value_sha256) = 32),
  outcome text NOT NULL CHECK (outcome IN ('posted', 'duplicate', 'quarantined')),
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);

CREATE TABLE ledger.journal_entries (
  entry_id uuid PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  chain_seq bigint NOT NULL CHECK (chain_seq >= 1),
  effective_at timestamptz NOT NULL,
  booked_period date NOT NULL CHECK (extract(day FROM booked_period) = 1),
  late boolean NOT NULL,
  rule text NOT NULL,
  rule_version integer NOT NULL CHECK (rule_version >= 1),
  payload_sha256 bytea NOT NULL CHECK (length(payload_sha256) = 32),
  -- The entry's subject (rules.ts): what reports group by, covered by the hash.
  subject_currency text CHECK (subject_currency IN ('USD', 'CAD')),
  subject_market text CHECK (subject_market <> ''),
  subject_owner_id text CHECK (subject_owner_id <> ''),
  subject_rental_id text CHECK (subject_rental_id <> ''),
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  entry_hash bytea NOT NULL CHECK (length(entry_hash) = 32),
  line_count smallint NOT NULL CHECK (line_count >= 0),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- entry_id is derived from the log position (entry.ts), so the primary key also allows
  -- one entry per position; the chain's order is unique per partition.
  UNIQUE (topic, partition, chain_seq),
  CHECK (late = (booked_period > date_trunc('month', effective_at AT TIME ZONE 'UTC')::date))
);

-- Lines, range-partitioned by booked month: a report reads one or a few partitions, and
-- a billion lines stay in tables of manageable size. Partitions are made on demand by
-- ledger.ensure_line_partition (below). Dimensions are columns, not JSON, so that the
-- chart's rule "a line carries exactly its account's dimensions" is a CHECK.
CREATE TABLE ledger.journal_lines (
  entry_id uuid NOT NULL,
  line_no smallint NOT NULL CHECK (line_no >= 1),
  booked_period date NOT NULL,
  effective_at timestamptz NOT NULL,
  account text NOT NULL,
  side ledger.side NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency text NOT NULL CHECK (currency IN ('USD', 'CAD')),
  owner_id text CHECK (owner_id <> ''),
  rental_id text CHECK (rental_id <> ''),
  driver_id text CHECK (driver_id <> ''),
  market text CHECK (market <> ''),
  processor text CHECK (processor <> ''),
  PRIMARY KEY (entry_id, line_no, booked_period),
  CONSTRAINT line_account_dimensions CHECK (CASE account
    WHEN '1000' THEN num_nonnulls(owner_id, rental_id, driver_id, market, processor) = 0
    WHEN '1100' THEN processor IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, market) = 0
    WHEN '2000' THEN owner_id IS NOT NULL AND rental_id IS NOT NULL
      AND num_nonnulls(driver_id, market, processor) = 0
    WHEN '2010' THEN owner_id IS NOT NULL AND num_nonnulls(rental_id, driver_id, market, processor) = 0
    WHEN '2100' THEN driver_id IS NOT NULL AND rental_id IS NOT NULL
      AND num_nonnulls(owner_id, market, processor) = 0
    WHEN '2200' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '2300' THEN rental_id IS NOT NULL AND market IS NOT NULL
      AND num_nonnulls(owner_id, driver_id, processor) = 0
    WHEN '2310' THEN rental_id IS NOT NULL AND market IS NOT NULL
      AND num_nonnulls(owner_id, driver_id, processor) = 0
    WHEN '2320' THEN rental_id IS NOT NULL AND market IS NOT NULL
      AND num_nonnulls(owner_id, driver_id, processor) = 0
    WHEN '4000' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '4010' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '4020' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '4100' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '4110' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '4120' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '5000' THEN processor IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, market) = 0
    WHEN '5100' THEN market IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, processor) = 0
    WHEN '5110' THEN processor IS NOT NULL AND num_nonnulls(owner_id, rental_id, driver_id, market) = 0
    WHEN '5900' THEN num_nonnulls(owner_id, rental_id, driver_id, market, processor) = 0
    ELSE false END)
) PARTITION BY RANGE (booked_period);
-- Lines arrive roughly in effective-time order within a month's partition, so a BRIN
-- index serves time-range scans (as_of, a day) at almost no cost on the insert path; a
-- btree here cost a fifth of the projector's throughput. Lineage reads by entry_id (the
-- primary key); reports read whole monthly partitions.
CREATE INDEX journal_lines_effective ON ledger.journal_lines USING brin (effective_at);

-- Second path for "an entry balances": every statement that inserts lines is checked per
-- entry and currency, and an entry's lines must all arrive in that one statement (their
-- count equals the entry's line_count), so a half-written entry cannot exist.
CREATE FUNCTION ledger.check_inserted_lines() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT l.entry_id, l.currency,
         sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END) AS net
    INTO bad
    FROM inserted_lines l
   GROUP BY l.entry_id, l.currency
  HAVING sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance in % (debits − credits = % minor units)',
      bad.entry_id, bad.currency, bad.net USING ERRCODE = 'check_violation';
  END IF;
  SELECT c.entry_id, c.lines, e.line_count
    INTO bad
    FROM (SELECT entry_id, count(*) AS lines, min(booked_period) AS booked, max(booked_period) AS booked_max
            FROM inserted_lines GROUP BY entry_id) c
    LEFT JOIN ledger.journal_entries e ON e.entry_id = c.entry_id
   WHERE e.entry_id IS NULL OR e.line_count <> c.lines
      OR e.booked_period <> c.booked OR c.booked <> c.booked_max
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'lines of journal entry % do not match the entry (% lines, entry says %)',
      bad.entry_id, bad.lines, bad.line_count USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER journal_lines_checked AFTER INSERT ON ledger.journal_lines
  REFERENCING NEW TABLE AS inserted_lines
  FOR EACH STATEMENT EXECUTE FUNCTION ledger.check_inserted_lines();
ALTER TABLE ledger.journal_lines ENABLE ALWAYS TRIGGER journal_lines_checked;

-- Makes the month's line partition if missing. SECURITY DEFINER: the service may not
-- create tables, but may ask for next month's partition. Serialized by an advisory lock.
CREATE FUNCTION ledger.ensure_line_partition(period date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ledger AS $$
DECLARE
  partition_name text := format('journal_lines_%s', to_char(period, 'YYYY_MM'));
BEGIN
  IF period <> date_trunc('month', period)::date THEN
    RAISE EXCEPTION 'period % is not the first day of a month', period;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('ledger.ensure_line_partition'));
  IF to_regclass('ledger.' || partition_name) IS NULL THEN
    EXECUTE format('CREATE TABLE ledger.%I PARTITION OF ledger.journal_lines '
      'FOR VALUES FROM (%L) TO (%L)', partition_name, period, (period + interval '1 month')::date);
    -- TRUNCATE of a partition does not fire the parent's trigger: give each its own.
    EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON ledger.%I '
      'FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change()', partition_name);
    EXECUTE format('ALTER TABLE ledger.%I ENABLE ALWAYS TRIGGER append_only_truncate', partition_name);
    EXECUTE format('ALTER TABLE ledger.%I ENABLE ALWAYS TRIGGER append_only_rows', partition_name);
  END IF;
END $$;

CREATE TABLE ledger.quarantine (
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  event_id text,
  event_type text,
  reason text NOT NULL CHECK (reason IN ('malformed_json', 'invalid_envelope', 'unsupported_version',
    'unknown_type', 'conflicting_duplicate', 'invalid_field', 'invalid_amount', 'unbalanced',
    'unknown_reference', 'duplicate_reference', 'exceeds_remaining', 'rental_closed')),
  message text NOT NULL CHECK (message <> ''),
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);

-- A redelivered event: both positions are kept, nothing is posted.
CREATE TABLE ledger.duplicate_deliveries (
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  event_id uuid NOT NULL,
  original_entry_id uuid NOT NULL REFERENCES ledger.journal_entries (entry_id),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);

-- What the posting rules need to know of rentals, payments, disputes and payouts. Derived
-- data (rebuildable by replaying the log), so it may be updated, unlike the journal.
-- version counts the changes of a key: a batch writes a key only at the version it read
-- (optimistic concurrency), so two partitions' transactions can never both change one key.
CREATE TABLE ledger.projection_state (
  ref_key text PRIMARY KEY,
  state text NOT NULL, -- JSON (state.ts encodeState); text, since it is only read whole

  version bigint NOT NULL CHECK (version >= 1)
);

CREATE TABLE ledger.signing_keys (
  key_id text PRIMARY KEY,
  algorithm text NOT NULL CHECK (algorithm = 'ed25519'),
  public_key_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Signed checkpoints: a Merkle root over every partition's chain head (RFC 6962).
CREATE TABLE ledger.checkpoints (
  checkpoint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz NOT NULL,
  body text NOT NULL,
  merkle_root bytea NOT NULL CHECK (length(merkle_root) = 32),
  key_id text NOT NULL REFERENCES ledger.signing_keys (key_id),
  signature bytea NOT NULL CHECK (length(signature) = 64)
);

-- Closed periods (ACCOUNTING.md, Periods). Closing is final: never reopened.
CREATE TABLE ledger.closed_periods (
  period date PRIMARY KEY CHECK (extract(day FROM period) = 1),
  closed_at timestamptz NOT NULL DEFAULT now(),
  closed_by text NOT NULL CHECK (closed_by <> ''),
  reason text NOT NULL DEFAULT ''
);

SELECT ledger.make_append_only(t) FROM unnest(ARRAY[
  'ledger.raw_messages', 'ledger.journal_entries', 'ledger.journal_lines', 'ledger.quarantine',
  'ledger.duplicate_deliveries', 'ledger.signing_keys', 'ledger.checkpoints',
  'ledger.closed_periods']::regclass[]) AS t;

GRANT USAGE ON SCHEMA ledger TO ledger_writer;
GRANT SELECT, INSERT ON ledger.raw_messages, ledger.journal_entries, ledger.journal_lines,
  ledger.quarantine, ledger.duplicate_deliveries, ledger.signing_keys, ledger.checkpoints,
  ledger.closed_periods TO ledger_writer;
GRANT SELECT, INSERT, UPDATE ON ledger.log_partitions, ledger.projection_state TO ledger_writer;
GRANT USAGE ON TYPE ledger.side TO ledger_writer;
REVOKE ALL ON FUNCTION ledger.ensure_line_partition(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger.ensure_line_partition(date) TO ledger_writer;
