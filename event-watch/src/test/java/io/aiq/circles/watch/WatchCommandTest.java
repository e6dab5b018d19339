package io.aiq.circles.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.testing.KafkaFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code just watch} against the real test broker: events published as the pipeline publishes them
 * (JSON value, CloudEvents headers, keyed by image id) are printed as they arrive. Each test has a topic
 * prefix of its own.
 */
class WatchCommandTest {
  private static final Instant T = Instant.parse("2026-01-02T03:04:06.120Z");
  private final String prefix = "watch-" + UUID.randomUUID() + ".";
  private final String imageId = "ab".repeat(32);
  private final String jobId = UUID.randomUUID().toString();

  @BeforeEach
  void createTopics() throws Exception {
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      admin.createTopics(Topics.withPrefix(prefix).all().stream().map(t -> new NewTopic(t, 1, (short) 1)).toList())
          .all().get(30, TimeUnit.SECONDS);
    }
  }

  private void publish(String topicSuffix, String type, String value) throws Exception {
    try (KafkaProducer<String, String> producer =
             new KafkaProducer<>(KafkaFixture.clientProperties(), new StringSerializer(), new StringSerializer())) {
      ProducerRecord<String, String> r = new ProducerRecord<>(prefix + topicSuffix, imageId, value);
      r.headers().add("ce_type", type.getBytes(StandardCharsets.UTF_8))
          .add("ce_time", T.toString().getBytes(StandardCharsets.UTF_8));
      producer.send(r).get(10, TimeUnit.SECONDS);
    }
  }

  private String completed() {
    return new DetectionsCompleted(jobId, imageId, "dummy", "1",
        List.of(new Detection(new BoundingBox(100, 180, 220, 300), 0.95)), 45, T).toJson().encode();
  }

  /** Runs {@code watch} with these arguments until it printed {@code events} lines; returns its output. */
  private String watch(int events, String... args) throws Exception {
    StringWriter printed = new StringWriter();
    WatchCommand command = new WatchCommand(new PrintWriter(printed, true));
    List<String> all = new java.util.ArrayList<>(List.of("--bootstrap", KafkaFixture.bootstrap(),
        "--topic-prefix", prefix, "--from-beginning", "--max-events", String.valueOf(events)));
    all.addAll(List.of(args));
    int exit = CompletableFuture.supplyAsync(() -> new CommandLine(command).execute(all.toArray(String[]::new)))
        .get(60, TimeUnit.SECONDS);
    assertThat(exit).isZero();
    return printed.toString();
  }

  @Test
  void a_detections_event_is_printed_as_one_line_with_its_job_image_model_count_and_boxes() throws Exception {
    publish(Topics.DETECTIONS_COMPLETED, DetectionsCompleted.TYPE, completed());

    String out = watch(1);

    assertThat(out.lines().toList()).singleElement().isEqualTo("2026-01-02T03:04:06.120Z detections     job="
        + jobId + " image=abababababab… model=dummy:1 count=1 boxes=[100,180 120x120 0.95] (45 ms)");
  }

  @Test
  void json_prints_the_value_as_published() throws Exception {
    publish(Topics.DETECTIONS_COMPLETED, DetectionsCompleted.TYPE, completed());

    assertThat(watch(1, "--json").lines().toList()).containsExactly(completed());
  }

  @Test
  void only_detection_results_are_watched_unless_all_is_asked() throws Exception {
    publish(Topics.DETECTIONS_STARTED, DetectionStarted.TYPE, new DetectionStarted(jobId, imageId, T).toJson().encode());
    publish(Topics.DETECTIONS_COMPLETED, DetectionsCompleted.TYPE, completed());

    assertThat(watch(1)).contains("detections").doesNotContain("started");
    assertThat(watch(2, "--all")).contains("started", "detections");
  }

  @Test
  void all_means_every_topic_of_the_contract() {
    WatchCommand command = new WatchCommand(new PrintWriter(new StringWriter()));
    new CommandLine(command).parseArgs("--all", "--topic-prefix", "p.");
    assertThat(command.topics()).containsExactlyInAnyOrderElementsOf(Topics.withPrefix("p.").all());
  }

  @Test
  void without_a_group_nothing_is_committed_and_with_one_offsets_are() {
    WatchCommand throwaway = new WatchCommand(new PrintWriter(new StringWriter()));
    new CommandLine(throwaway).parseArgs();
    assertThat(throwaway.consumerProperties().getProperty("enable.auto.commit")).isEqualTo("false");
    assertThat(throwaway.consumerProperties().getProperty("group.id")).startsWith("aiq-watch-");
    assertThat(throwaway.consumerProperties().getProperty("auto.offset.reset")).isEqualTo("latest");

    WatchCommand own = new WatchCommand(new PrintWriter(new StringWriter()));
    new CommandLine(own).parseArgs("--group", "team-x", "--from-beginning");
    assertThat(own.consumerProperties().getProperty("group.id")).isEqualTo("team-x");
    assertThat(own.consumerProperties().getProperty("enable.auto.commit")).isEqualTo("true");
    assertThat(own.consumerProperties().getProperty("auto.offset.reset")).isEqualTo("earliest");
  }
}
