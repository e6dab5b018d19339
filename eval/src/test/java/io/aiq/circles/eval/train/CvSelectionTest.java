package io.aiq.circles.eval.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.eval.Prediction;
import io.aiq.circles.inference.tf.OverlapSuppression;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Choosing the served post-processing on fold models' held-out predictions: no fold is scored at a
 * threshold chosen on itself, and a setting wins on its mean over the folds.
 */
class CvSelectionTest {
  private static final BoundingBox COIN = new BoundingBox(10, 10, 60, 60);

  private static Prediction at(BoundingBox b, double score) {
    return new Prediction(b, score);
  }

  /** A fold of images that each hold one coin, found with score {@code hit}, and a stray box scored {@code stray}. */
  private static CvSelection.FoldPredictions fold(int k, int images, double hit, double stray) {
    List<List<Prediction>> predictions = new ArrayList<>();
    List<List<BoundingBox>> truth = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      predictions.add(List.of(at(COIN, hit), at(new BoundingBox(200, 200, 240, 240), stray)));
      truth.add(List.of(COIN));
    }
    return new CvSelection.FoldPredictions(k, predictions, truth);
  }

  @Test
  void each_fold_is_scored_at_the_threshold_the_other_folds_chose() {
    // folds 1 and 2 separate coins (0.8) from strays (0.3) anywhere in between; fold 0's strays score
    // 0.6, so only a threshold chosen on fold 0 itself would drop them
    List<CvSelection.FoldPredictions> folds = List.of(fold(0, 4, 0.9, 0.6), fold(1, 4, 0.8, 0.3), fold(2, 4, 0.8, 0.3));

    JsonObject selection = CvSelection.select(folds, List.of(OverlapSuppression.NONE));

    JsonObject none = selection.getJsonArray("settings").getJsonObject(0);
    JsonObject fold0 = none.getJsonArray("perFold").getJsonObject(0);
    assertThat(fold0.getDouble("scoreThreshold")).isLessThanOrEqualTo(0.6);
    assertThat(fold0.getDouble("precision@0.5")).isCloseTo(0.5, within(1e-9));
    assertThat(none.getJsonArray("perFold").getJsonObject(1).getDouble("f1@0.5")).isCloseTo(1.0, within(1e-9));
    assertThat(none.getJsonObject("metrics").getJsonObject("f1@0.5").getDouble("mean"))
        .isCloseTo((2.0 / 3 + 1 + 1) / 3, within(1e-9));
  }

  @Test
  void the_setting_with_the_best_mean_is_chosen_with_the_threshold_best_on_all_folds_pooled() {
    // every image has its coin twice: once well placed, once shifted a little (IoU 0.79); the second
    // box scores between the coins of different images, so no threshold alone can drop it
    List<CvSelection.FoldPredictions> folds = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      List<List<Prediction>> predictions = new ArrayList<>();
      List<List<BoundingBox>> truth = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        predictions.add(List.of(at(COIN, i % 2 == 0 ? 0.9 : 0.6), at(new BoundingBox(14, 12, 64, 62), 0.7)));
        truth.add(List.of(COIN));
      }
      folds.add(new CvSelection.FoldPredictions(k, predictions, truth));
    }

    JsonObject selection = CvSelection.select(folds,
        List.of(OverlapSuppression.NONE, OverlapSuppression.parse("iou:0.5"), OverlapSuppression.parse("smaller:0.9")));

    JsonObject chosen = selection.getJsonObject("chosen");
    assertThat(chosen.getString("suppressOverlaps")).isEqualTo("iou:0.5");
    assertThat(chosen.getJsonObject("estimate").getJsonObject("f1@0.5").getDouble("mean")).isCloseTo(1.0, within(1e-9));
    assertThat(chosen.getInteger("folds")).isEqualTo(3);
    assertThat(chosen.getInteger("images")).isEqualTo(9);
    // with no suppression the duplicate can be dropped only by a threshold between its score and the coin's
    JsonObject none = selection.getJsonArray("settings").getJsonObject(0);
    assertThat(none.getJsonObject("pooledThreshold").getDouble("score")).isGreaterThan(0.7);
    assertThat(CvSelection.table(selection)).contains("iou:0.5", "<- chosen", "±");
  }
}
