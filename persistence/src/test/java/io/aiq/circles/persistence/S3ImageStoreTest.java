package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.testing.S3ProxyFixture;
import io.aiq.circles.testing.TestEnv;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code store.type: s3} against a real S3 server (S3Proxy, in this JVM). */
@ExtendWith(VertxExtension.class)
class S3ImageStoreTest {
  private static final String ID = "0123456789abcdef".repeat(4);
  private static final String OTHER_ID = "fedcba9876543210".repeat(4);
  private static S3ProxyFixture s3;
  private ImageStore store;

  @BeforeAll
  static void startS3() {
    s3 = S3ProxyFixture.start();
  }

  @AfterAll
  static void stopS3() {
    s3.close();
  }

  @AfterEach
  void closeStore() throws Exception {
    if (store != null) {
      store.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static AppConfig.S3 settings(String bucket, String prefix) {
    return new AppConfig.S3(bucket, prefix, s3.endpoint(), S3ProxyFixture.REGION, true, S3ProxyFixture.ACCESS_KEY_ID,
        S3ProxyFixture.SECRET_ACCESS_KEY, 4, 10_000);
  }

  private ImageStore open(Vertx vertx, AppConfig.S3 settings) {
    store = ImageStores.create(vertx, new AppConfig.Store("s3", Path.of("unused"), settings));
    return store;
  }

  private static String newBucket() {
    return s3.createBucket("aiq-" + UUID.randomUUID().toString().substring(0, 8));
  }

  /** The failure a future ended with (null if it succeeded). */
  private static Throwable failureOf(Future<?> f) throws Exception {
    return f.transform(ar -> Future.succeededFuture(ar.cause())).await(60, TimeUnit.SECONDS);
  }

  @Test
  void a_blob_is_stored_under_the_prefix_and_its_reference_and_read_back_whole(Vertx vertx) throws Exception {
    String bucket = newBucket();
    ImageStore store = open(vertx, settings(bucket, "images/"));
    byte[] bytes = "the bytes of a jpeg".getBytes(StandardCharsets.UTF_8);

    String ref = store.put(ID, "jpg", Buffer.buffer(bytes)).await(30, TimeUnit.SECONDS);

    assertThat(ref).isEqualTo(ImageStore.refFor(ID, "jpg"));
    assertThat(s3.object(bucket, "images/" + ref)).isEqualTo(bytes);
    assertThat(s3.contentType(bucket, "images/" + ref)).isEqualTo("image/jpeg");
    assertThat(store.get(ref).await(30, TimeUnit.SECONDS).getBytes()).isEqualTo(bytes);
  }

  @Test
  void storing_the_same_bytes_twice_is_harmless(Vertx vertx) throws Exception {
    String bucket = newBucket();
    ImageStore store = open(vertx, settings(bucket, ""));

    String first = store.put(ID, "png", Buffer.buffer("x")).await(30, TimeUnit.SECONDS);
    String second = store.put(ID, "png", Buffer.buffer("x")).await(30, TimeUnit.SECONDS);

    assertThat(second).isEqualTo(first);
    assertThat(store.get(first).await(30, TimeUnit.SECONDS).toString()).isEqualTo("x");
  }

  @Test
  void a_deleted_blob_is_gone_and_deleting_it_again_succeeds(Vertx vertx) throws Exception {
    String bucket = newBucket();
    ImageStore store = open(vertx, settings(bucket, "p/"));
    String ref = store.put(ID, "jpg", Buffer.buffer("bytes")).await(30, TimeUnit.SECONDS);

    store.delete(ref).await(30, TimeUnit.SECONDS);
    store.delete(ref).await(30, TimeUnit.SECONDS);

    assertThat(s3.object(bucket, "p/" + ref)).isNull();
    assertThat(failureOf(store.get(ref))).isInstanceOf(ImageStore.MissingBlobException.class);
  }

  @Test
  void a_blob_that_was_never_stored_is_missing_not_an_outage(Vertx vertx) throws Exception {
    ImageStore store = open(vertx, settings(newBucket(), ""));

    Throwable failure = failureOf(store.get(ImageStore.refFor(OTHER_ID, "png")));

    assertThat(failure).isInstanceOf(ImageStore.MissingBlobException.class).hasMessageContaining(OTHER_ID);
    assertThat(ImageStore.isUnavailable(failure)).isFalse();
  }

  @Test
  void the_store_is_ready_when_its_bucket_answers(Vertx vertx) throws Exception {
    ImageStore store = open(vertx, settings(newBucket(), ""));

    assertThat(failureOf(store.ready())).isNull();
  }

  @Test
  void wrong_credentials_are_an_outage_that_names_the_credentials(Vertx vertx) throws Exception {
    String bucket = newBucket();
    AppConfig.S3 good = settings(bucket, "");
    ImageStore store = open(vertx, new AppConfig.S3(bucket, "", good.endpoint(), good.region(), true,
        S3ProxyFixture.ACCESS_KEY_ID, "not-the-secret", 2, 10_000));

    Throwable put = failureOf(store.put(ID, "jpg", Buffer.buffer("bytes")));
    Throwable ready = failureOf(store.ready());

    assertThat(put).isInstanceOf(ImageStore.UnavailableException.class).hasMessageContaining("credentials");
    assertThat(ready).isInstanceOf(ImageStore.UnavailableException.class);
    assertThat(s3.object(bucket, ImageStore.refFor(ID, "jpg"))).isNull();
  }

  @Test
  void a_bucket_that_does_not_exist_is_an_outage_that_names_the_bucket(Vertx vertx) throws Exception {
    ImageStore store = open(vertx, settings("no-such-bucket-" + UUID.randomUUID().toString().substring(0, 8), ""));

    Throwable get = failureOf(store.get(ImageStore.refFor(ID, "jpg")));
    Throwable ready = failureOf(store.ready());

    assertThat(get).isInstanceOf(ImageStore.UnavailableException.class).hasMessageContaining("no-such-bucket-")
        .hasMessageContaining("does not exist");
    assertThat(ready).isInstanceOf(ImageStore.UnavailableException.class);
  }

  @Test
  void a_store_that_cannot_be_reached_is_an_outage_for_every_call(Vertx vertx) throws Exception {
    AppConfig.S3 good = settings("any", "");
    ImageStore store = open(vertx, new AppConfig.S3("any", "", "http://127.0.0.1:" + TestEnv.freePort(),
        good.region(), true, good.accessKeyId(), good.secretAccessKey(), 2, 10_000));
    String ref = ImageStore.refFor(ID, "jpg");

    for (Future<?> call : new Future<?>[] {store.get(ref), store.put(ID, "jpg", Buffer.buffer("b")), store.delete(ref),
        store.ready()}) {
      Throwable failure = failureOf(call);
      assertThat(failure).isInstanceOf(ImageStore.UnavailableException.class).hasMessageContaining("cannot be reached");
      assertThat(ImageStore.isUnavailable(new RuntimeException("wrapped", failure))).isTrue();
    }
  }

  @Test
  void references_that_are_not_the_stores_own_are_refused_before_any_call(Vertx vertx) {
    S3ImageStore store = (S3ImageStore) open(vertx, settings("any", "images/"));

    assertThat(store.key(ImageStore.refFor(ID, "png"))).isEqualTo("images/01/23/" + ID + ".png");
    assertThatThrownBy(() -> store.get("../../other/" + ID + ".png")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.delete("01/23/x.png")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void the_filesystem_store_stays_the_default_type(Vertx vertx, @org.junit.jupiter.api.io.TempDir Path root) {
    ImageStore fs = ImageStores.create(vertx, new AppConfig.Store(root));

    assertThat(fs).isInstanceOf(FileImageStore.class);
  }
}
