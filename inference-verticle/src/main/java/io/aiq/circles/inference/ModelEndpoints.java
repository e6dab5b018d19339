package io.aiq.circles.inference;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.images.ImageDecoder;
import io.aiq.circles.images.UploadValidator;
import io.aiq.circles.images.ValidatedImage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KServe-compatible model endpoints of the inference role, so clients of the template's model server
 * (V1 {@code :predict}) and of the Open Inference Protocol (V2) can call the detector directly,
 * synchronously, without the pipeline. Images travel base64-encoded (V1 {@code {"b64": ...}}, V2 a
 * BYTES input); the detector runs on the inference worker threads.
 *
 * <p>Every image goes through the uploads' validator before it is decoded: the same formats, the same
 * {@code upload.max-bytes} and {@code upload.max-pixels}, the same 413/415/422 answers and messages.
 * A request carries at most {@code model-endpoints.max-images-per-request} images and, all together,
 * at most {@code upload.max-pixels} pixels (one upload's worth), else 413. At most
 * {@code model-endpoints.max-waiting-requests} requests are held at once, from before their body is
 * read to their answer; beyond that a request gets 503 with {@code Retry-After} without its body
 * being buffered. Whatever a client sends, a malformed request is a 4xx with the API's JSON error;
 * only a fault of the model is a 500, and no answer carries an exception's text.
 */
public final class ModelEndpoints implements Consumer<Router> {
  private static final Logger LOG = LoggerFactory.getLogger(ModelEndpoints.class);
  static final int RETRY_AFTER_SECONDS = 1;
  private static final String SLOT = "aiq.model-endpoints.slot";

  private final Detector detector;
  private final WorkerExecutor executor;
  private final UploadValidator validator;
  private final long maxBody;
  private final long maxPixelsPerRequest;
  private final int maxImages;
  private final int maxWaiting;
  private final AtomicInteger waiting = new AtomicInteger();

  public ModelEndpoints(Vertx vertx, Detector detector, int threads, AppConfig.Upload upload,
                        AppConfig.ModelEndpoints limits) {
    this.detector = detector;
    this.executor = vertx.createSharedWorkerExecutor("aiq-model-endpoints", Math.max(1, threads));
    this.validator = UploadValidator.of(upload);
    // base64 of one upload's worth of bytes, and room for the JSON around it
    this.maxBody = 4 * ((upload.maxBytes() + 2) / 3) + (1 << 20);
    this.maxPixelsPerRequest = upload.maxPixels();
    this.maxImages = limits.maxImagesPerRequest();
    this.maxWaiting = limits.maxWaitingRequests();
  }

  /**
   * The endpoints behind the process's client guards: {@code rateLimit} on every model route, and
   * {@code requireKey} (the {@code model} scope of {@code api-keys}) before each call of the model.
   */
  public Consumer<Router> guardedBy(Handler<RoutingContext> rateLimit, Handler<RoutingContext> requireKey) {
    return router -> {
      router.route("/v1/*").handler(rateLimit);
      router.route("/v2/models/*").handler(rateLimit);
      router.post("/v1/*").handler(requireKey);
      router.post("/v2/models/*").handler(requireKey);
      accept(router);
    };
  }

  @Override
  public void accept(Router router) {
    router.get("/v2/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> json(ctx, detector.ready() ? 200 : 503,
        new JsonObject().put("ready", detector.ready())));
    router.get("/v2/models/:name").handler(ctx -> withModel(ctx, () -> json(ctx, 200, metadata())));
    router.get("/v2/models/:name/ready").handler(ctx -> withModel(ctx, () -> json(ctx, detector.ready() ? 200 : 503,
        new JsonObject().put("name", detector.modelName()).put("ready", detector.ready()))));
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBody);
    // a route of its own: Vert.x wants a body handler first on its route
    router.post("/v2/models/:name/infer").handler(this::admit);
    router.post("/v1/models/:nameAndVerb").handler(this::admit);
    router.post("/v2/models/:name/infer").handler(body).handler(ctx -> withModel(ctx, () -> inferV2(ctx)));
    router.post("/v1/models/:nameAndVerb").handler(body).handler(this::predictV1);
  }

  /** Requests held now (body arriving, waiting for the model, in it). */
  int waiting() {
    return waiting.get();
  }

  // ---- admission ----------------------------------------------------------------------------------

  /** One request's place among the waiting ones, given back once. */
  private final class Slot {
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile boolean withModel;

    void release() {
      if (released.compareAndSet(false, true)) {
        waiting.decrementAndGet();
      }
    }
  }

  /** Before the body is read: a place among the waiting requests, or 503 at once. */
  private void admit(RoutingContext ctx) {
    if (waiting.incrementAndGet() > maxWaiting) {
      waiting.decrementAndGet();
      HttpServerRequest request = ctx.request();
      if (!request.isEnded()) {
        // read and drop what the client sends, so it reads the answer on a connection still open
        request.handler(ignored -> { }).resume();
      }
      ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
      error(ctx, ErrorCode.UNAVAILABLE, "the model has " + maxWaiting + " requests waiting; retry after "
          + RETRY_AFTER_SECONDS + " s");
      return;
    }
    Slot slot = new Slot();
    ctx.put(SLOT, slot);
    // the answer sent or the connection gone: the place is free, unless the model still has the work,
    // in which case it frees it when done (so a client that hangs up cannot queue more model work)
    ctx.addEndHandler(ignored -> {
      if (!slot.withModel) {
        slot.release();
      }
    });
    ctx.next();
  }

  // ---- routes -------------------------------------------------------------------------------------

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
      JsonObject request = jsonObject(ctx);
      String shape = "{\"instances\": [{\"image\": {\"b64\": \"...\"}}]}";
      if (!(request.getValue("instances") instanceof JsonArray instances) || instances.isEmpty()) {
        throw badRequest("'instances' must be a non-empty array: " + shape);
      }
      checkCount(instances.size());
      for (int i = 0; i < instances.size(); i++) {
        if (!(instances.getValue(i) instanceof JsonObject instance)
            || !(instance.getValue("image") instanceof JsonObject image)
            || !(image.getValue("b64") instanceof String b64)) {
          throw badRequest("instances[" + i + "] must be {\"image\": {\"b64\": \"...\"}}, a base64 string: " + shape);
        }
        images.add(b64);
      }
    } catch (ApiException e) {
      error(ctx, e.code(), e.getMessage());
      return;
    }
    detect(ctx, images).onSuccess(results -> {
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
      JsonObject request = jsonObject(ctx);
      Object rawId = request.getValue("id");
      if (rawId != null && !(rawId instanceof String)) {
        throw badRequest("'id' must be a string");
      }
      id = (String) rawId;
      String shape = "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [n], \"data\": [\"base64...\"]}]}";
      if (!(request.getValue("inputs") instanceof JsonArray inputs) || inputs.size() != 1) {
        throw badRequest("exactly one input is expected: " + shape);
      }
      if (!(inputs.getValue(0) instanceof JsonObject input)) {
        throw badRequest("inputs[0] must be an object: " + shape);
      }
      if (!"BYTES".equals(input.getValue("datatype")) || !(input.getValue("data") instanceof JsonArray data)) {
        throw badRequest("the input must have datatype BYTES and data: [base64 images]: " + shape);
      }
      if (data.isEmpty()) {
        throw badRequest("the input holds no image");
      }
      checkCount(data.size());
      for (int i = 0; i < data.size(); i++) {
        if (!(data.getValue(i) instanceof String b64)) {
          throw badRequest("inputs[0].data[" + i + "] must be a base64 string");
        }
        images.add(b64);
      }
    } catch (ApiException e) {
      error(ctx, e.code(), e.getMessage());
      return;
    }
    detect(ctx, images).onSuccess(results -> {
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

  // ---- request parsing ----------------------------------------------------------------------------

  /** The body as a JSON object; anything else (nothing, null, an array, a number, not JSON) is a 400. */
  private static JsonObject jsonObject(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw badRequest("the body is empty; a JSON object is expected");
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw badRequest("the body is not JSON");
    }
    if (!(value instanceof JsonObject object)) {
      throw badRequest("the body must be a JSON object, not " + (value == null ? "JSON null"
          : value instanceof JsonArray ? "an array" : value instanceof String ? "a string"
          : value instanceof Boolean ? "a boolean" : "a number"));
    }
    return object;
  }

  private void checkCount(int images) {
    if (images > maxImages) {
      throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "the request holds " + images + " images; at most "
          + maxImages + " are accepted per request");
    }
  }

  private static ApiException badRequest(String message) {
    return new ApiException(ErrorCode.BAD_REQUEST, message);
  }

  // ---- the work -----------------------------------------------------------------------------------

  /**
   * On a worker: each image's base64 decoded, validated as an upload is, then decoded and handed to the
   * detector. The request's slot is given back when this is done.
   */
  private Future<List<List<Detection>>> detect(RoutingContext ctx, List<String> base64Images) {
    Slot slot = ctx.get(SLOT);
    if (slot != null) {
      slot.withModel = true;
    }
    return executor.<List<List<Detection>>>executeBlocking(() -> {
      List<byte[]> files = new ArrayList<>(base64Images.size());
      long pixels = 0;
      for (int i = 0; i < base64Images.size(); i++) {
        String which = base64Images.size() == 1 ? "" : "image " + i + ": ";
        byte[] bytes;
        try {
          bytes = Base64.getDecoder().decode(base64Images.get(i).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
          throw new ApiException(ErrorCode.BAD_REQUEST, which + "the image is not valid base64");
        }
        ValidatedImage image;
        try {
          image = validator.validate(bytes);
        } catch (ApiException rejected) {
          throw new ApiException(rejected.code(), which + rejected.getMessage());
        }
        pixels += (long) image.width() * image.height();
        files.add(bytes);
      }
      if (pixels > maxPixelsPerRequest) {
        throw new ApiException(ErrorCode.IMAGE_TOO_LARGE, "the request's " + files.size() + " images have " + pixels
            + " pixels in all; at most " + maxPixelsPerRequest + " are accepted per request");
      }
      List<BufferedImage> decoded = new ArrayList<>(files.size());
      for (int i = 0; i < files.size(); i++) {
        String which = files.size() == 1 ? "" : "image " + i + ": ";
        try {
          decoded.add(detector.decode(files.get(i)));
        } catch (ImageDecoder.CorruptImageException e) {
          throw new ApiException(ErrorCode.CORRUPT_IMAGE, which + e.getMessage());
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
          // a detector's own decoder (TensorFlow's for JPEGs) failing in a way of its own
          LOG.warn("a detector's decoder failed on an image of {} bytes: {}", files.get(i).length, e.toString());
          throw new ApiException(ErrorCode.CORRUPT_IMAGE, which + "the image cannot be decoded");
        }
      }
      return detector.detect(decoded);
    }, false).onComplete(ignored -> {
      if (slot != null) {
        slot.release();
      }
    });
  }

  private static void failure(RoutingContext ctx, Throwable e) {
    if (e instanceof ApiException b) {
      error(ctx, b.code(), b.getMessage());
    } else {
      LOG.warn("the detector failed on a model endpoint request", e);
      error(ctx, ErrorCode.INTERNAL, "the detector failed");
    }
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  private static void error(RoutingContext ctx, ErrorCode code, String message) {
    json(ctx, code.status(), code.body(message));
  }

  public void close() {
    executor.close();
  }
}
