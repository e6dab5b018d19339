package io.aiq.circles.inference.tf;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the model's outputs for one image into boxes in input pixels. The model marks each coin's
 * centre as a peak of its heatmap (non-peaks are already zeroed in the graph by a 3×3 max-pool
 * comparison) and regresses, at each cell, the box's width and height and the centre's sub-cell
 * offset, in input pixels.
 */
public final class CenterDecoder {
  private CenterDecoder() {
  }

  /** A box in input pixels with its score. */
  public record Candidate(double x0, double y0, double x1, double y1, double score) {
  }

  /**
   * @param peaks the peak heatmap, {@code grid × grid}, row-major
   * @param sizes width and height per cell, {@code grid × grid × 2}
   * @param offsets x and y offset of the centre within its cell, in cells, {@code grid × grid × 2}
   * @param suppression which overlapping boxes to drop, before the best {@code maxDetections} are kept
   */
  public static List<Candidate> decode(float[] peaks, int peaksOffset, float[] sizes, float[] offsets, int regOffset,
                                       int grid, int stride, double threshold, OverlapSuppression suppression,
                                       int maxDetections) {
    List<Candidate> out = new ArrayList<>();
    for (int cell = 0; cell < grid * grid; cell++) {
      float score = peaks[peaksOffset + cell];
      if (score < threshold) {
        continue;
      }
      int gy = cell / grid;
      int gx = cell % grid;
      double cx = (gx + offsets[regOffset + 2 * cell]) * stride;
      double cy = (gy + offsets[regOffset + 2 * cell + 1]) * stride;
      double w = Math.max(0, sizes[regOffset + 2 * cell]);
      double h = Math.max(0, sizes[regOffset + 2 * cell + 1]);
      out.add(new Candidate(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score));
    }
    List<Candidate> kept = suppression.apply(out);
    return kept.size() > maxDetections ? new ArrayList<>(kept.subList(0, maxDetections)) : kept;
  }
}
