package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fuzz corpus end to end: mutated photos and synthetic images (bit flips, overwritten bytes,
 * truncations, spliced tails), seeded and deterministic, uploaded through the API of the running
 * system, whose inference decodes every accepted one. Every answer is an acceptance or a documented
 * 4xx with a JSON error; every accepted job ends; and afterwards a fresh upload still finishes in
 * seconds. The structural mutations of each format's headers run by the thousand, faster, at the
 * validator and decoder themselves (ImageFuzzTest in image-validation).
 */
class MutatedUploadsTest {
  private static final int CASES = 240;
  private static final Set<String> DOCUMENTED = Set.of("unsupported_media_type", "image_too_large", "corrupt_image",
      "missing_file", "bad_request", "payload_too_large");
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new io.aiq.circles.testing.TestEnv(), new JsonObject()
        .put("rate-limit", new JsonObject().put("requests-per-second", 0)));
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  @Test
  void mutated_uploads_are_accepted_or_refused_with_a_documented_4xx_and_the_pipeline_keeps_up() {
    Random random = new Random(20261201);
    List<byte[]> seeds = List.of(TestImages.coinPhoto(), TestImages.otherCoinPhoto(),
        TestImages.discs(120, 80, "png", 1), TestImages.discs(64, 64, "bmp", 2), TestImages.discs(90, 60, "jpg", 3));
    Map<String, Integer> outcomes = new TreeMap<>();
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      byte[] seed = seeds.get(i % seeds.size());
      byte[] mutated = TestImages.mutate(seed, random);
      HttpResponse<Buffer> r = sys.api.uploadRaw(mutated, "image/jpeg");
      String outcome;
      if (r.statusCode() == 202 || r.statusCode() == 409) {
        outcome = String.valueOf(r.statusCode());
        if (r.statusCode() == 202) {
          accepted.add(r.bodyAsJsonObject().getString("jobId"));
        }
      } else {
        assertThat(r.statusCode()).as("case %d: %s", i, r.bodyAsString()).isBetween(400, 499);
        String code = r.bodyAsJsonObject().getJsonObject("error").getString("code");
        assertThat(code).as("case %d", i).isIn(DOCUMENTED);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).doesNotContain("Exception");
        outcome = r.statusCode() + " " + code;
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    System.out.println("mutated uploads: " + outcomes);
    assertThat(accepted).as("some mutations leave a decodable image").isNotEmpty();
    assertThat(outcomes.keySet()).as("and some are refused").anyMatch(k -> k.startsWith("4"));

    for (String job : accepted) {
      JsonObject done = sys.api.awaitJob(job, Duration.ofSeconds(60));
      assertThat(done.getString("status")).isIn("succeeded", "failed");
      if (done.getString("status").equals("failed")) {
        assertThat(done.getJsonObject("error").getString("code")).isEqualTo("corrupt_image");
      }
    }
    long start = System.nanoTime();
    String fresh = RunningApp.acceptedJob(sys.api.upload(TestImages.discs(321, 123, "png", 77), "f.png", "image/png"));
    assertThat(sys.api.awaitJob(fresh, Duration.ofSeconds(10)).getString("status")).isEqualTo("succeeded");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void mutated_files_in_batches_each_get_their_own_documented_answer_and_the_batch_follows_its_status_rule() {
    Random random = new Random(20261202);
    List<byte[]> seeds = List.of(TestImages.coinPhoto(), TestImages.discs(110, 70, "png", 4),
        TestImages.discs(60, 60, "bmp", 5), TestImages.discs(80, 50, "jpg", 6));
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      int files = 2 + random.nextInt(3);
      io.vertx.ext.web.multipart.MultipartForm form = io.vertx.ext.web.multipart.MultipartForm.create();
      for (int f = 0; f < files; f++) {
        form.binaryFileUpload("file", "m" + f + ".jpg", Buffer.buffer(TestImages.mutate(seeds.get(random.nextInt(seeds.size())),
            random)), "image/jpeg");
      }

      HttpResponse<Buffer> r = sys.api.uploadForm(form);

      io.vertx.core.json.JsonArray items = r.bodyAsJsonObject().getJsonArray("items");
      assertThat(items).as("batch %d: %s", i, r.bodyAsString()).hasSize(files);
      int firstNotAccepted = -1;
      boolean anyAccepted = false;
      for (int f = 0; f < files; f++) {
        JsonObject item = items.getJsonObject(f);
        assertThat(item.getInteger("index")).isEqualTo(f);
        int status = item.getInteger("status");
        if (status == 202) {
          anyAccepted = true;
          accepted.add(item.getString("jobId"));
        } else {
          assertThat(status).as("batch %d item %d: %s", i, f, item).isBetween(400, 499);
          String code = item.getJsonObject("error").getString("code");
          assertThat(code).as("batch %d item %d", i, f).isIn(Set.of("unsupported_media_type", "image_too_large",
              "corrupt_image", "duplicate_image"));
          assertThat(item.getJsonObject("error").getString("message")).doesNotContain("Exception");
          if (firstNotAccepted < 0) {
            firstNotAccepted = status;
          }
        }
      }
      assertThat(r.statusCode()).as("batch %d", i).isEqualTo(anyAccepted ? 202 : firstNotAccepted);
    }
    for (String job : accepted) {
      assertThat(sys.api.awaitJob(job, Duration.ofSeconds(60)).getString("status")).isIn("succeeded", "failed");
    }
  }

}
