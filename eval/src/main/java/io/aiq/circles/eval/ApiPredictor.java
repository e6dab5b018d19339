package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end path a client takes: upload through {@code POST /images}, follow the job until it is
 * finished, read {@code /images/{id}/objects}. Latency is the whole round trip.
 */
public final class ApiPredictor implements Predictor {
  private final URI base;
  private final boolean reprocess;
  private final Duration timeout;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private volatile JsonObject model = new JsonObject().put("name", "unknown").put("version", "unknown");

  public ApiPredictor(URI base, boolean reprocess, Duration timeout) {
    this.base = base;
    this.reprocess = reprocess;
    this.timeout = timeout;
  }

  @Override
  public ImagePredictions predict(Path file) {
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> upload = client.send(HttpRequest.newBuilder(base.resolve("/images" + (reprocess ? "?reprocess=true" : "")))
          .header("Content-Type", contentType(file)).header("Prefer", "wait=" + Math.min(30, timeout.toSeconds()))
          .timeout(timeout).POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
      if (upload.statusCode() != 200 && upload.statusCode() != 202 && upload.statusCode() != 409) {
        return ImagePredictions.failed(LocalPredictor.millisSince(t0), "upload answered " + upload.statusCode() + ": " + upload.body());
      }
      JsonObject job = new JsonObject(upload.body());
      String jobId = job.getString("jobId");
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!terminal(job) && System.nanoTime() < deadline) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(base.resolve("/jobs/" + jobId)).header("Prefer", "wait=10")
            .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          return ImagePredictions.failed(LocalPredictor.millisSince(t0), "job query answered " + r.statusCode());
        }
        job = new JsonObject(r.body());
      }
      if (!terminal(job)) {
        return ImagePredictions.failed(LocalPredictor.millisSince(t0), "job " + jobId + " not finished after " + timeout);
      }
      if ("failed".equals(job.getString("status"))) {
        JsonObject error = job.getJsonObject("error", new JsonObject());
        return ImagePredictions.failed(LocalPredictor.millisSince(t0), "job failed: " + error.getString("code") + " "
            + error.getString("message"));
      }
      if (job.getJsonObject("model") != null) {
        model = job.getJsonObject("model");
      }
      HttpResponse<String> objects = client.send(HttpRequest.newBuilder(base.resolve("/images/" + job.getString("imageId") + "/objects"))
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
      List<Prediction> predictions = new ArrayList<>();
      for (Object o : new JsonObject(objects.body()).getJsonArray("objects", new JsonArray())) {
        JsonObject obj = (JsonObject) o;
        predictions.add(new Prediction(BoundingBox.fromJson(obj.getJsonArray("bbox")), obj.getDouble("score", 1.0)));
      }
      return new ImagePredictions(predictions, LocalPredictor.millisSince(t0), null);
    } catch (IOException | RuntimeException e) {
      return ImagePredictions.failed(LocalPredictor.millisSince(t0), "request failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ImagePredictions.failed(LocalPredictor.millisSince(t0), "interrupted");
    }
  }

  private static boolean terminal(JsonObject job) {
    String s = job.getString("status");
    return "succeeded".equals(s) || "failed".equals(s);
  }

  static String contentType(Path file) throws IOException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".png")) {
      return "image/png";
    }
    if (name.endsWith(".webp")) {
      return "image/webp";
    }
    if (name.endsWith(".bmp")) {
      return "image/bmp";
    }
    String probed = Files.probeContentType(file);
    return probed != null && probed.startsWith("image/") ? probed : "image/jpeg";
  }

  @Override
  public JsonObject model() {
    return model;
  }
}
