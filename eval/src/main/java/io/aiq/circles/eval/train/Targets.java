package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import java.util.ArrayList;
import java.util.List;

/**
 * The training targets of one view, on the model's output grid: a Gaussian bump per coin centre on
 * the heatmap (its width from the coin's size, as CenterNet does), the focal loss's negative
 * weights {@code (1 − target)^4}, and, at every cell under a coin's bump, the coin's log size and
 * the offset from that cell to the coin's centre, weighted by the bump (as TTFNet does). Training
 * every cell near a centre, not the centre cell alone, gives the size head many more examples per
 * coin and lets a peak one cell off still point at the true centre.
 */
public final class Targets {
  /** Cells whose bump is below this carry no size or offset target. */
  static final double REGRESSION_FLOOR = 0.1;

  private Targets() {
  }

  /**
   * Writes one view's targets at {@code index} of the batch arrays.
   *
   * @param regWeight per cell, the weight of its size and offset error; each coin's weights sum to 1 (less
   *     where a smaller coin's bump claims its cells)
   */
  static void write(List<BoundingBox> coins, int grid, int stride, float sizeUnit, int index, float[] heat,
                    float[] negWeight, float[] posMask, float[] logSize, float[] offset, float[] regWeight) {
    int cells = grid * grid;
    int base = index * cells;
    double[] owner = new double[cells];
    // larger coins first, so that where bumps overlap the smaller coin's (sharper) bump wins
    List<BoundingBox> bySize = coins.stream()
        .sorted((a, b) -> Double.compare(b.width() * b.height(), a.width() * a.height())).toList();
    for (BoundingBox b : bySize) {
      double gx = (b.xmin() + b.xmax()) / 2 / stride;
      double gy = (b.ymin() + b.ymax()) / 2 / stride;
      int ix = Math.min(grid - 1, Math.max(0, (int) gx));
      int iy = Math.min(grid - 1, Math.max(0, (int) gy));
      double radius = Math.max(0, gaussianRadius(b.height() / stride, b.width() / stride, 0.7));
      double sigma = (2 * radius + 1) / 6;
      int reach = (int) Math.ceil(3 * sigma);
      double total = 0;
      List<int[]> claimed = new ArrayList<>();
      for (int y = Math.max(0, iy - reach); y <= Math.min(grid - 1, iy + reach); y++) {
        for (int x = Math.max(0, ix - reach); x <= Math.min(grid - 1, ix + reach); x++) {
          double v = x == ix && y == iy ? 1 : Math.exp(-((x - ix) * (x - ix) + (y - iy) * (y - iy)) / (2 * sigma * sigma));
          int c = y * grid + x;
          heat[base + c] = (float) Math.max(heat[base + c], v);
          if (v >= REGRESSION_FLOOR && v >= owner[c]) {
            owner[c] = v;
            claimed.add(new int[] {x, y});
            total += v;
          }
        }
      }
      int c0 = base + iy * grid + ix;
      posMask[c0] = 1f;
      float lw = (float) Math.log(Math.max(1e-3, b.width()) / sizeUnit);
      float lh = (float) Math.log(Math.max(1e-3, b.height()) / sizeUnit);
      for (int[] xy : claimed) {
        int c = base + xy[1] * grid + xy[0];
        double v = xy[0] == ix && xy[1] == iy ? 1 : Math.exp(-((xy[0] - ix) * (xy[0] - ix) + (xy[1] - iy) * (xy[1] - iy))
            / (2 * sigma * sigma));
        regWeight[c] = (float) (v / total);
        logSize[2 * c] = lw;
        logSize[2 * c + 1] = lh;
        offset[2 * c] = (float) (gx - xy[0]);
        offset[2 * c + 1] = (float) (gy - xy[1]);
      }
    }
    for (int c = base; c < base + cells; c++) {
      double w = 1 - heat[c];
      negWeight[c] = (float) (w * w * w * w);
    }
  }

  /** CenterNet's radius: the largest shift of a box's corners that keeps IoU ≥ minOverlap. */
  static double gaussianRadius(double height, double width, double minOverlap) {
    double a1 = 1;
    double b1 = height + width;
    double c1 = width * height * (1 - minOverlap) / (1 + minOverlap);
    double r1 = (b1 + Math.sqrt(b1 * b1 - 4 * a1 * c1)) / 2;
    double a2 = 4;
    double b2 = 2 * (height + width);
    double c2 = (1 - minOverlap) * width * height;
    double r2 = (b2 + Math.sqrt(b2 * b2 - 4 * a2 * c2)) / 2;
    double a3 = 4 * minOverlap;
    double b3 = -2 * minOverlap * (height + width);
    double c3 = (minOverlap - 1) * width * height;
    double r3 = (b3 + Math.sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
    return Math.min(r1, Math.min(r2, r3));
  }
}
