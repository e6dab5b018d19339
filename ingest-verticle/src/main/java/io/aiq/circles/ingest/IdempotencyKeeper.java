package io.aiq.circles.ingest;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_IDEMPOTENCY_CLAIM;
import static io.aiq.circles.contracts.EventBusAddresses.INGEST_IDEMPOTENCY_FINISH;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.messages.IdempotencyClaim;
import io.aiq.circles.persistence.IdempotencyRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Idempotency-Keys of {@code POST /images}, kept where the rows are written: claims a key for the
 * gateway's request, or answers why not (the first answer to replay, 409 while the first request is
 * still in flight, 422 for a key used with other content); keeps the answer, or gives the key up
 * after a 5xx. Old keys are forgotten by the retention sweep ({@link #expire}).
 */
final class IdempotencyKeeper {
  private static final Logger LOG = LoggerFactory.getLogger(IdempotencyKeeper.class);

  private final Vertx vertx;
  private final IdempotencyRepository keys;
  private final long ttlHours;
  private MessageConsumer<JsonObject> claims;
  private MessageConsumer<JsonObject> finishes;

  IdempotencyKeeper(Vertx vertx, IdempotencyRepository keys, long ttlHours) {
    this.vertx = vertx;
    this.keys = keys;
    this.ttlHours = ttlHours;
  }

  Future<Void> start() {
    claims = vertx.eventBus().consumer(INGEST_IDEMPOTENCY_CLAIM, this::claim);
    finishes = vertx.eventBus().consumer(INGEST_IDEMPOTENCY_FINISH, this::finish);
    return Future.join(claims.completion(), finishes.completion()).mapEmpty();
  }

  Future<Void> stop() {
    return Future.join(claims.unregister(), finishes.unregister()).mapEmpty();
  }

  /** Forgets up to {@code limit} keys older than the TTL; resolves to how many. */
  Future<Integer> expire(int limit) {
    return keys.expire(ttlHours, limit);
  }

  private void claim(Message<JsonObject> message) {
    IdempotencyClaim c = IdempotencyClaim.fromJson(message.body());
    keys.claim(c.scope(), c.key(), c.fingerprint(), c.leaseMs(), ttlHours)
        .onSuccess(found -> {
          if (found instanceof IdempotencyRepository.Claimed) {
            message.reply(new JsonObject().put("claimed", true));
          } else if (found instanceof IdempotencyRepository.Answered a) {
            message.reply(new JsonObject().put("claimed", false).put("answer", new JsonObject()
                .put("status", a.status()).put("headers", a.headers()).put("body", a.body())));
          } else if (found instanceof IdempotencyRepository.Reused) {
            ErrorCode.IDEMPOTENCY_KEY_REUSED.fail(message, "this Idempotency-Key was used with another request "
                + "(other files or parameters); use a new key for a new request");
          } else {
            ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT.fail(message, "a request with this Idempotency-Key is still being "
                + "answered; retry once it is, and get its answer");
          }
        })
        .onFailure(e -> {
          LOG.warn("Idempotency-Key claim failed: {}", e.toString());
          ErrorCode.UNAVAILABLE.fail(message, "the database is unavailable");
        });
  }

  private void finish(Message<JsonObject> message) {
    IdempotencyClaim c = IdempotencyClaim.fromJson(message.body());
    JsonObject answer = c.answer();
    Future<Void> done = answer == null ? keys.release(c.scope(), c.key(), c.fingerprint())
        : keys.finish(c.scope(), c.key(), c.fingerprint(), answer.getInteger("status"),
            answer.getJsonObject("headers", new JsonObject()), answer.getJsonObject("body"));
    done.onSuccess(v -> message.reply(new JsonObject()))
        .onFailure(e -> {
          LOG.warn("Idempotency-Key answer not kept: {}", e.toString());
          ErrorCode.UNAVAILABLE.fail(message, "the database is unavailable");
        });
  }
}
