package io.aiq.circles.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a process does ({@code roles} in configuration): one image runs as any of them, or all. Each
 * consuming role's name is also its consumer group's suffix ({@code <group-prefix>-<role>}).
 *
 * <p>The gateway reaches ingest and queries over the Vert.x event bus; every other link between roles
 * goes through Kafka, PostgreSQL or the image store. So a process with the gateway also runs ingest and
 * queries on its local event bus (the API process: {@code gateway,ingest,queries}), unless it is
 * clustered; inference and the results writer run anywhere.
 */
public enum Role {
  /** the HTTP edge: the API, its documents, the viewer, admission control */
  GATEWAY,
  /** stores uploads, records jobs, publishes ImageSubmitted; the sweeper */
  INGEST,
  /** answers the gateway's job, image and object queries from PostgreSQL */
  QUERIES,
  /** consumes ImageSubmitted, runs the detector; the KServe endpoints */
  INFERENCE,
  /**
   * the results writer: consumes the detection events into PostgreSQL (consumer group
   * {@code <prefix>-results}). Up to issue 15 it also answered the queries; that is now {@link #QUERIES}.
   */
  RESULTS,
  /**
   * sends the webhooks of finished jobs (callbackUrl): consumes the terminal job events (consumer
   * group {@code <prefix>-webhooks}), records a delivery per job in PostgreSQL and sends them, signed,
   * with retries; needs {@code webhooks.secret}
   */
  WEBHOOKS;

  /** The name in configuration, metrics, logs and consumer groups. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @throws ConfigException for a name that is no role */
  public static Role parse(String name) {
    for (Role r : values()) {
      if (r.wire().equals(name.trim().toLowerCase(Locale.ROOT))) {
        return r;
      }
    }
    throw new ConfigException("roles: unknown role '" + name.trim() + "' (known: "
        + Arrays.stream(values()).map(Role::wire).collect(Collectors.joining(", ")) + ", or all)");
  }

  @Override
  public String toString() {
    return wire();
  }
}
