-- The service's own login (src/db/service-login.ts): a role that owns nothing and holds
-- only ledger_writer's rights. Its password is kept here, where only the owner can read
-- it, so every process that can migrate (the owner's DATABASE_URL) can also log in as the
-- service, and two processes on one database agree on it.
CREATE TABLE ledger_meta.service_logins (
  role text PRIMARY KEY CHECK (role ~ '^[a-z_][a-z0-9_]{0,62}$'),
  password text NOT NULL CHECK (length(password) >= 24),
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON ledger_meta.service_logins FROM PUBLIC;
REVOKE ALL ON SCHEMA ledger_meta FROM PUBLIC;
