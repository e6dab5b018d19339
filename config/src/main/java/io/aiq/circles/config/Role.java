package io.aiq.circles.config;

import java.util.Locale;

/**
 * What a process does ({@code roles} in configuration): one image runs as any of them, or all. Each
 * consuming role's name is also its consumer group's suffix ({@code <group-prefix>-<role>}).
 */
public enum Role {
  /** the HTTP edge: the API, its documents, the viewer, admission control */
  GATEWAY,
  /** stores uploads, records jobs, publishes ImageSubmitted; the sweeper */
  INGEST,
  /** consumes ImageSubmitted, runs the detector; the KServe endpoints */
  INFERENCE,
  /** writes results to PostgreSQL; answers the queries */
  RESULTS;

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
    throw new ConfigException("roles: unknown role '" + name.trim() + "' (known: gateway, ingest, inference, results)");
  }

  @Override
  public String toString() {
    return wire();
  }
}
