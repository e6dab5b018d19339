package io.aiq.circles.persistence;

/** Every SQL statement of the service, next to each other so the schema's users can be read at once. */
final class Sql {
  private Sql() {
  }

  // ---- ingest ----------------------------------------------------------------------------------

  /** Returns a row only when the image is new; a concurrent twin waits for ours, then gets none. */
  static final String INSERT_IMAGE = """
      INSERT INTO images (image_id, storage_ref, content_type, format, width, height, size_bytes)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (image_id) DO NOTHING
      RETURNING image_id""";

  /** $3: the webhook to call when the job is finished (callbackUrl), or null. */
  static final String INSERT_JOB = """
      INSERT INTO jobs (job_id, image_id, status, callback_url) VALUES ($1, $2, 'queued', $3)
      ON CONFLICT (job_id) DO NOTHING
      RETURNING created_at""";

  /**
   * A new image's job, and how many deletions of the same id are recorded, in one round trip. Run
   * after an upload inserted a new image row: a deletion recorded here means the upload's blob,
   * written before its row, may have been removed by that deletion meanwhile, so the upload stores it
   * again. FOR KEY SHARE waits for a deletion removing the blob right now ({@link #LOCK_DELETION}) to
   * finish. It must stay a statement of its own after {@link #INSERT_IMAGE}: under READ COMMITTED
   * each statement reads a snapshot taken when it starts, so only a statement that begins after the
   * image's insert waited out a concurrent deletion sees that deletion's row.
   * $1 job id, $2 image id, $3 the webhook to call when the job is finished (callbackUrl), or null.
   */
  static final String INSERT_NEW_IMAGE_JOB = """
      WITH job AS (
        INSERT INTO jobs (job_id, image_id, status, callback_url) VALUES ($1, $2, 'queued', $3)
        RETURNING job_id, image_id, status, created_at)
      SELECT job.*, (SELECT count(*) FROM (SELECT 1 FROM image_deletions d WHERE d.image_id = $2 FOR KEY SHARE) locked)
        AS deletions
      FROM job""";

  static final String JOB_AND_IMAGE = """
      SELECT j.*, i.storage_ref, i.content_type, i.width, i.height
      FROM jobs j JOIN images i USING (image_id)
      WHERE j.job_id = $1""";

  static final String LATEST_JOB_OF_IMAGE = """
      SELECT j.*, i.storage_ref, i.content_type, i.width, i.height
      FROM jobs j JOIN images i USING (image_id)
      WHERE j.image_id = $1
      ORDER BY j.created_at DESC, j.job_id
      LIMIT 1""";

  /**
   * Claims jobs whose event seems lost (still queued, or processing for too long) and counts one more
   * submission, up to $4; a job already submitted $4 times is claimed with {@code give_up}. SKIP
   * LOCKED lets several ingest instances sweep without taking the same job twice.
   */
  static final String CLAIM_STUCK_JOBS = """
      WITH stuck AS (
        SELECT job_id, submissions AS before FROM jobs
        WHERE (status = 'queued' AND updated_at < now() - make_interval(secs => $1 / 1000.0))
           OR (status = 'processing' AND updated_at < now() - make_interval(secs => $2 / 1000.0))
        ORDER BY updated_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE jobs j SET submissions = j.submissions + CASE WHEN s.before < $4 THEN 1 ELSE 0 END,
                          updated_at = now()
        FROM stuck s WHERE j.job_id = s.job_id
        RETURNING j.job_id, j.image_id, j.status, j.submissions, j.created_at, s.before >= $4 AS give_up)
      SELECT c.*, i.storage_ref, i.content_type, i.width, i.height
      FROM claimed c JOIN images i USING (image_id)""";

  /** A submission the broker did not take does not count towards the sweeper's limit. */
  static final String UNCOUNT_SUBMISSION =
      "UPDATE jobs SET submissions = submissions - 1 WHERE job_id = $1 AND submissions > 0";

  static final String IMAGE_BY_ID = "SELECT * FROM images WHERE image_id = $1";


  // ---- Idempotency-Key (V7) ----------------------------------------------------------------------

  /**
   * Claims a key: a new row, or one whose claim lapsed unfinished ($4 ms lease) or that expired
   * ($5 hours) and was not swept yet. Returns a row only when this request now holds the key; a
   * concurrent twin waits for ours on the primary key, then gets none.
   */
  static final String CLAIM_IDEMPOTENCY_KEY = """
      INSERT INTO idempotency_keys (scope, idem_key, fingerprint, lease_until)
      VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0))
      ON CONFLICT (scope, idem_key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status = NULL, headers = NULL, body = NULL,
            created_at = now(), lease_until = EXCLUDED.lease_until
        WHERE (idempotency_keys.status IS NULL AND idempotency_keys.lease_until < now())
           OR idempotency_keys.created_at < now() - make_interval(hours => $5)
      RETURNING idem_key""";

  static final String IDEMPOTENCY_KEY = """
      SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE scope = $1 AND idem_key = $2""";

  /** Keeps the answer of the claim that holds the key (same fingerprint, not finished yet). */
  static final String FINISH_IDEMPOTENCY_KEY = """
      UPDATE idempotency_keys SET status = $4, headers = $5, body = $6
      WHERE scope = $1 AND idem_key = $2 AND fingerprint = $3 AND status IS NULL""";

  /** Gives a claim up (its request failed with a 5xx): a retry with the key starts afresh. */
  static final String RELEASE_IDEMPOTENCY_KEY = """
      DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND fingerprint = $3 AND status IS NULL""";

  /** Forgets up to $2 keys older than $1 hours (the retention sweep). */
  static final String EXPIRE_IDEMPOTENCY_KEYS = """
      DELETE FROM idempotency_keys WHERE (scope, idem_key) IN (
        SELECT scope, idem_key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)
        LIMIT $2)""";

  // ---- deletion and retention -------------------------------------------------------------------

  /*
   * Deleting images: lock their rows, leave out those with a job in flight, delete the jobs (their
   * detections cascade) and the images, and record each deletion in image_deletions (what is left to
   * do: the blob, the event) and each job in deleted_jobs, all in one transaction. Then, per deletion:
   * LOCK_DELETION, the blob removed unless the image was uploaded again meanwhile, BLOB_DELETED; the
   * event; PUBLISHED. A job can only be added to a locked image after the lock is released (its
   * foreign key takes a KEY SHARE lock on the image row), so the in-flight check made under the lock
   * holds until the commit.
   */

  /** The request path: waits for the row if another transaction holds it. */
  static final String LOCK_IMAGES = """
      SELECT image_id, storage_ref FROM images WHERE image_id = ANY($1) FOR UPDATE""";

  /**
   * Retention: up to $2 images uploaded more than $1 days ago without a job in flight, oldest first;
   * rows another replica's sweep holds are skipped, so sweeps running at once never take the same.
   */
  static final String CLAIM_EXPIRED_IMAGES = """
      SELECT i.image_id, i.storage_ref FROM images i
      WHERE i.created_at < now() - make_interval(days => $1)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.image_id = i.image_id AND j.status IN ('queued', 'processing'))
      ORDER BY i.created_at
      LIMIT $2
      FOR UPDATE OF i SKIP LOCKED""";

  /** Of the locked images, those with a job queued or processing: not deleted. */
  static final String IMAGES_IN_FLIGHT = """
      SELECT DISTINCT image_id FROM jobs WHERE image_id = ANY($1) AND status IN ('queued', 'processing')""";

  /**
   * Deletes the (locked, idle) images $1 with their jobs and detections, and records the deletions
   * (reason $2). Every sub-statement sees the same snapshot; the foreign key of jobs is checked at
   * the end of the statement, when the jobs are gone.
   */
  static final String DELETE_IMAGES = """
      WITH gone_jobs AS (
        DELETE FROM jobs WHERE image_id = ANY($1) RETURNING job_id, image_id),
      kept_jobs AS (
        INSERT INTO deleted_jobs (job_id, image_id) SELECT job_id, image_id FROM gone_jobs
        ON CONFLICT (job_id) DO NOTHING),
      gone_images AS (
        DELETE FROM images WHERE image_id = ANY($1) RETURNING image_id, storage_ref)
      INSERT INTO image_deletions (deletion_id, image_id, storage_ref, reason, job_ids)
      SELECT gen_random_uuid(), g.image_id, g.storage_ref, $2,
             COALESCE((SELECT array_agg(j.job_id ORDER BY j.job_id) FROM gone_jobs j WHERE j.image_id = g.image_id),
                      '{}')
      FROM gone_images g
      RETURNING *""";

  /** Deletions of this image not finished yet (a DELETE retried after an interrupted one). */
  static final String UNFINISHED_DELETIONS_OF_IMAGE = """
      SELECT * FROM image_deletions WHERE image_id = $1 AND NOT published ORDER BY deleted_at""";

  /** Deletions left unfinished for more than $1 ms (a crash, an outage), oldest first, up to $2. */
  static final String UNFINISHED_DELETIONS = """
      SELECT * FROM image_deletions
      WHERE NOT published AND deleted_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY deleted_at LIMIT $2""";

  /** Holds a deletion while its blob is removed (the request path waits for it). */
  static final String LOCK_DELETION = "SELECT * FROM image_deletions WHERE deletion_id = $1 FOR UPDATE";

  /** The same for the sweep: a deletion someone else is finishing is skipped. */
  static final String TRY_LOCK_DELETION =
      "SELECT * FROM image_deletions WHERE deletion_id = $1 FOR UPDATE SKIP LOCKED";

  static final String IMAGE_EXISTS = "SELECT 1 FROM images WHERE image_id = $1";

  static final String BLOB_DELETED = "UPDATE image_deletions SET blob_deleted = true WHERE deletion_id = $1";

  static final String PUBLISHED = "UPDATE image_deletions SET published = true WHERE deletion_id = $1";

  /** Finished deletions and deleted jobs older than $1 days are forgotten. */
  static final String PRUNE_DELETIONS = """
      DELETE FROM image_deletions WHERE published AND deleted_at < now() - make_interval(days => $1)""";

  static final String PRUNE_DELETED_JOBS = """
      DELETE FROM deleted_jobs WHERE deleted_at < now() - make_interval(days => $1)""";

  // ---- cancellation (DELETE /jobs/{id}) -----------------------------------------------------------

  /**
   * Cancels the job $1 if it has not finished, and records its JobCancelled event as still to publish,
   * in one statement. "NOT IN (the finished statuses)" means "IN ('queued', 'processing')" given the
   * CHECK on status, written so for the reason given at the results writer's updates below (the
   * primary key is the only index the plan can use).
   */
  static final String CANCEL_JOB = """
      WITH cancelled AS (
        UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()
        WHERE job_id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled')
        RETURNING *),
      pending AS (
        INSERT INTO job_cancellations (job_id, image_id, cancelled_at)
        SELECT job_id, image_id, finished_at FROM cancelled
        ON CONFLICT (job_id) DO NOTHING)
      SELECT * FROM cancelled""";

  /** Run when CANCEL_JOB changed nothing: the job as it is, and whether its event is still to publish. */
  static final String JOB_AND_CANCELLATION = """
      SELECT j.*, (c.job_id IS NOT NULL) AS cancellation_pending
      FROM jobs j LEFT JOIN job_cancellations c USING (job_id)
      WHERE j.job_id = $1""";

  /** Cancellations whose event is not acknowledged after $1 ms (a crash, an outage), oldest first, up to $2. */
  static final String UNPUBLISHED_CANCELLATIONS = """
      SELECT * FROM job_cancellations
      WHERE cancelled_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY cancelled_at LIMIT $2""";

  static final String CANCELLATION_PUBLISHED = "DELETE FROM job_cancellations WHERE job_id = $1";

  // ---- results ---------------------------------------------------------------------------------

  /*
   * The results writer's updates find their job by primary key alone. Their status conditions are
   * written as "NOT IN (the other statuses)" on purpose: "status = 'queued'" or "status IN ('queued',
   * 'processing')" imply the predicate of the partial index jobs_pending, so the planner may use that
   * index, and it did: a generic plan cached while jobs was empty (a new database, statistics never
   * gathered, autovacuum not yet run) walked every pending job with the job id as a filter. Under a
   * backlog of 36,000 queued jobs each update took 340 ms. Given the CHECK on status the conditions
   * mean the same, and the planner cannot prove that they imply the partial index's predicate, so
   * the primary key is the only index these plans can use (ResultWriterPlansTest).
   */

  static final String MARK_PROCESSING = """
      UPDATE jobs SET status = 'processing', started_at = COALESCE(started_at, $2), updated_at = now()
      WHERE job_id = $1 AND status NOT IN ('processing', 'succeeded', 'failed', 'cancelled')""";

  /**
   * The first terminal status wins: a late or repeated result never rewrites a finished job, nor one
   * a client cancelled (inference may have been running it when the cancellation came).
   */
  static final String MARK_SUCCEEDED = """
      UPDATE jobs SET status = 'succeeded', model_name = $2, model_version = $3, inference_ms = $4,
                      detection_count = $5, finished_at = $6, updated_at = now(),
                      started_at = COALESCE(started_at, $6)
      WHERE job_id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled')""";

  static final String MARK_FAILED = """
      UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, finished_at = $4,
                      updated_at = now()
      WHERE job_id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled')""";

  static final String JOB_EXISTS = "SELECT image_id FROM jobs WHERE job_id = $1";

  /** Run only when JOB_EXISTS found nothing: was the job deleted with its image? */
  static final String JOB_DELETED = "SELECT 1 FROM deleted_jobs WHERE job_id = $1";

  static final String INSERT_DETECTION = """
      INSERT INTO detections (job_id, object_id, box_xmin, box_ymin, box_xmax, box_ymax, score)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (job_id, object_id) DO NOTHING""";

  // ---- the results writer's batches (ResultRepository.applyBatch) ---------------------------------
  // One statement per kind of event for a whole polled batch, the rows as arrays. The conditions are
  // those of MARK_* above, and only the primary key can serve them (see MARK_PROCESSING).

  /**
   * Custom plans for the batch statements, in their transaction only: a plan made once and cached
   * while the table was empty (a fresh install) would scan it sequentially for ever after; a custom
   * plan sees the arrays' lengths and the table as it is.
   */
  static final String BATCH_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan";

  /** $1 job ids, $2 started times. Returns the jobs it moved. */
  static final String BATCH_MARK_PROCESSING = """
      UPDATE jobs j SET status = 'processing', started_at = COALESCE(j.started_at, v.started_at), updated_at = now()
      FROM unnest($1::uuid[], $2::timestamptz[]) AS v (job_id, started_at)
      WHERE j.job_id = v.job_id AND j.status NOT IN ('processing', 'succeeded', 'failed', 'cancelled')
      RETURNING j.job_id""";

  /**
   * $1 job ids, $2 model names, $3 model versions, $4 inference ms, $5 detection counts, $6 finished
   * times, $7 started times (of a DetectionStarted in the same batch, else null). Returns the jobs it
   * finished: only those get their detections.
   */
  static final String BATCH_MARK_SUCCEEDED = """
      UPDATE jobs j SET status = 'succeeded', model_name = v.model_name, model_version = v.model_version,
                        inference_ms = v.inference_ms, detection_count = v.detection_count,
                        finished_at = v.finished_at, updated_at = now(),
                        started_at = COALESCE(j.started_at, v.started_at, v.finished_at)
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::timestamptz[],
                  $7::timestamptz[]) AS v (job_id, model_name, model_version, inference_ms, detection_count,
                                           finished_at, started_at)
      WHERE j.job_id = v.job_id AND j.status NOT IN ('succeeded', 'failed', 'cancelled')
      RETURNING j.job_id""";

  /** $1 job ids, $2 error codes, $3 messages, $4 failed times, $5 started times (or null). */
  static final String BATCH_MARK_FAILED = """
      UPDATE jobs j SET status = 'failed', error_code = v.error_code, error_message = v.error_message,
                        finished_at = v.finished_at, updated_at = now(),
                        started_at = COALESCE(j.started_at, v.started_at)
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
        AS v (job_id, error_code, error_message, finished_at, started_at)
      WHERE j.job_id = v.job_id AND j.status NOT IN ('succeeded', 'failed', 'cancelled')
      RETURNING j.job_id""";

  /** The detections of the jobs BATCH_MARK_SUCCEEDED finished, one array per column. */
  static final String BATCH_INSERT_DETECTIONS = """
      INSERT INTO detections (job_id, object_id, box_xmin, box_ymin, box_xmax, box_ymax, score)
      SELECT * FROM unnest($1::uuid[], $2::integer[], $3::double precision[], $4::double precision[],
                           $5::double precision[], $6::double precision[], $7::double precision[])
      ON CONFLICT (job_id, object_id) DO NOTHING""";

  /** For events that moved nothing: is the job there (a redelivery), deleted with its image, or unknown? */
  static final String BATCH_KNOWN_OR_DELETED = """
      SELECT v.job_id, EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = v.job_id) AS known,
             EXISTS (SELECT 1 FROM deleted_jobs d WHERE d.job_id = v.job_id) AS deleted
      FROM unnest($1::uuid[]) AS v (job_id)""";

  // ---- queries ---------------------------------------------------------------------------------

  /** The job with its webhook's delivery, when it has one (WebhookView reads the webhook_ columns). */
  static final String JOB_BY_ID = """
      SELECT j.*, d.state AS webhook_state, d.attempts AS webhook_attempts,
             d.last_attempt_at AS webhook_last_attempt_at, d.last_error AS webhook_last_error,
             d.delivered_at AS webhook_delivered_at
      FROM jobs j LEFT JOIN webhook_deliveries d ON d.job_id = j.job_id
      WHERE j.job_id = $1""";

  /** The image with its latest job and the job whose objects it shows: the latest succeeded one. */
  static final String IMAGE_SUMMARY = """
      SELECT i.*,
             lj.job_id AS latest_job_id, lj.status AS latest_status,
             sj.job_id AS result_job_id, sj.detection_count AS result_count,
             (SELECT count(*) FROM jobs c WHERE c.image_id = i.image_id) AS job_count
      FROM images i
      LEFT JOIN LATERAL (SELECT job_id, status FROM jobs WHERE image_id = i.image_id
                         ORDER BY created_at DESC, job_id LIMIT 1) lj ON true
      LEFT JOIN LATERAL (SELECT job_id, detection_count FROM jobs
                         WHERE image_id = i.image_id AND status = 'succeeded'
                         ORDER BY finished_at DESC, job_id LIMIT 1) sj ON true
      """;

  static final String IMAGE_SUMMARY_BY_ID = IMAGE_SUMMARY + " WHERE i.image_id = $1";

  static final String IMAGE_PAGE = IMAGE_SUMMARY + " WHERE i.seq < $1 ORDER BY i.seq DESC LIMIT $2";

  static final String DETECTIONS_OF_JOB = """
      SELECT object_id, box_xmin, box_ymin, box_xmax, box_ymax, score FROM detections
      WHERE job_id = $1 ORDER BY object_id""";

  static final String DETECTION_OF_JOB = """
      SELECT object_id, box_xmin, box_ymin, box_xmax, box_ymax, score FROM detections
      WHERE job_id = $1 AND object_id = $2""";

  /*
   * GET /jobs: newest first, (created_at, job_id) < the cursor's; one statement per combination of
   * filters, so each plan uses its index (V5's jobs_by_created and jobs_by_status_created, V1's
   * jobs_by_image) rather than one plan for "$n IS NULL OR ..." that fits none.
   */
  private static final String JOB_PAGE_ORDER = " ORDER BY created_at DESC, job_id DESC LIMIT $3";

  /**
   * A page of jobs with their webhooks' deliveries, as GET /jobs/{jobId} shows them: the page is
   * chosen first (by its index), then only its rows are joined.
   */
  private static String withWebhooks(String page) {
    return """
        SELECT j.*, d.state AS webhook_state, d.attempts AS webhook_attempts,
               d.last_attempt_at AS webhook_last_attempt_at, d.last_error AS webhook_last_error,
               d.delivered_at AS webhook_delivered_at
        FROM (""" + page + """
        ) j LEFT JOIN webhook_deliveries d ON d.job_id = j.job_id
        ORDER BY j.created_at DESC, j.job_id DESC""";
  }

  static final String JOB_PAGE = withWebhooks("SELECT * FROM jobs WHERE (created_at, job_id) < ($1, $2)" + JOB_PAGE_ORDER);

  static final String JOB_PAGE_BY_STATUS = withWebhooks(
      "SELECT * FROM jobs WHERE status = $4 AND (created_at, job_id) < ($1, $2)" + JOB_PAGE_ORDER);

  static final String JOB_PAGE_BY_IMAGE = withWebhooks(
      "SELECT * FROM jobs WHERE image_id = $4 AND (created_at, job_id) < ($1, $2)" + JOB_PAGE_ORDER);

  static final String JOB_PAGE_BY_IMAGE_AND_STATUS = withWebhooks(
      "SELECT * FROM jobs WHERE image_id = $4 AND status = $5 AND (created_at, job_id) < ($1, $2)" + JOB_PAGE_ORDER);

  // ---- waits (Prefer: wait) ----------------------------------------------------------------------

  /** Many jobs in one round trip: the waiters' re-checks after notifications, deadlines and sweeps. */
  static final String JOBS_BY_IDS = """
      SELECT j.*, d.state AS webhook_state, d.attempts AS webhook_attempts,
             d.last_attempt_at AS webhook_last_attempt_at, d.last_error AS webhook_last_error,
             d.delivered_at AS webhook_delivered_at
      FROM jobs j LEFT JOIN webhook_deliveries d ON d.job_id = j.job_id
      WHERE j.job_id = ANY($1)""";

  // ---- webhooks ----------------------------------------------------------------------------------

  /*
   * One delivery per finished job with a callback (V6__webhook_deliveries.sql). The webhooks role
   * records it from the job's terminal event, then claims due ones, attempts them and records each
   * outcome; every update is for a pending delivery only, so a late outcome never rewrites a
   * delivered or failed one.
   */

  /**
   * Records the deliveries of the finished jobs of one batch of events: job ids $1 with the topic,
   * partition and offset ($2-$4) of their events. Jobs without a callback (or deleted) add nothing,
   * nor do jobs already recorded (a redelivered event). The target is the URL's authority
   * (host:port), what the sender bounds its attempts by.
   */
  static final String RECORD_WEBHOOK_DELIVERIES = """
      INSERT INTO webhook_deliveries (job_id, webhook_id, url, target_host, event_topic, event_partition, event_offset)
      SELECT j.job_id, 'msg_' || replace(j.job_id::text, '-', ''), j.callback_url,
             lower(substring(j.callback_url from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)')), e.topic, e.part, e.off
      FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[]) AS e(job_id, topic, part, off)
      JOIN jobs j ON j.job_id = e.job_id
      WHERE j.callback_url IS NOT NULL
      ON CONFLICT (job_id) DO NOTHING""";

  /**
   * Claims up to $1 due deliveries, none to the targets $2 (those this sender already has enough
   * attempts in flight to), by moving their next attempt $3 ms ahead: the lease of the attempt. A
   * sender that dies mid-attempt leaves the delivery due again once the lease is over. SKIP LOCKED:
   * replicas claiming at once never take the same delivery.
   */
  static final String CLAIM_DUE_WEBHOOKS = """
      WITH due AS (
        SELECT job_id FROM webhook_deliveries
        WHERE state = 'pending' AND next_attempt_at <= now() AND target_host <> ALL($2::text[])
        ORDER BY next_attempt_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
      UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $3 / 1000.0)
      FROM due WHERE d.job_id = due.job_id
      RETURNING d.job_id, d.webhook_id, d.url, d.target_host, d.attempts, d.last_error, d.event_topic,
                d.event_partition, d.event_offset""";

  static final String WEBHOOK_DELIVERED = """
      UPDATE webhook_deliveries SET state = 'delivered', attempts = $2, last_attempt_at = now(),
                                    delivered_at = now(), last_error = NULL
      WHERE job_id = $1 AND state = 'pending'""";

  /** A failed attempt, with the next one $4 ms from now. */
  static final String WEBHOOK_ATTEMPT_FAILED = """
      UPDATE webhook_deliveries SET attempts = $2, last_attempt_at = now(), last_error = $3,
                                    next_attempt_at = now() + make_interval(secs => $4 / 1000.0)
      WHERE job_id = $1 AND state = 'pending'""";

  /** The last attempt failed: given up (after its dead letter was acknowledged). */
  static final String WEBHOOK_FAILED = """
      UPDATE webhook_deliveries SET state = 'failed', attempts = $2, last_error = $3,
                                    last_attempt_at = COALESCE(last_attempt_at, now())
      WHERE job_id = $1 AND state = 'pending'""";

  /** Not attempted now (the job not final yet, the target busy): due again in $2 ms, no attempt counted. */
  static final String WEBHOOK_POSTPONED = """
      UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2 / 1000.0)
      WHERE job_id = $1 AND state = 'pending'""";
}
