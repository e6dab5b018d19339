package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The same bytes uploaded by many clients at once make one image and one job. */
class ConcurrentDuplicateUploadTest {

  @Test
  void simultaneous_uploads_of_the_same_image_create_exactly_one_job() throws Exception {
    try (RunningApp sys = RunningApp.start()) {
      byte[] bytes = TestImages.otherCoinPhoto();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Callable<HttpResponse<Buffer>> upload = () -> sys.api.upload(bytes, "same.jpg", "image/jpeg");
        answers.add(pool.submit(upload));
      }
      List<Integer> statuses = new ArrayList<>();
      List<String> jobIds = new ArrayList<>();
      for (Future<HttpResponse<Buffer>> f : answers) {
        HttpResponse<Buffer> r = f.get();
        statuses.add(r.statusCode());
        jobIds.add(r.bodyAsJsonObject().getString("jobId"));
      }
      pool.shutdown();

      assertThat(statuses).containsOnly(202, 409);
      assertThat(statuses.stream().filter(s -> s == 202)).hasSize(1);
      assertThat(jobIds).containsOnly(jobIds.get(0));
      assertThat(sys.count("SELECT count(*) FROM jobs")).isEqualTo(1);
      assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(1);
    }
  }
}
