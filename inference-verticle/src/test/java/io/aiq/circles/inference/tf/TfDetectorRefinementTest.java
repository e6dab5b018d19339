package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.testing.TestImages;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The served path with edge refinement: the same objects with the same scores as without it, each
 * box moved only to the outline near it, and the image's edges respected.
 */
class TfDetectorRefinementTest {
  private static List<Detection> detect(EdgeRefinement refinement, byte[] jpeg) throws Exception {
    try (TfDetector detector = new TfDetector(TfJpegDecoderTest.SHIPPED_MODEL, 1, null, null, refinement)) {
      BufferedImage image = detector.decode(jpeg);
      return detector.detect(List.of(image)).get(0);
    }
  }

  private static double iou(BoundingBox a, BoundingBox b) {
    return EdgeRefinement.iou(new double[] {a.xmin(), a.ymin(), a.xmax(), a.ymax()},
        new double[] {b.xmin(), b.ymin(), b.xmax(), b.ymax()});
  }

  @Test
  void refined_boxes_are_the_models_objects_fitted_to_their_outlines() throws Exception {
    byte[] photo = TestImages.otherCoinPhoto();

    List<Detection> plain = detect(EdgeRefinement.NONE, photo);
    List<Detection> refined = detect(EdgeRefinement.parse("edges:0.12:0.02"), photo);

    assertThat(plain).isNotEmpty();
    assertThat(refined).hasSameSizeAs(plain);
    int moved = 0;
    for (int i = 0; i < plain.size(); i++) {
      BoundingBox before = plain.get(i).bbox();
      BoundingBox after = refined.get(i).bbox();
      assertThat(refined.get(i).score()).isEqualTo(plain.get(i).score());
      assertThat(iou(before, after)).as("box %d stays on its object", i)
          .isGreaterThanOrEqualTo(EdgeRefinement.MIN_IOU_WITH_MODEL - 1e-9);
      moved += before.equals(after) ? 0 : 1;
    }
    assertThat(moved).as("some box found its outline").isPositive();
  }
}
