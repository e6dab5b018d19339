package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The {@code Idempotency-Key}s of {@code POST /images} (V7): claimed by the first request with a key,
 * finished with its answer, or given up when that answer was a 5xx. Written by the ingest role only.
 */
public final class IdempotencyRepository {
  /** What a claim found. */
  public sealed interface Claim {
  }

  /** This request holds the key now: answer it, then {@link #finish} or {@link #release}. */
  public record Claimed() implements Claim {
  }

  /** Another request with the same fingerprint holds the key and has not answered yet. */
  public record InFlight() implements Claim {
  }

  /** The key was used with another fingerprint (other files or parameters). */
  public record Reused() implements Claim {
  }

  /** The key's first answer, to replay. */
  public record Answered(int status, JsonObject headers, JsonObject body) implements Claim {
  }

  private final Pool pool;

  public IdempotencyRepository(Pool pool) {
    this.pool = pool;
  }

  public Future<Claim> claim(String scope, String key, String fingerprint, long leaseMs, long ttlHours) {
    return pool.preparedQuery(Sql.CLAIM_IDEMPOTENCY_KEY)
        .execute(Tuple.of(scope, key, fingerprint, leaseMs, (int) ttlHours))
        .compose(claimed -> claimed.rowCount() > 0 ? Future.<Claim>succeededFuture(new Claimed())
            : pool.preparedQuery(Sql.IDEMPOTENCY_KEY).execute(Tuple.of(scope, key))
                .map(rows -> rows.size() == 0 ? new InFlight() : found(rows.iterator().next(), fingerprint)));
  }

  /** A row that another request claimed (the row just released counts as in flight: retry). */
  private static Claim found(Row row, String fingerprint) {
    if (!fingerprint.equals(row.getString("fingerprint"))) {
      return new Reused();
    }
    Integer status = row.getInteger("status");
    if (status == null) {
      return new InFlight();
    }
    return new Answered(status, (JsonObject) row.getValue("headers"), (JsonObject) row.getValue("body"));
  }

  /** Keeps the answer of the claim holding the key. */
  public Future<Void> finish(String scope, String key, String fingerprint, int status, JsonObject headers,
                             JsonObject body) {
    return pool.preparedQuery(Sql.FINISH_IDEMPOTENCY_KEY)
        .execute(Tuple.of(scope, key, fingerprint, status, headers, body)).mapEmpty();
  }

  /** Gives the claim up, so that a retry with the key is answered afresh. */
  public Future<Void> release(String scope, String key, String fingerprint) {
    return pool.preparedQuery(Sql.RELEASE_IDEMPOTENCY_KEY).execute(Tuple.of(scope, key, fingerprint)).mapEmpty();
  }

  /** Deletes up to {@code limit} keys older than {@code ttlHours}; resolves to how many. */
  public Future<Integer> expire(long ttlHours, int limit) {
    return pool.preparedQuery(Sql.EXPIRE_IDEMPOTENCY_KEYS).execute(Tuple.of((int) ttlHours, limit))
        .map(rows -> rows.rowCount());
  }
}
