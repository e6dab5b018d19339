package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.images.ImageDecoder;
import io.aiq.circles.images.UploadRejected;
import io.aiq.circles.images.UploadValidator;
import io.aiq.circles.images.ValidatedImage;
import io.aiq.circles.testing.TestImages;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The fuzz corpus through the served path with the shipped model: every mutated file the upload
 * validator lets through is decoded as the inference role decodes it (TensorFlow's JPEG decoder on
 * the caller's thread, ImageIO for the rest and for what TensorFlow refuses) and detected. Each one
 * decodes to the size the validator read and gets boxes inside the image, or is refused as corrupt;
 * nothing else escapes, and the process is still there to say so. (The end-to-end corpus,
 * MutatedUploadsTest, runs on the dummy detector, whose decoder is ImageIO alone.)
 */
class ServedDecoderFuzzTest {
  private static final int CASES = 800;

  @Test
  void mutated_files_that_pass_validation_decode_and_detect_or_are_refused_as_corrupt() throws Exception {
    Random random = new Random(20261202);
    List<byte[]> seeds = List.of(TestImages.coinPhoto(), TestImages.otherCoinPhoto(),
        TestImages.discs(200, 150, "jpg", 1), TestImages.discs(120, 80, "png", 2));
    UploadValidator validator = new UploadValidator(20L << 20, 2_000_000);
    Map<String, Integer> outcomes = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    try (TfDetector detector = new TfDetector(TfJpegDecoderTest.SHIPPED_MODEL, 1, null)) {
      for (int i = 0; i < CASES; i++) {
        byte[] mutated = TestImages.mutate(seeds.get(i % seeds.size()), random);
        ValidatedImage header;
        try {
          header = validator.validate(mutated);
        } catch (UploadRejected e) {
          outcomes.merge("refused at upload: " + e.code(), 1, Integer::sum);
          continue;
        }
        try {
          BufferedImage image = detector.decode(mutated);
          if (image.getWidth() != header.width() || image.getHeight() != header.height()) {
            failures.add("case " + i + ": validated as " + header.width() + "x" + header.height() + ", decoded as "
                + image.getWidth() + "x" + image.getHeight());
          }
          for (Detection d : detector.detect(List.of(image)).get(0)) {
            if (d.bbox().xmin() < 0 || d.bbox().ymin() < 0 || d.bbox().xmax() > image.getWidth()
                || d.bbox().ymax() > image.getHeight()) {
              failures.add("case " + i + ": a box outside the image: " + d.bbox());
            }
          }
          outcomes.merge("decoded and detected", 1, Integer::sum);
        } catch (ImageDecoder.CorruptImageException e) {
          outcomes.merge("corrupt_image", 1, Integer::sum);
        } catch (Throwable t) {
          failures.add("case " + i + ": " + t);
        }
      }
    }
    System.out.println("served decoder, mutated files: " + outcomes);
    assertThat(failures).isEmpty();
    assertThat(outcomes.getOrDefault("decoded and detected", 0)).as("some mutations still decode").isPositive();
    assertThat(outcomes.keySet()).as("and some are refused at upload").anyMatch(k -> k.startsWith("refused"));
  }
}
