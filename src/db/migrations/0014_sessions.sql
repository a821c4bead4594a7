-- Browser sessions of the web pages (issue 14): a login with an API token (or OIDC) makes
-- one; the cookie holds its secret, this table only the secret's SHA-256. A session is
-- never deleted or rewritten: the only changes allowed are moving last_seen_at forward
-- (the idle timeout reads it) and ending it once (logout, expiry noticed), which the
-- trigger below enforces whatever the service's login tries. The history stays.
CREATE TABLE access.sessions (
  session_id text PRIMARY KEY CHECK (session_id ~ '^ses_[0-9a-f]{24}$'),
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  identity_id text NOT NULL REFERENCES access.identities (identity_id),
  -- How the person proved who they are: an API token (its id) or an OIDC login.
  via text NOT NULL CHECK (via IN ('token', 'oidc')),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  -- Idle timeout as set when the session began, and an absolute end however active it is.
  idle_seconds integer NOT NULL CHECK (idle_seconds BETWEEN 60 AND 86400),
  expires_at timestamptz NOT NULL,
  source text,
  ended_at timestamptz,
  end_reason text CHECK (end_reason IN ('logout', 'idle', 'expired')),
  CHECK (last_seen_at >= created_at),
  CHECK (expires_at > created_at),
  CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE INDEX sessions_by_identity ON access.sessions (identity_id, created_at);

CREATE FUNCTION access.session_change_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'access.sessions is kept: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.session_id, NEW.secret_sha256, NEW.identity_id, NEW.via, NEW.created_at, NEW.idle_seconds, NEW.expires_at,
      NEW.source) IS DISTINCT FROM (OLD.session_id, OLD.secret_sha256, OLD.identity_id, OLD.via, OLD.created_at,
      OLD.idle_seconds, OLD.expires_at, OLD.source) THEN
    RAISE EXCEPTION 'session %: only last_seen_at and its end may change', OLD.session_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.ended_at IS NOT NULL AND (NEW.ended_at, NEW.end_reason, NEW.last_seen_at)
      IS DISTINCT FROM (OLD.ended_at, OLD.end_reason, OLD.last_seen_at) THEN
    RAISE EXCEPTION 'session % has ended and stays ended', OLD.session_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.last_seen_at < OLD.last_seen_at THEN
    RAISE EXCEPTION 'session %: last_seen_at only moves forward', OLD.session_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_kept BEFORE UPDATE OR DELETE ON access.sessions
  FOR EACH ROW EXECUTE FUNCTION access.session_change_allowed();
CREATE TRIGGER sessions_kept_truncate BEFORE TRUNCATE ON access.sessions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();
ALTER TABLE access.sessions ENABLE ALWAYS TRIGGER sessions_kept;
ALTER TABLE access.sessions ENABLE ALWAYS TRIGGER sessions_kept_truncate;

GRANT SELECT, INSERT ON access.sessions TO ledger_writer;
GRANT UPDATE (last_seen_at, ended_at, end_reason) ON access.sessions TO ledger_writer;
