-- Access control (API.md): identities, grants, tokens and the audit trail. Every table is
-- append-only, like the journal: a grant's approval and revocation are rows of their own,
-- so its status is derived, never overwritten, and the history is the record. The trail
-- is hash-chained (src/access-control/trail.ts) and `ledger verify` walks it.
CREATE SCHEMA access;

-- People and service identities (the scheduler, the nightly reconciliation).
CREATE TABLE access.identities (
  identity_id text PRIMARY KEY CHECK (identity_id ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  name text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  email text CHECK (email IS NULL OR (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320)),
  kind text NOT NULL CHECK (kind IN ('person', 'service')),
  -- OIDC: the issuer's subject this identity is, when it logs in through the issuer.
  oidc_subject text UNIQUE,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL CHECK (created_by <> '')
);
CREATE UNIQUE INDEX identities_email ON access.identities (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE access.grants (
  grant_id text PRIMARY KEY CHECK (grant_id ~ '^grt_[0-9a-f]{24}$'),
  grant_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  identity_id text NOT NULL REFERENCES access.identities (identity_id),
  role text NOT NULL CHECK (role IN ('viewer', 'finance', 'auditor', 'reconciler', 'admin')),
  scope jsonb NOT NULL CHECK (jsonb_typeof(scope) = 'object'),
  expires_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (btrim(reason) <> ''),
  granted_by text NOT NULL CHECK (granted_by <> ''),
  granted_at timestamptz NOT NULL,
  -- Privileged grants (admin, auditor) take effect only with an approval row.
  privileged boolean NOT NULL,
  CHECK (privileged = (role IN ('admin', 'auditor'))),
  CHECK (granted_by <> identity_id),
  CHECK (expires_at > granted_at)
);
CREATE INDEX grants_by_identity ON access.grants (identity_id);

-- A second admin's approval, or break-glass on the server host (API.md); one per grant.
CREATE TABLE access.grant_approvals (
  grant_id text PRIMARY KEY REFERENCES access.grants (grant_id),
  approved_by text NOT NULL CHECK (approved_by <> ''),
  approved_at timestamptz NOT NULL,
  break_glass boolean NOT NULL DEFAULT false,
  reason text
);

CREATE TABLE access.grant_revocations (
  grant_id text PRIMARY KEY REFERENCES access.grants (grant_id),
  revoked_by text NOT NULL CHECK (revoked_by <> ''),
  revoked_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (btrim(reason) <> '')
);

-- API tokens: only the SHA-256 of the secret is kept; the secret is shown once.
CREATE TABLE access.tokens (
  token_id text PRIMARY KEY CHECK (token_id ~ '^tok_[0-9a-f]{16}$'),
  identity_id text NOT NULL REFERENCES access.identities (identity_id),
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL CHECK (created_by <> ''),
  CHECK (expires_at > created_at)
);
CREATE INDEX tokens_by_identity ON access.tokens (identity_id);

CREATE TABLE access.token_revocations (
  token_id text PRIMARY KEY REFERENCES access.tokens (token_id),
  revoked_by text NOT NULL CHECK (revoked_by <> ''),
  revoked_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (btrim(reason) <> '')
);

-- The audit trail: who, what, when, from where, under which grant; each row's hash
-- covers the previous row's, so a changed or deleted row breaks the chain at that seq.
CREATE TABLE access.audit_trail (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  at timestamptz NOT NULL,
  actor text NOT NULL CHECK (actor <> ''),
  action text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  object text,
  grant_id text,
  source text,
  detail jsonb NOT NULL CHECK (jsonb_typeof(detail) = 'object'),
  previous_hash bytea NOT NULL CHECK (length(previous_hash) = 32),
  hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_trail_by_actor ON access.audit_trail (actor, seq);
CREATE INDEX audit_trail_by_object ON access.audit_trail (object, seq);
CREATE INDEX audit_trail_by_action ON access.audit_trail (action, seq);

SELECT ledger.make_append_only(t) FROM unnest(ARRAY['access.identities', 'access.grants', 'access.grant_approvals',
  'access.grant_revocations', 'access.tokens', 'access.token_revocations', 'access.audit_trail']::regclass[]) AS t;

GRANT USAGE ON SCHEMA access TO ledger_writer;
GRANT SELECT, INSERT ON access.identities, access.grants, access.grant_approvals, access.grant_revocations,
  access.tokens, access.token_revocations, access.audit_trail TO ledger_writer;
