package io.aiq.circles.contracts.messages;

import io.aiq.circles.contracts.EventBusAddresses;
import io.vertx.core.json.JsonObject;

/**
 * An {@code Idempotency-Key} of {@code POST /images}, from the gateway to ingest, which keeps the
 * keys ({@link EventBusAddresses#INGEST_IDEMPOTENCY_CLAIM}, {@link EventBusAddresses#INGEST_IDEMPOTENCY_FINISH}).
 *
 * @param scope whose key it is: the API key's fingerprint when API keys are on, blank otherwise
 * @param key the header's value as sent
 * @param fingerprint SHA-256 (hex) of what decides the answer: the files in order and the parameters
 * @param leaseMs how long a claim holds before another request may take the key over (its request
 *     died without finishing)
 * @param answer on finish, the answer to replay ({@code {status, headers, body}}); null to give the key up
 */
public record IdempotencyClaim(String scope, String key, String fingerprint, long leaseMs, JsonObject answer) {
  public JsonObject toJson() {
    return new JsonObject().put("scope", scope).put("key", key).put("fingerprint", fingerprint)
        .put("leaseMs", leaseMs).put("answer", answer);
  }

  public static IdempotencyClaim fromJson(JsonObject j) {
    return new IdempotencyClaim(j.getString("scope", ""), j.getString("key"), j.getString("fingerprint"),
        j.getLong("leaseMs", 0L), j.getJsonObject("answer"));
  }

  /** The same claim, finished with this answer (null: given up). */
  public IdempotencyClaim finishedWith(JsonObject answer) {
    return new IdempotencyClaim(scope, key, fingerprint, leaseMs, answer);
  }
}
