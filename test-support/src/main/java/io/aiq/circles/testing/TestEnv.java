package io.aiq.circles.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Configuration overrides that give one test its own world on the shared infrastructure: its own
 * topics and consumer groups, its own database, image store and HTTP port.
 */
public final class TestEnv {
  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private final String databaseUrl;
  private final Path storeRoot;
  private final int httpPort;

  public TestEnv() {
    this(PostgresFixture.createDatabase());
  }

  /** Shares a database with an earlier environment (for restart scenarios). */
  public TestEnv(String databaseUrl) {
    this.databaseUrl = databaseUrl;
    try {
      this.storeRoot = Files.createTempDirectory("aiq-store-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.httpPort = freePort();
  }

  public String id() {
    return id;
  }

  public String databaseUrl() {
    return databaseUrl;
  }

  public Path storeRoot() {
    return storeRoot;
  }

  public int httpPort() {
    return httpPort;
  }

  public String topicPrefix() {
    return "t" + id + ".";
  }

  /** The overrides for {@code ConfigLoader}: real broker, fresh database, fast sweeps. */
  public JsonObject config() {
    return new JsonObject()
        .put("detector", "dummy")
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", httpPort))
        .put("kafka", new JsonObject().put("bootstrap", KafkaFixture.bootstrap())
            .put("topic-prefix", topicPrefix()).put("group-prefix", "g" + id).put("partitions", 2)
            // the broker's minimum: a killed consumer's partitions move on quickly
            .put("session-timeout-ms", 6000))
        .put("database", new JsonObject().put("url", databaseUrl).put("pool-size", 4))
        .put("store", new JsonObject().put("root", storeRoot.toString()))
        .put("sweeper", new JsonObject().put("interval-ms", 500));
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Bytes of a test image shipped in this module ({@code images/...}). */
  public static byte[] image(String name) {
    try (InputStream in = TestEnv.class.getResourceAsStream("/images/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test image " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
