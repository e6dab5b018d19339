-- Deletion (DELETE /images/{id}) and retention. Deleting an image takes three effects that cannot
-- share one transaction: its rows (PostgreSQL), its blob (the image store) and its ImageDeleted
-- event (Kafka). The rows go first, in one transaction that also writes a row here: the record of
-- what is still to do. The blob is removed next and blob_deleted set; the event is published and
-- published set. A crash or an outage between the steps leaves a row here that a retried DELETE,
-- or the ingest role's deletion sweep, finishes. Finished rows are kept for a while (the sweep
-- prunes them after days), because an upload of the same bytes that raced a deletion reads them to
-- know it must store its blob again (SubmissionRepository).
CREATE TABLE image_deletions (
  deletion_id   UUID        PRIMARY KEY,
  image_id      CHAR(64)    NOT NULL,
  storage_ref   TEXT        NOT NULL,
  reason        TEXT        NOT NULL CHECK (reason IN ('request', 'retention')),
  -- the jobs deleted with the image, for the event
  job_ids       UUID[]      NOT NULL,
  deleted_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  blob_deleted  BOOLEAN     NOT NULL DEFAULT false,
  published     BOOLEAN     NOT NULL DEFAULT false
);
CREATE INDEX image_deletions_by_image ON image_deletions (image_id);
CREATE INDEX image_deletions_unfinished ON image_deletions (deleted_at) WHERE NOT published;

-- Jobs of deleted images: a result that arrives for one of them afterwards (a redelivery, a late
-- republished job) is skipped by the results writer instead of being dead-lettered as a result for
-- an unknown job. Pruned with image_deletions.
CREATE TABLE deleted_jobs (
  job_id      UUID        PRIMARY KEY,
  image_id    CHAR(64)    NOT NULL,
  deleted_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX deleted_jobs_by_deleted_at ON deleted_jobs (deleted_at);

-- Retention finds the images uploaded before its cut-off, oldest first.
CREATE INDEX images_by_created_at ON images (created_at);
