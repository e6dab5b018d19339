package io.aiq.circles.ingest;

import static io.aiq.circles.ingest.IngestTestbed.newImage;
import static io.aiq.circles.ingest.IngestTestbed.recordsNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.messaging.KafkaClients;
import io.aiq.circles.persistence.DeletionRepository;
import io.aiq.circles.persistence.FileImageStore;
import io.aiq.circles.persistence.ImageStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retention: a pass deletes the images uploaded more than {@code retention.days} ago that have no job
 * in flight (blob, rows, an {@code ImageDeleted} with reason {@code retention}), at most
 * {@code retention.batch-size} of them, oldest first; it keeps recent images and images whose job is
 * queued or processing; and it finishes a deletion that a crash left half done. Each test runs
 * passes itself (the sweeper's timer is not started), on images whose upload time is set in the
 * past, so nothing depends on how fast the machine is. Each test has a database of its own, since a
 * pass takes every expired image it finds.
 */
class RetentionSweeperTest {
  private static IngestTestbed bed;
  private static AppConfig config;
  private static Topics topics;
  private static Path storeRoot;
  private static EventPublisher publisher;

  @BeforeEach
  void start() throws Exception {
    bed = new IngestTestbed(true);
    config = bed.config(null);
    topics = config.kafka().topics();
    storeRoot = config.store().root();
    publisher = new EventPublisher(KafkaClients.producer(bed.vertx, config.kafka(), "retention-test"),
        "/aiq-circles/ingest");
  }

  @AfterEach
  void stop() throws Exception {
    publisher.close().await(10, TimeUnit.SECONDS);
    bed.close();
  }

  @Test
  void old_images_without_a_job_in_flight_are_deleted_and_recent_or_busy_ones_are_kept() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RetentionSweeper sweeper = sweeper(1, 100, registry);
    SubmitImage oldDone = stored(newImage(false), 3, "succeeded");
    SubmitImage oldNoJob = stored(newImage(false), 3, null);
    SubmitImage oldQueued = stored(newImage(false), 3, "queued");
    SubmitImage oldProcessing = stored(newImage(false), 3, "processing");
    SubmitImage recent = stored(newImage(false), 0, "succeeded");

    int deleted = sweeper.sweep().await(30, TimeUnit.SECONDS);

    assertThat(deleted).isEqualTo(2);
    for (SubmitImage gone : List.of(oldDone, oldNoJob)) {
      assertThat(imageRows(gone)).isEqualTo(0);
      assertThat(bed.jobsOf(gone.imageId())).isEmpty();
      assertThat(blobOf(gone)).doesNotExist();
      ImageDeleted event = ImageDeleted.fromJson(Buffer.buffer(single(deletedEventsOf(gone)).value()));
      assertThat(event.reason()).isEqualTo(ImageDeleted.RETENTION);
    }
    for (SubmitImage kept : List.of(oldQueued, oldProcessing, recent)) {
      assertThat(imageRows(kept)).isEqualTo(1);
      assertThat(bed.jobsOf(kept.imageId())).hasSize(1);
      assertThat(blobOf(kept)).exists();
      assertThat(deletedEventsOf(kept)).isEmpty();
    }
    assertThat(registry.counter("aiq_images_deleted_total", "reason", "retention").count()).isEqualTo(2.0);
  }

  @Test
  void a_pass_deletes_at_most_batch_size_images_oldest_first_and_the_next_pass_goes_on() throws Exception {
    RetentionSweeper sweeper = sweeper(1, 2, new SimpleMeterRegistry());
    SubmitImage oldest = stored(newImage(false), 30, "succeeded");
    SubmitImage older = stored(newImage(false), 29, "succeeded");
    SubmitImage old = stored(newImage(false), 28, "failed");

    int first = sweeper.sweep().await(30, TimeUnit.SECONDS);

    assertThat(first).isEqualTo(2);
    assertThat(imageRows(oldest)).isEqualTo(0);
    assertThat(imageRows(older)).isEqualTo(0);
    assertThat(imageRows(old)).isEqualTo(1);

    sweeper.sweep().await(30, TimeUnit.SECONDS);

    assertThat(imageRows(old)).isEqualTo(0);
    assertThat(blobOf(old)).doesNotExist();
  }

  @Test
  void with_days_0_retention_is_off_and_an_old_image_is_kept() throws Exception {
    SubmitImage ancient = stored(newImage(false), 400, "succeeded");

    int deleted = sweeper(0, 100, new SimpleMeterRegistry()).sweep().await(30, TimeUnit.SECONDS);

    assertThat(deleted).isEqualTo(0);
    assertThat(imageRows(ancient)).isEqualTo(1);
    assertThat(blobOf(ancient)).exists();
  }

  @Test
  void a_deletion_a_crash_left_half_done_is_finished_by_a_pass_even_with_retention_off() throws Exception {
    SubmitImage image = stored(newImage(false), 0, "succeeded");
    UUID jobId = UUID.fromString(bed.jobsOf(image.imageId()).get(0).get("job_id").toString());
    // the rows' transaction committed, then the process died: blob and event still to do
    new DeletionRepository(bed.pool).deleteRequested(image.imageId(), ImageDeleted.REQUEST).await(30, TimeUnit.SECONDS);
    try (Connection c = bed.connect(); PreparedStatement s = c.prepareStatement(
        "UPDATE image_deletions SET deleted_at = now() - interval '1 hour' WHERE image_id = ?")) {
      s.setString(1, image.imageId());
      s.executeUpdate();
    }

    sweeper(0, 100, new SimpleMeterRegistry()).sweep().await(30, TimeUnit.SECONDS);

    assertThat(blobOf(image)).doesNotExist();
    ImageDeleted event = ImageDeleted.fromJson(Buffer.buffer(single(deletedEventsOf(image)).value()));
    assertThat(event.reason()).isEqualTo(ImageDeleted.REQUEST);
    assertThat(event.jobIds()).containsExactly(jobId.toString());
    assertThat(bed.rows("SELECT published FROM image_deletions WHERE image_id = ?", image.imageId()))
        .singleElement().satisfies(d -> assertThat(d).containsEntry("published", true));
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static RetentionSweeper sweeper(int days, int batchSize, SimpleMeterRegistry registry) {
    ImageStore store = new FileImageStore(bed.vertx, storeRoot);
    ImageDeleter deleter = new ImageDeleter(store, new DeletionRepository(bed.pool), publisher, topics, registry);
    return new RetentionSweeper(bed.vertx, new AppConfig.Retention(days, batchSize, 3_600_000), deleter);
  }

  /**
   * What an upload {@code ageDays} ago left: the blob, the image row, and (unless null) one job in
   * that status.
   */
  private static SubmitImage stored(SubmitImage image, int ageDays, String jobStatus) throws Exception {
    Path blob = blobOf(image);
    Files.createDirectories(blob.getParent());
    Files.write(blob, image.bytes().getBytes());
    try (Connection c = bed.connect()) {
      try (PreparedStatement s = c.prepareStatement("INSERT INTO images (image_id, storage_ref, content_type, format,"
          + " width, height, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, now() - ? * interval '1 day')")) {
        s.setString(1, image.imageId());
        s.setString(2, ImageStore.refFor(image.imageId(), image.format()));
        s.setString(3, image.contentType());
        s.setString(4, image.format());
        s.setInt(5, image.width());
        s.setInt(6, image.height());
        s.setLong(7, image.bytes().length());
        s.setInt(8, ageDays);
        s.executeUpdate();
      }
      if (jobStatus != null) {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status, created_at)"
            + " VALUES (?, ?, ?, now() - ? * interval '1 day')")) {
          s.setObject(1, UUID.randomUUID());
          s.setString(2, image.imageId());
          s.setString(3, jobStatus);
          s.setInt(4, ageDays);
          s.executeUpdate();
        }
      }
    }
    return image;
  }

  private static int imageRows(SubmitImage image) throws Exception {
    return bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId()).size();
  }

  private static Path blobOf(SubmitImage image) {
    return storeRoot.resolve(ImageStore.refFor(image.imageId(), image.format()));
  }

  private static List<ConsumerRecord<String, String>> deletedEventsOf(SubmitImage image) {
    return recordsNow(topics.imagesDeleted()).stream().filter(r -> image.imageId().equals(r.key())).toList();
  }

  private static ConsumerRecord<String, String> single(List<ConsumerRecord<String, String>> records) {
    assertThat(records).hasSize(1);
    return records.get(0);
  }
}
