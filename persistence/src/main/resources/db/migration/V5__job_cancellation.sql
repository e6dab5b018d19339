-- Cancellation (DELETE /jobs/{id}): a job not yet finished can end 'cancelled', a terminal status
-- like succeeded and failed (the results writer never moves a job out of it).
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
  CHECK (status IN ('queued', 'processing', 'succeeded', 'failed', 'cancelled'));

-- A cancellation takes two effects that cannot share one transaction: the job's row (PostgreSQL)
-- and its JobCancelled event (Kafka, read by inference so it skips the job). The row's update
-- inserts a row here in the same statement: the event still to publish. It is deleted once the
-- broker acknowledged the event; a crash or an outage in between leaves it for a retried DELETE or
-- the ingest role's sweep (Sql.UNPUBLISHED_CANCELLATIONS) to finish. No foreign key: deleting the
-- image of a cancelled job does not take back the announcement of its cancellation.
CREATE TABLE job_cancellations (
  job_id        UUID        PRIMARY KEY,
  image_id      CHAR(64)    NOT NULL,
  cancelled_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_cancellations_by_time ON job_cancellations (cancelled_at);

-- GET /jobs lists newest first, (created_at, job_id) being the keyset of its cursor; by status, or
-- by image (jobs_by_image of V1 serves that), a page reads only the rows it returns.
CREATE INDEX jobs_by_created ON jobs (created_at, job_id);
CREATE INDEX jobs_by_status_created ON jobs (status, created_at, job_id);
