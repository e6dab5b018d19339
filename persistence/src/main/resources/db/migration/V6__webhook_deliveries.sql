-- Webhooks (POST /images?callbackUrl=...). The URL a client gave is kept with its job; when the job
-- is finished the webhooks role records a delivery here (one per job: job_id is the idempotency key,
-- so a redelivered Kafka event adds nothing) and a sender works through the due ones. A delivery is
-- claimed by moving next_attempt_at past the attempt's timeout (FOR UPDATE SKIP LOCKED, so replicas
-- never take the same one): a sender that dies mid-attempt leaves it due again for another.
ALTER TABLE jobs ADD COLUMN callback_url TEXT;

CREATE TABLE webhook_deliveries (
  job_id          UUID        PRIMARY KEY REFERENCES jobs (job_id) ON DELETE CASCADE,
  -- the Standard Webhooks message id: the same on every attempt, so a receiver can deduplicate
  webhook_id      TEXT        NOT NULL UNIQUE,
  url             TEXT        NOT NULL,
  -- the URL's host: the sender bounds its concurrent attempts per host
  target_host     TEXT        NOT NULL,
  state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  -- attempts made (a wait for the job's final state in PostgreSQL is not one)
  attempts        INTEGER     NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_attempt_at TIMESTAMPTZ,
  last_error      TEXT,
  delivered_at    TIMESTAMPTZ,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- the event that finished the job (named in the dead letter of a failed delivery)
  event_topic     TEXT        NOT NULL,
  event_partition INTEGER     NOT NULL,
  event_offset    BIGINT      NOT NULL
);
-- the sender's claim: due pending deliveries, soonest first
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
