package io.aiq.circles.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.EventSchemas;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Under test runs ({@value EventSchemas#VALIDATE_PROPERTY}, set for every module by the root pom), the
 * publisher checks each event against its JSON Schema: one that breaks it is refused before it reaches
 * the broker, so the test that produced it fails; a conforming one is sent as always.
 */
class EventPublisherValidationTest {
  private static final String IMAGE = "ab".repeat(32);

  private final Vertx vertx = Vertx.vertx();
  private final String topic = "validation-" + UUID.randomUUID();
  private final EventPublisher publisher = new EventPublisher(producer(), "/aiq-circles/test");

  private KafkaProducer<String, Buffer> producer() {
    Map<String, String> config = new HashMap<>();
    KafkaFixture.clientProperties().forEach((k, v) -> config.put(k.toString(), v.toString()));
    return KafkaProducer.create(vertx, config, String.class, Buffer.class);
  }

  @BeforeEach
  void createTopic() throws Exception {
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void close() throws Exception {
    publisher.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void every_test_run_asks_for_validation() {
    assertThat(EventSchemas.validationRequested()).isTrue();
  }

  @Test
  void an_event_that_breaks_its_schema_is_refused_and_never_reaches_the_topic() throws Exception {
    JsonObject broken = new DetectionStarted("not-a-uuid", IMAGE, Instant.now()).toJson();

    assertThatThrownBy(() -> publisher.publish(topic, IMAGE, DetectionStarted.TYPE, broken, null)
        .await(10, TimeUnit.SECONDS))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining(topic).hasMessageContaining("jobId");

    String jobId = UUID.randomUUID().toString();
    publisher.publish(topic, IMAGE, DetectionStarted.TYPE, new DetectionStarted(jobId, IMAGE, Instant.now()).toJson(),
        null).await(10, TimeUnit.SECONDS);
    List<ConsumerRecord<String, String>> on = TopicProbe.await(topic, 1, Duration.ofSeconds(10));
    assertThat(on).singleElement().satisfies(r -> assertThat(new JsonObject(r.value()).getString("jobId")).isEqualTo(jobId));
  }

  @Test
  void an_event_type_without_a_schema_is_refused() {
    assertThatThrownBy(() -> publisher.publish(topic, IMAGE, "io.aiq.circles.unheard.of", new JsonObject(), null)
        .await(10, TimeUnit.SECONDS))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("no JSON Schema");
  }

  @Test
  void a_conforming_event_is_sent_with_its_cloud_events_type() throws Exception {
    String jobId = UUID.randomUUID().toString();
    publisher.publish(topic, IMAGE, DetectionStarted.TYPE, new DetectionStarted(jobId, IMAGE, Instant.now()).toJson(),
        null).await(10, TimeUnit.SECONDS);

    ConsumerRecord<String, String> sent = TopicProbe.await(topic, 1, Duration.ofSeconds(10)).get(0);
    assertThat(sent.key()).isEqualTo(IMAGE);
    assertThat(TopicProbe.header(sent, CloudEventHeaders.TYPE)).isEqualTo(DetectionStarted.TYPE);
  }
}
