package io.aiq.circles.messaging;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;

/** Publishes a consumer's own metrics (records-lag-max among them) to the registry, tagged by role. */
public final class KafkaMetrics {
  private KafkaMetrics() {
  }

  public static AutoCloseable bind(KafkaConsumer<String, Buffer> consumer, MeterRegistry registry, String role) {
    KafkaClientMetrics metrics = new KafkaClientMetrics(consumer.unwrap(),
        java.util.List.of(io.micrometer.core.instrument.Tag.of("aiq_role", role)));
    metrics.bindTo(registry);
    return metrics;
  }
}
