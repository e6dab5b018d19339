package io.aiq.circles.gateway;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_IDEMPOTENCY_CLAIM;
import static io.aiq.circles.contracts.EventBusAddresses.INGEST_IDEMPOTENCY_FINISH;

import io.aiq.circles.contracts.messages.IdempotencyClaim;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Idempotency-Key} on {@code POST /images} (draft-ietf-httpapi-idempotency-key-header): the
 * first request with a key is answered as usual and its answer kept (by the ingest role, in
 * PostgreSQL); a later request with the same key and the same fingerprint gets that answer again,
 * marked {@code Idempotency-Replayed: true}, and nothing is submitted twice. The same key with another
 * fingerprint is 422 {@code idempotency_key_reused}; while the first request is still being answered,
 * 409 {@code idempotency_key_in_flight}. An answer with a 5xx (for the request, or for a file of a
 * batch) is not kept: the key is given up, so the client's retry can succeed.
 */
final class IdempotencyKeys {
  private static final Logger LOG = LoggerFactory.getLogger(IdempotencyKeys.class);
  static final String HEADER = "Idempotency-Key";
  static final String REPLAYED = "Idempotency-Replayed";
  static final int MAX_LENGTH = 255;
  static final String SYNTAX = "Idempotency-Key must be 1 to " + MAX_LENGTH
      + " printable ASCII characters (a UUID is a good key), optionally in double quotes";

  private final Vertx vertx;
  private final long backendTimeoutMs;
  private final long leaseMs;

  /**
   * @param leaseMs how long a claim holds: longer than any request takes once its body is in (its
   *     submissions and a Prefer: wait); past it, a request that died without answering no longer blocks the key
   */
  IdempotencyKeys(Vertx vertx, long backendTimeoutMs, long leaseMs) {
    this.vertx = vertx;
    this.backendTimeoutMs = backendTimeoutMs;
    this.leaseMs = leaseMs;
  }

  /**
   * The key as sent (the draft makes it a structured-field string, {@code "..."}; a bare token is
   * taken too), or null when it is not 1 to 255 printable ASCII characters.
   */
  static String parse(String header) {
    String key = header.trim();
    if (key.length() >= 2 && key.startsWith("\"") && key.endsWith("\"")) {
      key = key.substring(1, key.length() - 1);
    }
    if (key.isEmpty() || key.length() > MAX_LENGTH) {
      return null;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return null;
      }
    }
    return key;
  }

  /**
   * What decides an upload's answer, hashed: each file's name and bytes in order, and the parameters
   * given. Lengths are written before each value, so no two different requests hash alike by moving
   * bytes from one field to the next. Costs a pass over the bytes: run it off the event loop.
   */
  static String fingerprint(List<UploadReceiver.Part> parts, List<String> parameters) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    update(sha, "aiq-upload-v1".getBytes(StandardCharsets.UTF_8));
    for (String p : parameters) {
      update(sha, p == null ? new byte[0] : p.getBytes(StandardCharsets.UTF_8));
    }
    for (UploadReceiver.Part part : parts) {
      update(sha, part.filename() == null ? new byte[0] : part.filename().getBytes(StandardCharsets.UTF_8));
      Buffer b = part.buffer();
      sha.update(java.nio.ByteBuffer.allocate(8).putLong(b.length()).array());
      // in slices: no second copy of a large file in memory
      for (int at = 0; at < b.length(); at += 64 * 1024) {
        sha.update(b.getBytes(at, Math.min(b.length(), at + 64 * 1024)));
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void update(MessageDigest sha, byte[] value) {
    sha.update(java.nio.ByteBuffer.allocate(8).putLong(value.length).array());
    sha.update(value);
  }

  /**
   * The answer of the request holding this key: the first answer kept for it (replayed), or the one
   * {@code answer} gives now (then kept, unless a 5xx). Fails with the API error for a key in flight
   * (409), reused (422), or that could not be looked up (503): those answers are never kept.
   */
  Future<UploadAnswer> once(String scope, String key, String fingerprint, Supplier<Future<UploadAnswer>> answer) {
    IdempotencyClaim claim = new IdempotencyClaim(scope, key, fingerprint, leaseMs, null);
    return vertx.eventBus().<JsonObject>request(INGEST_IDEMPOTENCY_CLAIM, claim.toJson(), options())
        .compose(reply -> {
          JsonObject r = reply.body();
          if (!r.getBoolean("claimed", false)) {
            return Future.succeededFuture(UploadAnswer.fromJson(r.getJsonObject("answer")).withHeader(REPLAYED, "true"));
          }
          return answer.get().compose(a -> finish(claim, a));
        });
  }

  /** Keeps the answer (or gives the key up); the answer is sent either way. */
  private Future<UploadAnswer> finish(IdempotencyClaim claim, UploadAnswer answer) {
    IdempotencyClaim finished = claim.finishedWith(answer.keepable() ? answer.toJson() : null);
    return vertx.eventBus().<JsonObject>request(INGEST_IDEMPOTENCY_FINISH, finished.toJson(), options())
        .map(answer)
        .otherwise(e -> {
          // the client still gets its answer; the claim lapses after its lease and a retry is answered afresh
          LOG.warn("the answer to Idempotency-Key {} could not be kept: {}", claim.key(), e.toString());
          return answer;
        });
  }

  private DeliveryOptions options() {
    return new DeliveryOptions().setSendTimeout(backendTimeoutMs);
  }
}
