package io.aiq.circles.eval;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The console view of one report, or of two side by side. */
public final class Summary {
  private Summary() {
  }

  /** Metric rows: label and the path of the figure in report.json. */
  private static List<String[]> rows() {
    List<String[]> rows = new ArrayList<>();
    for (double t : Evaluation.THRESHOLDS) {
      String k = Report.key(t);
      rows.add(new String[] {"precision @ IoU " + k, "thresholds", k, "precision"});
      rows.add(new String[] {"recall    @ IoU " + k, "thresholds", k, "recall"});
      rows.add(new String[] {"F1        @ IoU " + k, "thresholds", k, "f1"});
    }
    rows.add(new String[] {"mean IoU of TP @ 0.5", "thresholds", "0.5", "meanIoU"});
    rows.add(new String[] {"Jaccard mean", "jaccard", null, "mean"});
    rows.add(new String[] {"Jaccard GT-weighted", "jaccard", null, "weightedMean"});
    rows.add(new String[] {"Jaccard min", "jaccard", null, "min"});
    rows.add(new String[] {"Jaccard max", "jaccard", null, "max"});
    rows.add(new String[] {"AP50", "ap", null, "ap50"});
    rows.add(new String[] {"AP75", "ap", null, "ap75"});
    rows.add(new String[] {"AP50:95", "ap", null, "ap50_95"});
    rows.add(new String[] {"best score threshold", "bestThreshold", null, "score"});
    rows.add(new String[] {"F1 at best threshold", "bestThreshold", null, "f1"});
    rows.add(new String[] {"latency p50 (ms)", "latencyMillis", null, "p50"});
    rows.add(new String[] {"latency p95 (ms)", "latencyMillis", null, "p95"});
    return rows;
  }

  static Double value(JsonObject report, String[] row) {
    JsonObject section = report.getJsonObject(row[1]);
    if (section == null) {
      return null;
    }
    if (row[2] != null) {
      section = section.getJsonObject(row[2]);
    }
    if (section == null || !(section.getValue(row[3]) instanceof Number n)) {
      return null;
    }
    return n.doubleValue();
  }

  private static String fmt(Double v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
  }

  public static String of(JsonObject report) {
    JsonObject model = report.getJsonObject("model", new JsonObject());
    JsonObject ds = report.getJsonObject("dataset", new JsonObject());
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "model %s %s, mode %s, %d images, %d ground-truth boxes, %d predictions, %d failed%n",
        model.getString("name"), model.getString("version"), report.getString("mode"), ds.getInteger("images", 0),
        ds.getInteger("groundTruthBoxes", 0), report.getInteger("predictions", 0), report.getInteger("failedImages", 0)));
    for (double t : Evaluation.THRESHOLDS) {
      JsonObject c = report.getJsonObject("thresholds").getJsonObject(Report.key(t));
      sb.append(String.format(Locale.ROOT, "IoU >= %s  TP %4d  FP %4d  FN %4d  precision %s  recall %s  F1 %s%n",
          Report.key(t), c.getInteger("tp"), c.getInteger("fp"), c.getInteger("fn"), fmt(c.getDouble("precision")),
          fmt(c.getDouble("recall")), fmt(c.getDouble("f1"))));
    }
    for (String[] row : rows()) {
      if (!row[1].equals("thresholds") || row[3].equals("meanIoU")) {
        sb.append(String.format(Locale.ROOT, "%-24s %s%n", row[0], fmt(value(report, row))));
      }
    }
    return sb.toString();
  }

  public static String compare(String nameA, JsonObject a, String nameB, JsonObject b) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-24s %14s %14s %10s%n", "", trim(nameA), trim(nameB), "delta"));
    sb.append(String.format(Locale.ROOT, "%-24s %14s %14s%n", "model", trim(modelOf(a)), trim(modelOf(b))));
    for (String[] row : rows()) {
      Double va = value(a, row);
      Double vb = value(b, row);
      String delta = va == null || vb == null ? "" : String.format(Locale.ROOT, "%+.4f", vb - va);
      sb.append(String.format(Locale.ROOT, "%-24s %14s %14s %10s%n", row[0], fmt(va), fmt(vb), delta));
    }
    return sb.toString();
  }

  private static String modelOf(JsonObject r) {
    JsonObject m = r.getJsonObject("model", new JsonObject());
    return m.getString("name") + " " + m.getString("version");
  }

  private static String trim(String s) {
    return s.length() <= 14 ? s : "…" + s.substring(s.length() - 13);
  }
}
