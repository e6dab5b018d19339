package io.aiq.circles.contracts.events;

import io.aiq.circles.contracts.Detection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The detector's answer for one job. Detections are ordered by descending score. */
public record DetectionsCompleted(String jobId, String imageId, String modelName, String modelVersion,
                                  List<Detection> detections, long inferenceMillis, Instant completedAt) {

  public static final String TYPE = "io.aiq.circles.detections.completed";

  public DetectionsCompleted {
    detections = List.copyOf(detections);
  }

  public JsonObject toJson() {
    JsonArray dets = new JsonArray();
    detections.forEach(d -> dets.add(d.toJson()));
    return EventJson.base().put("jobId", jobId).put("imageId", imageId).put("modelName", modelName)
        .put("modelVersion", modelVersion).put("detections", dets).put("inferenceMillis", inferenceMillis)
        .put("completedAt", completedAt.toString());
  }

  public static DetectionsCompleted fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    Object arr = j.getValue("detections");
    if (!(arr instanceof JsonArray dets)) {
      throw new InvalidEventException("field 'detections' is missing or not an array");
    }
    List<Detection> list = new ArrayList<>(dets.size());
    for (int i = 0; i < dets.size(); i++) {
      Object d = dets.getValue(i);
      if (!(d instanceof JsonObject dj)) {
        throw new InvalidEventException("detections[" + i + "] is not an object");
      }
      try {
        list.add(Detection.fromJson(dj));
      } catch (IllegalArgumentException e) {
        throw new InvalidEventException("detections[" + i + "]: " + e.getMessage(), e);
      }
    }
    return new DetectionsCompleted(EventJson.string(j, "jobId"), EventJson.string(j, "imageId"),
        EventJson.string(j, "modelName"), EventJson.string(j, "modelVersion"), list,
        EventJson.number(j, "inferenceMillis"), EventJson.instant(j, "completedAt"));
  }
}
