package io.aiq.circles.results;

import io.aiq.circles.contracts.ApiLinks;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.persistence.ImageView;
import io.aiq.circles.persistence.JobView;
import io.aiq.circles.persistence.StoredDetection;
import io.aiq.circles.persistence.WebhookView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The JSON the query API answers with (its schema is in the gateway's openapi.yaml). Public for the
 * webhooks role, whose webhook body is the job as {@code GET /jobs/{jobId}} renders it.
 */
public final class ResultViews {
  private ResultViews() {
  }

  public static JsonObject job(JobView j) {
    JsonObject out = new JsonObject().put("jobId", j.jobId().toString()).put("imageId", j.imageId())
        .put("status", j.status().wire()).put("submittedAt", time(j.createdAt()))
        .put("startedAt", time(j.startedAt())).put("finishedAt", time(j.finishedAt()))
        .put("updatedAt", time(j.updatedAt())).put("submissions", j.submissions())
        .put("error", j.errorCode() == null ? null
            : new JsonObject().put("code", j.errorCode()).put("message", j.errorMessage()))
        .put("model", j.modelName() == null ? null
            : new JsonObject().put("name", j.modelName()).put("version", j.modelVersion()))
        .put("inferenceMillis", j.inferenceMillis()).put("objectCount", j.detectionCount())
        .put("links", ApiLinks.forJob(j.jobId(), j.imageId()));
    if (j.webhook() != null) {
      out.put(WEBHOOK, webhook(j.webhook()));
    }
    return out;
  }

  /** The member of a job's JSON that shows its webhook (absent without a callbackUrl). */
  public static final String WEBHOOK = "webhook";

  static JsonObject webhook(WebhookView w) {
    return new JsonObject().put("url", w.url()).put("state", w.state()).put("attempts", w.attempts())
        .put("lastAttemptAt", time(w.lastAttemptAt())).put("lastError", w.lastError())
        .put("deliveredAt", time(w.deliveredAt()));
  }

  static JsonObject image(ImageView i) {
    return new JsonObject().put("imageId", i.imageId()).put("contentType", i.contentType())
        .put("format", i.format()).put("width", i.width()).put("height", i.height())
        .put("sizeBytes", i.sizeBytes()).put("createdAt", time(i.createdAt())).put("jobCount", i.jobCount())
        .put("latestJob", i.latestJobId() == null ? null
            : new JsonObject().put("jobId", i.latestJobId().toString()).put("status", i.latestStatus().wire()))
        .put("objectCount", i.objectCount())
        .put("links", new JsonObject().put("self", ApiLinks.image(i.imageId())).put("objects", ApiLinks.objects(i.imageId()))
            .put("job", i.latestJobId() == null ? null : ApiLinks.job(i.latestJobId())));
  }

  /** The template's listing, {@code object_id} and {@code bbox} per object, plus its {@code score}. */
  static JsonObject objects(ImageView i, List<StoredDetection> detections) {
    JsonArray objects = new JsonArray();
    for (StoredDetection d : detections) {
      objects.add(new JsonObject().put("object_id", d.objectId()).put("bbox", d.detection().bbox().toJson())
          .put("score", d.detection().score()));
    }
    return new JsonObject().put("imageId", i.imageId())
        .put("jobId", i.resultJobId() == null ? null : i.resultJobId().toString())
        .put("status", i.latestStatus() == null ? null : i.latestStatus().wire())
        .put("objects", objects);
  }

  static JsonObject object(ImageView i, StoredDetection stored) {
    Detection d = stored.detection();
    return new JsonObject().put("object_id", stored.objectId()).put("imageId", i.imageId())
        .put("jobId", i.resultJobId().toString()).put("bbox", d.bbox().toJson())
        .put("centroid", new JsonArray().add(d.centroidX()).add(d.centroidY()))
        .put("radius", d.radius()).put("score", d.score());
  }

  private static String time(Instant t) {
    return t == null ? null : t.toString();
  }
}
