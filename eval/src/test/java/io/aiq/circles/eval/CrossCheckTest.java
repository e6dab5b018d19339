package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Our figures agree to 4 decimals with an independent implementation of the same protocol
 * ({@code eval/crosscheck/coco_eval_check.py}, numpy + scipy, written apart from this code), on
 * coins-dev with predictions of every kind: good, shifted, duplicated, spurious, tied scores.
 */
class CrossCheckTest {
  private static final Path DATASET = Path.of("datasets/coins-dev");
  private static final Path SCRIPT = Path.of("crosscheck/coco_eval_check.py");

  @Test
  void java_and_the_python_reference_agree_on_every_figure(@TempDir Path dir) throws Exception {
    assumeTrue(pythonWithScipy(), "python3 with numpy and scipy is needed for the cross-check");
    Path predictions = dir.resolve("predictions.json");
    Files.writeString(predictions, syntheticPredictions(CocoDataset.load(DATASET, Set.of()), 7).encodePrettily());
    Path out = dir.resolve("report");

    int exit = new CommandLine(new EvalCommand()).execute("--dataset", DATASET.toString(), "--mode", "file",
        "--predictions", predictions.toString(), "--out", out.toString(), "--no-images", "--no-progress");
    assertThat(exit).isZero();

    Process check = new ProcessBuilder("python3", SCRIPT.toString(), "--dataset", DATASET.toString(),
        "--predictions", predictions.toString(), "--report", out.resolve("report.json").toString())
        .redirectErrorStream(true).start();
    String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.waitFor()).as(output).isZero();
    assertThat(output).contains("crosscheck: 140 figures agree, 0 differ");
  }

  /** Ground truth shifted and resized a little, some missed, some duplicated, plus spurious boxes. */
  static JsonArray syntheticPredictions(CocoDataset dataset, long seed) {
    Random r = new Random(seed);
    JsonArray out = new JsonArray();
    for (CocoDataset.Image image : dataset.images()) {
      for (BoundingBox b : image.truth()) {
        if (r.nextDouble() < 0.1) {
          continue;
        }
        double dx = (r.nextDouble() - 0.5) * b.width() * 0.4;
        double dy = (r.nextDouble() - 0.5) * b.height() * 0.4;
        double grow = 1 + (r.nextDouble() - 0.5) * 0.4;
        BoundingBox shifted = new BoundingBox(b.xmin() + dx, b.ymin() + dy, b.xmin() + dx + b.width() * grow,
            b.ymin() + dy + b.height() * grow);
        double score = Math.round(r.nextDouble() * 20) / 20.0;
        out.add(entry(image, shifted, score));
        if (r.nextDouble() < 0.1) {
          out.add(entry(image, b, score));
        }
      }
      int spurious = r.nextInt(3);
      for (int k = 0; k < spurious; k++) {
        double x = r.nextDouble() * Math.max(1, image.width() - 40);
        double y = r.nextDouble() * Math.max(1, image.height() - 40);
        out.add(entry(image, new BoundingBox(x, y, x + 10 + r.nextDouble() * 40, y + 10 + r.nextDouble() * 40),
            Math.round(r.nextDouble() * 10) / 10.0));
      }
    }
    return out;
  }

  private static JsonObject entry(CocoDataset.Image image, BoundingBox b, double score) {
    return new JsonObject().put("file_name", image.fileName()).put("bbox", b.toJson()).put("score", score);
  }

  private static boolean pythonWithScipy() {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import numpy, scipy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
