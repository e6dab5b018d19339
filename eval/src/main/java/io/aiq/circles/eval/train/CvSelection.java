package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.eval.CocoDataset;
import io.aiq.circles.eval.Evaluation;
import io.aiq.circles.eval.ImagePredictions;
import io.aiq.circles.eval.LocalPredictor;
import io.aiq.circles.eval.Prediction;
import io.aiq.circles.inference.tf.CenterDecoder;
import io.aiq.circles.inference.tf.EdgeRefinement;
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
 *
 * <p>Then, with that suppression, the edge refinement ({@link EdgeRefinement}), whose job is box
 * tightness: each refinement setting is scored as above, and the estimate is nested in it too — fold
 * k is scored with the refinement (and then the threshold) best in F1@0.9 on the other folds pooled,
 * so neither the refinement nor the threshold that score a fold were chosen on it. The shipped
 * model gets the refinement best on all folds pooled ({@code none} unless one beats it).
 */
public final class CvSelection {
  /** Boxes below this are not kept from the fold models: the threshold grid starts above it. */
  static final double FLOOR = 0.01;

  /** The suppression settings tried unless others are named. */
  public static final List<String> DEFAULT_SETTINGS = List.of("none", "iou:0.3", "iou:0.5", "iou:0.7", "smaller:0.6",
      "smaller:0.8");

  /**
   * The edge refinements tried unless others are named: outline bands of 8–16 % of the radius, the
   * fitted ellipse grown by 0–3 % (annotators draw the box at the outline's outside, the steepest
   * step lies in its middle).
   */
  public static final List<String> DEFAULT_REFINEMENTS = List.of("none", "edges:0.08", "edges:0.08:0.01",
      "edges:0.08:0.02", "edges:0.08:0.03", "edges:0.12", "edges:0.12:0.01", "edges:0.12:0.02", "edges:0.12:0.03",
      "edges:0.16:0.01", "edges:0.16:0.02");

  private CvSelection() {
  }

  /**
   * One fold model's boxes on its held-out images, and their true boxes, image by image; with the
   * images' brightness where edge refinement is to be tried (null where it is not).
   */
  record FoldPredictions(int fold, List<List<Prediction>> predictions, List<List<BoundingBox>> truth,
                         List<EdgeRefinement.Luminance> images) {
    FoldPredictions(int fold, List<List<Prediction>> predictions, List<List<BoundingBox>> truth) {
      this(fold, predictions, truth, null);
    }
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
      List<EdgeRefinement.Luminance> images = new ArrayList<>();
      TfDetector detector = new TfDetector(model, threads, FLOOR, OverlapSuppression.NONE, EdgeRefinement.NONE);
      try (LocalPredictor predictor = new LocalPredictor(detector)) {
        for (CocoDataset.Image image : held.images()) {
          ImagePredictions p = predictor.predict(held.pathOf(image));
          if (p.error() != null) {
            throw new IOException(image.fileName() + ": " + p.error());
          }
          predictions.add(p.predictions());
          truth.add(image.truth());
          // decoded as the served path decodes it, for the refinements to read
          images.add(EdgeRefinement.Luminance.of(detector.decode(Files.readAllBytes(held.pathOf(image)))));
        }
      }
      System.out.printf(Locale.ROOT, "fold %d: %d held-out images scored by %s%n", k, held.images().size(), model);
      out.add(new FoldPredictions(k, predictions, truth, images));
    }
    return out;
  }

  /** Every suppression setting's cross-validated figures, and the chosen one (no refinement tried). */
  static JsonObject select(List<FoldPredictions> folds, List<OverlapSuppression> settings) {
    return select(folds, settings, List.of(EdgeRefinement.NONE));
  }

  /** Every setting's cross-validated figures, and the chosen suppression, refinement and threshold. */
  static JsonObject select(List<FoldPredictions> folds, List<OverlapSuppression> settings,
                           List<EdgeRefinement> refinements) {
    JsonArray results = new JsonArray();
    JsonObject chosen = null;
    for (OverlapSuppression setting : settings) {
      List<FoldPredictions> suppressed = folds.stream().map(f -> suppress(f, setting)).toList();
      JsonObject summary = nestedThreshold(suppressed).put("suppressOverlaps", setting.toString())
          .put("refineEdges", EdgeRefinement.NONE.toString());
      results.add(summary);
      if (chosen == null || better(summary, chosen)) {
        chosen = summary;
      }
    }
    OverlapSuppression suppression = OverlapSuppression.parse(chosen.getString("suppressOverlaps"));
    JsonObject estimate = chosen;
    String refineEdges = EdgeRefinement.NONE.toString();
    JsonArray refined = new JsonArray();
    if (refinements.stream().anyMatch(EdgeRefinement::enabled)) {
      List<EdgeRefinement> tried = new ArrayList<>(List.of(EdgeRefinement.NONE));
      refinements.stream().filter(r -> r.enabled() && !tried.contains(r)).forEach(tried::add);
      List<List<FoldPredictions>> byRefinement = new ArrayList<>();
      for (EdgeRefinement r : tried) {
        List<FoldPredictions> foldsRefined = folds.stream().map(f -> refine(suppress(f, suppression), r)).toList();
        byRefinement.add(foldsRefined);
        refined.add(nestedThreshold(foldsRefined).put("suppressOverlaps", suppression.toString())
            .put("refineEdges", r.toString()));
      }
      // the estimate: fold k refined as the other folds pooled would choose, at their threshold
      List<JsonObject> perFold = new ArrayList<>();
      for (int k = 0; k < folds.size(); k++) {
        int pick = bestRefinement(byRefinement, folds.get(k).fold());
        FoldPredictions f = byRefinement.get(pick).get(k);
        double threshold = Evaluation.bestThreshold(pooledCounts(byRefinement.get(pick), f.fold())).score();
        perFold.add(CrossValidation.figuresAt(f.predictions(), f.truth(), threshold).put("fold", f.fold())
            .put("refineEdges", tried.get(pick).toString()));
      }
      int shipped = bestRefinement(byRefinement, -1);
      refineEdges = tried.get(shipped).toString();
      estimate = CrossValidation.summary(perFold, Evaluation.bestThreshold(pooledCounts(byRefinement.get(shipped), -1)))
          .put("suppressOverlaps", suppression.toString()).put("refineEdges", refineEdges);
    }
    return new JsonObject().put("settings", results).put("refinements", refined).put("chosen", new JsonObject()
        .put("suppressOverlaps", chosen.getString("suppressOverlaps"))
        .put("refineEdges", refineEdges)
        .put("scoreThreshold", estimate.getJsonObject("pooledThreshold").getDouble("score"))
        .put("estimate", estimate.getJsonObject("metrics"))
        .put("perFold", estimate.getJsonArray("perFold"))
        .put("folds", folds.size())
        .put("images", folds.stream().mapToInt(f -> f.predictions().size()).sum())
        .put("how", "each fold scored at the threshold best on the other folds' held-out images; the suppression "
            + "with the best mean F1@0.5, then F1@0.9, over " + settings.size() + " settings"
            + (refined.isEmpty() ? "" : "; then, of " + refined.size() + " edge refinements, each fold refined as "
            + "best in F1@0.9 on the other folds pooled")
            + "; the threshold (and refinement) for a model trained on every image are the ones best on all "
            + "held-out images pooled"));
  }

  /** Each fold scored at the threshold best on the other folds pooled; the threshold best on all of them. */
  private static JsonObject nestedThreshold(List<FoldPredictions> folds) {
    List<JsonObject> perFold = new ArrayList<>();
    for (FoldPredictions f : folds) {
      double threshold = Evaluation.bestThreshold(pooledCounts(folds, f.fold())).score();
      perFold.add(CrossValidation.figuresAt(f.predictions(), f.truth(), threshold).put("fold", f.fold()));
    }
    return CrossValidation.summary(perFold, Evaluation.bestThreshold(pooledCounts(folds, -1)));
  }

  /**
   * The refinement whose F1@0.9, on all folds but {@code except} pooled at their best threshold, is
   * highest; the first (none) unless another beats it.
   */
  private static int bestRefinement(List<List<FoldPredictions>> byRefinement, int except) {
    int best = 0;
    double bestF1 = -1;
    for (int r = 0; r < byRefinement.size(); r++) {
      Pool pool = pool(byRefinement.get(r), except);
      double threshold = Evaluation.bestThreshold(pool.counts()).score();
      double f1 = CrossValidation.figuresAt(pool.predictions(), pool.truth(), threshold).getDouble("f1@0.9");
      if (f1 > bestF1 + 1e-9) {
        best = r;
        bestF1 = f1;
      }
    }
    return best;
  }

  static FoldPredictions refine(FoldPredictions f, EdgeRefinement refinement) {
    if (!refinement.enabled()) {
      return f;
    }
    if (f.images() == null) {
      throw new IllegalArgumentException("fold " + f.fold() + " has no images to refine boxes on");
    }
    List<List<Prediction>> out = new ArrayList<>();
    for (int i = 0; i < f.predictions().size(); i++) {
      EdgeRefinement.Luminance image = f.images().get(i);
      out.add(f.predictions().get(i).stream()
          .map(p -> new Prediction(refinement.refine(image, p.box(), image.width(), image.height()), p.score())).toList());
    }
    return new FoldPredictions(f.fold(), out, f.truth(), f.images());
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

  /** The held-out images of some folds together. */
  private record Pool(List<List<Prediction>> predictions, List<List<BoundingBox>> truth) {
    Evaluation.Counts[] counts() {
      return Evaluation.countsByScoreThreshold(predictions, truth);
    }
  }

  /** All folds but {@code except} (−1: all of them) pooled. */
  private static Pool pool(List<FoldPredictions> folds, int except) {
    List<List<Prediction>> predictions = new ArrayList<>();
    List<List<BoundingBox>> truth = new ArrayList<>();
    for (FoldPredictions f : folds) {
      if (f.fold() != except) {
        predictions.addAll(f.predictions());
        truth.addAll(f.truth());
      }
    }
    return new Pool(predictions, truth);
  }

  /** Counts at every score threshold over all folds but {@code except} (−1: all of them). */
  private static Evaluation.Counts[] pooledCounts(List<FoldPredictions> folds, int except) {
    return pool(folds, except).counts();
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
    return new FoldPredictions(f.fold(), out, f.truth(), f.images());
  }

  /** The settings side by side: mean ± sd of the main metrics, the chosen one marked. */
  static String table(JsonObject selection) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-16s %15s %15s %15s %15s %15s  %s%n", "suppress",
        "F1@0.5", "F1@0.9", "Jaccard", "AP50:95", "threshold", "pooled"));
    String chosen = selection.getJsonObject("chosen").getString("suppressOverlaps");
    for (Object o : selection.getJsonArray("settings")) {
      JsonObject s = (JsonObject) o;
      row(b, s.getString("suppressOverlaps"), s, s.getString("suppressOverlaps").equals(chosen) ? "  <- chosen" : "");
    }
    JsonArray refinements = selection.getJsonArray("refinements", new JsonArray());
    if (!refinements.isEmpty()) {
      String refine = selection.getJsonObject("chosen").getString("refineEdges");
      b.append(String.format(Locale.ROOT, "%nsuppress %s, then %-16s%n", chosen, "refine"));
      for (Object o : refinements) {
        JsonObject s = (JsonObject) o;
        row(b, s.getString("refineEdges"), s, s.getString("refineEdges").equals(refine) ? "  <- shipped" : "");
      }
      JsonObject estimate = new JsonObject().put("metrics", selection.getJsonObject("chosen").getJsonObject("estimate"))
          .put("pooledThreshold", new JsonObject().put("score", selection.getJsonObject("chosen").getDouble("scoreThreshold")));
      row(b, "nested", estimate, "  <- the estimate: each fold refined as the other folds chose");
    }
    return b.toString();
  }

  private static void row(StringBuilder b, String name, JsonObject s, String mark) {
    JsonObject m = s.getJsonObject("metrics");
    b.append(String.format(Locale.ROOT, "%-16s %15s %15s %15s %15s %15s  %.2f%s%n", name,
        cell(m, "f1@0.5"), cell(m, "f1@0.9"), cell(m, "jaccard"), cell(m, "ap50_95"), cell(m, "scoreThreshold"),
        s.getJsonObject("pooledThreshold").getDouble("score"), mark));
  }

  private static String cell(JsonObject metrics, String name) {
    JsonObject m = metrics.getJsonObject(name);
    return m == null ? "–" : String.format(Locale.ROOT, "%.3f ± %.3f", m.getDouble("mean"), m.getDouble("sd"));
  }

  /** Runs the selection for {@code just eval --select-cv} and writes {@code selection.json} into the folder. */
  public static JsonObject run(Path cvDir, CocoDataset data, List<String> settings, List<String> refinements,
                               int threads) throws IOException {
    Path cvJson = cvDir.resolve("cv.json");
    if (!Files.isRegularFile(cvJson)) {
      throw new IOException(cvJson + " is missing: `just train --cv K --out " + cvDir + "` writes it");
    }
    JsonObject cv = new JsonObject(Files.readString(cvJson));
    List<OverlapSuppression> parsed = settings.stream().map(OverlapSuppression::parse).toList();
    List<EdgeRefinement> refine = refinements.stream().map(EdgeRefinement::parse).toList();
    JsonObject selection = select(predict(cvDir, cv, data, threads), parsed, refine).put("cv", cvDir.toString());
    Files.writeString(cvDir.resolve("selection.json"), selection.encodePrettily());
    System.out.print(table(selection));
    JsonObject c = selection.getJsonObject("chosen");
    System.out.printf(Locale.ROOT, "chosen: suppress %s, refine %s, score threshold %.2f (best on all %d held-out images "
        + "pooled)%n", c.getString("suppressOverlaps"), c.getString("refineEdges"), c.getDouble("scoreThreshold"),
        c.getInteger("images"));
    System.out.println("wrote " + cvDir.resolve("selection.json").toAbsolutePath());
    return selection;
  }
}
