package io.aiq.circles.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client must show, and how fast it may go: the optional API keys of the write and model
 * endpoints ({@code api-keys}), and a request rate per client ({@code rate-limit}). One instance
 * serves every HTTP server of the process, so a client's budget is one whatever connection it uses.
 * Who the client is: {@link ClientIdentity} (the TCP peer, or behind trusted proxies the right-most
 * untrusted address of {@code rate-limit.client-header}).
 */
public final class ClientGuards {
  private static final Logger LOG = LoggerFactory.getLogger(ClientGuards.class);

  /** What a key may be limited to. */
  public enum Scope {
    /** POST /images, DELETE /images/{imageId} */
    UPLOAD,
    /** the KServe model endpoints */
    MODEL
  }

  /**
   * The routing-context key under which an accepted request's API key is named ({@link #keyId}):
   * what an Idempotency-Key is scoped to. Absent when no keys are configured.
   */
  static final String API_KEY_ID = "aiq.apiKeyId";

  /** @param id names the key without revealing it: the first 16 bytes of its SHA-256, in hex */
  private record ApiKey(byte[] secret, Set<Scope> scopes, String id) {
  }

  private static String keyId(byte[] secret) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(secret);
      return java.util.HexFormat.of().formatHex(d, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private final List<ApiKey> keys = new ArrayList<>();
  private final AppConfig.RateLimit limit;
  private final ClientIdentity identity;
  private final Cache<String, Bucket> buckets;

  public ClientGuards(List<String> apiKeys, AppConfig.RateLimit limit) {
    for (String entry : apiKeys) {
      int colon = entry.lastIndexOf(':');
      String secret = colon < 0 ? entry : entry.substring(0, colon);
      Set<Scope> scopes = colon < 0 ? EnumSet.allOf(Scope.class) : EnumSet.of(scope(entry.substring(colon + 1)));
      if (secret.length() < 16) {
        throw new ConfigException("api-keys: a key must have at least 16 characters (a guessable key protects nothing)");
      }
      byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
      keys.add(new ApiKey(bytes, scopes, keyId(bytes)));
    }
    this.limit = limit;
    if (limit.enabled() && limit.burst() < 1) {
      throw new ConfigException("rate-limit.burst must be at least 1");
    }
    this.identity = new ClientIdentity(limit.clientHeader(), limit.trustedProxies());
    if (limit.enabled() && !limit.clientHeader().isEmpty() && limit.trustedProxies().isEmpty()) {
      LOG.warn("rate-limit.client-header ({}) has no effect without rate-limit.trusted-proxies: clients are told "
          + "apart by their TCP peer address (set trusted-proxies to the addresses of the proxies in front)",
          limit.clientHeader());
    }
    // idle clients' buckets are full again after burst / rate seconds: forgetting them then changes nothing
    long idle = limit.enabled() ? (long) Math.ceil(limit.burst() / limit.requestsPerSecond()) + 1 : 1;
    this.buckets = Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofSeconds(idle)).build();
  }

  private static Scope scope(String name) {
    try {
      return Scope.valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("api-keys: unknown scope '" + name + "' (known: upload, model)");
    }
  }

  public boolean keysRequired() {
    return !keys.isEmpty();
  }

  /** Passes requests that show a key of this scope (or any request, when no keys are configured). */
  public Handler<RoutingContext> requireKey(Scope scope) {
    return ctx -> {
      if (keys.isEmpty()) {
        ctx.next();
        return;
      }
      String presented = presentedKey(ctx.request());
      ApiKey key = presented == null ? null : find(presented.getBytes(StandardCharsets.UTF_8));
      if (key == null) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"aiq-circles\"");
        ApiResponses.refuse(ctx, ErrorCode.UNAUTHORIZED, presented == null
            ? "this endpoint needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
            : "the API key is not valid");
      } else if (!key.scopes().contains(scope)) {
        ApiResponses.refuse(ctx, ErrorCode.FORBIDDEN, "this API key may not use the "
            + scope.name().toLowerCase(Locale.ROOT) + " endpoints");
      } else {
        ctx.put(API_KEY_ID, key.id());
        ctx.next();
      }
    };
  }

  /** Passes requests within the client's rate; answers 429 with Retry-After beyond it. */
  public Handler<RoutingContext> rateLimit() {
    return ctx -> {
      if (!limit.enabled()) {
        ctx.next();
        return;
      }
      Bucket bucket = buckets.get(client(ctx.request()), c -> Bucket.builder()
          .addLimit(Bandwidth.builder().capacity(limit.burst())
              .refillGreedy(Math.max(1, Math.round(limit.requestsPerSecond() * 60)), Duration.ofMinutes(1)).build())
          .build());
      ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
      if (probe.isConsumed()) {
        ctx.next();
        return;
      }
      long seconds = Math.max(1, (long) Math.ceil(probe.getNanosToWaitForRefill() / 1e9));
      ctx.response().putHeader("Retry-After", String.valueOf(seconds));
      ApiResponses.refuse(ctx, ErrorCode.RATE_LIMITED, String.format(Locale.ROOT,
          "too many requests from this client (at most %s a second, bursts of %d); retry after %d s",
          limit.requestsPerSecond(), limit.burst(), seconds));
    };
  }

  private String client(HttpServerRequest request) {
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    String header = identity.effectiveHeader();
    return identity.resolve(peer, header.isEmpty() ? List.of() : request.headers().getAll(header));
  }

  private static String presentedKey(HttpServerRequest request) {
    String header = request.getHeader("X-API-Key");
    if (header != null && !header.isBlank()) {
      return header.trim();
    }
    String auth = request.getHeader("Authorization");
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).trim();
    }
    return null;
  }

  /** Compares in constant time, so the answer's timing tells nothing about a key's prefix. */
  private ApiKey find(byte[] presented) {
    ApiKey found = null;
    for (ApiKey k : keys) {
      if (MessageDigest.isEqual(k.secret(), presented)) {
        found = k;
      }
    }
    return found;
  }
}
