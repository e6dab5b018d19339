package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.inference.tf.Letterbox;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes a new training view of a sample: a random crop (scale and aspect), placed at a random size
 * and position in the square input, one of the 8 flips/rotations by quarter turns, colour and
 * contrast jitter and sensor noise. Coins whose centre leaves the crop are dropped; the rest are
 * clipped to it.
 */
public final class Augmenter {
  private final Random random;
  private final int size;

  public Augmenter(Random random, int size) {
    this.random = random;
    this.size = size;
  }

  /** An input ({@code size × size × 3} RGB floats in [0, 1]) and its coins in input pixels. */
  public record View(float[] pixels, List<BoundingBox> coins) {
  }

  public View augment(Sample s) {
    int w = s.image().getWidth();
    int h = s.image().getHeight();
    double cw = w * uniform(0.55, 1.0);
    double ch = h * uniform(0.55, 1.0);
    double x0 = random.nextDouble() * (w - cw);
    double y0 = random.nextDouble() * (h - ch);
    double scale = Math.min(size / cw, size / ch) * uniform(0.6, 1.0);
    double dw = cw * scale;
    double dh = ch * scale;
    double px = random.nextDouble() * (size - dw);
    double py = random.nextDouble() * (size - dh);

    BufferedImage canvas = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = canvas.createGraphics();
    g.setColor(Letterbox.PAD);
    g.fillRect(0, 0, size, size);
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(s.image(), (int) Math.round(px), (int) Math.round(py), (int) Math.round(px + dw), (int) Math.round(py + dh),
        (int) Math.round(x0), (int) Math.round(y0), (int) Math.round(x0 + cw), (int) Math.round(y0 + ch), null);
    g.dispose();

    List<BoundingBox> coins = new ArrayList<>();
    for (BoundingBox b : s.coins()) {
      double cx = (b.xmin() + b.xmax()) / 2;
      double cy = (b.ymin() + b.ymax()) / 2;
      if (cx < x0 || cx > x0 + cw || cy < y0 || cy > y0 + ch) {
        continue;
      }
      double bx0 = (Math.max(b.xmin(), x0) - x0) * scale + px;
      double by0 = (Math.max(b.ymin(), y0) - y0) * scale + py;
      double bx1 = (Math.min(b.xmax(), x0 + cw) - x0) * scale + px;
      double by1 = (Math.min(b.ymax(), y0 + ch) - y0) * scale + py;
      if (bx1 - bx0 >= 2 && by1 - by0 >= 2) {
        coins.add(new BoundingBox(bx0, by0, bx1, by1));
      }
    }

    float[] pixels = new float[size * size * 3];
    Letterbox.toRgbFloats(canvas, pixels, 0);
    int symmetry = random.nextInt(8);
    pixels = transform(pixels, symmetry);
    coins = coins.stream().map(b -> transform(b, symmetry)).toList();
    jitter(pixels);
    return new View(pixels, coins);
  }

  /** The view of a sample with no randomness: the plain letterbox, as served. */
  public static View plain(Sample s, int size) {
    Letterbox lb = Letterbox.of(s.image().getWidth(), s.image().getHeight(), size);
    float[] pixels = new float[size * size * 3];
    Letterbox.toRgbFloats(lb.apply(s.image()), pixels, 0);
    return new View(pixels, s.coins().stream().map(lb::toInput).toList());
  }

  private double uniform(double lo, double hi) {
    return lo + random.nextDouble() * (hi - lo);
  }

  /** Bit 0: mirror x; bit 1: mirror y; bit 2: transpose (with the mirrors: the 8 symmetries of a square). */
  private float[] transform(float[] src, int symmetry) {
    if (symmetry == 0) {
      return src;
    }
    float[] out = new float[src.length];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int[] t = map(x, y, symmetry);
        System.arraycopy(src, 3 * (y * size + x), out, 3 * (t[1] * size + t[0]), 3);
      }
    }
    return out;
  }

  private int[] map(int x, int y, int symmetry) {
    int nx = (symmetry & 1) != 0 ? size - 1 - x : x;
    int ny = (symmetry & 2) != 0 ? size - 1 - y : y;
    return (symmetry & 4) != 0 ? new int[] {ny, nx} : new int[] {nx, ny};
  }

  private BoundingBox transform(BoundingBox b, int symmetry) {
    double x0 = b.xmin();
    double x1 = b.xmax();
    double y0 = b.ymin();
    double y1 = b.ymax();
    if ((symmetry & 1) != 0) {
      double t = size - x1;
      x1 = size - x0;
      x0 = t;
    }
    if ((symmetry & 2) != 0) {
      double t = size - y1;
      y1 = size - y0;
      y0 = t;
    }
    return (symmetry & 4) != 0 ? new BoundingBox(y0, x0, y1, x1) : new BoundingBox(x0, y0, x1, y1);
  }

  private void jitter(float[] p) {
    float brightness = (float) uniform(-0.15, 0.15);
    float contrast = (float) uniform(0.7, 1.3);
    float[] gain = {(float) uniform(0.9, 1.1), (float) uniform(0.9, 1.1), (float) uniform(0.9, 1.1)};
    float noise = random.nextDouble() < 0.3 ? (float) uniform(0.0, 0.04) : 0f;
    for (int i = 0; i < p.length; i++) {
      float v = (p[i] - 0.5f) * contrast + 0.5f + brightness;
      v *= gain[i % 3];
      if (noise > 0) {
        v += (float) random.nextGaussian() * noise;
      }
      p[i] = Math.max(0f, Math.min(1f, v));
    }
  }
}
