package io.aiq.circles.gateway;

import static io.aiq.circles.contracts.EventBusAddresses.RESULTS_JOB_WATCH;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.messages.WatchJob;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /jobs/{jobId}/events}: a job's transitions as Server-Sent Events, {@code event: status}
 * with the job's JSON (as {@code GET /jobs/{jobId}} answers it) as data, starting with its current
 * state and ending, the server closing the stream, once it is succeeded, failed or cancelled.
 *
 * <p>Nothing polls the database. Each step is one {@link WatchJob} request to the queries role, which
 * holds it (JobWaiters) until PostgreSQL notifies a change of the job's status from the one this
 * stream sent last, or one heartbeat interval ({@code jobs.event-heartbeat-seconds}) is up; then this
 * stream sends the new state, or a comment line ({@code : heartbeat}) that keeps proxies and the idle
 * timeout from closing it, and asks again. Passing the status last sent means no change between two
 * steps is missed (only a status passed through between two reads, as a long-poll would miss it too).
 *
 * <p>An unknown job is a 404 JSON error before the stream starts. A client that goes away releases its
 * slot at once; the step the queries role holds for it is answered at its deadline (one heartbeat at
 * most) and dropped, and no further step is asked. At most {@code jobs.max-event-streams} streams are
 * open in this process; beyond it the request is refused with 503 and {@code Retry-After}.
 */
final class JobEventStreams {
  private static final Logger LOG = LoggerFactory.getLogger(JobEventStreams.class);
  /** Seconds a refused client is asked to wait. */
  static final int RETRY_AFTER_SECONDS = 5;

  private final Vertx vertx;
  private final AppConfig.Jobs config;
  private final long backendTimeoutMs;
  private final AtomicInteger open = new AtomicInteger();
  private final Counter refused;
  private final Counter opened;

  JobEventStreams(Vertx vertx, AppConfig.Jobs config, long backendTimeoutMs, MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.backendTimeoutMs = backendTimeoutMs;
    Gauge.builder("aiq_job_event_streams", open, AtomicInteger::get)
        .description("Job event streams (GET /jobs/{jobId}/events) open in this process").strongReference(true)
        .register(registry);
    this.refused = Counter.builder("aiq_job_event_streams_refused_total")
        .description("Job event streams refused with 503: jobs.max-event-streams were open").register(registry);
    this.opened = Counter.builder("aiq_job_event_streams_opened_total")
        .description("Job event streams (GET /jobs/{jobId}/events) accepted").register(registry);
  }

  void stream(RoutingContext ctx) {
    String jobId = ctx.pathParam("jobId");
    if (!ApiHandlers.isUuid(jobId)) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "job ids are UUIDs");
      return;
    }
    if (open.incrementAndGet() > config.maxEventStreams()) {
      open.decrementAndGet();
      refused.increment();
      ctx.response().putHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
      ApiResponses.error(ctx, ErrorCode.UNAVAILABLE, "too many job event streams are open; retry later, or poll"
          + " GET /jobs/" + jobId);
      return;
    }
    opened.increment();
    new Stream(ctx, jobId).step(null);
  }

  /** One client's stream: its state is touched on the request's event loop only. */
  private final class Stream {
    private final RoutingContext ctx;
    private final String jobId;
    private boolean started;
    private boolean released;
    private long eventId;

    Stream(RoutingContext ctx, String jobId) {
      this.ctx = ctx;
      this.jobId = jobId;
      ctx.response().closeHandler(v -> release());
    }

    /** Asks for the job once its status is not {@code seen} (null: at once, the stream's first event). */
    void step(String seen) {
      long waitMillis = seen == null ? 0 : config.eventHeartbeatSeconds() * 1000L;
      vertx.eventBus().<JsonObject>request(RESULTS_JOB_WATCH, new WatchJob(jobId, seen, waitMillis).toJson(),
              new DeliveryOptions().setSendTimeout(backendTimeoutMs + waitMillis))
          .onSuccess(reply -> answered(seen, reply))
          .onFailure(this::failed);
    }

    private void answered(String seen, Message<JsonObject> reply) {
      if (released) {
        return;
      }
      JsonObject job = reply.body();
      String status = job.getString("status");
      HttpServerResponse r = ctx.response();
      if (!started) {
        started = true;
        r.setStatusCode(200).setChunked(true)
            .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
            .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
            // no compression (it would hold events back in its buffer) and no proxy buffering
            .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY)
            .putHeader("X-Accel-Buffering", "no");
      }
      if (status.equals(seen)) {
        r.write(": heartbeat\n\n");
      } else {
        r.write("id: " + (++eventId) + "\nevent: status\ndata: " + job.encode() + "\n\n");
      }
      if (JobStatus.fromWire(status).terminal()) {
        release();
        r.end();
      } else {
        step(status);
      }
    }

    private void failed(Throwable e) {
      if (released) {
        return;
      }
      if (!started) {
        // the first answer: 404 for an unknown job, 503 when the queries role is away
        release();
        ApiResponses.failure(ctx, e);
        return;
      }
      // the queries role went away mid-stream: end it; an EventSource reconnects and starts afresh
      LOG.debug("job event stream of {} ended: {}", jobId, e.toString());
      release();
      ctx.response().end();
    }

    private void release() {
      if (!released) {
        released = true;
        open.decrementAndGet();
      }
    }
  }
}
