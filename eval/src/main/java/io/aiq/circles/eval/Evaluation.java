package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The template's protocol, exactly, plus COCO-style average precision.
 *
 * <p>Per image: the IoU matrix of predicted against ground-truth boxes, the assignment minimising
 * the total {@code 1 − IoU} (Hungarian), and at each IoU threshold t an assigned pair with IoU ≥ t is
 * a true positive, the other predictions false positives and the other ground truths false
 * negatives. Precision, recall and F1 come from the totals over all images. Beside that, the Jaccard
 * index of the union-of-boxes regions per image (1 when both are empty).
 */
public final class Evaluation {
  public static final double[] THRESHOLDS = {0.3, 0.5, 0.7, 0.9};
  static final int COCO_MAX_DETECTIONS = 100;

  private Evaluation() {
  }

  /** One image's assignment: the IoU of each assigned pair, and the predicted index of each pair. */
  public record Assignment(List<BoundingBox> truth, List<Prediction> predictions, double[] pairIous, int[] pairPredictions) {
    public int truePositives(double t) {
      int n = 0;
      for (double iou : pairIous) {
        if (iou >= t) {
          n++;
        }
      }
      return n;
    }

    /** Whether prediction {@code p} is a true positive at {@code t}. */
    public boolean isTruePositive(int p, double t) {
      for (int k = 0; k < pairPredictions.length; k++) {
        if (pairPredictions[k] == p) {
          return pairIous[k] >= t;
        }
      }
      return false;
    }
  }

  public static Assignment assign(List<Prediction> predictions, List<BoundingBox> truth) {
    List<BoundingBox> boxes = predictions.stream().map(Prediction::box).toList();
    double[][] iou = Geometry.iouMatrix(boxes, truth);
    double[][] cost = new double[iou.length][];
    for (int i = 0; i < iou.length; i++) {
      cost[i] = new double[iou[i].length];
      for (int j = 0; j < iou[i].length; j++) {
        cost[i][j] = 1 - iou[i][j];
      }
    }
    List<int[]> pairs = Hungarian.assign(cost, 1.0);
    double[] ious = new double[pairs.size()];
    int[] preds = new int[pairs.size()];
    for (int k = 0; k < pairs.size(); k++) {
      ious[k] = iou[pairs.get(k)[0]][pairs.get(k)[1]];
      preds[k] = pairs.get(k)[0];
    }
    return new Assignment(truth, predictions, ious, preds);
  }

  /** Totals at one IoU threshold. */
  public record Counts(int tp, int fp, int fn, double iouSum) {
    public double precision() {
      return tp + fp == 0 ? 0 : (double) tp / (tp + fp);
    }

    public double recall() {
      return tp + fn == 0 ? 0 : (double) tp / (tp + fn);
    }

    public double f1() {
      double p = precision();
      double r = recall();
      return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** Mean IoU of the true-positive pairs, or null when there are none. */
    public Double meanIou() {
      return tp == 0 ? null : iouSum / tp;
    }

    Counts plus(Counts o) {
      return new Counts(tp + o.tp, fp + o.fp, fn + o.fn, iouSum + o.iouSum);
    }
  }

  public static Counts counts(Assignment a, double t) {
    int tp = 0;
    double sum = 0;
    for (double iou : a.pairIous()) {
      if (iou >= t) {
        tp++;
        sum += iou;
      }
    }
    return new Counts(tp, a.predictions().size() - tp, a.truth().size() - tp, sum);
  }

  public static Counts total(List<Assignment> images, double t) {
    Counts c = new Counts(0, 0, 0, 0);
    for (Assignment a : images) {
      c = c.plus(counts(a, t));
    }
    return c;
  }

  /** Jaccard statistics over images: simple mean, mean weighted by ground-truth count, min, max. */
  public record JaccardStats(double mean, Double weightedMean, double min, double max) {
  }

  public static JaccardStats jaccard(List<Assignment> images) {
    double sum = 0;
    double wsum = 0;
    double weights = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (Assignment a : images) {
      double j = jaccardOf(a);
      sum += j;
      wsum += j * a.truth().size();
      weights += a.truth().size();
      min = Math.min(min, j);
      max = Math.max(max, j);
    }
    int n = images.size();
    return new JaccardStats(n == 0 ? 0 : sum / n, weights == 0 ? null : wsum / weights,
        n == 0 ? 0 : min, n == 0 ? 0 : max);
  }

  public static double jaccardOf(Assignment a) {
    return Geometry.unionJaccard(a.predictions().stream().map(Prediction::box).toList(), a.truth());
  }

  /** COCO-style AP at one IoU threshold, with its 101-point interpolated precision (null without ground truth). */
  public record AveragePrecision(Double ap, double[] recallPoints, double[] precision) {
  }

  /**
   * As COCO does: per image the 100 best-scored predictions, greedily matched in score order to the
   * unmatched ground truth of highest IoU ≥ t; then all predictions ranked by score, the precision
   * made non-increasing, and read at 101 recall points.
   */
  public static AveragePrecision averagePrecision(List<List<Prediction>> predictions, List<List<BoundingBox>> truth,
                                                  double t) {
    record Scored(double score, boolean tp) {
    }
    List<Scored> all = new ArrayList<>();
    int totalTruth = 0;
    for (int i = 0; i < predictions.size(); i++) {
      List<BoundingBox> gts = truth.get(i);
      totalTruth += gts.size();
      List<Prediction> ranked = new ArrayList<>(predictions.get(i));
      ranked.sort(Comparator.comparingDouble(Prediction::score).reversed());
      if (ranked.size() > COCO_MAX_DETECTIONS) {
        ranked = ranked.subList(0, COCO_MAX_DETECTIONS);
      }
      boolean[] taken = new boolean[gts.size()];
      for (Prediction p : ranked) {
        int best = -1;
        double bestIou = -1;
        for (int g = 0; g < gts.size(); g++) {
          if (taken[g]) {
            continue;
          }
          double iou = Geometry.iou(p.box(), gts.get(g));
          if (iou >= t && iou > bestIou) {
            best = g;
            bestIou = iou;
          }
        }
        if (best >= 0) {
          taken[best] = true;
        }
        all.add(new Scored(p.score(), best >= 0));
      }
    }
    // the recall points as numpy's linspace(0, 1, 101) makes them (k * 0.01, the last exactly 1), so
    // a recall that lands on a point is read there by both this and the reference implementation
    double[] points = new double[101];
    for (int k = 0; k < 100; k++) {
      points[k] = k * 0.01;
    }
    points[100] = 1.0;
    if (totalTruth == 0) {
      return new AveragePrecision(null, points, null);
    }
    // a stable sort: equal scores keep image order, as COCO's mergesort does
    all.sort(Comparator.comparingDouble(Scored::score).reversed());
    int n = all.size();
    double[] recall = new double[n];
    double[] precision = new double[n];
    int tp = 0;
    for (int k = 0; k < n; k++) {
      if (all.get(k).tp()) {
        tp++;
      }
      recall[k] = (double) tp / totalTruth;
      precision[k] = (double) tp / (k + 1);
    }
    for (int k = n - 2; k >= 0; k--) {
      precision[k] = Math.max(precision[k], precision[k + 1]);
    }
    double[] interpolated = new double[101];
    double sum = 0;
    int k = 0;
    for (int r = 0; r <= 100; r++) {
      while (k < n && recall[k] < points[r]) {
        k++;
      }
      interpolated[r] = k < n ? precision[k] : 0;
      sum += interpolated[r];
    }
    return new AveragePrecision(sum / 101, points, interpolated);
  }

  /** The score threshold (0.00 to 1.00 by 0.01) whose kept predictions give the best F1 at IoU 0.5. */
  public record BestThreshold(double score, Counts counts) {
  }

  public static BestThreshold bestThreshold(Counts[] byScore) {
    int best = 0;
    for (int s = 1; s < byScore.length; s++) {
      if (byScore[s].f1() > byScore[best].f1()) {
        best = s;
      }
    }
    return new BestThreshold(best / 100.0, byScore[best]);
  }

  /** Totals at IoU 0.5 keeping the predictions scored ≥ s, for s = 0.00, 0.01, …, 1.00. */
  public static Counts[] countsByScoreThreshold(List<List<Prediction>> predictions, List<List<BoundingBox>> truth) {
    Counts[] out = new Counts[101];
    for (int s = 0; s <= 100; s++) {
      double score = s / 100.0;
      Counts c = new Counts(0, 0, 0, 0);
      for (int i = 0; i < predictions.size(); i++) {
        List<Prediction> kept = predictions.get(i).stream().filter(p -> p.score() >= score).toList();
        c = c.plus(counts(assign(kept, truth.get(i)), 0.5));
      }
      out[s] = c;
    }
    return out;
  }
}
