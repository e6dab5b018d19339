package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * {@code inference.consumers}: one process runs several consumers of ImageSubmitted in its group,
 * each with its own partitions, so one batch's publishing overlaps the next one's inference.
 */
class InferenceConsumersTest {

  @Test
  void two_consumers_share_the_partitions_and_every_job_completes_once() throws Exception {
    try (RunningApp sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("inference", new JsonObject().put("consumers", 2)))) {
      List<String> jobs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        jobs.add(sys.api.upload(TestImages.discs(120 + i, 90, "png", i), "d" + i + ".png", "image/png")
            .bodyAsJsonObject().getString("jobId"));
      }

      for (String job : jobs) {
        assertThat(sys.api.awaitJob(job, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
      }
      assertThat(sys.count("SELECT count(*) FROM jobs WHERE status = 'succeeded'")).isEqualTo(10);
      String topic = sys.app.config().kafka().topics().imagesSubmitted();
      String group = sys.app.config().kafka().group("inference");
      // a description taken mid-rebalance shows members without partitions: wait for a stable group
      List<Set<TopicPartition>> assignments = List.of();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        ConsumerGroupDescription description = describe(group);
        assignments = description.members().stream()
            .map(m -> m.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(topic))
                .collect(Collectors.toSet()))
            .toList();
        if (description.state() == ConsumerGroupState.STABLE && assignments.stream().noneMatch(Set::isEmpty)) {
          break;
        }
        Thread.sleep(200);
      }
      assertThat(assignments).hasSize(2).allSatisfy(partitions -> assertThat(partitions).hasSize(1));
    }
  }

  private static ConsumerGroupDescription describe(String group) throws Exception {
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
    }
  }
}
