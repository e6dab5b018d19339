package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes a run's outputs: {@code report.json}, {@code per_image.csv}, {@code predictions.json},
 * annotated images (green: ground truth, red: predictions with their score), the plots and an
 * {@code index.html} that shows them, worst images first. Everything is local: the page works offline.
 */
public final class ReportWriter {
  private static final Color TRUTH = new Color(0, 200, 0);
  private static final Color PREDICTED = new Color(230, 0, 0);

  private ReportWriter() {
  }

  public static void write(Path out, CocoDataset dataset, List<ImagePredictions> results, Report report,
                           boolean annotate) throws IOException {
    Files.createDirectories(out.resolve("plots"));
    Files.writeString(out.resolve("report.json"), report.json().encodePrettily());
    Files.writeString(out.resolve("per_image.csv"), csv(report));
    Files.writeString(out.resolve("predictions.json"), predictions(dataset, results).encodePrettily());
    plots(out.resolve("plots"), report);
    if (annotate) {
      Files.createDirectories(out.resolve("annotated"));
      for (int i = 0; i < dataset.images().size(); i++) {
        annotate(dataset, dataset.images().get(i), results.get(i), out.resolve("annotated"));
      }
    }
    Files.writeString(out.resolve("index.html"), html(report, annotate));
  }

  static String csv(Report report) {
    StringBuilder sb = new StringBuilder("file_name,ground_truth,predicted,tp,fp,fn,f1,jaccard,latency_ms,error\n");
    for (Report.ImageRow r : report.rows()) {
      sb.append(csvField(r.image().fileName())).append(',').append(r.image().truth().size()).append(',')
          .append(r.assignment().predictions().size()).append(',').append(r.at50().tp()).append(',')
          .append(r.at50().fp()).append(',').append(r.at50().fn()).append(',')
          .append(String.format(Locale.ROOT, "%.6f,%.6f", r.at50().f1(), r.jaccard())).append(',')
          .append(r.latencyMillis()).append(',').append(r.error() == null ? "" : csvField(r.error())).append('\n');
    }
    return sb.toString();
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  /** {@code [{file_name, bbox: [xmin, ymin, xmax, ymax], score}]}: every prediction, for other scorers. */
  static JsonArray predictions(CocoDataset dataset, List<ImagePredictions> results) {
    JsonArray out = new JsonArray();
    for (int i = 0; i < dataset.images().size(); i++) {
      for (Prediction p : results.get(i).predictions()) {
        out.add(new JsonObject().put("file_name", dataset.images().get(i).fileName()).put("bbox", p.box().toJson())
            .put("score", p.score()));
      }
    }
    return out;
  }

  private static void annotate(CocoDataset dataset, CocoDataset.Image image, ImagePredictions result, Path dir)
      throws IOException {
    BufferedImage source = ImageIO.read(dataset.pathOf(image).toFile());
    if (source == null) {
      return;
    }
    BufferedImage img = new BufferedImage(source.getWidth(), source.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.drawImage(source, 0, 0, null);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    float stroke = Math.max(2f, Math.min(img.getWidth(), img.getHeight()) / 200f);
    g.setStroke(new BasicStroke(stroke));
    g.setColor(TRUTH);
    for (BoundingBox b : image.truth()) {
      g.drawRect((int) b.xmin(), (int) b.ymin(), (int) b.width(), (int) b.height());
    }
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(12, (int) (stroke * 6))));
    for (Prediction p : result.predictions()) {
      BoundingBox b = p.box();
      g.setColor(PREDICTED);
      g.drawRect((int) b.xmin(), (int) b.ymin(), (int) b.width(), (int) b.height());
      g.drawString(String.format(Locale.ROOT, "%.2f", p.score()), (int) b.xmin() + 2, (int) Math.max(12, b.ymin() - 3));
    }
    g.dispose();
    ImageIO.write(img, "jpg", dir.resolve(annotatedName(image)).toFile());
  }

  static String annotatedName(CocoDataset.Image image) {
    String name = image.fileName().replaceAll("[^A-Za-z0-9._-]", "_");
    int dot = name.lastIndexOf('.');
    return (dot > 0 ? name.substring(0, dot) : name) + ".jpg";
  }

  private static void plots(Path dir, Report report) throws IOException {
    JsonObject pr = report.json().getJsonObject("prCurve");
    XYSeries curve = new XYSeries("precision at IoU 0.5");
    for (int k = 0; k < pr.getJsonArray("recall").size(); k++) {
      Double precision = pr.getJsonArray("precision").getDouble(k);
      if (precision != null) {
        curve.add(pr.getJsonArray("recall").getDouble(k), precision);
      }
    }
    save(ChartFactory.createXYLineChart("Precision / recall (IoU 0.5, AP50 = "
        + fmt(report.json().getJsonObject("ap").getDouble("ap50")) + ")", "recall", "precision",
        new XYSeriesCollection(curve), PlotOrientation.VERTICAL, false, false, false), dir.resolve("pr_curve.png"));

    XYSeries f1 = new XYSeries("F1 at IoU 0.5");
    for (int s = 0; s < report.f1ByScore().length; s++) {
      f1.add(s / 100.0, report.f1ByScore()[s]);
    }
    save(ChartFactory.createXYLineChart("F1 (IoU 0.5) by score threshold", "score threshold", "F1",
        new XYSeriesCollection(f1), PlotOrientation.VERTICAL, false, false, false), dir.resolve("f1_threshold.png"));

    HistogramDataset hist = new HistogramDataset();
    List<Color> colours = new ArrayList<>();
    if (!report.truePositiveScores().isEmpty()) {
      hist.addSeries("true positives", report.truePositiveScores().stream().mapToDouble(Double::doubleValue).toArray(), 20, 0, 1);
      colours.add(TRUTH);
    }
    if (!report.falsePositiveScores().isEmpty()) {
      hist.addSeries("false positives", report.falsePositiveScores().stream().mapToDouble(Double::doubleValue).toArray(), 20, 0, 1);
      colours.add(PREDICTED);
    }
    JFreeChart histogram = ChartFactory.createHistogram("Scores of predictions (IoU 0.5)", "score", "predictions", hist,
        PlotOrientation.VERTICAL, true, false, false);
    for (int s = 0; s < colours.size(); s++) {
      histogram.getXYPlot().getRenderer().setSeriesPaint(s, colours.get(s));
    }
    save(histogram, dir.resolve("score_histogram.png"));
  }

  private static void save(JFreeChart chart, Path file) throws IOException {
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 640, 400);
  }

  private static String fmt(Double v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String html(Report report, boolean annotated) {
    JsonObject j = report.json();
    StringBuilder sb = new StringBuilder();
    sb.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>AIQ Circles evaluation</title>")
        .append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
        .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}")
        .append(".gallery{display:flex;flex-wrap:wrap;gap:12px}.card{width:320px;font-size:13px}")
        .append(".card img{width:320px;border:1px solid #ccc}.plots{display:flex;flex-wrap:wrap}.plots img{margin:6px;border:1px solid #ddd}</style></head><body>");
    JsonObject model = j.getJsonObject("model", new JsonObject());
    sb.append("<h1>AIQ Circles evaluation</h1><p>Model <b>").append(esc(model.getString("name"))).append("</b> ")
        .append(esc(model.getString("version"))).append(", mode ").append(esc(j.getString("mode"))).append(", dataset ")
        .append(esc(j.getJsonObject("dataset").getString("path"))).append(" (")
        .append(j.getJsonObject("dataset").getInteger("images")).append(" images, ")
        .append(j.getJsonObject("dataset").getInteger("groundTruthBoxes")).append(" boxes), ")
        .append(esc(j.getString("createdAt"))).append(". Green: ground truth; red: predictions.</p>");
    sb.append("<table><tr><th>IoU ≥</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th><th>mean IoU of TP</th></tr>");
    for (double t : Evaluation.THRESHOLDS) {
      JsonObject c = j.getJsonObject("thresholds").getJsonObject(Report.key(t));
      sb.append("<tr><td>").append(Report.key(t)).append("</td><td>").append(c.getInteger("tp")).append("</td><td>")
          .append(c.getInteger("fp")).append("</td><td>").append(c.getInteger("fn")).append("</td><td>")
          .append(fmt(c.getDouble("precision"))).append("</td><td>").append(fmt(c.getDouble("recall"))).append("</td><td>")
          .append(fmt(c.getDouble("f1"))).append("</td><td>").append(fmt(c.getDouble("meanIoU"))).append("</td></tr>");
    }
    sb.append("</table>");
    JsonObject jac = j.getJsonObject("jaccard");
    JsonObject ap = j.getJsonObject("ap");
    JsonObject best = j.getJsonObject("bestThreshold");
    sb.append("<table><tr><th>Jaccard mean</th><th>GT-weighted</th><th>min</th><th>max</th><th>AP50</th><th>AP75</th>")
        .append("<th>AP50:95</th><th>best score threshold</th><th>its F1</th></tr><tr><td>").append(fmt(jac.getDouble("mean")))
        .append("</td><td>").append(fmt(jac.getDouble("weightedMean"))).append("</td><td>").append(fmt(jac.getDouble("min")))
        .append("</td><td>").append(fmt(jac.getDouble("max"))).append("</td><td>").append(fmt(ap.getDouble("ap50")))
        .append("</td><td>").append(fmt(ap.getDouble("ap75"))).append("</td><td>").append(fmt(ap.getDouble("ap50_95")))
        .append("</td><td>").append(fmt(best.getDouble("score"))).append("</td><td>").append(fmt(best.getDouble("f1")))
        .append("</td></tr></table>");
    sb.append("<div class=\"plots\"><img src=\"plots/pr_curve.png\" alt=\"precision-recall curve\">")
        .append("<img src=\"plots/score_histogram.png\" alt=\"score histogram\">")
        .append("<img src=\"plots/f1_threshold.png\" alt=\"F1 by score threshold\"></div>");
    sb.append("<h2>Images, worst first</h2><p>Ordered by F1 at IoU 0.5, then Jaccard index.</p><div class=\"gallery\">");
    List<Report.ImageRow> rows = new ArrayList<>(report.rows());
    rows.sort(Comparator.comparingDouble((Report.ImageRow r) -> r.at50().f1() + (r.error() != null ? -1 : 0))
        .thenComparingDouble(Report.ImageRow::jaccard));
    for (Report.ImageRow r : rows) {
      sb.append("<div class=\"card\">");
      if (annotated) {
        String src = "annotated/" + annotatedName(r.image());
        sb.append("<a href=\"").append(esc(src)).append("\"><img loading=\"lazy\" src=\"").append(esc(src)).append("\" alt=\"\"></a>");
      }
      sb.append("<div>").append(esc(r.image().fileName())).append("<br>F1 ").append(fmt(r.at50().f1()))
          .append(" · Jaccard ").append(fmt(r.jaccard())).append(" · TP ").append(r.at50().tp()).append(" FP ")
          .append(r.at50().fp()).append(" FN ").append(r.at50().fn());
      if (r.error() != null) {
        sb.append("<br><b>").append(esc(r.error())).append("</b>");
      }
      sb.append("</div></div>");
    }
    sb.append("</div></body></html>\n");
    return sb.toString();
  }

  private static String esc(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
