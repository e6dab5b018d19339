package io.aiq.circles.inference.tf;

import io.aiq.circles.contracts.BoundingBox;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;

/**
 * Fits an image into the model's square input without distorting it: scaled to fit, centred, the
 * rest filled with grey. The same geometry maps boxes back to the original image's pixels.
 */
public record Letterbox(double scale, double padX, double padY, int sourceWidth, int sourceHeight, int size) {

  public static final Color PAD = new Color(114, 114, 114);

  public static Letterbox of(int width, int height, int size) {
    double scale = Math.min((double) size / width, (double) size / height);
    double w = width * scale;
    double h = height * scale;
    return new Letterbox(scale, (size - w) / 2, (size - h) / 2, width, height, size);
  }

  /** The letterboxed image, 3-byte BGR, {@code size × size}. */
  public BufferedImage apply(BufferedImage source) {
    BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    g.setColor(PAD);
    g.fillRect(0, 0, size, size);
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(source, (int) Math.round(padX), (int) Math.round(padY),
        (int) Math.round(sourceWidth * scale), (int) Math.round(sourceHeight * scale), null);
    g.dispose();
    return out;
  }

  /**
   * Writes the letterboxed image straight into {@code out} at {@code offset} as RGB floats in [0, 1]
   * (NHWC), as {@link #apply} followed by {@link #toRgbFloats} would, but without Java2D: bilinear
   * samples at pixel centres read from the decoded bytes. That is several times faster for 8-bit
   * RGB/BGR images (what both JPEG decoders produce); other layouts go through Java2D.
   */
  public void fill(BufferedImage source, float[] out, int offset) {
    Raster raster = source.getRaster();
    if (!(raster.getSampleModel() instanceof PixelInterleavedSampleModel sm) || sm.getNumBands() != 3
        || sm.getPixelStride() != 3 || !(raster.getDataBuffer() instanceof DataBufferByte buffer)
        || buffer.getNumBanks() != 1 || buffer.getOffset() != 0 || raster.getSampleModelTranslateX() != 0
        || raster.getSampleModelTranslateY() != 0 || source.getWidth() != sourceWidth
        || source.getHeight() != sourceHeight) {
      toRgbFloats(apply(source), out, offset);
      return;
    }
    byte[] data = buffer.getData();
    int[] band = sm.getBandOffsets();
    int scanline = sm.getScanlineStride();
    int x0 = (int) Math.round(padX);
    int y0 = (int) Math.round(padY);
    int w = Math.min((int) Math.round(sourceWidth * scale), size - x0);
    int h = Math.min((int) Math.round(sourceHeight * scale), size - y0);
    // per output column: the two source columns (as byte offsets) and the weight of the second
    int[] left = new int[w];
    int[] right = new int[w];
    float[] wx = new float[w];
    for (int x = 0; x < w; x++) {
      double sx = Math.max(0, (x + 0.5) * sourceWidth / w - 0.5);
      int c = Math.min((int) sx, sourceWidth - 1);
      left[x] = c * 3;
      right[x] = Math.min(c + 1, sourceWidth - 1) * 3;
      wx[x] = (float) (sx - c);
    }
    float pad = PAD.getRed() / 255f;
    java.util.Arrays.fill(out, offset, offset + size * size * 3, pad);
    int kr = band[0];
    int kg = band[1];
    int kb = band[2];
    float inv = 1f / 255f;
    for (int y = 0; y < h; y++) {
      double sy = Math.max(0, (y + 0.5) * sourceHeight / h - 0.5);
      int r = Math.min((int) sy, sourceHeight - 1);
      float fy = (float) (sy - r);
      int top = r * scanline;
      int bottom = Math.min(r + 1, sourceHeight - 1) * scanline;
      int o = offset + ((y0 + y) * size + x0) * 3;
      for (int x = 0; x < w; x++, o += 3) {
        float fx = wx[x];
        int tl = top + left[x];
        int tr = top + right[x];
        int bl = bottom + left[x];
        int br = bottom + right[x];
        out[o] = bilinear(data, tl + kr, tr + kr, bl + kr, br + kr, fx, fy) * inv;
        out[o + 1] = bilinear(data, tl + kg, tr + kg, bl + kg, br + kg, fx, fy) * inv;
        out[o + 2] = bilinear(data, tl + kb, tr + kb, bl + kb, br + kb, fx, fy) * inv;
      }
    }
  }

  private static float bilinear(byte[] d, int tl, int tr, int bl, int br, float fx, float fy) {
    float a = d[tl] & 0xff;
    float upper = a + fx * ((d[tr] & 0xff) - a);
    float c = d[bl] & 0xff;
    float lower = c + fx * ((d[br] & 0xff) - c);
    return upper + fy * (lower - upper);
  }

  /** A box in input pixels, back in the original image's pixels, clipped to it. */
  public BoundingBox toSource(double x0, double y0, double x1, double y1) {
    return new BoundingBox(clip((x0 - padX) / scale, sourceWidth), clip((y0 - padY) / scale, sourceHeight),
        clip((x1 - padX) / scale, sourceWidth), clip((y1 - padY) / scale, sourceHeight));
  }

  /** A box in the original image's pixels, in input pixels. */
  public BoundingBox toInput(BoundingBox b) {
    return new BoundingBox(b.xmin() * scale + padX, b.ymin() * scale + padY, b.xmax() * scale + padX,
        b.ymax() * scale + padY);
  }

  /** {@code v} within {@code [0, max]}: a coordinate kept inside an image {@code max} pixels across. */
  static double clip(double v, int max) {
    return Math.max(0, Math.min(max, v));
  }

  /**
   * Writes a letterboxed image into {@code out} at {@code offset} as RGB floats in [0, 1], the model's
   * input layout (NHWC).
   */
  public static void toRgbFloats(BufferedImage letterboxed, float[] out, int offset) {
    byte[] bgr = ((DataBufferByte) letterboxed.getRaster().getDataBuffer()).getData();
    int pixels = letterboxed.getWidth() * letterboxed.getHeight();
    for (int p = 0; p < pixels; p++) {
      out[offset + 3 * p] = (bgr[3 * p + 2] & 0xff) / 255f;
      out[offset + 3 * p + 1] = (bgr[3 * p + 1] & 0xff) / 255f;
      out[offset + 3 * p + 2] = (bgr[3 * p] & 0xff) / 255f;
    }
  }
}
