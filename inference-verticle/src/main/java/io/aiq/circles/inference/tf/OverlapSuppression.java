package io.aiq.circles.inference.tf;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One box per object: after the heatmap's peaks are decoded, a box that overlaps a better-scored
 * kept box by more than the limit is dropped (greedy non-maximum suppression). The heatmap's 3×3
 * peak test already keeps neighbouring cells from both firing; what it lets through is a second
 * peak further inside a large coin, or a box around a coin and its shadow beside the coin's own.
 *
 * <p>Two measures of overlap: {@code iou} (intersection over union, the usual one) and
 * {@code smaller} (intersection over the smaller box's area), which also catches a small box lying
 * wholly inside a large one, whose IoU is low. Which one, and its limit, is part of a model's recipe
 * and chosen by cross-validation ({@code just eval --select-cv}); {@code model.json} records it as
 * {@code suppressOverlaps}, e.g. {@code "iou:0.5"}, or {@code "none"}.
 *
 * <p>Suppressing is done on boxes in score order, so it commutes with the score threshold: the
 * boxes kept above a threshold are the same whether the threshold is applied before or after.
 */
public record OverlapSuppression(Measure measure, double limit) {
  public enum Measure { NONE, IOU, SMALLER }

  public static final OverlapSuppression NONE = new OverlapSuppression(Measure.NONE, 1);

  public OverlapSuppression {
    if (measure != Measure.NONE && !(limit > 0 && limit < 1)) {
      throw new IllegalArgumentException("an overlap limit is between 0 and 1 (exclusive), not " + limit);
    }
  }

  /** {@code none}, {@code iou:L} or {@code smaller:L}, with 0 < L < 1. */
  public static OverlapSuppression parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.isEmpty() || t.equals("none")) {
      return NONE;
    }
    int colon = t.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("overlap suppression '" + text + "': expected none, iou:L or smaller:L");
    }
    Measure m = switch (t.substring(0, colon)) {
      case "iou" -> Measure.IOU;
      case "smaller" -> Measure.SMALLER;
      default -> throw new IllegalArgumentException("overlap suppression '" + text + "': the measure is iou or smaller");
    };
    double limit;
    try {
      limit = Double.parseDouble(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("overlap suppression '" + text + "': the limit is a number", e);
    }
    try {
      return new OverlapSuppression(m, limit);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("overlap suppression '" + text + "': " + e.getMessage(), e);
    }
  }

  /** The boxes kept, best score first; the input need not be sorted and is not changed. */
  public List<CenterDecoder.Candidate> apply(List<CenterDecoder.Candidate> candidates) {
    List<CenterDecoder.Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort((a, b) -> Double.compare(b.score(), a.score()));
    if (measure == Measure.NONE) {
      return sorted;
    }
    List<CenterDecoder.Candidate> kept = new ArrayList<>();
    for (CenterDecoder.Candidate c : sorted) {
      boolean overlaps = false;
      for (CenterDecoder.Candidate k : kept) {
        if (overlap(c, k) > limit) {
          overlaps = true;
          break;
        }
      }
      if (!overlaps) {
        kept.add(c);
      }
    }
    return kept;
  }

  double overlap(CenterDecoder.Candidate a, CenterDecoder.Candidate b) {
    double iw = Math.min(a.x1(), b.x1()) - Math.max(a.x0(), b.x0());
    double ih = Math.min(a.y1(), b.y1()) - Math.max(a.y0(), b.y0());
    if (iw <= 0 || ih <= 0) {
      return 0;
    }
    double inter = iw * ih;
    double areaA = (a.x1() - a.x0()) * (a.y1() - a.y0());
    double areaB = (b.x1() - b.x0()) * (b.y1() - b.y0());
    double denominator = measure == Measure.IOU ? areaA + areaB - inter : Math.min(areaA, areaB);
    return denominator <= 0 ? 0 : inter / denominator;
  }

  @Override
  public String toString() {
    return measure == Measure.NONE ? "none" : measure.name().toLowerCase(Locale.ROOT) + ":" + limit;
  }
}
