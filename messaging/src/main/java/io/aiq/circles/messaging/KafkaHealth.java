package io.aiq.circles.messaging;

import io.aiq.circles.contracts.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.KafkaAdminClient;
import java.util.concurrent.TimeUnit;

/** Readiness of the Kafka cluster: a broker answers a describe-cluster request in time. */
public final class KafkaHealth {
  private final KafkaAdminClient admin;

  private KafkaHealth(KafkaAdminClient admin) {
    this.admin = admin;
  }

  public static KafkaHealth register(Vertx vertx, HealthChecks checks, AppConfig.Kafka kafka) {
    KafkaHealth health = new KafkaHealth(KafkaAdminClient.create(vertx, KafkaClients.adminConfig(kafka)));
    // answered (KO) before the check's own timeout: a timed-out check makes the endpoint answer 500,
    // where "not ready" is 503
    checks.register("kafka", 5000, promise -> health.admin
        .describeCluster()
        .timeout(4, TimeUnit.SECONDS)
        .onSuccess(c -> promise.tryComplete(Status.OK(new JsonObject()
            .put("bootstrap", kafka.bootstrap()).put("brokers", c.getNodes().size()))))
        .onFailure(e -> promise.tryComplete(Status.KO(new JsonObject()
            .put("bootstrap", kafka.bootstrap()).put("error", e.getMessage())))));
    return health;
  }

  public Future<Void> close() {
    return admin.close();
  }
}
