-- Reconciliation (RECONCILIATION.md): each run, every item of it that did not match (the
-- breaks and the pending), and the resolutions of breaks. All three are append-only: a
-- re-run records a new run beside the old one, and a resolution is never edited.

-- One run: its date, its inputs with their SHA-256, the journal watermark it read, the
-- counts and amounts per outcome, the integrity checks. `supersedes` names the previous
-- run of the same date, as a report re-run does (REPORTS.md).
CREATE TABLE ledger.reconciliation_runs (
  run_id uuid PRIMARY KEY,
  run_date date NOT NULL,
  requested_by text NOT NULL CHECK (requested_by <> ''),
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL CHECK (finished_at >= started_at),
  supersedes uuid REFERENCES ledger.reconciliation_runs (run_id),
  params jsonb NOT NULL,
  inputs jsonb NOT NULL,
  watermark jsonb NOT NULL,
  outcomes jsonb NOT NULL,
  checks jsonb NOT NULL,
  breaks_open integer NOT NULL CHECK (breaks_open >= 0),
  ok boolean NOT NULL
);
-- The predecessor of a run (the latest run of an earlier date) and the runs of one date.
CREATE INDEX reconciliation_runs_by_date ON ledger.reconciliation_runs (run_date, started_at);

-- Every item of a run that did not match: breaks (amount_mismatch, missing_in_ledger,
-- missing_externally, duplicate_external) and pending items, each with its lineage: the
-- journal entry and its log position, or the file and line. Matched items are counted
-- in the run's outcomes, not listed. break_id is carried from run to run while the same
-- break stays open (same break_key in the preceding run), so a resolution made once
-- holds for every later run of the same break.
CREATE TABLE ledger.reconciliation_items (
  run_id uuid NOT NULL REFERENCES ledger.reconciliation_runs (run_id),
  item_no integer NOT NULL CHECK (item_no >= 1),
  break_id text NOT NULL CHECK (break_id ~ '^brk_[0-9a-f]{24}$'),
  break_key text NOT NULL CHECK (break_key <> ''),
  outcome text NOT NULL CHECK (outcome IN ('amount_mismatch', 'missing_in_ledger', 'missing_externally',
    'duplicate_external', 'pending')),
  source text NOT NULL CHECK (source IN ('processor', 'bank')),
  category text NOT NULL,
  currency text NOT NULL CHECK (currency IN ('USD', 'CAD')),
  reference text NOT NULL,
  opened_on date NOT NULL,
  age_days integer NOT NULL CHECK (age_days >= 0),
  ledger_amount_minor bigint,
  ledger_fee_minor bigint,
  external_amount_minor bigint,
  external_fee_minor bigint,
  entry_id uuid,
  event_id uuid,
  event_type text,
  effective_at timestamptz,
  topic text,
  partition integer,
  "offset" bigint,
  file text,
  line integer CHECK (line >= 1),
  external_id text,
  external_date text,
  PRIMARY KEY (run_id, item_no),
  -- Lineage: a ledger-side item names its entry and log position, an external one its file and line.
  CHECK (entry_id IS NULL OR (event_id IS NOT NULL AND topic IS NOT NULL AND partition IS NOT NULL
    AND "offset" IS NOT NULL)),
  CHECK (file IS NULL OR line IS NOT NULL),
  CHECK (entry_id IS NOT NULL OR file IS NOT NULL)
);
CREATE INDEX reconciliation_items_break ON ledger.reconciliation_items (break_id);

-- A resolution: who, when, why. One per break, never edited (append-only, unique).
CREATE TABLE ledger.reconciliation_resolutions (
  break_id text PRIMARY KEY CHECK (break_id ~ '^brk_[0-9a-f]{24}$'),
  resolved_by text NOT NULL CHECK (resolved_by <> ''),
  resolved_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (btrim(reason) <> '')
);

SELECT ledger.make_append_only(t) FROM unnest(ARRAY['ledger.reconciliation_runs',
  'ledger.reconciliation_items', 'ledger.reconciliation_resolutions']::regclass[]) AS t;

GRANT SELECT, INSERT ON ledger.reconciliation_runs, ledger.reconciliation_items,
  ledger.reconciliation_resolutions TO ledger_writer;
