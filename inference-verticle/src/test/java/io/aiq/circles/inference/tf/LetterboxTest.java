package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The fast letterbox (straight from decoded bytes into the model's input) must feed the model what
 * the Java2D letterbox the model was trained with feeds it: any difference is a change of model.
 */
class LetterboxTest {
  private static final int SIZE = 320;

  private static float[] viaJava2d(BufferedImage img) {
    float[] out = new float[SIZE * SIZE * 3];
    Letterbox.toRgbFloats(Letterbox.of(img.getWidth(), img.getHeight(), SIZE).apply(img), out, 0);
    return out;
  }

  private static float[] viaFill(BufferedImage img) {
    float[] out = new float[SIZE * SIZE * 3];
    java.util.Arrays.fill(out, -1f);
    Letterbox.of(img.getWidth(), img.getHeight(), SIZE).fill(img, out, 0);
    return out;
  }

  private static double maxDifferenceIn255(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]) * 255);
    }
    return max;
  }

  private static BufferedImage decode(byte[] bytes) throws IOException {
    return ImageIO.read(new ByteArrayInputStream(bytes));
  }

  @Test
  void a_landscape_photo_fills_the_input_as_the_java2d_letterbox_does() throws IOException {
    BufferedImage photo = decode(TestImages.otherCoinPhoto());
    assertThat(photo.getType()).isEqualTo(BufferedImage.TYPE_3BYTE_BGR);

    assertThat(maxDifferenceIn255(viaFill(photo), viaJava2d(photo))).isLessThanOrEqualTo(2.0);
  }

  @Test
  void a_portrait_image_upscaled_to_the_input_matches_too() throws IOException {
    BufferedImage small = new BufferedImage(90, 200, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = small.createGraphics();
    g.drawImage(decode(TestImages.coinPhoto()), 0, 0, 90, 200, null);
    g.dispose();

    assertThat(maxDifferenceIn255(viaFill(small), viaJava2d(small))).isLessThanOrEqualTo(2.0);
  }

  @Test
  void rgb_bytes_from_tensorflow_read_the_same_as_bgr_from_imageio() throws IOException {
    BufferedImage bgr = decode(TestImages.coinPhoto());
    int w = bgr.getWidth();
    int h = bgr.getHeight();
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = bgr.getRGB(x, y);
        int o = (y * w + x) * 3;
        rgb[o] = (byte) (p >> 16);
        rgb[o + 1] = (byte) (p >> 8);
        rgb[o + 2] = (byte) p;
      }
    }

    assertThat(viaFill(TfJpegDecoder.rgbImage(w, h, rgb))).isEqualTo(viaFill(bgr));
  }

  @Test
  void other_pixel_layouts_go_through_java2d_unchanged() {
    BufferedImage grey = new BufferedImage(300, 100, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = grey.createGraphics();
    g.setColor(Color.WHITE);
    g.fillOval(100, 10, 80, 80);
    g.dispose();

    assertThat(viaFill(grey)).isEqualTo(viaJava2d(grey));
  }

  @Test
  void the_margins_are_the_padding_grey_and_every_value_is_written() throws IOException {
    BufferedImage photo = decode(TestImages.coinPhoto()); // 512×236: bands above and below
    float[] out = viaFill(photo);
    float pad = Letterbox.PAD.getRed() / 255f;

    assertThat(out).doesNotContain(-1f);
    assertThat(out[0]).isEqualTo(pad);
    assertThat(out[out.length - 1]).isEqualTo(pad);
    int middle = (SIZE / 2 * SIZE + SIZE / 2) * 3;
    assertThat(out[middle]).isBetween(0f, 1f);
  }
}
