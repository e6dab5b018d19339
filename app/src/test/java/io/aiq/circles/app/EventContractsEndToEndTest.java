package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.EventSchemas;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The event contract holds for the system that runs: every record the whole pipeline (every role in one
 * JVM, its own topics) produced for a client's journey conforms to the JSON Schema of its {@code ce_type},
 * as an outside consumer reading the topics would check it; and the AsyncAPI document and the schemas it
 * references are served by the gateway.
 */
class EventContractsEndToEndTest {
  private static RunningApp sys;
  private static Topics topics;

  @BeforeAll
  static void start() {
    sys = RunningApp.start();
    topics = sys.app.config().kafka().topics();
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  /** Every record on a topic, from its beginning to its end as of now (this test's topics: a fresh prefix). */
  private static List<ConsumerRecord<String, String>> everything(String topic) {
    Properties p = KafkaFixture.clientProperties();
    p.put("group.id", "contracts-" + UUID.randomUUID());
    p.put("enable.auto.commit", "false");
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(i -> new TopicPartition(topic, i.partition())).toList();
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = c.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  private static String header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  @Test
  void every_record_a_journey_produced_on_every_topic_conforms_to_the_schema_of_its_ce_type() {
    // a journey that touches each kind of event the pipeline sends: upload, detection, deletion
    String jobId = RunningApp.acceptedJob(sys.api.upload(TestImages.discs(240, 160, "png", 31), "c.png", "image/png"));
    JsonObject job = sys.api.awaitJob(jobId, Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("succeeded");
    String imageId = job.getString("imageId");
    assertThat(sys.api.request(HttpMethod.DELETE, "/images/" + imageId).statusCode()).isIn(200, 202, 204);
    TopicProbe.await(topics.imagesDeleted(), 1, r -> r.key().equals(imageId), Duration.ofSeconds(30));

    Map<String, Integer> checked = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (String topic : topics.all()) {
      if (topic.equals(topics.deadLetter())) {
        continue; // a dead letter's value is the original record, whatever it was: no schema of its own
      }
      for (ConsumerRecord<String, String> r : everything(topic)) {
        String type = header(r, "ce_type");
        List<String> found = EventSchemas.shared().problems(type, new JsonObject(r.value()));
        found.forEach(p -> problems.add(topic + "@" + r.offset() + " (" + type + "): " + p));
        checked.merge(topic, 1, Integer::sum);
      }
    }

    assertThat(problems).isEmpty();
    assertThat(checked).containsKeys(topics.imagesSubmitted(), topics.detectionsStarted(),
        topics.detectionsCompleted(), topics.imagesDeleted());
    assertThat(everything(topics.deadLetter())).as("nothing was dead-lettered").isEmpty();
  }

  @Test
  void the_asyncapi_document_is_served_and_names_every_topic() {
    HttpResponse<Buffer> doc = sys.api.get("/asyncapi.yaml");

    assertThat(doc.statusCode()).isEqualTo(200);
    assertThat(doc.getHeader("Content-Type")).startsWith("application/yaml");
    Map<String, Object> yaml = new Yaml().load(doc.bodyAsString());
    JsonObject spec = new JsonObject(yaml);
    assertThat(spec.getString("asyncapi")).startsWith("3.0");
    List<String> addresses = new ArrayList<>();
    spec.getJsonObject("channels").forEach(c -> addresses.add(((JsonObject) c.getValue()).getString("address")));
    assertThat(addresses).containsExactlyInAnyOrderElementsOf(Topics.withPrefix("").all());
  }

  @Test
  void every_schema_the_document_references_is_served_beside_it() {
    String doc = sys.api.get("/asyncapi.yaml").bodyAsString();
    Map<String, Boolean> served = new HashMap<>();
    for (String file : EventSchemas.currentSchemas().values()) {
      String path = "/" + EventSchemas.resource(file);
      assertThat(doc).contains("'" + EventSchemas.resource(file) + "'");
      HttpResponse<Buffer> schema = sys.api.get(path);
      assertThat(schema.statusCode()).as(path).isEqualTo(200);
      assertThat(schema.getHeader("Content-Type")).isEqualTo("application/schema+json");
      assertThat(schema.bodyAsJsonObject().getString("$schema")).isEqualTo("https://json-schema.org/draft/2020-12/schema");
      served.put(path, true);
    }
    assertThat(served).hasSize(EventSchemas.currentSchemas().size());
  }

  @Test
  void a_schema_that_does_not_exist_is_a_json_404_and_nothing_else_of_the_classpath_is_reachable() {
    for (String path : List.of("/contracts/schemas/nothing.v1.schema.json", "/contracts/schemas/..%2Fasyncapi.yaml",
        "/contracts/schemas/logback.xml")) {
      HttpResponse<Buffer> r = sys.api.get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).as(path).isEqualTo("not_found");
    }
  }

  @Test
  void the_docs_page_links_the_asyncapi_document() {
    assertThat(sys.api.get("/docs/").bodyAsString()).contains("href=\"/asyncapi.yaml\"");
  }
}
