package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import java.util.List;

/**
 * The training targets of one view, on the model's output grid: a Gaussian bump per coin centre on
 * the heatmap (its width from the coin's size, as CenterNet does), the focal loss's negative
 * weights {@code (1 − target)^4}, and at each centre cell the box size and the sub-cell offset.
 */
public final class Targets {
  private Targets() {
  }

  /** Writes one view's targets at {@code index} of the batch arrays. */
  static void write(List<BoundingBox> coins, int grid, int stride, int index, float[] heat, float[] negWeight,
                    float[] posMask, float[] size, float[] offset, float[] regMask) {
    int cells = grid * grid;
    int base = index * cells;
    for (BoundingBox b : coins) {
      double gx = (b.xmin() + b.xmax()) / 2 / stride;
      double gy = (b.ymin() + b.ymax()) / 2 / stride;
      int ix = Math.min(grid - 1, Math.max(0, (int) gx));
      int iy = Math.min(grid - 1, Math.max(0, (int) gy));
      double radius = Math.max(0, gaussianRadius(b.height() / stride, b.width() / stride, 0.7));
      double sigma = (2 * radius + 1) / 6;
      int reach = (int) Math.ceil(3 * sigma);
      for (int y = Math.max(0, iy - reach); y <= Math.min(grid - 1, iy + reach); y++) {
        for (int x = Math.max(0, ix - reach); x <= Math.min(grid - 1, ix + reach); x++) {
          double v = Math.exp(-((x - ix) * (x - ix) + (y - iy) * (y - iy)) / (2 * sigma * sigma));
          int c = base + y * grid + x;
          heat[c] = (float) Math.max(heat[c], v);
        }
      }
      int c = base + iy * grid + ix;
      heat[c] = 1f;
      posMask[c] = 1f;
      regMask[c] = 1f;
      size[2 * c] = (float) b.width();
      size[2 * c + 1] = (float) b.height();
      offset[2 * c] = (float) (gx - ix);
      offset[2 * c + 1] = (float) (gy - iy);
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
