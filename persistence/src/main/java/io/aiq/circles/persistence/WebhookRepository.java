package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** The webhooks role's side of the schema: deliveries of finished jobs' webhooks (see Sql, webhooks). */
public final class WebhookRepository {
  private final Pool pool;

  public WebhookRepository(Pool pool) {
    this.pool = pool;
  }

  /** A finished job's event, where the role read it. */
  public record FinishedJob(UUID jobId, String topic, int partition, long offset) {
  }

  /**
   * A delivery claimed for an attempt.
   *
   * @param attempts attempts made before this one
   * @param target the URL's authority (host:port), what concurrent attempts are bounded by
   */
  public record DueWebhook(UUID jobId, String webhookId, String url, String target, int attempts, String lastError,
                           String eventTopic, int eventPartition, long eventOffset) {
  }

  /**
   * Records a delivery for each of these jobs that has a callback and none yet, in one statement.
   *
   * @return how many were recorded (0 for a redelivered batch)
   */
  public Future<Integer> record(List<FinishedJob> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture(0);
    }
    UUID[] ids = new UUID[jobs.size()];
    String[] topics = new String[jobs.size()];
    Integer[] partitions = new Integer[jobs.size()];
    Long[] offsets = new Long[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      FinishedJob j = jobs.get(i);
      ids[i] = j.jobId();
      topics[i] = j.topic();
      partitions[i] = j.partition();
      offsets[i] = j.offset();
    }
    return pool.preparedQuery(Sql.RECORD_WEBHOOK_DELIVERIES)
        .execute(Tuple.tuple().addArrayOfUUID(ids).addArrayOfString(topics).addArrayOfInteger(partitions)
            .addArrayOfLong(offsets))
        .map(rows -> rows.rowCount());
  }

  /**
   * Claims up to {@code limit} due deliveries, none to the {@code busyTargets}, each leased for
   * {@code leaseMs} (see Sql.CLAIM_DUE_WEBHOOKS).
   */
  public Future<List<DueWebhook>> claimDue(int limit, Collection<String> busyTargets, long leaseMs) {
    return pool.preparedQuery(Sql.CLAIM_DUE_WEBHOOKS)
        .execute(Tuple.of(limit).addArrayOfString(busyTargets.toArray(new String[0])).addLong(leaseMs))
        .map(rows -> {
          List<DueWebhook> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new DueWebhook(r.getUUID("job_id"), r.getString("webhook_id"), r.getString("url"),
                r.getString("target_host"), r.getInteger("attempts"), r.getString("last_error"),
                r.getString("event_topic"), r.getInteger("event_partition"), r.getLong("event_offset")));
          }
          return out;
        });
  }

  public Future<Void> delivered(UUID jobId, int attempts) {
    return pool.preparedQuery(Sql.WEBHOOK_DELIVERED).execute(Tuple.of(jobId, attempts)).mapEmpty();
  }

  /** A failed attempt; the next is due in {@code retryInMs}. */
  public Future<Void> attemptFailed(UUID jobId, int attempts, String error, long retryInMs) {
    return pool.preparedQuery(Sql.WEBHOOK_ATTEMPT_FAILED).execute(Tuple.of(jobId, attempts, error, retryInMs))
        .mapEmpty();
  }

  /** Given up: no more attempts. */
  public Future<Void> failed(UUID jobId, int attempts, String error) {
    return pool.preparedQuery(Sql.WEBHOOK_FAILED).execute(Tuple.of(jobId, attempts, error)).mapEmpty();
  }

  /** Not attempted now; due again in {@code inMs}, no attempt counted. */
  public Future<Void> postpone(UUID jobId, long inMs) {
    return pool.preparedQuery(Sql.WEBHOOK_POSTPONED).execute(Tuple.of(jobId, inMs)).mapEmpty();
  }
}
