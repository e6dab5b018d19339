package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A COCO detection dataset folder: {@code _annotations.coco.json} beside its images. Ground-truth
 * boxes {@code [x, y, w, h]} become {@code [x, y, x+w, y+h]}.
 */
public record CocoDataset(Path folder, List<Image> images, Set<Integer> categories) {

  public static final String ANNOTATIONS = "_annotations.coco.json";

  /** One image with its ground-truth boxes, in annotation order. */
  public record Image(int id, String fileName, int width, int height, List<BoundingBox> truth) {
  }

  /**
   * @param categories the category ids to evaluate; empty means every category that is not the
   *     supercategory of another (in coins-dev: the coins, not the dataset's umbrella category)
   */
  public static CocoDataset load(Path folder, Set<Integer> categories) throws IOException {
    Path file = folder.resolve(ANNOTATIONS);
    if (!Files.isRegularFile(file)) {
      throw new IOException("no " + ANNOTATIONS + " in " + folder + " (a COCO dataset folder is expected)");
    }
    JsonObject coco = new JsonObject(Files.readString(file));
    Set<Integer> selected = categories.isEmpty() ? leafCategories(coco.getJsonArray("categories", new JsonArray()))
        : Set.copyOf(categories);
    Map<Integer, List<BoundingBox>> truth = new LinkedHashMap<>();
    for (Object o : coco.getJsonArray("annotations", new JsonArray())) {
      JsonObject a = (JsonObject) o;
      if (!selected.contains(a.getInteger("category_id"))) {
        continue;
      }
      JsonArray b = a.getJsonArray("bbox");
      double x = b.getDouble(0);
      double y = b.getDouble(1);
      truth.computeIfAbsent(a.getInteger("image_id"), k -> new ArrayList<>())
          .add(new BoundingBox(x, y, x + b.getDouble(2), y + b.getDouble(3)));
    }
    List<Image> images = new ArrayList<>();
    for (Object o : coco.getJsonArray("images", new JsonArray())) {
      JsonObject i = (JsonObject) o;
      int id = i.getInteger("id");
      images.add(new Image(id, i.getString("file_name"), i.getInteger("width", 0), i.getInteger("height", 0),
          List.copyOf(truth.getOrDefault(id, List.of()))));
    }
    return new CocoDataset(folder, List.copyOf(images), selected);
  }

  static Set<Integer> leafCategories(JsonArray categories) {
    Set<String> supers = new HashSet<>();
    for (Object o : categories) {
      String s = ((JsonObject) o).getString("supercategory");
      if (s != null) {
        supers.add(s);
      }
    }
    Set<Integer> leaves = new HashSet<>();
    for (Object o : categories) {
      JsonObject c = (JsonObject) o;
      if (!supers.contains(c.getString("name"))) {
        leaves.add(c.getInteger("id"));
      }
    }
    return leaves;
  }

  /** The images whose position in the dataset is {@code fold} modulo {@code folds}, as training holds them out. */
  public CocoDataset fold(int fold, int folds) {
    List<Image> kept = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      if (i % folds == fold) {
        kept.add(images.get(i));
      }
    }
    return new CocoDataset(folder, List.copyOf(kept), categories);
  }

  public Path pathOf(Image image) {
    return folder.resolve(image.fileName());
  }

  public int truthCount() {
    return images.stream().mapToInt(i -> i.truth().size()).sum();
  }
}
