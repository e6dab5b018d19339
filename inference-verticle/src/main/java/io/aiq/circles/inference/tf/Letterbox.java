package io.aiq.circles.inference.tf;

import io.aiq.circles.contracts.BoundingBox;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;

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

  private static double clip(double v, int max) {
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
