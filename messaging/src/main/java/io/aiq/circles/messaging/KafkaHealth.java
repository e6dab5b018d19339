package io.aiq.circles.messaging;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.KafkaAdminClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Readiness of the Kafka cluster: a broker answers in time, and every partition of the pipeline's
 * topics has a leader. A broker that has just restarted answers describe-cluster seconds before its
 * partitions have leaders again; a process that called itself ready then would refuse the first
 * uploads with 503 (their events cannot be written anywhere), which a load balancer sending traffic
 * on readiness should not see.
 */
public final class KafkaHealth {
  private final KafkaAdminClient admin;

  private KafkaHealth(KafkaAdminClient admin) {
    this.admin = admin;
  }

  public static KafkaHealth register(Vertx vertx, HealthChecks checks, AppConfig.Kafka kafka) {
    KafkaHealth health = new KafkaHealth(KafkaAdminClient.create(vertx, KafkaClients.adminConfig(kafka)));
    // answered (KO) before the check's own timeout: a timed-out check makes the endpoint answer 500,
    // where "not ready" is 503
    List<String> topics = kafka.topics().all();
    checks.register("kafka", 5000, promise -> health.admin
        .describeCluster()
        .compose(c -> health.admin.describeTopics(topics).map(described -> {
          List<String> leaderless = new ArrayList<>();
          described.forEach((name, d) -> d.getPartitions().forEach(p -> {
            if (p.getLeader() == null || p.getLeader().isEmpty() || p.getLeader().getId() < 0) {
              leaderless.add(name + "-" + p.getPartition());
            }
          }));
          if (!leaderless.isEmpty()) {
            throw new IllegalStateException("partitions without a leader: " + leaderless);
          }
          return c;
        }))
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
