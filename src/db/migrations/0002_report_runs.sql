-- Report runs (REPORTS.md): parameters, watermark and figures, immutable once written.
CREATE TABLE ledger.report_runs (
  run_id uuid PRIMARY KEY,
  report text NOT NULL,
  template_version text NOT NULL,
  params jsonb NOT NULL,
  requested_by text NOT NULL CHECK (requested_by <> ''),
  watermark jsonb NOT NULL,
  generated_at timestamptz NOT NULL,
  supersedes uuid REFERENCES ledger.report_runs (run_id),
  figures jsonb NOT NULL
);
CREATE INDEX report_runs_newest ON ledger.report_runs (generated_at DESC);
SELECT ledger.make_append_only('ledger.report_runs');
GRANT SELECT, INSERT ON ledger.report_runs TO ledger_writer;
