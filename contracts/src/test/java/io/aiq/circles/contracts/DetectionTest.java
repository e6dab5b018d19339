package io.aiq.circles.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DetectionTest {
  @Test
  void the_circle_is_the_box_centre_and_half_the_mean_side() {
    Detection d = new Detection(new BoundingBox(10, 20, 50, 80), 0.7);

    assertThat(d.centroidX()).isEqualTo(30.0);
    assertThat(d.centroidY()).isEqualTo(50.0);
    assertThat(d.radius()).isEqualTo((40.0 + 60.0) / 4.0);
  }

  @Test
  void topics_carry_the_prefix_of_the_deployment() {
    assertThat(Topics.withPrefix("").all()).containsExactly("aiq.images.submitted", "aiq.detections.started",
        "aiq.detections.completed", "aiq.detections.failed", "aiq.images.deleted", "aiq.jobs.cancelled", "aiq.dlq");
    assertThat(Topics.withPrefix("dev.").imagesSubmitted()).isEqualTo("dev.aiq.images.submitted");
  }
}
