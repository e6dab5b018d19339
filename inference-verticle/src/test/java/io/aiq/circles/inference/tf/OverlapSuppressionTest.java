package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** One box per object: what each suppression setting keeps of overlapping boxes. */
class OverlapSuppressionTest {
  private static CenterDecoder.Candidate box(double x0, double y0, double size, double score) {
    return new CenterDecoder.Candidate(x0, y0, x0 + size, y0 + size, score);
  }

  @Test
  void a_second_box_on_the_same_coin_is_dropped_and_the_better_scored_one_kept() {
    CenterDecoder.Candidate coin = box(100, 100, 60, 0.9);
    CenterDecoder.Candidate shifted = box(106, 104, 60, 0.5);

    List<CenterDecoder.Candidate> kept = OverlapSuppression.parse("iou:0.5").apply(List.of(shifted, coin));

    assertThat(kept).containsExactly(coin);
  }

  @Test
  void coins_that_touch_or_overlap_a_little_are_all_kept() {
    CenterDecoder.Candidate a = box(0, 0, 50, 0.9);
    CenterDecoder.Candidate touching = box(50, 0, 50, 0.8);
    CenterDecoder.Candidate overlapping = box(40, 40, 50, 0.7);

    assertThat(OverlapSuppression.parse("iou:0.3").apply(List.of(a, touching, overlapping)))
        .containsExactly(a, touching, overlapping);
    assertThat(OverlapSuppression.parse("smaller:0.6").apply(List.of(a, touching, overlapping)))
        .containsExactly(a, touching, overlapping);
  }

  @Test
  void a_small_box_inside_a_large_one_escapes_iou_but_not_the_smaller_box_measure() {
    CenterDecoder.Candidate large = box(0, 0, 100, 0.9);
    CenterDecoder.Candidate inside = box(30, 30, 40, 0.6);

    assertThat(OverlapSuppression.parse("iou:0.5").apply(List.of(large, inside))).containsExactly(large, inside);
    assertThat(OverlapSuppression.parse("smaller:0.8").apply(List.of(large, inside))).containsExactly(large);
  }

  @Test
  void none_keeps_every_box_best_score_first() {
    CenterDecoder.Candidate a = box(0, 0, 10, 0.2);
    CenterDecoder.Candidate b = box(0, 0, 10, 0.7);

    assertThat(OverlapSuppression.parse("none").apply(List.of(a, b))).containsExactly(b, a);
    assertThat(OverlapSuppression.parse("")).isEqualTo(OverlapSuppression.NONE);
  }

  @Test
  void suppressing_then_thresholding_keeps_what_thresholding_then_suppressing_keeps() {
    Random random = new Random(3);
    for (String setting : List.of("iou:0.3", "iou:0.5", "smaller:0.6")) {
      OverlapSuppression suppression = OverlapSuppression.parse(setting);
      for (int trial = 0; trial < 200; trial++) {
        List<CenterDecoder.Candidate> boxes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          boxes.add(box(random.nextInt(100), random.nextInt(100), 10 + random.nextInt(60), random.nextDouble()));
        }
        double threshold = random.nextDouble();
        List<CenterDecoder.Candidate> after = suppression.apply(boxes).stream().filter(c -> c.score() >= threshold).toList();
        List<CenterDecoder.Candidate> before = suppression.apply(boxes.stream().filter(c -> c.score() >= threshold).toList());
        assertThat(after).as(setting + " trial " + trial).isEqualTo(before);
      }
    }
  }

  @Test
  void the_decoder_suppresses_before_it_keeps_the_best_boxes() {
    // a 4×4 grid, stride 10: two peaks on one object (cells 0 and 1) and one elsewhere (cell 15)
    float[] peaks = new float[16];
    peaks[0] = 0.9f;
    peaks[1] = 0.8f;
    peaks[15] = 0.4f;
    float[] sizes = new float[32];
    float[] offsets = new float[32];
    for (int cell = 0; cell < 16; cell++) {
      sizes[2 * cell] = 40;
      sizes[2 * cell + 1] = 40;
    }

    List<CenterDecoder.Candidate> unsuppressed = CenterDecoder.decode(peaks, 0, sizes, offsets, 0, 4, 10, 0.3,
        OverlapSuppression.NONE, 2);
    List<CenterDecoder.Candidate> suppressed = CenterDecoder.decode(peaks, 0, sizes, offsets, 0, 4, 10, 0.3,
        OverlapSuppression.parse("iou:0.5"), 2);

    assertThat(unsuppressed).extracting(CenterDecoder.Candidate::score).containsExactly(0.9f * 1.0, 0.8f * 1.0);
    assertThat(suppressed).extracting(CenterDecoder.Candidate::score).containsExactly(0.9f * 1.0, 0.4f * 1.0);
  }

  @Test
  void a_setting_that_is_not_none_iou_or_smaller_with_a_limit_in_0_to_1_is_refused() {
    for (String bad : List.of("iou", "iou:", "iou:x", "iou:0", "iou:1", "smaller:1.5", "giou:0.5", "0.5")) {
      assertThatThrownBy(() -> OverlapSuppression.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad);
    }
  }

  @Test
  void a_setting_reads_back_as_it_was_written() {
    for (String s : List.of("none", "iou:0.5", "smaller:0.8")) {
      assertThat(OverlapSuppression.parse(s)).hasToString(s);
    }
  }
}
