package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.eval.CocoDataset;
import io.aiq.circles.eval.Evaluation;
import io.aiq.circles.eval.ImagePredictions;
import io.aiq.circles.eval.LocalPredictor;
import io.aiq.circles.eval.Prediction;
import io.aiq.circles.inference.tf.CenterDecoder;
import io.aiq.circles.inference.tf.OverlapSuppression;
import io.aiq.circles.inference.tf.TfDetector;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code just eval --select-cv DIR}: chooses the served post-processing (overlap suppression and
 * score threshold) of a recipe from its cross-validation's fold models, and estimates what the
 * choice gives on photos no fold saw.
 *
 * <p>Each fold's model scores its own held-out images through the served path (the inference
 * role's decoder and detector on the original files), keeping every box scored ≥ 0.01. For each
 * suppression setting, fold k is then scored at the threshold that is best (F1 at IoU 0.5) on the
 * other folds' held-out images pooled: no fold's figures come from a threshold chosen on that fold.
 * The estimate is the mean ± sd of those figures over the folds. The setting with the best mean
 * F1@0.5 (then F1@0.9) is chosen; the model trained on every photo gets it with the threshold best
 * on all folds pooled.
 */
public final class CvSelection {
  /** Boxes below this are not kept from the fold models: the threshold grid starts above it. */
  static final double FLOOR = 0.01;

  /** The suppression settings tried unless others are named. */
  public static final List<String> DEFAULT_SETTINGS = List.of("none", "iou:0.3", "iou:0.5", "iou:0.7", "smaller:0.6",
      "smaller:0.8");

  private CvSelection() {
  }

  /** One fold model's boxes on its held-out images, and their true boxes, image by image. */
  record FoldPredictions(int fold, List<List<Prediction>> predictions, List<List<BoundingBox>> truth) {
  }

  /**
   * Runs every fold model of {@code cvDir} (fold-0 ... fold-(K−1)) on its held-out images, as
   * {@code cv.json} names them ({@code heldOut}), or as the dataset's order splits it if it does not.
   */
  static List<FoldPredictions> predict(Path cvDir, JsonObject cv, CocoDataset data, int threads) throws IOException {
    int folds = cv.getInteger("folds");
    JsonArray named = cv.getJsonArray("heldOut");
    List<FoldPredictions> out = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      Path model = cvDir.resolve("fold-" + k);
      CocoDataset held;
      if (named == null) {
        held = data.fold(k, folds);
      } else {
        java.util.Set<String> files = new java.util.HashSet<>(named.getJsonArray(k).getList());
        held = new CocoDataset(data.folder(), data.images().stream().filter(i -> files.contains(i.fileName())).toList(),
            data.categories());
        if (held.images().size() != files.size()) {
          throw new IOException("fold " + k + " held out " + files.size() + " images, " + held.images().size()
              + " of them are in " + data.folder());
        }
      }
      List<List<Prediction>> predictions = new ArrayList<>();
      List<List<BoundingBox>> truth = new ArrayList<>();
      try (LocalPredictor predictor = new LocalPredictor(new TfDetector(model, threads, FLOOR, OverlapSuppression.NONE))) {
        for (CocoDataset.Image image : held.images()) {
          ImagePredictions p = predictor.predict(held.pathOf(image));
          if (p.error() != null) {
            throw new IOException(image.fileName() + ": " + p.error());
          }
          predictions.add(p.predictions());
          truth.add(image.truth());
        }
      }
      System.out.printf(Locale.ROOT, "fold %d: %d held-out images scored by %s%n", k, held.images().size(), model);
      out.add(new FoldPredictions(k, predictions, truth));
    }
    return out;
  }

  /** Every setting's cross-validated figures, and the chosen one. */
  static JsonObject select(List<FoldPredictions> folds, List<OverlapSuppression> settings) {
    JsonArray results = new JsonArray();
    JsonObject chosen = null;
    for (OverlapSuppression setting : settings) {
      List<FoldPredictions> suppressed = folds.stream().map(f -> suppress(f, setting)).toList();
      List<JsonObject> perFold = new ArrayList<>();
      for (FoldPredictions f : suppressed) {
        double threshold = Evaluation.bestThreshold(pooledCounts(suppressed, f.fold())).score();
        perFold.add(CrossValidation.figuresAt(f.predictions(), f.truth(), threshold).put("fold", f.fold()));
      }
      Evaluation.BestThreshold pooled = Evaluation.bestThreshold(pooledCounts(suppressed, -1));
      JsonObject summary = CrossValidation.summary(perFold, pooled).put("suppressOverlaps", setting.toString());
      results.add(summary);
      if (chosen == null || better(summary, chosen)) {
        chosen = summary;
      }
    }
    return new JsonObject().put("settings", results).put("chosen", new JsonObject()
        .put("suppressOverlaps", chosen.getString("suppressOverlaps"))
        .put("scoreThreshold", chosen.getJsonObject("pooledThreshold").getDouble("score"))
        .put("estimate", chosen.getJsonObject("metrics"))
        .put("folds", folds.size())
        .put("images", folds.stream().mapToInt(f -> f.predictions().size()).sum())
        .put("how", "each fold scored at the threshold best on the other folds' held-out images; the setting with "
            + "the best mean F1@0.5, then F1@0.9, over " + settings.size() + " settings; the threshold for a model "
            + "trained on every image is the one best on all held-out images pooled"));
  }

  private static boolean better(JsonObject a, JsonObject b) {
    double f1a = mean(a, "f1@0.5");
    double f1b = mean(b, "f1@0.5");
    if (Math.abs(f1a - f1b) > 1e-9) {
      return f1a > f1b;
    }
    return mean(a, "f1@0.9") > mean(b, "f1@0.9") + 1e-9;
  }

  private static double mean(JsonObject summary, String metric) {
    return summary.getJsonObject("metrics").getJsonObject(metric).getDouble("mean");
  }

  /** Counts at every score threshold over all folds but {@code except} (−1: all of them). */
  private static Evaluation.Counts[] pooledCounts(List<FoldPredictions> folds, int except) {
    List<List<Prediction>> predictions = new ArrayList<>();
    List<List<BoundingBox>> truth = new ArrayList<>();
    for (FoldPredictions f : folds) {
      if (f.fold() != except) {
        predictions.addAll(f.predictions());
        truth.addAll(f.truth());
      }
    }
    return Evaluation.countsByScoreThreshold(predictions, truth);
  }

  static FoldPredictions suppress(FoldPredictions f, OverlapSuppression setting) {
    List<List<Prediction>> out = new ArrayList<>();
    for (List<Prediction> image : f.predictions()) {
      List<CenterDecoder.Candidate> boxes = image.stream()
          .map(p -> new CenterDecoder.Candidate(p.box().xmin(), p.box().ymin(), p.box().xmax(), p.box().ymax(), p.score()))
          .toList();
      out.add(setting.apply(boxes).stream()
          .map(c -> new Prediction(new BoundingBox(c.x0(), c.y0(), c.x1(), c.y1()), c.score())).toList());
    }
    return new FoldPredictions(f.fold(), out, f.truth());
  }

  /** The settings side by side: mean ± sd of the main metrics, the chosen one marked. */
  static String table(JsonObject selection) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-13s %15s %15s %15s %15s %15s  %s%n", "suppress",
        "F1@0.5", "F1@0.9", "Jaccard", "AP50:95", "threshold", "pooled"));
    String chosen = selection.getJsonObject("chosen").getString("suppressOverlaps");
    for (Object o : selection.getJsonArray("settings")) {
      JsonObject s = (JsonObject) o;
      JsonObject m = s.getJsonObject("metrics");
      b.append(String.format(Locale.ROOT, "%-13s %15s %15s %15s %15s %15s  %.2f%s%n", s.getString("suppressOverlaps"),
          cell(m, "f1@0.5"), cell(m, "f1@0.9"), cell(m, "jaccard"), cell(m, "ap50_95"), cell(m, "scoreThreshold"),
          s.getJsonObject("pooledThreshold").getDouble("score"), s.getString("suppressOverlaps").equals(chosen) ? "  <- chosen" : ""));
    }
    return b.toString();
  }

  private static String cell(JsonObject metrics, String name) {
    JsonObject m = metrics.getJsonObject(name);
    return m == null ? "–" : String.format(Locale.ROOT, "%.3f ± %.3f", m.getDouble("mean"), m.getDouble("sd"));
  }

  /** Runs the selection for {@code just eval --select-cv} and writes {@code selection.json} into the folder. */
  public static JsonObject run(Path cvDir, CocoDataset data, List<String> settings, int threads) throws IOException {
    Path cvJson = cvDir.resolve("cv.json");
    if (!Files.isRegularFile(cvJson)) {
      throw new IOException(cvJson + " is missing: `just train --cv K --out " + cvDir + "` writes it");
    }
    JsonObject cv = new JsonObject(Files.readString(cvJson));
    List<OverlapSuppression> parsed = settings.stream().map(OverlapSuppression::parse).toList();
    JsonObject selection = select(predict(cvDir, cv, data, threads), parsed).put("cv", cvDir.toString());
    Files.writeString(cvDir.resolve("selection.json"), selection.encodePrettily());
    System.out.print(table(selection));
    JsonObject c = selection.getJsonObject("chosen");
    System.out.printf(Locale.ROOT, "chosen: suppress %s, score threshold %.2f (best on all %d held-out images pooled)%n",
        c.getString("suppressOverlaps"), c.getDouble("scoreThreshold"), c.getInteger("images"));
    System.out.println("wrote " + cvDir.resolve("selection.json").toAbsolutePath());
    return selection;
  }
}
