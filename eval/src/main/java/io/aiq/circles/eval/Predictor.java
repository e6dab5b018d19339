package io.aiq.circles.eval;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/** Produces a detector's predictions for one image file. Called from several threads at once. */
public interface Predictor extends AutoCloseable {

  ImagePredictions predict(Path file);

  /** {@code {name, version}} of the model that answered (known after the first answer for the API). */
  JsonObject model();

  @Override
  default void close() {
  }
}
