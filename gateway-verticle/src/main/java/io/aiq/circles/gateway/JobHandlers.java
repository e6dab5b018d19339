package io.aiq.circles.gateway;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_CANCEL;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_JOB;
import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_JOBS;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.messages.CancelJob;
import io.aiq.circles.contracts.messages.JobQuery;
import io.aiq.circles.contracts.messages.JobsQuery;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A job's life beyond {@code GET /jobs/{jobId}}: the listing ({@code GET /jobs}, from the queries
 * role) and cancellation ({@code DELETE /jobs/{jobId}}, written by the ingest role). The event stream
 * is {@link JobEventStreams}.
 */
final class JobHandlers {
  private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{64}");
  static final int DEFAULT_PAGE = 20;
  static final int MAX_PAGE = 100;
  private static final String STATUSES =
      Arrays.stream(JobStatus.values()).map(JobStatus::wire).collect(Collectors.joining(", "));

  private final Vertx vertx;
  private final AppConfig.Http http;

  JobHandlers(Vertx vertx, AppConfig.Http http) {
    this.vertx = vertx;
    this.http = http;
  }

  /**
   * GET /jobs?status&imageId&cursor&limit: newest first, {@code {items, nextCursor, links.next}};
   * each item is the job as GET /jobs/{jobId} answers it.
   */
  void list(RoutingContext ctx) {
    String status = ctx.request().getParam("status");
    if (status != null && !isStatus(status)) {
      ApiResponses.error(ctx, ErrorCode.BAD_REQUEST, "status must be one of " + STATUSES);
      return;
    }
    String imageId = ctx.request().getParam("imageId");
    if (imageId != null && !IMAGE_ID.matcher(imageId).matches()) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "image ids are the SHA-256 of the image, 64 lower-case hex digits");
      return;
    }
    String limitParam = ctx.request().getParam("limit");
    int limit = DEFAULT_PAGE;
    if (limitParam != null) {
      if (!limitParam.matches("\\d{1,4}") || Integer.parseInt(limitParam) < 1 || Integer.parseInt(limitParam) > MAX_PAGE) {
        ApiResponses.error(ctx, ErrorCode.BAD_REQUEST, "limit must be a whole number from 1 to " + MAX_PAGE);
        return;
      }
      limit = Integer.parseInt(limitParam);
    }
    String cursor = ctx.request().getParam("cursor");
    int pageSize = limit;
    vertx.eventBus().<JsonObject>request(RESULTS_JOBS, new JobsQuery(status, imageId, cursor, limit).toJson(),
            new DeliveryOptions().setSendTimeout(http.backendTimeoutMs()))
        .onSuccess(reply -> {
          JsonObject page = reply.body();
          String next = page.getString("nextCursor");
          page.put("links", new JsonObject().put("next", next == null ? null : nextLink(status, imageId, pageSize, next)));
          ApiResponses.json(ctx, 200, page);
        })
        .onFailure(e -> ApiResponses.failure(ctx, e));
  }

  private static String nextLink(String status, String imageId, int limit, String cursor) {
    StringBuilder b = new StringBuilder("/jobs?");
    if (status != null) {
      b.append("status=").append(status).append('&');
    }
    if (imageId != null) {
      b.append("imageId=").append(imageId).append('&');
    }
    // cursors are base64url: nothing in them needs escaping in a query
    return b.append("limit=").append(limit).append("&cursor=").append(cursor).toString();
  }

  /**
   * DELETE /jobs/{jobId}: 202 with the job, now {@code cancelled} (also when it was cancelled before);
   * 404 unknown; 409 {@code job_finished} for a job that succeeded or failed.
   */
  void cancel(RoutingContext ctx) {
    String jobId = ctx.pathParam("jobId");
    if (!ApiHandlers.isUuid(jobId)) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "job ids are UUIDs");
      return;
    }
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(http.backendTimeoutMs());
    vertx.eventBus().<JsonObject>request(INGEST_CANCEL, new CancelJob(jobId).toJson(), options)
        // the job as GET /jobs/{jobId} shows it, read after the cancellation committed
        .compose(cancelled -> vertx.eventBus().<JsonObject>request(RESULTS_JOB, new JobQuery(jobId, 0).toJson(), options))
        .onSuccess(reply -> ApiResponses.json(ctx, 202, reply.body()))
        .onFailure(e -> ApiResponses.failure(ctx, e));
  }

  private static boolean isStatus(String s) {
    for (JobStatus status : JobStatus.values()) {
      if (status.wire().equals(s)) {
        return true;
      }
    }
    return false;
  }
}
