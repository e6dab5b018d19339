package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class FileImageStoreTest {
  private static final String ID = "0123456789abcdef".repeat(4);

  @Test
  void blobs_are_stored_under_their_hash_and_read_back(Vertx vertx, @TempDir Path root) throws Exception {
    FileImageStore store = new FileImageStore(vertx, root);

    String ref = store.put(ID, "jpg", Buffer.buffer("bytes")).await(10, TimeUnit.SECONDS);

    assertThat(ref).isEqualTo("01/23/" + ID + ".jpg");
    assertThat(store.get(ref).await(10, TimeUnit.SECONDS).toString()).isEqualTo("bytes");
  }

  @Test
  void storing_the_same_content_twice_is_harmless_and_leaves_no_temporary_file(Vertx vertx, @TempDir Path root)
      throws Exception {
    FileImageStore store = new FileImageStore(vertx, root);
    store.put(ID, "png", Buffer.buffer("x")).await(10, TimeUnit.SECONDS);
    store.put(ID, "png", Buffer.buffer("x")).await(10, TimeUnit.SECONDS);

    try (Stream<Path> files = Files.walk(root)) {
      assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
          .containsExactly(ID + ".png");
    }
  }

  @Test
  void a_deleted_blob_is_gone_and_deleting_it_again_succeeds(Vertx vertx, @TempDir Path root) throws Exception {
    FileImageStore store = new FileImageStore(vertx, root);
    String ref = store.put(ID, "jpg", Buffer.buffer("bytes")).await(10, TimeUnit.SECONDS);

    store.delete(ref).await(10, TimeUnit.SECONDS);
    store.delete(ref).await(10, TimeUnit.SECONDS);

    assertThat(root.resolve(ref)).doesNotExist();
    assertThatThrownBy(() -> store.get(ref).await(10, TimeUnit.SECONDS)).isNotNull();
    assertThatThrownBy(() -> store.delete("../outside")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void a_blob_that_is_not_there_fails_as_missing_not_as_an_outage(Vertx vertx, @TempDir Path root) throws Exception {
    FileImageStore store = new FileImageStore(vertx, root);

    Throwable failure = store.get(ImageStore.refFor(ID, "png"))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);

    assertThat(failure).isInstanceOf(ImageStore.MissingBlobException.class).hasMessageContaining(ID);
    assertThat(ImageStore.isUnavailable(failure)).isFalse();
  }

  @Test
  void references_that_leave_the_store_or_are_not_hashes_are_refused(Vertx vertx, @TempDir Path root) {
    FileImageStore store = new FileImageStore(vertx, root);
    assertThatThrownBy(() -> store.resolve("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.resolve("/etc/passwd")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ImageStore.refFor("../x", "jpg")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ImageStore.refFor(ID, "j/pg")).isInstanceOf(IllegalArgumentException.class);
  }
}
