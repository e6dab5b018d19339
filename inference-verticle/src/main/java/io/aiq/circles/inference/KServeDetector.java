package io.aiq.circles.inference;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A detector behind a remote KServe endpoint ({@code detector: kserve}), the template's world: each
 * image goes, PNG-encoded (lossless), to {@code POST /v1/models/{name}:predict} or, with protocol
 * v2, to the Open Inference Protocol's {@code /v2/models/{name}/infer}. Called on worker threads.
 */
public final class KServeDetector implements Detector {
  private final URI base;
  private final String model;
  private final String protocol;
  private final Duration timeout;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private volatile String version = "remote";

  public KServeDetector(URI base, String model, String protocol, Duration timeout) {
    this.base = base;
    this.model = model;
    this.protocol = protocol;
    this.timeout = timeout;
  }

  @Override
  public String modelName() {
    return model;
  }

  @Override
  public String modelVersion() {
    return version;
  }

  /** Ready when the remote server says the model is. */
  @Override
  public boolean ready() {
    try {
      HttpResponse<Void> r = client.send(HttpRequest.newBuilder(base.resolve("v2".equals(protocol)
          ? "/v2/models/" + model + "/ready" : "/v1/models/" + model)).timeout(Duration.ofSeconds(3)).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
    List<String> encoded = new ArrayList<>(images.size());
    for (BufferedImage img : images) {
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(img, "png", png);
      encoded.add(Base64.getEncoder().encodeToString(png.toByteArray()));
    }
    return "v2".equals(protocol) ? v2(encoded) : v1(encoded);
  }

  private List<List<Detection>> v1(List<String> images) throws IOException, InterruptedException {
    JsonArray instances = new JsonArray();
    images.forEach(b64 -> instances.add(new JsonObject().put("image", new JsonObject().put("b64", b64))));
    JsonObject answer = post("/v1/models/" + model + ":predict", new JsonObject().put("instances", instances));
    List<List<Detection>> out = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      out.add(new ArrayList<>());
    }
    for (Object o : answer.getJsonArray("predictions", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      JsonObject b = p.getJsonObject("bounding_box");
      out.get(p.getInteger("instance", 0)).add(new Detection(new BoundingBox(b.getDouble("x_min"), b.getDouble("y_min"),
          b.getDouble("x_max"), b.getDouble("y_max")), p.getDouble("score")));
    }
    return out;
  }

  private List<List<Detection>> v2(List<String> images) throws IOException, InterruptedException {
    JsonArray data = new JsonArray();
    images.forEach(data::add);
    JsonObject answer = post("/v2/models/" + model + "/infer", new JsonObject().put("inputs", new JsonArray().add(
        new JsonObject().put("name", "image").put("datatype", "BYTES").put("shape", new JsonArray().add(images.size()))
            .put("data", data))));
    version = answer.getString("model_version", version);
    List<List<Detection>> out = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      String suffix = images.size() == 1 ? "" : "_" + i;
      JsonArray boxes = output(answer, "boxes" + suffix);
      JsonArray scores = output(answer, "scores" + suffix);
      List<Detection> dets = new ArrayList<>();
      for (int k = 0; k < scores.size(); k++) {
        dets.add(new Detection(new BoundingBox(boxes.getDouble(4 * k), boxes.getDouble(4 * k + 1), boxes.getDouble(4 * k + 2),
            boxes.getDouble(4 * k + 3)), scores.getDouble(k)));
      }
      out.add(dets);
    }
    return out;
  }

  private static JsonArray output(JsonObject answer, String name) {
    for (Object o : answer.getJsonArray("outputs", new JsonArray())) {
      if (name.equals(((JsonObject) o).getString("name"))) {
        return ((JsonObject) o).getJsonArray("data");
      }
    }
    throw new IllegalStateException("the KServe answer has no output '" + name + "'");
  }

  private JsonObject post(String path, JsonObject body) throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("KServe " + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return new JsonObject(r.body());
  }
}
