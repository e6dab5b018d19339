-- A job's status change is announced on the channel aiq_job_changed with the job id as payload, so a
-- process holding "Prefer: wait" requests (ResultsQueryVerticle, which LISTENs) re-reads that job
-- at once instead of polling it. PostgreSQL delivers a notification when the transaction commits
-- (never for one rolled back) and folds identical ones of a transaction into one. Listeners are
-- not guaranteed to see every notification (one reconnecting misses those sent meanwhile), so the
-- waiters still re-check on a slow timer: a notification only makes the answer early.
CREATE FUNCTION notify_job_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiq_job_changed', NEW.job_id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_status_change
  AFTER UPDATE OF status ON jobs
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION notify_job_changed();
