-- Idempotency-Key of POST /images (draft-ietf-httpapi-idempotency-key-header): the first request
-- with a key claims its row (status NULL while it is being answered); its answer is kept here and
-- replayed to any later request with the same key and the same fingerprint (the files' bytes in
-- order and the parameters that change the answer). A request answered with a 5xx gives its row up,
-- so a retry can succeed. Rows older than upload.idempotency-ttl-hours are deleted by the ingest
-- role's retention sweep, and treated as absent before it runs.
CREATE TABLE idempotency_keys (
  -- whose key: the fingerprint of the client's API key when API keys are on, '' otherwise
  scope        TEXT        NOT NULL,
  idem_key     TEXT        NOT NULL,
  fingerprint  CHAR(64)    NOT NULL,
  -- the answer, once there is one: its HTTP status, the headers to replay and the JSON body
  status       INT,
  headers      JSONB,
  body         JSONB,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- a claim not finished by then (its process died) may be taken over by a retry
  lease_until  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
