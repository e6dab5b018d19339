package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Every figure of one evaluation run, and the per-image rows behind them. */
public final class Report {

  /** One image's outcome, as {@code per_image.csv} lists it. */
  public record ImageRow(CocoDataset.Image image, Evaluation.Assignment assignment, double jaccard,
                         Evaluation.Counts at50, long latencyMillis, String error) {
  }

  private final JsonObject json;
  private final List<ImageRow> rows;
  private final double[] f1ByScore;
  private final List<Double> truePositiveScores;
  private final List<Double> falsePositiveScores;

  private Report(JsonObject json, List<ImageRow> rows, double[] f1ByScore, List<Double> tpScores, List<Double> fpScores) {
    this.json = json;
    this.rows = rows;
    this.f1ByScore = f1ByScore;
    this.truePositiveScores = tpScores;
    this.falsePositiveScores = fpScores;
  }

  /**
   * @param results per image of the dataset, in its order
   * @param scoreThreshold predictions below it are dropped (the best-threshold sweep sees them all)
   */
  public static Report of(CocoDataset dataset, List<ImagePredictions> results, double scoreThreshold,
                          JsonObject run) {
    List<Evaluation.Assignment> assignments = new ArrayList<>();
    List<ImageRow> rows = new ArrayList<>();
    List<List<Prediction>> all = new ArrayList<>();
    List<List<Prediction>> kept = new ArrayList<>();
    List<List<BoundingBox>> truth = new ArrayList<>();
    List<Double> tpScores = new ArrayList<>();
    List<Double> fpScores = new ArrayList<>();
    int predictionCount = 0;
    int failures = 0;
    for (int i = 0; i < dataset.images().size(); i++) {
      CocoDataset.Image image = dataset.images().get(i);
      ImagePredictions r = results.get(i);
      List<Prediction> k = r.predictions().stream().filter(p -> p.score() >= scoreThreshold).toList();
      Evaluation.Assignment a = Evaluation.assign(k, image.truth());
      assignments.add(a);
      all.add(r.predictions());
      kept.add(k);
      truth.add(image.truth());
      predictionCount += k.size();
      failures += r.error() == null ? 0 : 1;
      for (int p = 0; p < k.size(); p++) {
        (a.isTruePositive(p, 0.5) ? tpScores : fpScores).add(k.get(p).score());
      }
      rows.add(new ImageRow(image, a, Evaluation.jaccardOf(a), Evaluation.counts(a, 0.5), r.latencyMillis(), r.error()));
    }

    JsonObject thresholds = new JsonObject();
    for (double t : Evaluation.THRESHOLDS) {
      Evaluation.Counts c = Evaluation.total(assignments, t);
      thresholds.put(key(t), counts(c).put("meanIoU", c.meanIou()));
    }
    Evaluation.JaccardStats j = Evaluation.jaccard(assignments);
    Double[] aps = new Double[10];
    Evaluation.AveragePrecision ap50 = null;
    for (int k = 0; k < 10; k++) {
      double u = Math.round((0.5 + 0.05 * k) * 100) / 100.0;
      Evaluation.AveragePrecision ap = Evaluation.averagePrecision(kept, truth, u);
      aps[k] = ap.ap();
      if (k == 0) {
        ap50 = ap;
      }
    }
    Double ap5095 = Arrays.stream(aps).anyMatch(a -> a == null) ? null
        : Arrays.stream(aps).mapToDouble(Double::doubleValue).average().orElse(0);
    Evaluation.Counts[] byScore = Evaluation.countsByScoreThreshold(all, truth);
    Evaluation.BestThreshold best = Evaluation.bestThreshold(byScore);
    double[] f1ByScore = Arrays.stream(byScore).mapToDouble(Evaluation.Counts::f1).toArray();

    long[] latencies = results.stream().mapToLong(ImagePredictions::latencyMillis).sorted().toArray();
    JsonObject json = run.copy()
        .put("dataset", run.getJsonObject("dataset", new JsonObject())
            .put("images", dataset.images().size()).put("groundTruthBoxes", dataset.truthCount())
            .put("categories", new JsonArray(dataset.categories().stream().sorted().toList())))
        .put("scoreThreshold", scoreThreshold)
        .put("predictions", predictionCount)
        .put("failedImages", failures)
        .put("thresholds", thresholds)
        .put("jaccard", new JsonObject().put("mean", j.mean()).put("weightedMean", j.weightedMean())
            .put("min", j.min()).put("max", j.max()))
        .put("ap", new JsonObject().put("ap50", aps[0]).put("ap75", aps[5]).put("ap50_95", ap5095))
        .put("bestThreshold", new JsonObject().put("score", best.score()).put("f1", best.counts().f1())
            .put("precision", best.counts().precision()).put("recall", best.counts().recall()))
        .put("prCurve", new JsonObject().put("recall", array(ap50.recallPoints())).put("precision", curve(ap50.precision())))
        .put("latencyMillis", new JsonObject().put("mean", Arrays.stream(latencies).average().orElse(0))
            .put("p50", percentile(latencies, 0.5)).put("p95", percentile(latencies, 0.95))
            .put("max", latencies.length == 0 ? 0 : latencies[latencies.length - 1]))
        .put("createdAt", Instant.now().toString());
    return new Report(json, rows, f1ByScore, tpScores, fpScores);
  }

  static String key(double t) {
    return String.format(Locale.ROOT, "%.1f", t);
  }

  private static JsonObject counts(Evaluation.Counts c) {
    return new JsonObject().put("tp", c.tp()).put("fp", c.fp()).put("fn", c.fn()).put("precision", c.precision())
        .put("recall", c.recall()).put("f1", c.f1());
  }

  private static JsonArray array(double[] values) {
    JsonArray a = new JsonArray();
    for (double v : values) {
      a.add(v);
    }
    return a;
  }

  /** A curve with no values (no ground truth at all) is written as 101 nulls. */
  private static JsonArray curve(double[] values) {
    if (values != null) {
      return array(values);
    }
    JsonArray a = new JsonArray();
    for (int k = 0; k < 101; k++) {
      a.addNull();
    }
    return a;
  }

  private static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  public JsonObject json() {
    return json;
  }

  public List<ImageRow> rows() {
    return rows;
  }

  public double[] f1ByScore() {
    return f1ByScore;
  }

  public List<Double> truePositiveScores() {
    return truePositiveScores;
  }

  public List<Double> falsePositiveScores() {
    return falsePositiveScores;
  }
}
