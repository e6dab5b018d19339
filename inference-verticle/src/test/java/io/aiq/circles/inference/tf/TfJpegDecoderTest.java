package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.images.ImageDecoder;
import io.aiq.circles.testing.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** JPEGs decoded by TensorFlow are the pictures ImageIO sees; what TensorFlow refuses, ImageIO judges. */
class TfJpegDecoderTest {
  static final Path SHIPPED_MODEL = Path.of("../models/circles");
  private static TfJpegDecoder decoder;
  private static TfDetector detector;

  @BeforeAll
  static void open() throws IOException {
    decoder = new TfJpegDecoder();
    detector = new TfDetector(SHIPPED_MODEL, 1, null);
  }

  @AfterAll
  static void close() {
    decoder.close();
    detector.close();
  }

  private static double meanDifference(BufferedImage a, BufferedImage b) {
    long sum = 0;
    for (int y = 0; y < a.getHeight(); y++) {
      for (int x = 0; x < a.getWidth(); x++) {
        int p = a.getRGB(x, y);
        int q = b.getRGB(x, y);
        for (int shift = 0; shift <= 16; shift += 8) {
          sum += Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
        }
      }
    }
    return sum / (3.0 * a.getWidth() * a.getHeight());
  }

  @Test
  void a_coin_photo_decodes_to_the_pixels_imageio_decodes() throws IOException {
    byte[] jpeg = TestImages.otherCoinPhoto();
    BufferedImage viaImageIo = ImageIO.read(new ByteArrayInputStream(jpeg));

    BufferedImage viaTf = decoder.decode(jpeg);

    assertThat(viaTf.getWidth()).isEqualTo(viaImageIo.getWidth());
    assertThat(viaTf.getHeight()).isEqualTo(viaImageIo.getHeight());
    assertThat(meanDifference(viaTf, viaImageIo)).isLessThan(1.0);
  }

  @Test
  void a_grey_jpeg_comes_out_as_rgb() throws IOException {
    BufferedImage grey = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setSample(10, 10, 0, 200);
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    ImageIO.write(grey, "jpg", jpeg);

    BufferedImage decoded = decoder.decode(jpeg.toByteArray());

    assertThat(decoded.getRaster().getNumBands()).isEqualTo(3);
    assertThat(decoded.getWidth()).isEqualTo(64);
  }

  @Test
  void tensorflow_refuses_a_truncated_jpeg() {
    assertThatThrownBy(() -> decoder.decode(TestImages.truncated(TestImages.coinPhoto(), 0.5)))
        .hasMessageContaining("Invalid JPEG data");
  }

  @Test
  void the_detector_hands_what_tensorflow_refuses_to_imageio() {
    byte[] notAJpegInside = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 'n', 'o', 't', ' ', 'a', ' ', 'j', 'p', 'e', 'g'};

    assertThatThrownBy(() -> detector.decode(notAJpegInside)).isInstanceOf(ImageDecoder.CorruptImageException.class);
  }

  @Test
  void the_detector_decodes_png_through_imageio() {
    BufferedImage png = detector.decode(TestImages.discs(120, 80, "png", 3));

    assertThat(png.getWidth()).isEqualTo(120);
    assertThat(png.getHeight()).isEqualTo(80);
  }

  @Test
  void the_detector_finds_the_same_coins_from_either_decoder() throws IOException {
    byte[] jpeg = TestImages.otherCoinPhoto();
    var viaTf = detector.detect(java.util.List.of(detector.decode(jpeg))).get(0);
    var viaImageIo = detector.detect(java.util.List.of(ImageIO.read(new ByteArrayInputStream(jpeg)))).get(0);

    assertThat(viaTf).isNotEmpty().hasSameSizeAs(viaImageIo);
    for (int i = 0; i < viaTf.size(); i++) {
      assertThat(viaTf.get(i).bbox().xmin()).isCloseTo(viaImageIo.get(i).bbox().xmin(), org.assertj.core.data.Offset.offset(2.0));
      assertThat(viaTf.get(i).bbox().ymax()).isCloseTo(viaImageIo.get(i).bbox().ymax(), org.assertj.core.data.Offset.offset(2.0));
    }
  }
}
