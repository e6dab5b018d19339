package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aiq.circles.contracts.BoundingBox;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protocol's figures on cases small enough to work out by hand. */
class EvaluationTest {
  private static final BoundingBox COIN = new BoundingBox(0, 0, 10, 10);

  private static Prediction p(double x0, double y0, double x1, double y1, double score) {
    return new Prediction(new BoundingBox(x0, y0, x1, y1), score);
  }

  @Test
  void no_predictions_are_all_false_negatives() {
    Evaluation.Assignment a = Evaluation.assign(List.of(), List.of(COIN, new BoundingBox(20, 20, 30, 30)));
    Evaluation.Counts c = Evaluation.counts(a, 0.5);

    assertThat(c.tp()).isZero();
    assertThat(c.fp()).isZero();
    assertThat(c.fn()).isEqualTo(2);
    assertThat(c.precision()).isZero();
    assertThat(c.recall()).isZero();
    assertThat(c.f1()).isZero();
    assertThat(c.meanIou()).isNull();
    assertThat(Evaluation.jaccardOf(a)).isZero();
  }

  @Test
  void predictions_without_ground_truth_are_all_false_positives() {
    Evaluation.Assignment a = Evaluation.assign(List.of(p(0, 0, 5, 5, 0.9), p(1, 1, 4, 4, 0.5)), List.of());
    Evaluation.Counts c = Evaluation.counts(a, 0.3);

    assertThat(c.fp()).isEqualTo(2);
    assertThat(c.fn()).isZero();
    assertThat(c.precision()).isZero();
    assertThat(Evaluation.jaccardOf(a)).isZero();
  }

  @Test
  void an_image_with_nothing_to_find_and_nothing_found_is_a_perfect_jaccard() {
    Evaluation.Assignment a = Evaluation.assign(List.of(), List.of());
    assertThat(Evaluation.jaccardOf(a)).isEqualTo(1.0);
    assertThat(Evaluation.counts(a, 0.5).f1()).isZero();
  }

  @Test
  void a_duplicate_prediction_is_one_true_and_one_false_positive() {
    Evaluation.Assignment a = Evaluation.assign(List.of(p(0, 0, 10, 10, 0.9), p(0, 0, 10, 10, 0.8)), List.of(COIN));
    for (double t : Evaluation.THRESHOLDS) {
      Evaluation.Counts c = Evaluation.counts(a, t);
      assertThat(c.tp()).isEqualTo(1);
      assertThat(c.fp()).isEqualTo(1);
      assertThat(c.fn()).isZero();
      assertThat(c.f1()).isCloseTo(2 * 0.5 * 1 / 1.5, within(1e-12));
    }
    assertThat(Evaluation.jaccardOf(a)).isEqualTo(1.0);
  }

  @Test
  void a_prediction_spanning_two_coins_matches_at_most_one_of_them() {
    // IoU with each coin: 100 / 200 = 0.5
    Evaluation.Assignment a = Evaluation.assign(List.of(p(0, 0, 20, 10, 0.9)),
        List.of(COIN, new BoundingBox(10, 0, 20, 10)));

    assertThat(Evaluation.counts(a, 0.5)).isEqualTo(new Evaluation.Counts(1, 0, 1, 0.5));
    assertThat(Evaluation.counts(a, 0.7)).isEqualTo(new Evaluation.Counts(0, 1, 2, 0));
    assertThat(Evaluation.jaccardOf(a)).isEqualTo(1.0);
  }

  @Test
  void boxes_on_the_image_border_count_like_any_other() {
    Evaluation.Assignment a = Evaluation.assign(List.of(p(0, 0, 5, 5, 0.6)), List.of(new BoundingBox(0, 0, 5, 5)));
    assertThat(Evaluation.counts(a, 0.9).tp()).isEqualTo(1);
    assertThat(Evaluation.counts(a, 0.9).meanIou()).isEqualTo(1.0);
  }

  @Test
  void the_jaccard_index_compares_the_union_of_the_boxes_not_the_boxes() {
    List<BoundingBox> overlappingCoins = List.of(new BoundingBox(0, 0, 10, 10), new BoundingBox(5, 0, 15, 10));
    assertThat(Geometry.unionJaccard(List.of(new BoundingBox(0, 0, 15, 10)), overlappingCoins)).isEqualTo(1.0);
    assertThat(Geometry.unionJaccard(List.of(new BoundingBox(0, 0, 10, 10)), overlappingCoins))
        .isCloseTo(100.0 / 150.0, within(1e-12));
    assertThat(Geometry.unionJaccard(List.of(new BoundingBox(20, 20, 30, 30)), overlappingCoins)).isZero();
  }

  @Test
  void the_assignment_maximises_matches_where_greedy_would_not() {
    // the best-overlapping pair (p0, g0) is a trap: taking it leaves p1 without a partner
    Evaluation.Assignment a = Evaluation.assign(List.of(p(0, 0, 10, 10, 0.9), p(6, 0, 16, 10, 0.8)),
        List.of(new BoundingBox(2, 0, 12, 10), new BoundingBox(-3, 0, 7, 10)));
    assertThat(Evaluation.counts(a, 0.3).tp()).isEqualTo(2);
  }

  @Test
  void coco_average_precision_on_a_ranked_list_worked_out_by_hand() {
    // ranked: TP (0.9), FP (0.8), TP (0.7) over 2 coins: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    List<Prediction> preds = List.of(p(0, 0, 10, 10, 0.9), p(50, 50, 60, 60, 0.8), p(20, 0, 30, 10, 0.7));
    List<BoundingBox> truth = List.of(COIN, new BoundingBox(20, 0, 30, 10));

    Evaluation.AveragePrecision ap = Evaluation.averagePrecision(List.of(preds), List.of(truth), 0.5);

    assertThat(ap.ap()).isCloseTo((51 * 1.0 + 50 * (2.0 / 3.0)) / 101, within(1e-12));
    assertThat(ap.precision()[50]).isEqualTo(1.0);
    assertThat(ap.precision()[51]).isCloseTo(2.0 / 3.0, within(1e-12));
  }

  @Test
  void average_precision_is_undefined_without_ground_truth() {
    assertThat(Evaluation.averagePrecision(List.of(List.of(p(0, 0, 1, 1, 0.5))), List.of(List.of()), 0.5).ap()).isNull();
  }

  @Test
  void the_best_score_threshold_is_the_lowest_with_the_highest_f1() {
    List<Prediction> preds = List.of(p(0, 0, 10, 10, 0.9), p(50, 50, 60, 60, 0.8), p(20, 0, 30, 10, 0.7));
    List<BoundingBox> truth = List.of(COIN, new BoundingBox(20, 0, 30, 10));

    Evaluation.Counts[] byScore = Evaluation.countsByScoreThreshold(List.of(preds), List.of(truth));
    Evaluation.BestThreshold best = Evaluation.bestThreshold(byScore);

    assertThat(best.score()).isEqualTo(0.0);
    assertThat(best.counts().f1()).isCloseTo(0.8, within(1e-12));
    assertThat(byScore[75].f1()).isCloseTo(0.5, within(1e-12));
    assertThat(byScore[85].f1()).isCloseTo(2.0 / 3.0, within(1e-12));
    assertThat(byScore[95].f1()).isZero();
  }
}
