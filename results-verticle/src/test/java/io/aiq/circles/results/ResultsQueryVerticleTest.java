package io.aiq.circles.results;

import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_IMAGE;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_IMAGES;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_JOB;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_OBJECT;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_OBJECTS;
import static io.aiq.circles.results.ResultsTestbed.detections;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.messages.ImageQuery;
import io.aiq.circles.contracts.messages.ImagesQuery;
import io.aiq.circles.contracts.messages.JobQuery;
import io.aiq.circles.contracts.messages.ObjectQuery;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The query side of the results role, as the gateway asks it over the event bus: jobs, images and
 * their objects read from PostgreSQL, errors as {@link ErrorCode} failures, images paged with an
 * opaque cursor, and a job query that waits ({@code Prefer: wait}) answered as soon as the job is
 * finished. The results writer runs beside it, so a result published to Kafka is what finishes a job.
 */
class ResultsQueryVerticleTest {
  private static final List<Detection> TWO = detections(10, 20, 50, 40, 0.9, 100, 100, 140, 150, 0.6);

  private static ResultsTestbed bed;

  @BeforeAll
  static void start() throws Exception {
    bed = new ResultsTestbed(null).deployConsumer().deployQueries();
    // the writer has its partitions before any test times it
    String imageId = bed.insertImage();
    UUID warmUp = bed.insertQueuedJob(imageId);
    bed.publish(bed.topics.detectionsStarted(), imageId,
        new DetectionStarted(warmUp.toString(), imageId, Instant.now()).toJson().encode());
    bed.awaitJob(warmUp, j -> "processing".equals(j.get("status")));
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void a_job_is_answered_with_its_status_image_submissions_and_links() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);

    JsonObject job = bed.answer(RESULTS_JOB, new JobQuery(jobId.toString(), 0).toJson());

    assertThat(job.getString("jobId")).isEqualTo(jobId.toString());
    assertThat(job.getString("imageId")).isEqualTo(imageId);
    assertThat(job.getString("status")).isEqualTo("queued");
    assertThat(job.getInteger("submissions")).isEqualTo(1);
    assertThat(Instant.parse(job.getString("submittedAt"))).isBefore(Instant.now().plusSeconds(1));
    assertThat(job.getValue("finishedAt")).isNull();
    assertThat(job.getValue("error")).isNull();
    assertThat(job.getJsonObject("links")).isEqualTo(new JsonObject().put("job", "/jobs/" + jobId)
        .put("image", "/images/" + imageId).put("objects", "/images/" + imageId + "/objects"));
  }

  @Test
  void an_unknown_job_is_not_found() throws Exception {
    ErrorCode.ApiFailure failure = bed.failureOf(RESULTS_JOB, new JobQuery(UUID.randomUUID().toString(), 0).toJson());

    assertThat(failure.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(failure.code().code()).isEqualTo("not_found");
  }

  @Test
  void a_query_message_that_does_not_read_as_its_type_is_a_bad_request_not_a_database_outage() throws Exception {
    ErrorCode.ApiFailure noLimit = bed.failureOf(RESULTS_IMAGES, new io.vertx.core.json.JsonObject());
    ErrorCode.ApiFailure noObjectId = bed.failureOf(RESULTS_OBJECT,
        new io.vertx.core.json.JsonObject().put("imageId", "ab".repeat(32)));

    assertThat(noLimit.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(noObjectId.code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void a_job_id_that_is_not_a_uuid_is_an_invalid_id() throws Exception {
    ErrorCode.ApiFailure failure = bed.failureOf(RESULTS_JOB, new JobQuery("'; DROP TABLE jobs; --", 0).toJson());

    assertThat(failure.code()).isEqualTo(ErrorCode.INVALID_ID);
  }

  @Test
  void an_image_shows_its_latest_job_and_the_objects_of_its_latest_succeeded_one() throws Exception {
    String imageId = bed.insertImage();
    UUID succeeded = bed.insertSucceededJob(imageId, TWO);
    // reprocessing asked for: the new job is still queued
    Thread.sleep(5);
    UUID reprocess = bed.insertQueuedJob(imageId);

    JsonObject image = bed.answer(RESULTS_IMAGE, new ImageQuery(imageId).toJson());
    JsonObject objects = bed.answer(RESULTS_OBJECTS, new ImageQuery(imageId).toJson());

    assertThat(image.getString("imageId")).isEqualTo(imageId);
    assertThat(image.getInteger("width")).isEqualTo(640);
    assertThat(image.getLong("jobCount")).isEqualTo(2);
    assertThat(image.getJsonObject("latestJob"))
        .isEqualTo(new JsonObject().put("jobId", reprocess.toString()).put("status", "queued"));
    assertThat(image.getInteger("objectCount")).isEqualTo(2);
    assertThat(objects.getString("jobId")).isEqualTo(succeeded.toString());
    assertThat(objects.getJsonArray("objects")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("object_id", 0).put("bbox", new JsonArray().add(10.0).add(20.0).add(50.0).add(40.0))
            .put("score", 0.9))
        .add(new JsonObject().put("object_id", 1).put("bbox", new JsonArray().add(100.0).add(100.0).add(140.0).add(150.0))
            .put("score", 0.6)));
  }

  @Test
  void one_object_is_answered_with_its_box_centroid_and_radius() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertSucceededJob(imageId, TWO);

    JsonObject object = bed.answer(RESULTS_OBJECT, new ObjectQuery(imageId, 0).toJson());

    assertThat(object.getInteger("object_id")).isZero();
    assertThat(object.getString("imageId")).isEqualTo(imageId);
    assertThat(object.getString("jobId")).isEqualTo(jobId.toString());
    assertThat(object.getJsonArray("bbox")).isEqualTo(new JsonArray().add(10.0).add(20.0).add(50.0).add(40.0));
    // the box's centre, and half the mean of its width (40) and height (20)
    assertThat(object.getJsonArray("centroid")).isEqualTo(new JsonArray().add(30.0).add(30.0));
    assertThat(object.getDouble("radius")).isEqualTo(15.0);
    assertThat(object.getDouble("score")).isEqualTo(0.9);
  }

  @Test
  void objects_and_images_that_do_not_exist_are_not_found() throws Exception {
    String withResults = bed.insertImage();
    bed.insertSucceededJob(withResults, TWO);
    String queued = bed.insertImage();
    bed.insertQueuedJob(queued);

    assertThat(bed.failureOf(RESULTS_OBJECT, new ObjectQuery(withResults, 2).toJson()).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(bed.failureOf(RESULTS_OBJECT, new ObjectQuery(queued, 0).toJson()).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(bed.answer(RESULTS_OBJECTS, new ImageQuery(queued).toJson()).getJsonArray("objects")).isEmpty();
    assertThat(bed.failureOf(RESULTS_IMAGE, new ImageQuery("ab".repeat(32)).toJson()).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void paging_images_with_the_cursor_returns_each_image_once_newest_first() throws Exception {
    List<String> inserted = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      inserted.add(bed.insertImage());
    }

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page = bed.answer(RESULTS_IMAGES, new ImagesQuery(3, cursor).toJson());
      JsonArray items = page.getJsonArray("items");
      assertThat(items.size()).isLessThanOrEqualTo(3);
      items.forEach(i -> seen.add(((JsonObject) i).getString("imageId")));
      cursor = page.getString("nextCursor");
      assertThat(++pages).as("pages").isLessThan(100);
    } while (cursor != null);

    assertThat(seen).doesNotHaveDuplicates();
    List<String> newestFirst = new ArrayList<>(inserted);
    Collections.reverse(newestFirst);
    assertThat(seen.stream().filter(inserted::contains).toList()).containsExactlyElementsOf(newestFirst);
  }

  @Test
  void a_cursor_this_api_did_not_give_out_is_a_bad_request() throws Exception {
    ErrorCode.ApiFailure failure = bed.failureOf(RESULTS_IMAGES, new ImagesQuery(3, "not-a-cursor").toJson());

    assertThat(failure.code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void a_job_query_that_waits_is_answered_as_soon_as_its_result_is_written_not_at_its_deadline() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    Future<Message<JsonObject>> waiting = bed.ask(RESULTS_JOB, new JobQuery(jobId.toString(), 5000).toJson());
    Thread.sleep(300);
    assertThat(waiting.isComplete()).as("held while the job is queued").isFalse();

    long published = System.nanoTime();
    bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(jobId.toString(), imageId, "circles", "7", TWO, 5, Instant.now()).toJson().encode());

    JsonObject job = waiting.await(10, TimeUnit.SECONDS).body();
    Duration afterPublish = Duration.ofNanos(System.nanoTime() - published);
    assertThat(job.getString("status")).isEqualTo("succeeded");
    assertThat(job.getInteger("objectCount")).isEqualTo(2);
    // woken by the job's change, not by the waiters' 2 s re-check of jobs nothing woke
    assertThat(afterPublish).isLessThan(Duration.ofMillis(1500));
  }

  @Test
  void a_job_query_that_waits_on_an_unknown_job_is_not_found_at_once() throws Exception {
    long t0 = System.nanoTime();

    ErrorCode.ApiFailure failure = bed.failureOf(RESULTS_JOB, new JobQuery(UUID.randomUUID().toString(), 5000).toJson());

    assertThat(failure.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
  }
}
