package io.aiq.circles.watch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * One line for a person per event: what happened, to which job and image, and its figures. The event's
 * kind comes from its CloudEvents {@code ce_type} header (any consumer can route on it without parsing the
 * value); the fields from its JSON value, as the AsyncAPI document ({@code /asyncapi.yaml}) describes it.
 * Fields this version does not know are ignored, as the contract asks of every consumer.
 */
final class EventLine {
  /** Boxes listed in a line before the rest are only counted. */
  static final int MAX_BOXES = 5;

  private static final ObjectMapper JSON = new ObjectMapper();

  private EventLine() {
  }

  /**
   * @param topicSuffix the topic without the deployment's prefix, e.g. {@code aiq.detections.completed}
   * @param headers     the record's headers (last value of each name)
   */
  static String format(String topicSuffix, String key, Map<String, String> headers, String value) {
    String when = headers.getOrDefault("ce_time", "-");
    if (topicSuffix.equals("aiq.dlq")) {
      return when + " dead-letter    reason=" + headers.getOrDefault("aiq_dlq_reason", "?")
          + " from=" + headers.getOrDefault("aiq_dlq_topic", "?") + "@" + headers.getOrDefault("aiq_dlq_partition", "?")
          + "/" + headers.getOrDefault("aiq_dlq_offset", "?") + " group=" + headers.getOrDefault("aiq_dlq_consumer_group", "?")
          + " key=" + key + " " + quoted(headers.getOrDefault("aiq_dlq_message", ""));
    }
    JsonNode e;
    try {
      e = value == null ? null : JSON.readTree(value);
    } catch (IOException notJson) {
      e = null;
    }
    String type = headers.getOrDefault("ce_type", "");
    if (e == null || !e.isObject()) {
      return when + " unreadable     topic=" + topicSuffix + " type=" + type + " key=" + key;
    }
    String job = " job=" + text(e, "jobId");
    String image = " image=" + shortId(text(e, "imageId"));
    return switch (type) {
      case "io.aiq.circles.detections.completed" -> when + " detections     " + job.trim() + image
          + " model=" + text(e, "modelName") + ":" + text(e, "modelVersion")
          + " count=" + e.path("detections").size() + " " + boxes(e.path("detections"))
          + " (" + e.path("inferenceMillis").asLong() + " ms)";
      case "io.aiq.circles.image.submitted" -> when + " submitted      " + job.trim() + image
          + " " + e.path("width").asInt() + "x" + e.path("height").asInt() + " " + text(e, "contentType");
      case "io.aiq.circles.detection.started" -> when + " started        " + job.trim() + image;
      case "io.aiq.circles.detection.failed" -> when + " failed         " + job.trim() + image
          + " reason=" + text(e, "reason") + " " + quoted(e.path("message").asText(""));
      case "io.aiq.circles.image.deleted" -> when + " image-deleted  " + image.trim()
          + " jobs=" + e.path("jobIds").size() + " reason=" + text(e, "reason");
      case "io.aiq.circles.job.cancelled" -> when + " cancelled      " + job.trim() + image;
      default -> when + " " + (type.isEmpty() ? "(no ce_type)" : type) + " topic=" + topicSuffix + " key=" + key;
    };
  }

  /** {@code [x0,y0 WxH 0.97] ...}: each box's corner, size and score, best first, as the event orders them. */
  static String boxes(JsonNode detections) {
    StringBuilder out = new StringBuilder("boxes=");
    if (detections.isEmpty()) {
      return out.append("none").toString();
    }
    int shown = Math.min(MAX_BOXES, detections.size());
    for (int i = 0; i < shown; i++) {
      JsonNode d = detections.get(i);
      JsonNode b = d.path("bbox");
      double x0 = b.path(0).asDouble(), y0 = b.path(1).asDouble(), x1 = b.path(2).asDouble(), y1 = b.path(3).asDouble();
      out.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "[%.0f,%.0f %.0fx%.0f %.2f]",
          x0, y0, x1 - x0, y1 - y0, d.path("score").asDouble()));
    }
    if (detections.size() > shown) {
      out.append(" +").append(detections.size() - shown).append(" more");
    }
    return out.toString();
  }

  private static String text(JsonNode e, String field) {
    JsonNode v = e.get(field);
    return v == null || v.isNull() ? "-" : v.asText();
  }

  /** Image ids are 64 hex digits: the first 12 are enough to tell them apart by eye. */
  private static String shortId(String imageId) {
    return imageId.length() > 12 ? imageId.substring(0, 12) + "…" : imageId;
  }

  private static String quoted(String s) {
    return s == null || s.isEmpty() ? "" : "\"" + s + "\"";
  }
}
