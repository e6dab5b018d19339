package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.app.RunningApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The detector in this process and the detector behind the API (upload, job, objects) give the same
 * figures for the same model on the same images.
 */
class ModesAgreeTest {
  private static final Path COINS_DEV = Path.of("datasets/coins-dev");

  /** The shipped model, seen from this module's folder (where Maven runs its tests). */
  static final Path SHIPPED_MODEL = Path.of("../models/circles");

  @Test
  void local_and_api_modes_report_identical_figures_with_the_dummy_detector(@TempDir Path dir) throws Exception {
    JsonObject[] reports = bothModes(dir, "dummy");
    assertThat(reports[0].getInteger("predictions")).isEqualTo(12);
  }

  @Test
  void local_and_api_modes_report_identical_figures_with_the_shipped_model(@TempDir Path dir) throws Exception {
    JsonObject[] reports = bothModes(dir, "tensorflow");
    assertThat(reports[1].getJsonObject("model").getString("name")).isEqualTo("circles-centernet");
    assertThat(reports[0].getJsonObject("thresholds").getJsonObject("0.5").getDouble("f1"))
        .as("a trained model finds most coins").isGreaterThan(0.5);
  }

  private static JsonObject[] bothModes(Path dir, String detector) throws Exception {
    Path dataset = smallDataset(dir.resolve("data"), 4);
    Path local = dir.resolve("local");
    Path api = dir.resolve("api");
    JsonObject model = new JsonObject().put("path", SHIPPED_MODEL.toString());

    assertThat(run("--dataset", dataset.toString(), "--mode", "local", "--detector", detector, "--model", SHIPPED_MODEL.toString(),
        "--out", local.toString())).isZero();
    try (RunningApp sys = new RunningApp(new io.aiq.circles.testing.TestEnv(),
        new JsonObject().put("detector", detector).put("model", model))) {
      assertThat(run("--dataset", dataset.toString(), "--mode", "api", "--url", "http://127.0.0.1:" + sys.app.httpPort(),
          "--out", api.toString())).isZero();
    }

    JsonObject a = new JsonObject(Files.readString(local.resolve("report.json")));
    JsonObject b = new JsonObject(Files.readString(api.resolve("report.json")));
    assertThat(b.getInteger("failedImages")).isZero();
    assertThat(b.getString("mode")).isEqualTo("api");
    assertThat(b.getJsonObject("model")).isEqualTo(a.getJsonObject("model"));
    for (String key : List.of("thresholds", "jaccard", "ap", "bestThreshold", "prCurve", "predictions")) {
      assertSameFigures(key, a.getValue(key), b.getValue(key));
    }
    assertThat(Files.readString(api.resolve("per_image.csv")).lines()).hasSize(5);
    assertThat(Files.list(api.resolve("annotated")).count()).isEqualTo(4);
    assertThat(Files.readString(api.resolve("index.html"))).contains("plots/pr_curve.png", "annotated/");
    return new JsonObject[] {a, b};
  }

  /**
   * Equal counts and equal figures, up to float rounding: the service runs images in micro-batches,
   * local mode one at a time, and TensorFlow's oneDNN kernels round a batch of one and a batch of
   * several differently in the last digits.
   */
  private static void assertSameFigures(String path, Object expected, Object actual) {
    if (expected instanceof JsonObject e && actual instanceof JsonObject a) {
      assertThat(a.fieldNames()).as(path).isEqualTo(e.fieldNames());
      e.fieldNames().forEach(k -> assertSameFigures(path + "." + k, e.getValue(k), a.getValue(k)));
    } else if (expected instanceof io.vertx.core.json.JsonArray e && actual instanceof io.vertx.core.json.JsonArray a) {
      assertThat(a.size()).as(path).isEqualTo(e.size());
      for (int i = 0; i < e.size(); i++) {
        assertSameFigures(path + "[" + i + "]", e.getValue(i), a.getValue(i));
      }
    } else if (expected instanceof Double || expected instanceof Float) {
      assertThat(((Number) actual).doubleValue()).as(path).isCloseTo(((Number) expected).doubleValue(),
          org.assertj.core.api.Assertions.within(1e-5));
    } else {
      assertThat(actual).as(path).isEqualTo(expected);
    }
  }

  private static int run(String... args) {
    return new CommandLine(new EvalCommand()).execute(java.util.stream.Stream.concat(java.util.Arrays.stream(args),
        java.util.stream.Stream.of("--no-progress")).toArray(String[]::new));
  }

  /** The first {@code n} images of coins-dev with their annotations, as a COCO folder of its own. */
  static Path smallDataset(Path folder, int n) throws Exception {
    Files.createDirectories(folder);
    JsonObject coco = new JsonObject(Files.readString(COINS_DEV.resolve(CocoDataset.ANNOTATIONS)));
    JsonArray images = new JsonArray(coco.getJsonArray("images").getList().subList(0, n));
    Set<Integer> ids = new java.util.HashSet<>();
    for (int i = 0; i < images.size(); i++) {
      JsonObject img = images.getJsonObject(i);
      ids.add(img.getInteger("id"));
      Files.copy(COINS_DEV.resolve(img.getString("file_name")), folder.resolve(img.getString("file_name")));
    }
    JsonArray annotations = new JsonArray();
    coco.getJsonArray("annotations").forEach(a -> {
      if (ids.contains(((JsonObject) a).getInteger("image_id"))) {
        annotations.add(a);
      }
    });
    coco.put("images", images).put("annotations", annotations);
    Files.writeString(folder.resolve(CocoDataset.ANNOTATIONS), coco.encode());
    return folder;
  }
}
