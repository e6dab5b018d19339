package io.aiq.circles.inference.tf;

import io.aiq.circles.contracts.BoundingBox;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.util.Arrays;
import java.util.Locale;

/**
 * Tightens a detected box to the object's own outline, in the original image's pixels. The model
 * sees the image at 320 pixels and regresses a box in cells of 4: for a 40-pixel coin one pixel off
 * on each side already costs IoU 0.9. Circular objects have an outline that the image itself shows
 * at full resolution, so each box is refined after detection: along rays from the box's centre,
 * the strongest brightness step within {@code band} (a fraction of the radius) of the box's ellipse
 * is taken as the outline, and an axis-aligned ellipse is fitted to those points by least squares,
 * dropping the points that disagree with it (a coin's inner rim, a shadow, a neighbour's edge).
 * The box is replaced by the ellipse's only when enough rays agree and it stays close to the
 * model's box; otherwise the model's box is kept.
 *
 * <p>Whether to refine, and the band, are part of a model's recipe chosen by cross-validation
 * ({@code just eval --select-cv}); {@code model.json} records it as {@code refineEdges}, e.g.
 * {@code "edges:0.15"}, or {@code "none"}.
 */
public record EdgeRefinement(double band, double grow) {
  public static final EdgeRefinement NONE = new EdgeRefinement(0, 0);

  /** Rays per box: every 5 degrees. */
  static final int RAYS = 72;
  /** Boxes whose smaller half-side is below this many pixels are left alone: too few pixels for an outline. */
  static final double MIN_RADIUS = 5;
  /** The fraction of rays that must agree with the fitted ellipse. */
  static final double MIN_AGREEING = 0.6;
  /** The refined box must overlap the model's box at least this much (IoU), or the model's is kept. */
  static final double MIN_IOU_WITH_MODEL = 0.7;
  /** A step weaker than this (grey levels per pixel) is no outline. */
  static final double MIN_STEP = 3;
  /**
   * Rays are sampled every half pixel, or every 0.5 % of the radius on large objects, so that a box
   * costs at most a few thousand samples however large the photo.
   */
  private static final double STEP = 0.5;
  private static final double RELATIVE_STEP = 0.005;

  public EdgeRefinement {
    if (band != 0 && !(band > 0 && band < 0.5)) {
      throw new IllegalArgumentException("an edge band is a fraction of the radius between 0 and 0.5 (exclusive), not "
          + band);
    }
    if (!(grow > -0.2 && grow < 0.2)) {
      throw new IllegalArgumentException("an edge growth is a fraction of the radius between -0.2 and 0.2, not " + grow);
    }
  }

  public boolean enabled() {
    return band > 0;
  }

  /** {@code none} or {@code edges:B}, with 0 < B < 0.5. */
  public static EdgeRefinement parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.isEmpty() || t.equals("none")) {
      return NONE;
    }
    if (!t.startsWith("edges:")) {
      throw new IllegalArgumentException("edge refinement '" + text + "': expected none or edges:B");
    }
    String[] parts = t.substring("edges:".length()).split(":", -1);
    double band;
    double grow;
    try {
      band = Double.parseDouble(parts[0]);
      grow = parts.length > 1 ? Double.parseDouble(parts[1]) : 0;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("edge refinement '" + text + "': the band and growth are numbers", e);
    }
    if (parts.length > 2) {
      throw new IllegalArgumentException("edge refinement '" + text + "': expected edges:B or edges:B:G");
    }
    if (!(band > 0)) {
      throw new IllegalArgumentException("edge refinement '" + text + "': the band is above 0 (none turns it off)");
    }
    try {
      return new EdgeRefinement(band, grow);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("edge refinement '" + text + "': " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    if (!enabled()) {
      return "none";
    }
    return grow == 0 ? "edges:" + trim(band) : "edges:" + trim(band) + ":" + trim(grow);
  }

  private static String trim(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** The box fitted to the object's outline, within the image, or the box itself if no outline agrees. */
  public BoundingBox refine(Luminance image, BoundingBox box, int width, int height) {
    double[] r = refine(image, box.xmin(), box.ymin(), box.xmax(), box.ymax());
    if (r[0] == box.xmin() && r[1] == box.ymin() && r[2] == box.xmax() && r[3] == box.ymax()) {
      return box;
    }
    return new BoundingBox(Letterbox.clip(r[0], width), Letterbox.clip(r[1], height), Letterbox.clip(r[2], width),
        Letterbox.clip(r[3], height));
  }

  /** A box in source pixels: {@code [x0, y0, x1, y1]}. */
  public double[] refine(Luminance image, double x0, double y0, double x1, double y1) {
    double[] model = {x0, y0, x1, y1};
    if (!enabled()) {
      return model;
    }
    double cx = (x0 + x1) / 2;
    double cy = (y0 + y1) / 2;
    double a = (x1 - x0) / 2;
    double b = (y1 - y0) / 2;
    if (Math.min(a, b) < MIN_RADIUS) {
      return model;
    }
    double[] px = new double[RAYS];
    double[] py = new double[RAYS];
    double[] weight = new double[RAYS];
    int[] sign = new int[RAYS];
    int found = 0;
    for (int i = 0; i < RAYS; i++) {
      double t = 2 * Math.PI * i / RAYS;
      double dx = Math.cos(t);
      double dy = Math.sin(t);
      double r0 = a * b / Math.hypot(b * dx, a * dy);
      double best = 0;
      double bestR = Double.NaN;
      int bestSign = 0;
      double stride = Math.max(STEP, RELATIVE_STEP * r0);
      double reach = Math.max(1, 2 * stride);
      for (double r = r0 * (1 - band); r <= r0 * (1 + band); r += stride) {
        double d = step(image, cx, cy, dx, dy, r, reach);
        if (Double.isNaN(d)) {
          bestR = Double.NaN;
          best = 0;
          break; // the ray leaves the image: no outline to trust on it
        }
        if (Math.abs(d) > best) {
          best = Math.abs(d);
          bestR = r;
          bestSign = d > 0 ? 1 : -1;
        }
      }
      if (best < MIN_STEP || Double.isNaN(bestR)) {
        continue;
      }
      // sub-pixel: the vertex of the parabola through the step's strength either side of the best
      double before = Math.abs(step(image, cx, cy, dx, dy, bestR - stride, reach));
      double after = Math.abs(step(image, cx, cy, dx, dy, bestR + stride, reach));
      double curve = before - 2 * best + after;
      double r = bestR;
      if (!Double.isNaN(before) && !Double.isNaN(after) && curve < 0) {
        r += stride * Math.max(-0.5, Math.min(0.5, 0.5 * (before - after) / curve));
      }
      px[found] = dx * r;
      py[found] = dy * r;
      weight[found] = best;
      sign[found] = bestSign;
      found++;
    }
    // an object's outline is one kind of step all round (darker to lighter, or the reverse): the
    // minority is something else
    int majority = 0;
    for (int i = 0; i < found; i++) {
      majority += sign[i];
    }
    boolean[] use = new boolean[found];
    int used = 0;
    for (int i = 0; i < found; i++) {
      use[i] = sign[i] == (majority >= 0 ? 1 : -1);
      used += use[i] ? 1 : 0;
    }
    double[] fit = null;
    for (int round = 0; round < 3; round++) {
      if (used < MIN_AGREEING * RAYS) {
        return model;
      }
      fit = fitEllipse(px, py, weight, use, found);
      if (fit == null) {
        return model;
      }
      double[] residual = new double[found];
      double[] kept = new double[used];
      int k = 0;
      for (int i = 0; i < found; i++) {
        double ex = (px[i] - fit[0]) / fit[2];
        double ey = (py[i] - fit[1]) / fit[3];
        residual[i] = Math.abs(Math.sqrt(ex * ex + ey * ey) - 1);
        if (use[i]) {
          kept[k++] = residual[i];
        }
      }
      Arrays.sort(kept);
      double limit = Math.max(0.02, 2.5 * kept[kept.length / 2]);
      used = 0;
      for (int i = 0; i < found; i++) {
        use[i] = use[i] && residual[i] <= limit;
        used += use[i] ? 1 : 0;
      }
    }
    if (used < MIN_AGREEING * RAYS) {
      return model;
    }
    fit = fitEllipse(px, py, weight, use, found);
    if (fit == null) {
      return model;
    }
    double ra = fit[2] * (1 + grow);
    double rb = fit[3] * (1 + grow);
    double[] refined = {cx + fit[0] - ra, cy + fit[1] - rb, cx + fit[0] + ra, cy + fit[1] + rb};
    return iou(refined, model) >= MIN_IOU_WITH_MODEL ? refined : model;
  }

  /**
   * The brightness step along the ray at radius r (grey levels per pixel, over ± reach pixels), NaN
   * outside the image.
   */
  private static double step(Luminance image, double cx, double cy, double dx, double dy, double r, double reach) {
    double out = image.at(cx + dx * (r + reach), cy + dy * (r + reach));
    double in = image.at(cx + dx * (r - reach), cy + dy * (r - reach));
    return (out - in) / (2 * reach);
  }

  /**
   * Weighted least squares of {@code A x² + C y² + D x + E y = 1} over the used points (relative to
   * the box's centre): an axis-aligned ellipse. Returns {@code [cx, cy, a, b]} relative to the box's
   * centre, or null if the points do not make an ellipse.
   */
  static double[] fitEllipse(double[] x, double[] y, double[] w, boolean[] use, int n) {
    double scale = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (use[i]) {
        scale += Math.hypot(x[i], y[i]);
        m++;
      }
    }
    if (m < 5) {
      return null;
    }
    scale /= m;
    double[][] ata = new double[4][4];
    double[] atb = new double[4];
    for (int i = 0; i < n; i++) {
      if (!use[i]) {
        continue;
      }
      double u = x[i] / scale;
      double v = y[i] / scale;
      double[] row = {u * u, v * v, u, v};
      for (int p = 0; p < 4; p++) {
        atb[p] += w[i] * row[p];
        for (int q = 0; q < 4; q++) {
          ata[p][q] += w[i] * row[p] * row[q];
        }
      }
    }
    double[] s = solve(ata, atb);
    if (s == null || !(s[0] > 0) || !(s[1] > 0)) {
      return null;
    }
    double cu = -s[2] / (2 * s[0]);
    double cv = -s[3] / (2 * s[1]);
    double f = 1 + s[0] * cu * cu + s[1] * cv * cv;
    if (!(f > 0)) {
      return null;
    }
    return new double[] {cu * scale, cv * scale, Math.sqrt(f / s[0]) * scale, Math.sqrt(f / s[1]) * scale};
  }

  /** Gaussian elimination with partial pivoting; null if singular. */
  private static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = Arrays.copyOf(a[i], n + 1);
      m[i][n] = b[i];
    }
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
          p = r;
        }
      }
      if (Math.abs(m[p][c]) < 1e-12) {
        return null;
      }
      double[] t = m[c];
      m[c] = m[p];
      m[p] = t;
      for (int r = 0; r < n; r++) {
        if (r != c) {
          double f = m[r][c] / m[c][c];
          for (int k = c; k <= n; k++) {
            m[r][k] -= f * m[c][k];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = m[i][n] / m[i][i];
    }
    return x;
  }

  static double iou(double[] a, double[] b) {
    double iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
    double ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    if (iw <= 0 || ih <= 0) {
      return 0;
    }
    double inter = iw * ih;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
  }

  /**
   * An image's brightness (ITU-R BT.601 luma, 0–255) with bilinear sampling. For 8-bit interleaved
   * images (what both JPEG decoders produce) it reads the decoded bytes where it is sampled: a few
   * thousand pixels per box, where converting the whole image first would cost a millisecond.
   * Other layouts are converted once through {@link BufferedImage#getRGB}.
   */
  public static final class Luminance {
    private final int width;
    private final int height;
    private final byte[] bytes;
    private final int scanline;
    private final int red;
    private final int green;
    private final int blue;
    private final float[] converted;

    private Luminance(int width, int height, byte[] bytes, int scanline, int[] bands, float[] converted) {
      this.width = width;
      this.height = height;
      this.bytes = bytes;
      this.scanline = scanline;
      this.red = bands == null ? 0 : bands[0];
      this.green = bands == null ? 0 : bands[1];
      this.blue = bands == null ? 0 : bands[2];
      this.converted = converted;
    }

    public static Luminance of(BufferedImage image) {
      int w = image.getWidth();
      int h = image.getHeight();
      Raster raster = image.getRaster();
      if (raster.getSampleModel() instanceof PixelInterleavedSampleModel m && m.getNumBands() == 3
          && m.getPixelStride() == 3 && raster.getDataBuffer() instanceof DataBufferByte buffer
          && buffer.getNumBanks() == 1 && buffer.getOffset() == 0 && raster.getSampleModelTranslateX() == 0
          && raster.getSampleModelTranslateY() == 0) {
        // band k's byte within a pixel is bands[k]: TYPE_3BYTE_BGR stores B, G, R, so its offsets are 2, 1, 0
        return new Luminance(w, h, buffer.getData(), m.getScanlineStride(), m.getBandOffsets(), null);
      }
      int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
      float[] luma = new float[w * h];
      for (int i = 0; i < rgb.length; i++) {
        int c = rgb[i];
        luma[i] = 0.299f * ((c >> 16) & 0xff) + 0.587f * ((c >> 8) & 0xff) + 0.114f * (c & 0xff);
      }
      return new Luminance(w, h, null, 0, null, luma);
    }

    public int width() {
      return width;
    }

    public int height() {
      return height;
    }

    private double pixel(int x, int y) {
      if (converted != null) {
        return converted[y * width + x];
      }
      int p = y * scanline + 3 * x;
      return 0.299 * (bytes[p + red] & 0xff) + 0.587 * (bytes[p + green] & 0xff) + 0.114 * (bytes[p + blue] & 0xff);
    }

    /** Bilinear brightness at a point in pixel coordinates (pixel centres at +0.5), NaN outside. */
    public double at(double x, double y) {
      double fx = x - 0.5;
      double fy = y - 0.5;
      if (!(fx >= 0 && fy >= 0 && fx <= width - 1 && fy <= height - 1)) {
        return Double.NaN;
      }
      int ix = (int) fx;
      int iy = (int) fy;
      int ix1 = Math.min(ix + 1, width - 1);
      int iy1 = Math.min(iy + 1, height - 1);
      double tx = fx - ix;
      double ty = fy - iy;
      return (1 - ty) * ((1 - tx) * pixel(ix, iy) + tx * pixel(ix1, iy))
          + ty * ((1 - tx) * pixel(ix, iy1) + tx * pixel(ix1, iy1));
    }
  }
}
