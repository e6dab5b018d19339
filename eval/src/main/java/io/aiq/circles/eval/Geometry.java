package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import java.util.List;
import java.util.TreeSet;

/** Box overlap measures, computed exactly on the continuous plane. */
public final class Geometry {
  private Geometry() {
  }

  public static double iou(BoundingBox a, BoundingBox b) {
    double iw = Math.max(0, Math.min(a.xmax(), b.xmax()) - Math.max(a.xmin(), b.xmin()));
    double ih = Math.max(0, Math.min(a.ymax(), b.ymax()) - Math.max(a.ymin(), b.ymin()));
    double inter = iw * ih;
    double union = a.width() * a.height() + b.width() * b.height() - inter;
    return union <= 0 ? 0 : inter / union;
  }

  public static double[][] iouMatrix(List<BoundingBox> predicted, List<BoundingBox> truth) {
    double[][] m = new double[predicted.size()][truth.size()];
    for (int p = 0; p < predicted.size(); p++) {
      for (int g = 0; g < truth.size(); g++) {
        m[p][g] = iou(predicted.get(p), truth.get(g));
      }
    }
    return m;
  }

  /**
   * The Jaccard index of two regions, each the union of its boxes: |A ∩ B| / |A ∪ B|. 1 when both
   * are empty, 0 when one is. Exact: the plane is cut along every box edge, and each cell of the
   * grid is either wholly inside a region or wholly outside it.
   */
  public static double unionJaccard(List<BoundingBox> a, List<BoundingBox> b) {
    TreeSet<Double> xs = new TreeSet<>();
    TreeSet<Double> ys = new TreeSet<>();
    for (List<BoundingBox> boxes : List.of(a, b)) {
      for (BoundingBox box : boxes) {
        xs.add(box.xmin());
        xs.add(box.xmax());
        ys.add(box.ymin());
        ys.add(box.ymax());
      }
    }
    Double[] x = xs.toArray(new Double[0]);
    Double[] y = ys.toArray(new Double[0]);
    double inter = 0;
    double union = 0;
    for (int i = 0; i + 1 < x.length; i++) {
      double cx = (x[i] + x[i + 1]) / 2;
      double w = x[i + 1] - x[i];
      for (int j = 0; j + 1 < y.length; j++) {
        double cy = (y[j] + y[j + 1]) / 2;
        boolean inA = covers(a, cx, cy);
        boolean inB = covers(b, cx, cy);
        double area = w * (y[j + 1] - y[j]);
        if (inA && inB) {
          inter += area;
        }
        if (inA || inB) {
          union += area;
        }
      }
    }
    if (union <= 0) {
      return a.isEmpty() == b.isEmpty() ? 1.0 : 0.0;
    }
    return inter / union;
  }

  private static boolean covers(List<BoundingBox> boxes, double x, double y) {
    for (BoundingBox b : boxes) {
      if (x > b.xmin() && x < b.xmax() && y > b.ymin() && y < b.ymax()) {
        return true;
      }
    }
    return false;
  }
}
