package io.aiq.circles.eval.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.config.ConfigException;
import io.aiq.circles.eval.CocoDataset;
import io.aiq.circles.eval.Geometry;
import io.aiq.circles.inference.tf.CenterDecoder;
import io.aiq.circles.inference.tf.Letterbox;
import io.aiq.circles.inference.tf.TfDetector;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The training code cannot rot: a few steps on a handful of images train, validate and export a
 * SavedModel, and the inference role's detector loads it and answers exactly what the training
 * session's inference path answers.
 */
class TrainAndServeTest {
  private static final Path COINS_DEV = Path.of("datasets/coins-dev");

  @Test
  void a_short_training_exports_a_model_the_detector_serves_identically(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("model");
    int exit = new CommandLine(new TrainCommand()).execute("--dataset", COINS_DEV.toString(), "--out", model.toString(),
        "--limit", "6", "--folds", "3", "--steps", "4", "--batch", "2", "--threads", "2");
    assertThat(exit).isZero();
    JsonObject card = new JsonObject(Files.readString(model.resolve("model.json")));
    assertThat(card.getJsonObject("validation").getInteger("images")).isEqualTo(2);
    assertThat(card.getJsonObject("training").getInteger("images")).isEqualTo(4);
    assertThat(card.getJsonObject("input").getInteger("size")).isEqualTo(CenterNet.INPUT);

    CocoDataset data = CocoDataset.load(COINS_DEV, Set.of());
    Sample sample = TrainCommand.load(data, data.images().get(1));
    List<CenterDecoder.Candidate> inSession;
    try (Trainer trainer = new Trainer(7, 2)) {
      // a fresh session with the same seed holds the same initial weights as an untrained export
      inSession = trainer.predict(List.of(Augmenter.plain(sample, CenterNet.INPUT).pixels()), 0.05).get(0);
      Path untrained = dir.resolve("untrained");
      trainer.export(untrained);
      Files.writeString(untrained.resolve("model.json"), card.encode());
      try (TfDetector detector = new TfDetector(untrained, 2, 0.05)) {
        List<Detection> served = detector.detect(List.of(sample.image())).get(0);
        Letterbox lb = Letterbox.of(sample.image().getWidth(), sample.image().getHeight(), CenterNet.INPUT);
        List<BoundingBox> expected = inSession.stream().map(c -> lb.toSource(c.x0(), c.y0(), c.x1(), c.y1()))
            .filter(b -> b.width() >= 1 && b.height() >= 1).toList();
        assertThat(served).hasSize(expected.size());
        for (int i = 0; i < served.size(); i++) {
          assertThat(served.get(i).bbox().xmin()).isCloseTo(expected.get(i).xmin(), within(1e-3));
          assertThat(served.get(i).bbox().ymax()).isCloseTo(expected.get(i).ymax(), within(1e-3));
        }
        assertThat(detector.modelName()).isEqualTo("circles-centernet");
      }
    }
    try (TfDetector detector = new TfDetector(model, 2, null)) {
      assertThat(detector.scoreThreshold()).isEqualTo(card.getDouble("scoreThreshold"));
      assertThat(detector.detect(List.of(sample.image(), sample.image()))).hasSize(2);
    }
  }

  @Test
  void cross_validation_trains_one_model_per_fold_and_reports_each_metric_as_mean_and_spread(@TempDir Path dir)
      throws Exception {
    Path out = dir.resolve("cv");
    int exit = new CommandLine(new TrainCommand()).execute("--dataset", COINS_DEV.toString(), "--out", out.toString(),
        "--limit", "6", "--cv", "3", "--steps", "3", "--batch", "2", "--threads", "2");

    assertThat(exit).isZero();
    for (int k = 0; k < 3; k++) {
      JsonObject card = new JsonObject(Files.readString(out.resolve("fold-" + k).resolve("model.json")));
      assertThat(card.getJsonObject("training").getInteger("heldOutFold")).isEqualTo(k);
      assertThat(card.getJsonObject("training").getInteger("folds")).isEqualTo(3);
      assertThat(card.getJsonObject("validation").getInteger("images")).isEqualTo(2);
      assertThat(card.getJsonObject("training").getInteger("images")).isEqualTo(4);
    }
    JsonObject cv = new JsonObject(Files.readString(out.resolve("cv.json")));
    assertThat(cv.getJsonArray("perFold")).hasSize(3);
    JsonObject f1 = cv.getJsonObject("metrics").getJsonObject("f1@0.5");
    double[] perFold = cv.getJsonArray("perFold").stream().mapToDouble(f -> ((JsonObject) f).getDouble("f1@0.5")).toArray();
    assertThat(f1.getDouble("mean")).isCloseTo(CrossValidation.mean(perFold), within(1e-9));
    assertThat(f1.getDouble("sd")).isCloseTo(CrossValidation.sd(perFold), within(1e-9));
    assertThat(cv.getJsonObject("metrics").fieldNames()).contains("f1@0.9", "jaccard", "ap50", "scoreThreshold");
    assertThat(cv.getJsonObject("pooledThreshold").getDouble("score")).isBetween(0.0, 1.0);

    String folds = CrossValidation.sideBySide(List.of("cv"), List.of(cv));
    assertThat(folds).contains("fold 0", "fold 2", "f1@0.5", "±");
    String recipes = CrossValidation.sideBySide(List.of("a", "b"), List.of(cv, cv));
    assertThat(recipes.lines().filter(l -> l.startsWith("f1@0.9")).findFirst().orElseThrow())
        .contains(String.format(java.util.Locale.ROOT, "%.3f", cv.getJsonObject("metrics").getJsonObject("f1@0.9").getDouble("mean")));
  }

  @Test
  void the_model_trained_on_every_image_serves_the_post_processing_its_cross_validation_chose(@TempDir Path dir)
      throws Exception {
    Path cv = dir.resolve("cv");
    assertThat(new CommandLine(new TrainCommand()).execute("--dataset", COINS_DEV.toString(), "--out", cv.toString(),
        "--limit", "6", "--cv", "3", "--steps", "3", "--batch", "2", "--threads", "2")).isZero();
    JsonObject split = new JsonObject(Files.readString(cv.resolve("cv.json")));
    assertThat(split.getJsonArray("heldOut").getJsonArray(1).getList()).hasSize(2);

    JsonObject selection = CvSelection.run(cv, CocoDataset.load(COINS_DEV, Set.of()), List.of("none", "iou:0.5"),
        List.of("none", "edges:0.1:0.02"), 2);

    assertThat(new JsonObject(Files.readString(cv.resolve("selection.json")))).isEqualTo(selection);
    JsonObject chosen = selection.getJsonObject("chosen");
    assertThat(chosen.getString("suppressOverlaps")).isIn("none", "iou:0.5");
    assertThat(chosen.getInteger("images")).isEqualTo(6);
    assertThat(selection.getJsonArray("settings").getJsonObject(0).getJsonArray("perFold")).hasSize(3);
    assertThat(chosen.getString("refineEdges")).isIn("none", "edges:0.1:0.02");
    assertThat(selection.getJsonArray("refinements")).hasSize(2);

    Path shipped = dir.resolve("shipped");
    assertThat(new CommandLine(new TrainCommand()).execute("--dataset", COINS_DEV.toString(), "--out", shipped.toString(),
        "--limit", "6", "--all", "--steps", "3", "--batch", "2", "--threads", "2")).as("--all needs --selection").isEqualTo(2);
    assertThat(new CommandLine(new TrainCommand()).execute("--dataset", COINS_DEV.toString(), "--out", shipped.toString(),
        "--limit", "6", "--all", "--selection", cv.resolve("selection.json").toString(), "--steps", "3", "--batch", "2",
        "--threads", "2")).isZero();

    JsonObject card = new JsonObject(Files.readString(shipped.resolve("model.json")));
    assertThat(card.getJsonObject("training").getInteger("images")).isEqualTo(6);
    assertThat(card.containsKey("validation")).as("no held-out figures of its own").isFalse();
    assertThat(card.getDouble("scoreThreshold")).isEqualTo(chosen.getDouble("scoreThreshold"));
    assertThat(card.getJsonObject("crossValidation").getJsonObject("estimate")).isEqualTo(chosen.getJsonObject("estimate"));
    try (TfDetector detector = new TfDetector(shipped, 2, null)) {
      assertThat(detector.scoreThreshold()).isEqualTo(chosen.getDouble("scoreThreshold"));
      assertThat(detector.overlapSuppression()).hasToString(chosen.getString("suppressOverlaps"));
      assertThat(detector.edgeRefinement()).hasToString(chosen.getString("refineEdges"));
    }
    Files.writeString(shipped.resolve("model.json"), card.copy().put("refineEdges", "edges:0.9").encode());
    assertThatThrownBy(() -> new TfDetector(shipped, 2, null)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("refineEdges");
    Files.writeString(shipped.resolve("model.json"), card.copy().put("suppressOverlaps", "iou:2").encode());
    assertThatThrownBy(() -> new TfDetector(shipped, 2, null)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("suppressOverlaps");
  }

  @Test
  void the_spread_over_folds_is_the_sample_standard_deviation() {
    assertThat(CrossValidation.mean(new double[] {0.9, 1.0, 0.8})).isCloseTo(0.9, within(1e-12));
    assertThat(CrossValidation.sd(new double[] {0.9, 1.0, 0.8})).isCloseTo(0.1, within(1e-12));
    assertThat(CrossValidation.sd(new double[] {0.7})).isZero();
  }

  @Test
  void validation_and_export_see_the_averaged_weights_not_the_last_step() throws Exception {
    CocoDataset data = CocoDataset.load(COINS_DEV, Set.of());
    Sample sample = TrainCommand.load(data, data.images().get(1));
    Augmenter augmenter = new Augmenter(new Random(1), CenterNet.INPUT, List.of(sample));
    List<Augmenter.View> batch = List.of(augmenter.augment(sample), augmenter.augment(sample));
    List<float[]> input = List.of(Augmenter.plain(sample, CenterNet.INPUT).pixels());
    try (Trainer trainer = new Trainer(7, 2)) {
      trainer.step(batch, 0.002f);
      trainer.updateAverages(1, 0f); // decay 0: the averages become these weights
      List<CenterDecoder.Candidate> averaged = trainer.predict(input, 0.01).get(0);
      trainer.step(batch, 0.02f);
      assertThat(trainer.predict(input, 0.01).get(0)).as("a step moves the weights").isNotEqualTo(averaged);

      trainer.useAverages();

      assertThat(trainer.predict(input, 0.01).get(0)).isEqualTo(averaged);
    }
  }

  @Test
  void a_missing_model_is_a_clear_configuration_error() {
    io.aiq.circles.config.AppConfig config = io.aiq.circles.config.AppConfig.from(
        defaults().put("detector", "tensorflow").put("model", new JsonObject().put("path", "/nonexistent/model")
            .put("threads", 1).put("score-threshold", "")));
    assertThatThrownBy(() -> io.aiq.circles.inference.Detectors.create(config)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("/nonexistent/model").hasMessageContaining("just train");
  }

  @Test
  void augmented_views_keep_their_coins_inside_the_input() {
    Random random = new Random(3);
    Augmenter augmenter = new Augmenter(random, CenterNet.INPUT);
    BoundingBox coin = new BoundingBox(40, 30, 80, 70);
    Sample sample = new Sample("s", new BufferedImage(200, 100, BufferedImage.TYPE_3BYTE_BGR),
        List.of(coin));
    int cut = 0;
    int seen = 0;
    for (int i = 0; i < 50; i++) {
      Augmenter.View view = augmenter.augment(sample);
      seen += view.coins().size();
      assertThat(view.pixels()).hasSize(CenterNet.INPUT * CenterNet.INPUT * 3);
      for (BoundingBox b : view.coins()) {
        assertThat(b.xmin()).isBetween(0.0, (double) CenterNet.INPUT);
        assertThat(b.ymax()).isBetween(0.0, (double) CenterNet.INPUT);
        assertThat(b.width()).isGreaterThanOrEqualTo(2.0);
        // the crop keeps the aspect ratio: a coin it does not cut stays square
        if (b.width() > 1.2 * b.height() || b.height() > 1.2 * b.width()) {
          cut++;
        }
      }
    }
    assertThat(seen).as("most views keep the coin").isGreaterThan(25);
    assertThat(cut).as("only coins cut by the crop lose their shape").isLessThan(seen / 2);
  }

  @Test
  void augmented_views_keep_each_coin_box_on_the_coin_pixels_through_crops_turns_flips_and_pastes() {
    Sample sample = redCoinSample();
    Augmenter augmenter = new Augmenter(new Random(11), CenterNet.INPUT, List.of(sample));
    int views = 0;
    int aligned = 0;
    int pasted = 0;
    for (int i = 0; i < 200; i++) {
      Augmenter.View view = augmenter.augment(sample);
      if (view.coins().isEmpty()) {
        continue;
      }
      views++;
      pasted += view.coins().size() > 1 ? 1 : 0;
      BoundingBox red = redPixels(view.pixels());
      BoundingBox boxes = new BoundingBox(view.coins().stream().mapToDouble(BoundingBox::xmin).min().orElseThrow(),
          view.coins().stream().mapToDouble(BoundingBox::ymin).min().orElseThrow(),
          view.coins().stream().mapToDouble(BoundingBox::xmax).max().orElseThrow(),
          view.coins().stream().mapToDouble(BoundingBox::ymax).max().orElseThrow());
      if (red != null && Geometry.iou(red, boxes) >= 0.85) {
        aligned++;
      }
    }
    assertThat(pasted).as("some views get pasted coins").isGreaterThan(20);
    // the rest: a coin dropped because its centre left the crop still shows its red edge
    assertThat(aligned).as("boxes on the red pixels, of %d views", views).isGreaterThan(views * 9 / 10);
  }

  @Test
  void pasted_coins_cover_no_other_coin() {
    Sample sample = redCoinSample();
    Augmenter augmenter = new Augmenter(new Random(5), CenterNet.INPUT, List.of(sample));
    for (int i = 0; i < 200; i++) {
      List<BoundingBox> coins = augmenter.augment(sample).coins();
      for (int a = 0; a < coins.size(); a++) {
        for (int b = a + 1; b < coins.size(); b++) {
          assertThat(Geometry.iou(coins.get(a), coins.get(b))).isZero();
        }
      }
    }
  }

  @Test
  void with_overlap_pastes_a_coin_lies_over_another_and_leaves_both_centres_uncovered() {
    Sample sample = redCoinSample();
    Augmenter augmenter = new Augmenter(new Random(5), CenterNet.INPUT, List.of(sample), 1.0);
    int overlapping = 0;
    for (int i = 0; i < 200; i++) {
      List<BoundingBox> coins = augmenter.augment(sample).coins();
      for (int a = 0; a < coins.size(); a++) {
        for (int b = a + 1; b < coins.size(); b++) {
          BoundingBox p = coins.get(a);
          BoundingBox q = coins.get(b);
          if (Geometry.iou(p, q) > 0) {
            overlapping++;
            double d = Math.hypot((p.xmin() + p.xmax()) / 2 - (q.xmin() + q.xmax()) / 2,
                (p.ymin() + p.ymax()) / 2 - (q.ymin() + q.ymax()) / 2);
            assertThat(d).as("centres apart by more than either radius").isGreaterThan(
                Math.max(Math.max(p.width(), p.height()), Math.max(q.width(), q.height())) / 2);
          }
        }
      }
    }
    assertThat(overlapping).as("overlapping pairs in 200 views").isGreaterThan(20);
  }

  /** A grey photo with one red coin. */
  private static Sample redCoinSample() {
    BufferedImage img = new BufferedImage(200, 100, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(110, 110, 110));
    g.fillRect(0, 0, 200, 100);
    g.setColor(Color.RED);
    g.fillOval(40, 30, 40, 40);
    g.dispose();
    return new Sample("red", img, List.of(new BoundingBox(40, 30, 80, 70)));
  }

  /** The box around the view's red pixels, or null. */
  private static BoundingBox redPixels(float[] rgb) {
    int n = CenterNet.INPUT;
    int x0 = n;
    int y0 = n;
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        int p = 3 * (y * n + x);
        if (rgb[p] - Math.max(rgb[p + 1], rgb[p + 2]) > 0.3f) {
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
      }
    }
    return x1 < 0 ? null : new BoundingBox(x0, y0, x1 + 1, y1 + 1);
  }

  private static JsonObject defaults() {
    try {
      io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
      try {
        return io.aiq.circles.config.ConfigLoader.load(vertx, new JsonObject())
            .await(10, java.util.concurrent.TimeUnit.SECONDS).raw();
      } finally {
        vertx.close();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
