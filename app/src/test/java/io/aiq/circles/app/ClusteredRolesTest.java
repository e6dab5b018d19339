package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * With {@code cluster.enabled}, the roles run in separate processes: here a gateway-only member and
 * a member with the other roles, joined over Hazelcast, serve the whole API between them. Each event
 * bus listens on its configured {@code cluster.event-bus-port} (two members on one host need two).
 */
class ClusteredRolesTest {

  @Test
  void a_gateway_in_one_process_reaches_ingest_and_results_in_another() {
    TestEnv backendEnv = new TestEnv();
    int port = TestEnv.freePort();
    JsonObject cluster = new JsonObject().put("enabled", true).put("name", "aiq-test-" + backendEnv.id())
        .put("port", port).put("members", "127.0.0.1:" + port);
    int backendBus = TestEnv.freePort();
    int gatewayBus = TestEnv.freePort();
    try (RunningApp backend = new RunningApp(backendEnv, new JsonObject()
            .put("roles", "ingest,queries,inference,results").put("cluster", cluster.copy().put("event-bus-port", backendBus)));
         RunningApp gateway = new RunningApp(new TestEnv(backendEnv.databaseUrl()), new JsonObject()
            .put("roles", "gateway").put("cluster", cluster.copy().put("event-bus-port", gatewayBus)))) {
      assertThat(listening(backendBus)).as("the backend's event bus on its fixed port").isTrue();
      assertThat(listening(gatewayBus)).as("the gateway's event bus on its fixed port").isTrue();

      JsonObject accepted = gateway.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject();
      JsonObject job = gateway.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(30));

      assertThat(job.getString("status")).isEqualTo("succeeded");
      assertThat(gateway.api.get("/images/" + accepted.getString("imageId") + "/objects").bodyAsJsonObject()
          .getJsonArray("objects")).hasSize(3);
      assertThat(backend.storedFiles()).as("the blob went to the ingest process's store").isEqualTo(1);
      assertThat(backend.api.get("/health/ready").statusCode()).as("a process without the gateway serves health")
          .isEqualTo(200);
    }
  }

  private static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
