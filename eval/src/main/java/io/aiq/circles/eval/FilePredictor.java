package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Predictions made elsewhere, read from a {@code predictions.json} ({@code [{file_name, bbox:
 * [xmin, ymin, xmax, ymax], score}]}, the format this tool writes), so any detector can be scored
 * by the same protocol.
 */
public final class FilePredictor implements Predictor {
  private final Map<String, List<Prediction>> byFile = new HashMap<>();
  private final String name;

  public FilePredictor(Path file) throws IOException {
    this.name = file.getFileName().toString();
    for (Object o : new JsonArray(Files.readString(file))) {
      JsonObject p = (JsonObject) o;
      byFile.computeIfAbsent(p.getString("file_name"), k -> new ArrayList<>())
          .add(new Prediction(BoundingBox.fromJson(p.getJsonArray("bbox")), p.getDouble("score")));
    }
  }

  @Override
  public ImagePredictions predict(Path image) {
    return new ImagePredictions(byFile.getOrDefault(image.getFileName().toString(), List.of()), 0, null);
  }

  @Override
  public JsonObject model() {
    return new JsonObject().put("name", "file:" + name).put("version", "n/a");
  }
}
