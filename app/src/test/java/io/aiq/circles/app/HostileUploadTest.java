package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Uploads built to deceive: executables and scripts dressed as images, polyglot files, and client
 * file names that try to reach outside the store. The service judges a file by its bytes alone,
 * stores it under its content hash, and never serves an upload's bytes back.
 */
class HostileUploadTest {
  private static final String BOUNDARY = "aiq-hostile-boundary";
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), null);
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void an_executable_sent_as_image_jpeg_is_refused_with_415_and_stores_nothing() {
    byte[] elf = new byte[4096];
    System.arraycopy(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1}, 0, elf, 0, 7);
    long files = sys.storedFiles();

    assertError(sys.api.upload(elf, "photo.jpg", "image/jpeg"), 415, "unsupported_media_type");
    assertThat(sys.storedFiles()).isEqualTo(files);
  }

  @Test
  void a_script_behind_a_jpeg_signature_is_refused_with_422() {
    byte[] script = "<script>alert(document.cookie)</script>".repeat(50).getBytes(StandardCharsets.US_ASCII);
    byte[] fake = new byte[4 + script.length];
    System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0}, 0, fake, 0, 4);
    System.arraycopy(script, 0, fake, 4, script.length);
    long files = sys.storedFiles();

    assertError(sys.api.upload(fake, "x.jpg", "image/jpeg"), 422, "corrupt_image");
    assertThat(sys.storedFiles()).isEqualTo(files);
  }

  @Test
  void a_jpeg_with_a_zip_appended_is_processed_as_the_jpeg_it_is_and_its_bytes_are_never_served() throws Exception {
    ByteArrayOutputStream polyglot = new ByteArrayOutputStream();
    polyglot.write(TestImages.coinPhoto());
    try (ZipOutputStream zip = new ZipOutputStream(polyglot)) {
      zip.putNextEntry(new ZipEntry("payload.html"));
      zip.write("<html><script>alert(1)</script></html>".getBytes(StandardCharsets.US_ASCII));
      zip.closeEntry();
    }

    HttpResponse<Buffer> accepted = sys.api.upload(polyglot.toByteArray(), "p.jpg", "image/jpeg");

    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    String imageId = accepted.bodyAsJsonObject().getString("imageId");
    assertThat(sys.api.awaitJob(accepted.bodyAsJsonObject().getString("jobId"), Duration.ofSeconds(60))
        .getString("status")).isEqualTo("succeeded");
    HttpResponse<Buffer> image = sys.api.get("/images/" + imageId);
    assertThat(image.getHeader("Content-Type")).startsWith("application/json");
    assertThat(image.bodyAsJsonObject().getString("format")).isEqualTo("jpeg");
  }

  @Test
  void client_file_names_never_name_a_stored_file() throws Exception {
    List<byte[]> names = List.of(
        "../../../../tmp/aiq-escape.png".getBytes(StandardCharsets.UTF_8),
        "..\\..\\windows\\evil.png".getBytes(StandardCharsets.UTF_8),
        "nul\0byte.png".getBytes(StandardCharsets.ISO_8859_1),
        new byte[] {(byte) 0xFF, (byte) 0xFE, (byte) 0xC3, 0x28, '.', 'p', 'n', 'g'},
        ("a".repeat(5000) + ".png").getBytes(StandardCharsets.US_ASCII));
    int seed = 40;
    for (byte[] name : names) {
      HttpResponse<Buffer> r = sys.api.send(sys.api.web().post("/images")
          .putHeader("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
          .sendBuffer(multipart(name, TestImages.discs(90, 70, "png", seed++))));
      String shown = new String(name, StandardCharsets.ISO_8859_1);
      assertThat(r.statusCode()).as(shown.substring(0, Math.min(20, shown.length())) + ": " + r.bodyAsString())
          .isEqualTo(202);
    }

    assertThat(Files.exists(Path.of("/tmp/aiq-escape.png"))).isFalse();
    try (Stream<Path> stored = Files.walk(sys.env.storeRoot())) {
      assertThat(stored.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
          .hasSizeGreaterThanOrEqualTo(names.size())
          .allMatch(n -> n.matches("[0-9a-f]{64}(\\.[a-z]+)?"), "named by content hash");
    }
  }

  /** A form with one file part whose file name is exactly these bytes. */
  private static Buffer multipart(byte[] fileName, byte[] content) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
        .getBytes(StandardCharsets.US_ASCII));
    body.write(fileName);
    body.write("\"\r\nContent-Type: image/png\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    body.write(content);
    body.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    return Buffer.buffer(body.toByteArray());
  }
}
