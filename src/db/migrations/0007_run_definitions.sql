-- The definitions each report run was computed with (issue 12, item 14). A template on
-- disk can change after a run; lineage must explain an old figure with the rules that
-- made it, not with today's. A template's JSON as a run used it (canonical JSON of the
-- file's content) is stored once, named by its SHA-256, and each run names the
-- definitions it used. One report's template_version names one set of definitions: a
-- template changed without a new version is refused when a run is made, so the version a
-- run records always means the same rules.
CREATE TABLE ledger.report_definitions (
  definitions_sha256 bytea PRIMARY KEY,
  report text NOT NULL CHECK (report <> ''),
  template_version text NOT NULL CHECK (template_version <> ''),
  definitions text NOT NULL,
  UNIQUE (report, template_version),
  -- A second path for what the service checks: the hash names these bytes, and the JSON
  -- is the report and version the row says.
  CHECK (definitions_sha256 = sha256(convert_to(definitions, 'UTF8'))),
  CHECK ((definitions::jsonb ->> 'report') = report AND (definitions::jsonb ->> 'version') = template_version)
);

CREATE TABLE ledger.run_definitions (
  run_id uuid PRIMARY KEY REFERENCES ledger.report_runs (run_id),
  definitions_sha256 bytea NOT NULL REFERENCES ledger.report_definitions (definitions_sha256)
);

SELECT ledger.make_append_only(t) FROM unnest(ARRAY[
  'ledger.report_definitions', 'ledger.run_definitions']::regclass[]) AS t;
GRANT SELECT, INSERT ON ledger.report_definitions, ledger.run_definitions TO ledger_writer;
