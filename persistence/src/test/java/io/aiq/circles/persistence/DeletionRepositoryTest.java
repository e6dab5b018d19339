package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.persistence.DeletionRepository.Found;
import io.aiq.circles.persistence.DeletionRepository.Requested;
import io.aiq.circles.testing.PostgresFixture;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The deletion's rows and an upload of the same bytes meeting in the database: an upload that
 * recreates a deleted image is told to store its blob again (the deletion may have removed the blob
 * the upload wrote just before its row), and waits for a deletion that is removing the blob right now.
 */
@ExtendWith(VertxExtension.class)
class DeletionRepositoryTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void schema() throws Exception {
    vertx = Vertx.vertx();
    AppConfig.Database cfg = new AppConfig.Database(PostgresFixture.createDatabase(), "", "", 4, 16, 5000, true);
    Database.migrate(vertx, cfg).await(60, TimeUnit.SECONDS);
    pool = Database.pool(vertx, cfg);
  }

  @AfterAll
  static void close() throws Exception {
    pool.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void an_upload_that_recreates_a_deleted_image_is_told_to_store_its_blob_again_and_a_first_upload_is_not()
      throws Exception {
    SubmissionRepository uploads = new SubmissionRepository(pool);
    DeletionRepository deletions = new DeletionRepository(pool);
    NewImage image = image();

    Submission first = uploads.submit(image, false).await(30, TimeUnit.SECONDS);
    finish(first.jobId());
    Requested deleted = deletions.deleteRequested(image.imageId(), "request").await(30, TimeUnit.SECONDS);
    Submission again = uploads.submit(image, false).await(30, TimeUnit.SECONDS);

    assertThat(first.restoreBlob()).isFalse();
    assertThat(deleted.found()).isEqualTo(Found.DELETED);
    assertThat(deleted.toFinish()).singleElement().satisfies(d -> assertThat(d.jobIds()).containsExactly(first.jobId()));
    assertThat(again.newJob()).isTrue();
    assertThat(again.duplicate()).isFalse();
    assertThat(again.restoreBlob()).isTrue();
  }

  @Test
  void an_upload_racing_a_deletion_that_is_removing_the_blob_waits_for_it_then_stores_its_blob_again()
      throws Exception {
    SubmissionRepository uploads = new SubmissionRepository(pool);
    DeletionRepository deletions = new DeletionRepository(pool);
    NewImage image = image();
    finish(uploads.submit(image, false).await(30, TimeUnit.SECONDS).jobId());
    UUID deletion = deletions.deleteRequested(image.imageId(), "request").await(30, TimeUnit.SECONDS)
        .toFinish().get(0).deletionId();
    Promise<Void> entered = Promise.promise();
    Promise<Void> release = Promise.promise();

    Future<Boolean> blobStep = deletions.removeBlob(deletion, true, ref -> {
      entered.complete();
      return release.future();
    });
    entered.future().await(30, TimeUnit.SECONDS);
    Future<Submission> upload = uploads.submit(image, false);
    Thread.sleep(500);
    boolean answeredWhileTheBlobWasBeingRemoved = upload.isComplete();
    release.complete();

    assertThat(blobStep.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(upload.await(30, TimeUnit.SECONDS).restoreBlob()).isTrue();
    assertThat(answeredWhileTheBlobWasBeingRemoved).isFalse();
  }

  @Test
  void the_blob_of_an_image_uploaded_again_before_its_blob_step_is_left_alone() throws Exception {
    SubmissionRepository uploads = new SubmissionRepository(pool);
    DeletionRepository deletions = new DeletionRepository(pool);
    NewImage image = image();
    finish(uploads.submit(image, false).await(30, TimeUnit.SECONDS).jobId());
    UUID deletion = deletions.deleteRequested(image.imageId(), "request").await(30, TimeUnit.SECONDS)
        .toFinish().get(0).deletionId();
    uploads.submit(image, false).await(30, TimeUnit.SECONDS);
    AtomicInteger removed = new AtomicInteger();

    boolean done = deletions.removeBlob(deletion, true, ref -> {
      removed.incrementAndGet();
      return Future.succeededFuture();
    }).await(30, TimeUnit.SECONDS);

    assertThat(done).isTrue();
    assertThat(removed).hasValue(0);
  }

  private static NewImage image() {
    String id = String.format("%064x", 0xde1e7e00L + IDS.incrementAndGet());
    return new NewImage(id, ImageStore.refFor(id, "png"), "image/png", "png", 10, 10, 100);
  }

  private static void finish(UUID jobId) throws Exception {
    pool.preparedQuery("UPDATE jobs SET status = 'succeeded' WHERE job_id = $1").execute(io.vertx.sqlclient.Tuple.of(jobId))
        .await(30, TimeUnit.SECONDS);
  }
}
