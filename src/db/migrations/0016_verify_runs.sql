-- What `ledger verify` found, each time it ran against this database (issue 14: the web
-- pages show the last result). Append-only: a verification that failed is not rewritten
-- into one that passed. `checks` is the report's list of {name, ok, detail}, as
-- `ledger verify --json` prints it.
CREATE TABLE ledger.verify_runs (
  verify_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  finished_at timestamptz NOT NULL,
  ok boolean NOT NULL,
  checks jsonb NOT NULL CHECK (jsonb_typeof(checks) = 'array'),
  -- Given --checkpoints DIR: the auditor's own checkpoint files were compared too.
  with_exported_checkpoints boolean NOT NULL
);

SELECT ledger.make_append_only('ledger.verify_runs'::regclass);

GRANT SELECT, INSERT ON ledger.verify_runs TO ledger_writer;
