package io.aiq.circles.results;

import static io.aiq.circles.contracts.EventBusAddresses.*;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.messages.ImageQuery;
import io.aiq.circles.contracts.messages.JobsQuery;
import io.aiq.circles.contracts.messages.WatchJob;
import io.aiq.circles.contracts.messages.ImagesQuery;
import io.aiq.circles.contracts.messages.JobQuery;
import io.aiq.circles.contracts.messages.ObjectQuery;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.persistence.Database;
import io.aiq.circles.persistence.ImageView;
import io.aiq.circles.persistence.JobView;
import io.aiq.circles.persistence.QueryRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the query API's requests (from the gateway, over the event bus) from PostgreSQL. A job
 * request with {@code waitMillis} is held by {@link JobWaiters} until the job is finished or the time
 * is up; past {@code http.max-waiters} held requests it is answered at once, and the reply carries the
 * header {@link #H_WAIT_APPLIED} {@code false} so the gateway does not claim {@code Preference-Applied}.
 */
public final class ResultsQueryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ResultsQueryVerticle.class);
  /** Reply header of {@code RESULTS_JOB}: {@code false} when the requested wait was not applied. */
  public static final String H_WAIT_APPLIED = io.aiq.circles.contracts.EventBusAddresses.H_WAIT_APPLIED;
  /** The waiters' slow re-check of jobs no notification woke, against lost notifications. */
  static final long SWEEP_MS = 2000;

  private final Pool pool;
  private final AppConfig.Database database;
  private final int maxWaiters;
  private final MeterRegistry registry;
  private QueryRepository repository;
  private JobWaiters waiters;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  /**
   * @param database where the waiters LISTEN for job changes (a connection of its own, beside the pool)
   * @param maxWaiters {@code http.max-waiters}
   */
  public ResultsQueryVerticle(Pool pool, AppConfig.Database database, int maxWaiters, MeterRegistry registry) {
    this.pool = pool;
    this.database = database;
    this.maxWaiters = maxWaiters;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    repository = new QueryRepository(pool);
    waiters = new JobWaiters(vertx, context, repository, Database.connectOptions(database), maxWaiters, SWEEP_MS,
        registry);
    consumers.add(vertx.eventBus().<JsonObject>consumer(RESULTS_JOB, this::job));
    register(RESULTS_IMAGE, this::image);
    register(RESULTS_OBJECTS, this::objects);
    register(RESULTS_OBJECT, this::object);
    register(RESULTS_IMAGES, this::images);
    register(RESULTS_JOBS, this::jobs);
    register(RESULTS_JOB_WATCH, this::watch);
    return waiters.start().compose(v -> Future.all(consumers.stream().map(MessageConsumer::completion).toList()));
  }

  @Override
  public Future<?> stop() {
    return waiters == null ? Future.succeededFuture() : waiters.stop();
  }

  private void register(String address, Function<JsonObject, Future<JsonObject>> handler) {
    consumers.add(vertx.eventBus().<JsonObject>consumer(address, msg -> answer(msg, handler)));
  }

  private static void answer(Message<JsonObject> msg, Function<JsonObject, Future<JsonObject>> handler) {
    Future<JsonObject> result;
    try {
      result = handler.apply(msg.body());
    } catch (ApiException e) {
      result = Future.failedFuture(e);
    } catch (RuntimeException e) {
      // thrown before any query ran: the message does not read as its query type
      result = Future.failedFuture(new ApiException(ErrorCode.BAD_REQUEST, "the query is malformed"));
    }
    reply(msg, result, null);
  }

  private static void reply(Message<JsonObject> msg, Future<JsonObject> result, DeliveryOptions options) {
    result.onSuccess(body -> {
      if (options == null) {
        msg.reply(body);
      } else {
        msg.reply(body, options);
      }
    }).onFailure(e -> {
      if (e instanceof ApiException a) {
        a.code().fail(msg, a.getMessage());
      } else {
        LOG.warn("query failed: {}", e.toString());
        ErrorCode.UNAVAILABLE.fail(msg, "the database is unavailable");
      }
    });
  }

  /**
   * The job; with {@code waitMillis}, held until it is finished or the time is up (see
   * {@link JobWaiters}), unless {@code http.max-waiters} requests are held already.
   */
  private void job(Message<JsonObject> msg) {
    UUID jobId;
    long waitMillis;
    try {
      JobQuery query = JobQuery.fromJson(msg.body());
      jobId = UUID.fromString(query.jobId());
      waitMillis = query.waitMillis();
    } catch (RuntimeException e) {
      reply(msg, Future.failedFuture(new ApiException(ErrorCode.INVALID_ID, "job ids are UUIDs")), null);
      return;
    }
    if (waitMillis <= 0) {
      reply(msg, currentJob(jobId), null);
    } else if (waiters.full()) {
      waiters.refused();
      reply(msg, currentJob(jobId), new DeliveryOptions().addHeader(H_WAIT_APPLIED, "false"));
    } else {
      reply(msg, waiters.await(jobId, waitMillis).map(ResultViews::job), null);
    }
  }

  private Future<JsonObject> currentJob(UUID jobId) {
    return repository.job(jobId).map(found -> ResultViews.job(
        found.orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no job " + jobId))));
  }

  private Future<ImageView> findImage(String imageId) {
    return repository.image(imageId).map(found ->
        found.orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no image " + imageId)));
  }

  private Future<JsonObject> image(JsonObject q) {
    return findImage(ImageQuery.fromJson(q).imageId()).map(ResultViews::image);
  }

  private Future<JsonObject> objects(JsonObject q) {
    return findImage(ImageQuery.fromJson(q).imageId()).compose(img -> img.resultJobId() == null
        ? Future.succeededFuture(ResultViews.objects(img, List.of()))
        : repository.detections(img.resultJobId()).map(dets -> ResultViews.objects(img, dets)));
  }

  private Future<JsonObject> object(JsonObject q) {
    ObjectQuery query = ObjectQuery.fromJson(q);
    int objectId = query.objectId();
    return findImage(query.imageId()).compose(img -> {
      if (img.resultJobId() == null) {
        return Future.failedFuture(new ApiException(ErrorCode.NOT_FOUND, "image " + img.imageId() + " has no results yet"));
      }
      return repository.detection(img.resultJobId(), objectId).map(found -> ResultViews.object(img, found.orElseThrow(
          () -> new ApiException(ErrorCode.NOT_FOUND, "image " + img.imageId() + " has no object " + objectId))));
    });
  }

  private Future<JsonObject> images(JsonObject q) {
    ImagesQuery query = ImagesQuery.fromJson(q);
    int limit = query.limit();
    long before = decodeCursor(query.cursor());
    return repository.images(before, limit + 1).map(page -> {
      JsonArray items = new JsonArray();
      page.stream().limit(limit).forEach(i -> items.add(ResultViews.image(i)));
      String next = page.size() > limit ? encodeCursor(page.get(limit - 1).seq()) : null;
      return new JsonObject().put("items", items).put("nextCursor", next);
    });
  }

  /** One step of a job's event stream: the job once its status is not the one last sent (see JobWaiters). */
  private Future<JsonObject> watch(JsonObject q) {
    WatchJob query = WatchJob.fromJson(q);
    UUID jobId;
    try {
      jobId = UUID.fromString(query.jobId());
    } catch (RuntimeException e) {
      throw new ApiException(ErrorCode.INVALID_ID, "job ids are UUIDs");
    }
    JobStatus seen = query.seenStatus() == null ? null : JobStatus.fromWire(query.seenStatus());
    return waiters.watch(jobId, seen, query.waitMillis()).map(ResultViews::job);
  }

  /** GET /jobs: newest first, filtered, one page past the cursor; {@code nextCursor} when there is more. */
  private Future<JsonObject> jobs(JsonObject q) {
    JobsQuery query = JobsQuery.fromJson(q);
    int limit = query.limit();
    JobCursor after = JobCursor.decode(query.cursor());
    JobStatus status = query.status() == null ? null : JobStatus.fromWire(query.status());
    return repository.jobsPage(after.createdAt(), after.jobId(), status, query.imageId(), limit + 1).map(page -> {
      JsonArray items = new JsonArray();
      page.stream().limit(limit).forEach(j -> items.add(ResultViews.job(j)));
      String next = page.size() > limit ? JobCursor.of(page.get(limit - 1)).encode() : null;
      return new JsonObject().put("items", items).put("nextCursor", next);
    });
  }

  static String encodeCursor(long seq) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(("s" + seq).getBytes(StandardCharsets.US_ASCII));
  }

  static long decodeCursor(String cursor) {
    if (cursor == null) {
      return Long.MAX_VALUE;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
      if (!s.matches("s\\d{1,18}")) {
        throw new IllegalArgumentException();
      }
      return Long.parseLong(s.substring(1));
    } catch (IllegalArgumentException e) {
      throw new ApiException(ErrorCode.BAD_REQUEST, "cursor is not one this API gave out");
    }
  }
}
