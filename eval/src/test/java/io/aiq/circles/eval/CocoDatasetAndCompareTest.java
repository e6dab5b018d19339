package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CocoDatasetAndCompareTest {
  private static final String COCO = """
      {"categories": [{"id": 0, "name": "coins", "supercategory": "none"},
                      {"id": 1, "name": "penny", "supercategory": "coins"},
                      {"id": 2, "name": "dime", "supercategory": "coins"}],
       "images": [{"id": 7, "file_name": "a.jpg", "width": 50, "height": 40}],
       "annotations": [{"id": 1, "image_id": 7, "category_id": 0, "bbox": [0, 0, 30, 30]},
                       {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 10]},
                       {"id": 3, "image_id": 7, "category_id": 2, "bbox": [20, 20, 10, 10]}]}
      """;

  @Test
  void by_default_every_category_that_is_not_a_supercategory_is_evaluated(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve(CocoDataset.ANNOTATIONS), COCO);

    CocoDataset all = CocoDataset.load(dir, Set.of());
    CocoDataset pennies = CocoDataset.load(dir, Set.of(1));

    assertThat(all.categories()).containsExactlyInAnyOrder(1, 2);
    assertThat(all.images().get(0).truth()).hasSize(2);
    assertThat(all.images().get(0).truth().get(1).xmax()).isEqualTo(30.0);
    assertThat(pennies.images().get(0).truth()).hasSize(1);
    assertThat(coinsDev().categories()).containsExactly(1);
    assertThat(coinsDev().truthCount()).isEqualTo(305);
  }

  @Test
  void a_folder_without_annotations_is_refused_with_a_clear_message(@TempDir Path dir) {
    assertThatThrownBy(() -> CocoDataset.load(dir, Set.of())).hasMessageContaining(CocoDataset.ANNOTATIONS);
  }

  @Test
  void compare_prints_two_reports_side_by_side_with_the_difference(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Files.writeString(a, "{\"model\":{\"name\":\"dummy\",\"version\":\"1\"},\"ap\":{\"ap50\":0.25},"
        + "\"thresholds\":{\"0.5\":{\"f1\":0.5}}}");
    Files.writeString(b, "{\"model\":{\"name\":\"circles\",\"version\":\"2\"},\"ap\":{\"ap50\":0.75},"
        + "\"thresholds\":{\"0.5\":{\"f1\":0.9}}}");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(new CommandLine(new EvalCommand()).execute("--compare", a.toString(), b.toString())).isZero();
    } finally {
      System.setOut(original);
    }
    String table = out.toString(StandardCharsets.UTF_8);
    assertThat(table).containsPattern("AP50\\s+0\\.2500\\s+0\\.7500\\s+\\+0\\.5000");
    assertThat(table).containsPattern("F1\\s+@ IoU 0\\.5\\s+0\\.5000\\s+0\\.9000\\s+\\+0\\.4000");
    assertThat(table).contains("dummy 1", "circles 2");
  }

  private static CocoDataset coinsDev() throws IOException {
    return CocoDataset.load(Path.of("datasets/coins-dev"), Set.of());
  }
}
