package io.aiq.circles.messaging;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the pipeline's topics when they are missing (when {@code kafka.create-topics} is on). */
public final class TopicAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

  private TopicAdmin() {
  }

  public static Future<Void> ensureTopics(Vertx vertx, AppConfig.Kafka kafka) {
    KafkaAdminClient admin = KafkaAdminClient.create(vertx, KafkaClients.adminConfig(kafka));
    return admin.listTopics()
        .compose(existing -> {
          List<NewTopic> missing = kafka.topics().all().stream()
              .filter(t -> !existing.contains(t))
              .map(t -> new NewTopic(t, kafka.partitions(), kafka.replicationFactor()))
              .collect(Collectors.toList());
          if (missing.isEmpty()) {
            return Future.<Void>succeededFuture();
          }
          LOG.info("creating topics {}", missing.stream().map(NewTopic::getName).toList());
          return admin.createTopics(missing)
              // another instance may have created them between our list and create: that is fine
              .recover(e -> e instanceof TopicExistsException || e.getCause() instanceof TopicExistsException
                  ? Future.succeededFuture() : Future.failedFuture(e));
        })
        .eventually(admin::close);
  }
}
