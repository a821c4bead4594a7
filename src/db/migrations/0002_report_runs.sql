-- Report runs (REPORTS.md): immutable once written. A re-run is a new run naming the one
-- it supersedes. The run keeps its parameters, watermark, the signed checkpoint it read,
-- its figures with the definitions that made them (for lineage), its files' SHA-256 and
-- its signed manifest.
CREATE TABLE ledger.report_runs (
  run_id uuid PRIMARY KEY,
  -- Order of recording: what "the latest run" and "supersedes" mean, whatever the clocks say.
  run_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  report text NOT NULL,
  title text NOT NULL,
  template_version text NOT NULL,
  params jsonb NOT NULL,
  requested_by text NOT NULL CHECK (requested_by <> ''),
  watermark jsonb NOT NULL,
  generated_at timestamptz NOT NULL,
  supersedes uuid REFERENCES ledger.report_runs (run_id),
  checkpoint_id bigint REFERENCES ledger.checkpoints (checkpoint_id),
  manifest text NOT NULL,
  manifest_signature bytea NOT NULL CHECK (length(manifest_signature) = 64),
  key_id text NOT NULL REFERENCES ledger.signing_keys (key_id)
);
CREATE INDEX report_runs_by_params ON ledger.report_runs (report, params, run_seq);

CREATE TABLE ledger.report_figures (
  figure_id text PRIMARY KEY,
  run_id uuid NOT NULL REFERENCES ledger.report_runs (run_id),
  ordinal integer NOT NULL,
  section text NOT NULL,
  key text NOT NULL,
  dims jsonb NOT NULL,
  value text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('money', 'count', 'flag')),
  definition jsonb NOT NULL
);
CREATE INDEX report_figures_run ON ledger.report_figures (run_id, ordinal);

CREATE TABLE ledger.report_files (
  run_id uuid NOT NULL REFERENCES ledger.report_runs (run_id),
  format text NOT NULL CHECK (format IN ('json', 'csv', 'xlsx', 'pdf', 'manifest')),
  file_name text NOT NULL,
  sha256 bytea NOT NULL CHECK (length(sha256) = 32),
  PRIMARY KEY (run_id, format)
);

SELECT ledger.make_append_only(t) FROM unnest(ARRAY[
  'ledger.report_runs', 'ledger.report_figures', 'ledger.report_files']::regclass[]) AS t;
GRANT SELECT, INSERT ON ledger.report_runs, ledger.report_figures, ledger.report_files TO ledger_writer;
GRANT USAGE ON SEQUENCE ledger.report_runs_run_seq_seq TO ledger_writer;
