package io.aiq.circles.persistence;

import io.vertx.sqlclient.Row;
import java.time.Instant;

/**
 * A job's webhook as a client sees it on {@code GET /jobs/{jobId}}: where it goes and how its delivery
 * stands. {@code pending} until the delivery is recorded and made, then {@code delivered} or
 * {@code failed} (after {@code webhooks.max-attempts}).
 */
public record WebhookView(String url, String state, int attempts, Instant lastAttemptAt, String lastError,
                          Instant deliveredAt) {
  public static final String PENDING = "pending";
  public static final String DELIVERED = "delivered";
  public static final String FAILED = "failed";

  /** Column of the delivery's state in the job queries that join it (Sql.JOB_BY_ID, Sql.JOBS_BY_IDS, Sql.JOB_PAGE*). */
  static final String STATE_COLUMN = "webhook_state";

  /**
   * The webhook of a job row, or null: when the job has no callback, or when the query did not join
   * the job's delivery, so that no state is shown that was not read.
   */
  static WebhookView from(Row row) {
    int url = row.getColumnIndex("callback_url");
    if (url < 0 || row.getColumnIndex(STATE_COLUMN) < 0 || row.getString(url) == null) {
      return null;
    }
    String state = row.getString(STATE_COLUMN);
    Integer attempts = row.getInteger("webhook_attempts");
    return new WebhookView(row.getString(url), state == null ? PENDING : state, attempts == null ? 0 : attempts,
        Rows.instant(row, "webhook_last_attempt_at"), row.getString("webhook_last_error"),
        Rows.instant(row, "webhook_delivered_at"));
  }
}
