package io.aiq.circles.inference;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.images.ImageDecoder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;

/**
 * KServe-compatible model endpoints of the inference role, so clients of the template's model server
 * (V1 {@code :predict}) and of the Open Inference Protocol (V2) can call the detector directly,
 * synchronously, without the pipeline. Images travel base64-encoded (V1 {@code {"b64": ...}}, V2 a
 * BYTES input); the detector runs on the inference worker threads.
 */
public final class ModelEndpoints implements Consumer<Router> {
  /** JSON bodies past this size are refused with 413: base64 of the 20 MiB upload limit, and some. */
  static final long MAX_BODY = 28L * 1024 * 1024;

  private final Vertx vertx;
  private final Detector detector;
  private final WorkerExecutor executor;

  public ModelEndpoints(Vertx vertx, Detector detector, int threads) {
    this.vertx = vertx;
    this.detector = detector;
    this.executor = vertx.createSharedWorkerExecutor("aiq-model-endpoints", Math.max(1, threads));
  }

  @Override
  public void accept(Router router) {
    router.get("/v2/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> json(ctx, detector.ready() ? 200 : 503,
        new JsonObject().put("ready", detector.ready())));
    router.get("/v2/models/:name").handler(ctx -> withModel(ctx, () -> json(ctx, 200, metadata())));
    router.get("/v2/models/:name/ready").handler(ctx -> withModel(ctx, () -> json(ctx, detector.ready() ? 200 : 503,
        new JsonObject().put("name", detector.modelName()).put("ready", detector.ready()))));
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY);
    router.post("/v2/models/:name/infer").handler(body).handler(ctx -> withModel(ctx, () -> inferV2(ctx)));
    router.post("/v1/models/:nameAndVerb").handler(body).handler(this::predictV1);
  }

  private void withModel(RoutingContext ctx, Runnable action) {
    if (!detector.modelName().equals(ctx.pathParam("name"))) {
      error(ctx, ErrorCode.NOT_FOUND, "no model named '" + ctx.pathParam("name") + "' (this server has "
          + detector.modelName() + ")");
      return;
    }
    action.run();
  }

  private JsonObject metadata() {
    return new JsonObject().put("name", detector.modelName()).put("versions", new JsonArray().add(detector.modelVersion()))
        .put("platform", "tensorflow_savedmodel")
        .put("inputs", new JsonArray().add(new JsonObject().put("name", "image").put("datatype", "BYTES")
            .put("shape", new JsonArray().add(-1))))
        .put("outputs", new JsonArray()
            .add(tensor("boxes", "FP32", -1, 4)).add(tensor("scores", "FP32", -1)).add(tensor("centroids", "FP32", -1, 2))
            .add(tensor("radii", "FP32", -1)).add(tensor("count", "INT32", 1)));
  }

  private static JsonObject tensor(String name, String type, int... shape) {
    JsonArray s = new JsonArray();
    for (int d : shape) {
      s.add(d);
    }
    return new JsonObject().put("name", name).put("datatype", type).put("shape", s);
  }

  /** V1, as the template's model server answered: one entry per detection, with its instance. */
  private void predictV1(RoutingContext ctx) {
    String nameAndVerb = ctx.pathParam("nameAndVerb");
    if (!nameAndVerb.endsWith(":predict")) {
      error(ctx, ErrorCode.NOT_FOUND, "only :predict is served");
      return;
    }
    String name = nameAndVerb.substring(0, nameAndVerb.length() - ":predict".length());
    if (!detector.modelName().equals(name)) {
      error(ctx, ErrorCode.NOT_FOUND, "no model named '" + name + "' (this server has " + detector.modelName() + ")");
      return;
    }
    List<String> images = new ArrayList<>();
    try {
      JsonArray instances = ctx.body().asJsonObject().getJsonArray("instances");
      if (instances == null || instances.isEmpty()) {
        throw new IllegalArgumentException("'instances' must be a non-empty array");
      }
      for (Object o : instances) {
        JsonObject image = ((JsonObject) o).getJsonObject("image");
        if (image == null || image.getString("b64") == null) {
          throw new IllegalArgumentException("each instance must be {\"image\": {\"b64\": \"...\"}}");
        }
        images.add(image.getString("b64"));
      }
    } catch (DecodeException | ClassCastException | IllegalArgumentException e) {
      error(ctx, ErrorCode.BAD_REQUEST, e instanceof DecodeException ? "the body is not JSON" : e.getMessage());
      return;
    }
    detect(images).onSuccess(results -> {
      JsonArray predictions = new JsonArray();
      for (int i = 0; i < results.size(); i++) {
        for (Detection d : results.get(i)) {
          predictions.add(new JsonObject().put("instance", i)
              .put("bounding_box", new JsonObject().put("x_min", d.bbox().xmin()).put("y_min", d.bbox().ymin())
                  .put("x_max", d.bbox().xmax()).put("y_max", d.bbox().ymax()))
              .put("centroid", new JsonObject().put("x", d.centroidX()).put("y", d.centroidY()))
              .put("radius", d.radius()).put("label", "coin").put("score", d.score()));
        }
      }
      json(ctx, 200, new JsonObject().put("predictions", predictions));
    }).onFailure(e -> failure(ctx, e));
  }

  /** V2 (Open Inference Protocol): one BYTES input of base64 images, outputs per image. */
  private void inferV2(RoutingContext ctx) {
    List<String> images = new ArrayList<>();
    String id;
    try {
      JsonObject request = ctx.body().asJsonObject();
      id = request.getString("id");
      JsonArray inputs = request.getJsonArray("inputs");
      if (inputs == null || inputs.size() != 1) {
        throw new IllegalArgumentException("exactly one input is expected: {name: image, datatype: BYTES, data: [base64...]}");
      }
      JsonObject input = inputs.getJsonObject(0);
      if (!"BYTES".equals(input.getString("datatype")) || input.getJsonArray("data") == null) {
        throw new IllegalArgumentException("the input must have datatype BYTES and data: [base64 images]");
      }
      for (Object o : input.getJsonArray("data")) {
        images.add((String) o);
      }
      if (images.isEmpty()) {
        throw new IllegalArgumentException("the input holds no image");
      }
    } catch (DecodeException | ClassCastException | IllegalArgumentException e) {
      error(ctx, ErrorCode.BAD_REQUEST, e instanceof DecodeException ? "the body is not JSON" : e.getMessage());
      return;
    }
    detect(images).onSuccess(results -> {
      JsonArray outputs = new JsonArray();
      for (int i = 0; i < results.size(); i++) {
        List<Detection> dets = results.get(i);
        JsonArray boxes = new JsonArray();
        JsonArray scores = new JsonArray();
        JsonArray centroids = new JsonArray();
        JsonArray radii = new JsonArray();
        for (Detection d : dets) {
          boxes.add(d.bbox().xmin()).add(d.bbox().ymin()).add(d.bbox().xmax()).add(d.bbox().ymax());
          scores.add(d.score());
          centroids.add(d.centroidX()).add(d.centroidY());
          radii.add(d.radius());
        }
        String suffix = results.size() == 1 ? "" : "_" + i;
        outputs.add(output("boxes" + suffix, "FP32", boxes, dets.size(), 4))
            .add(output("scores" + suffix, "FP32", scores, dets.size()))
            .add(output("centroids" + suffix, "FP32", centroids, dets.size(), 2))
            .add(output("radii" + suffix, "FP32", radii, dets.size()))
            .add(output("count" + suffix, "INT32", new JsonArray().add(dets.size()), 1));
      }
      JsonObject response = new JsonObject().put("model_name", detector.modelName())
          .put("model_version", detector.modelVersion()).put("outputs", outputs);
      if (id != null) {
        response.put("id", id);
      }
      json(ctx, 200, response);
    }).onFailure(e -> failure(ctx, e));
  }

  private static JsonObject output(String name, String type, JsonArray data, int... shape) {
    return tensor(name, type, shape).put("data", data);
  }

  private Future<List<List<Detection>>> detect(List<String> base64Images) {
    return executor.executeBlocking(() -> {
      List<BufferedImage> decoded = new ArrayList<>(base64Images.size());
      for (String b64 : base64Images) {
        byte[] bytes;
        try {
          bytes = Base64.getDecoder().decode(b64.replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
          throw new ApiException(ErrorCode.BAD_REQUEST, "an image is not valid base64");
        }
        try {
          decoded.add(detector.decode(bytes));
        } catch (ImageDecoder.CorruptImageException e) {
          throw new ApiException(ErrorCode.CORRUPT_IMAGE, e.getMessage());
        }
      }
      return detector.detect(decoded);
    }, false);
  }

  private static void failure(RoutingContext ctx, Throwable e) {
    if (e instanceof ApiException b) {
      error(ctx, b.code(), b.getMessage());
    } else {
      error(ctx, ErrorCode.INTERNAL, "the detector failed: " + e.getMessage());
    }
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  private static void error(RoutingContext ctx, ErrorCode code, String message) {
    json(ctx, code.status(), code.body(message));
  }

  public void close() {
    executor.close();
  }
}
