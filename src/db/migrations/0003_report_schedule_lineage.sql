-- Scheduled report runs: which occurrence of which schedule produced which run, so that
-- runs missed while the service was down are caught up at start and none runs twice.
CREATE TABLE ledger.scheduled_runs (
  schedule_name text NOT NULL CHECK (schedule_name <> ''),
  due_at timestamptz NOT NULL,
  run_id uuid NOT NULL REFERENCES ledger.report_runs (run_id),
  PRIMARY KEY (schedule_name, due_at)
);
SELECT ledger.make_append_only('ledger.scheduled_runs');
GRANT SELECT, INSERT ON ledger.scheduled_runs TO ledger_writer;

-- The signed sum of a figure's lineage, once computed. It never changes (the journal is
-- append-only and lineage reads at the run's watermark), and at a million lines it is
-- the slow part of a lineage page, so it is kept rather than recomputed per page.
CREATE TABLE ledger.figure_lineage_sums (
  figure_id text PRIMARY KEY REFERENCES ledger.report_figures (figure_id),
  sum_value text NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);
SELECT ledger.make_append_only('ledger.figure_lineage_sums');
GRANT SELECT, INSERT ON ledger.figure_lineage_sums TO ledger_writer;
