package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.eval.Evaluation;
import io.aiq.circles.eval.Prediction;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What K folds of training say together: each metric's mean and sample standard deviation over the
 * folds (the estimate for photos no fold saw, and how much it moves with the split), each fold's own
 * figures beside them, and the score threshold that is best on all held-out images pooled.
 */
public final class CrossValidation {
  /** The metrics summarised, as the training's validation names them. */
  static final List<String> METRICS = List.of("f1@0.5", "f1@0.9", "precision@0.5", "recall@0.5", "jaccard", "ap50",
      "ap50_95", "scoreThreshold");

  private CrossValidation() {
  }

  /**
   * The held-out figures of one set of images at one score threshold, under the names the summary
   * reads: precision, recall and F1 at each IoU of {@link Evaluation#THRESHOLDS}, the Jaccard index,
   * and AP50 and AP50:95 (which use every prediction, whatever the threshold).
   */
  public static JsonObject figuresAt(List<List<Prediction>> predictions, List<List<BoundingBox>> truth, double threshold) {
    List<Evaluation.Assignment> kept = new ArrayList<>();
    for (int i = 0; i < predictions.size(); i++) {
      List<Prediction> above = predictions.get(i).stream().filter(p -> p.score() >= threshold).toList();
      kept.add(Evaluation.assign(above, truth.get(i)));
    }
    JsonObject out = new JsonObject().put("images", predictions.size()).put("scoreThreshold", threshold);
    for (double t : Evaluation.THRESHOLDS) {
      Evaluation.Counts c = Evaluation.total(kept, t);
      out.put("f1@" + t, c.f1()).put("precision@" + t, c.precision()).put("recall@" + t, c.recall());
    }
    out.put("jaccard", Evaluation.jaccard(kept).mean());
    out.put("ap50", Evaluation.averagePrecision(predictions, truth, 0.5).ap());
    double apSum = 0;
    int apCount = 0;
    for (int k = 0; k < 10; k++) {
      Double ap = Evaluation.averagePrecision(predictions, truth, Math.round((0.5 + 0.05 * k) * 100) / 100.0).ap();
      if (ap != null) {
        apSum += ap;
        apCount++;
      }
    }
    out.put("ap50_95", apCount == 10 ? apSum / 10 : null);
    return out;
  }

  static JsonObject summary(List<JsonObject> folds, Evaluation.BestThreshold pooledBest) {
    JsonObject metrics = new JsonObject();
    for (String m : METRICS) {
      double[] values = folds.stream().map(f -> f.getValue(m)).filter(v -> v instanceof Number)
          .mapToDouble(v -> ((Number) v).doubleValue()).toArray();
      if (values.length == folds.size() && values.length > 0) {
        metrics.put(m, new JsonObject().put("mean", mean(values)).put("sd", sd(values))
            .put("min", min(values)).put("max", max(values)));
      }
    }
    return new JsonObject().put("metrics", metrics)
        .put("pooledThreshold", new JsonObject().put("score", pooledBest.score()).put("f1@0.5", pooledBest.counts().f1()))
        .put("perFold", new JsonArray(List.copyOf(folds)));
  }

  static String table(JsonObject summary) {
    StringBuilder b = new StringBuilder("metric            mean ± sd          (min – max) over ")
        .append(summary.getJsonArray("perFold").size()).append(" folds\n");
    JsonObject metrics = summary.getJsonObject("metrics");
    for (String m : METRICS) {
      JsonObject s = metrics.getJsonObject(m);
      if (s != null) {
        b.append(String.format(Locale.ROOT, "%-16s  %.3f ± %.3f    (%.3f – %.3f)%n", m, s.getDouble("mean"), s.getDouble("sd"),
            s.getDouble("min"), s.getDouble("max")));
      }
    }
    JsonObject t = summary.getJsonObject("pooledThreshold");
    b.append(String.format(Locale.ROOT, "threshold best on all held-out images together: %.2f (F1@0.5 %.3f)",
        t.getDouble("score"), t.getDouble("f1@0.5")));
    return b.toString();
  }

  /**
   * {@code just eval --compare-cv}: one cv.json as its folds side by side with their mean ± sd, or
   * several (recipes, versions) as their means ± sd side by side.
   */
  public static String sideBySide(List<String> names, List<JsonObject> runs) {
    StringBuilder b = new StringBuilder();
    if (runs.size() == 1) {
      JsonArray folds = runs.get(0).getJsonArray("perFold");
      b.append(String.format(Locale.ROOT, "%-16s", "metric"));
      for (int k = 0; k < folds.size(); k++) {
        b.append(String.format(Locale.ROOT, " %8s", "fold " + k));
      }
      b.append(String.format(Locale.ROOT, "   %s%n", "mean ± sd"));
      for (String m : METRICS) {
        JsonObject s = runs.get(0).getJsonObject("metrics").getJsonObject(m);
        if (s == null) {
          continue;
        }
        b.append(String.format(Locale.ROOT, "%-16s", m));
        for (int k = 0; k < folds.size(); k++) {
          b.append(String.format(Locale.ROOT, " %8.3f", folds.getJsonObject(k).getDouble(m)));
        }
        b.append(String.format(Locale.ROOT, "   %.3f ± %.3f%n", s.getDouble("mean"), s.getDouble("sd")));
      }
      return b.toString();
    }
    b.append(String.format(Locale.ROOT, "%-16s", "metric"));
    for (String n : names) {
      b.append(String.format(Locale.ROOT, " %18s", n.length() <= 18 ? n : "…" + n.substring(n.length() - 17)));
    }
    b.append('\n');
    for (String m : METRICS) {
      b.append(String.format(Locale.ROOT, "%-16s", m));
      for (JsonObject run : runs) {
        JsonObject s = run.getJsonObject("metrics").getJsonObject(m);
        b.append(s == null ? String.format(Locale.ROOT, " %18s", "–")
            : String.format(Locale.ROOT, " %10.3f ± %.3f", s.getDouble("mean"), s.getDouble("sd")));
      }
      b.append('\n');
    }
    return b.toString();
  }

  static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }

  /** The sample standard deviation (n − 1); 0 for one fold. */
  static double sd(double[] v) {
    if (v.length < 2) {
      return 0;
    }
    double m = mean(v);
    double s = 0;
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / (v.length - 1));
  }

  private static double min(double[] v) {
    double m = Double.POSITIVE_INFINITY;
    for (double x : v) {
      m = Math.min(m, x);
    }
    return m;
  }

  private static double max(double[] v) {
    double m = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      m = Math.max(m, x);
    }
    return m;
  }
}
