-- Images are content-addressed: the id is the SHA-256 of the bytes, so the same upload is one row.
CREATE TABLE images (
  image_id      CHAR(64)    PRIMARY KEY CHECK (image_id ~ '^[0-9a-f]{64}$'),
  storage_ref   TEXT        NOT NULL,
  content_type  TEXT        NOT NULL,
  format        TEXT        NOT NULL,
  width         INTEGER     NOT NULL CHECK (width > 0),
  height        INTEGER     NOT NULL CHECK (height > 0),
  size_bytes    BIGINT      NOT NULL CHECK (size_bytes > 0),
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- insertion order, for stable cursor pagination of GET /images
  seq           BIGINT      GENERATED ALWAYS AS IDENTITY UNIQUE
);

-- One row per inference request of an image; a reprocess adds a job, never rewrites one.
CREATE TABLE jobs (
  job_id          UUID        PRIMARY KEY,
  image_id        CHAR(64)    NOT NULL REFERENCES images (image_id),
  status          TEXT        NOT NULL CHECK (status IN ('queued', 'processing', 'succeeded', 'failed')),
  -- how many times ImageSubmitted was published for it (the sweeper republishes stuck jobs)
  submissions     INTEGER     NOT NULL DEFAULT 1,
  error_code      TEXT,
  error_message   TEXT,
  model_name      TEXT,
  model_version   TEXT,
  inference_ms    BIGINT,
  detection_count INTEGER,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at      TIMESTAMPTZ,
  finished_at     TIMESTAMPTZ
);
CREATE INDEX jobs_by_image ON jobs (image_id, created_at DESC);
CREATE INDEX jobs_pending ON jobs (status, updated_at) WHERE status IN ('queued', 'processing');

-- The objects a job found. (job_id, object_id) is the idempotency key: a redelivered result
-- inserts nothing.
CREATE TABLE detections (
  job_id     UUID             NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  object_id  INTEGER          NOT NULL CHECK (object_id >= 0),
  -- the box in image pixels ("xmin" alone is a PostgreSQL system column)
  box_xmin   DOUBLE PRECISION NOT NULL,
  box_ymin   DOUBLE PRECISION NOT NULL,
  box_xmax   DOUBLE PRECISION NOT NULL,
  box_ymax   DOUBLE PRECISION NOT NULL,
  score      DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1),
  PRIMARY KEY (job_id, object_id),
  CHECK (box_xmax >= box_xmin AND box_ymax >= box_ymin)
);
