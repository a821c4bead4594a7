-- The nightly reconciliation runs once per date, however many `ledger serve` share the
-- database. The leader lock makes one process run it; this makes the database refuse a
-- second run of a date even so: the job's run (requested by `reconciliation-job`) claims
-- its date here in the same transaction that records it, and a second claim fails with a
-- unique violation, which rolls that whole run back. Runs by people (`ledger reconcile`)
-- claim nothing: re-running a date by hand stays possible, as REPORTS.md allows.
CREATE TABLE ledger.nightly_runs (
  run_date date PRIMARY KEY,
  run_id uuid NOT NULL UNIQUE REFERENCES ledger.reconciliation_runs (run_id)
);

-- The job's runs so far (two services may already have run a date twice: the first counts),
-- so that the catch-up starts after the last night already run.
INSERT INTO ledger.nightly_runs (run_date, run_id)
  SELECT DISTINCT ON (run_date) run_date, run_id FROM ledger.reconciliation_runs
   WHERE requested_by = 'reconciliation-job' ORDER BY run_date, started_at, run_id;

CREATE FUNCTION ledger.claim_nightly_date() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger.nightly_runs (run_date, run_id) VALUES (NEW.run_date, NEW.run_id);
  RETURN NULL;
END $$;

CREATE TRIGGER nightly_once AFTER INSERT ON ledger.reconciliation_runs
  FOR EACH ROW WHEN (NEW.requested_by = 'reconciliation-job') EXECUTE FUNCTION ledger.claim_nightly_date();
ALTER TABLE ledger.reconciliation_runs ENABLE ALWAYS TRIGGER nightly_once;

SELECT ledger.make_append_only('ledger.nightly_runs');
GRANT SELECT, INSERT ON ledger.nightly_runs TO ledger_writer;
