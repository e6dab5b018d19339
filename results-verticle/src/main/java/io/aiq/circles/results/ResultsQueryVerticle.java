package io.aiq.circles.results;

import static io.aiq.circles.contracts.EventBusAddresses.*;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.persistence.ImageView;
import io.aiq.circles.persistence.JobView;
import io.aiq.circles.persistence.QueryRepository;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
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

/** Answers the query API's requests (from the gateway, over the event bus) from PostgreSQL. */
public final class ResultsQueryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ResultsQueryVerticle.class);
  private static final long FIRST_POLL_MS = 50;
  private static final long MAX_POLL_MS = 500;

  private final Pool pool;
  private QueryRepository repository;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  public ResultsQueryVerticle(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<?> start() {
    repository = new QueryRepository(pool);
    register(RESULTS_JOB, this::job);
    register(RESULTS_IMAGE, this::image);
    register(RESULTS_OBJECTS, this::objects);
    register(RESULTS_OBJECT, this::object);
    register(RESULTS_IMAGES, this::images);
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
  }

  private void register(String address, Function<JsonObject, Future<JsonObject>> handler) {
    consumers.add(vertx.eventBus().<JsonObject>consumer(address, msg -> answer(msg, handler)));
  }

  private static void answer(Message<JsonObject> msg, Function<JsonObject, Future<JsonObject>> handler) {
    Future<JsonObject> result;
    try {
      result = handler.apply(msg.body());
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onSuccess(msg::reply).onFailure(e -> {
      if (e instanceof ApiException a) {
        msg.fail(a.code().status(), a.code().failureMessage(a.getMessage()));
      } else {
        LOG.warn("query failed: {}", e.toString());
        msg.fail(503, ErrorCode.UNAVAILABLE.failureMessage("the database is unavailable"));
      }
    });
  }

  /** The job; with {@code waitMillis}, held until it is finished or the time is up. */
  private Future<JsonObject> job(JsonObject q) {
    UUID jobId = UUID.fromString(q.getString("jobId"));
    long deadline = System.currentTimeMillis() + q.getLong("waitMillis", 0L);
    return repository.job(jobId).compose(found -> {
      JobView job = found.orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no job " + jobId));
      if (job.status().terminal() || System.currentTimeMillis() >= deadline) {
        return Future.succeededFuture(ResultViews.job(job));
      }
      return waitForTerminal(jobId, deadline, FIRST_POLL_MS).map(ResultViews::job);
    });
  }

  private Future<JobView> waitForTerminal(UUID jobId, long deadline, long delay) {
    Promise<Void> tick = Promise.promise();
    vertx.setTimer(Math.max(1, Math.min(delay, deadline - System.currentTimeMillis())), t -> tick.complete());
    return tick.future().compose(v -> repository.job(jobId)).compose(found -> {
      JobView job = found.orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no job " + jobId));
      if (job.status().terminal() || System.currentTimeMillis() >= deadline) {
        return Future.succeededFuture(job);
      }
      return waitForTerminal(jobId, deadline, Math.min(MAX_POLL_MS, delay * 2));
    });
  }

  private Future<ImageView> findImage(String imageId) {
    return repository.image(imageId).map(found ->
        found.orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no image " + imageId)));
  }

  private Future<JsonObject> image(JsonObject q) {
    return findImage(q.getString("imageId")).map(ResultViews::image);
  }

  private Future<JsonObject> objects(JsonObject q) {
    return findImage(q.getString("imageId")).compose(img -> img.resultJobId() == null
        ? Future.succeededFuture(ResultViews.objects(img, List.of()))
        : repository.detections(img.resultJobId()).map(dets -> ResultViews.objects(img, dets)));
  }

  private Future<JsonObject> object(JsonObject q) {
    int objectId = q.getInteger("objectId");
    return findImage(q.getString("imageId")).compose(img -> {
      if (img.resultJobId() == null) {
        return Future.failedFuture(new ApiException(ErrorCode.NOT_FOUND, "image " + img.imageId() + " has no results yet"));
      }
      return repository.detection(img.resultJobId(), objectId).map(found -> ResultViews.object(img, found.orElseThrow(
          () -> new ApiException(ErrorCode.NOT_FOUND, "image " + img.imageId() + " has no object " + objectId))));
    });
  }

  private Future<JsonObject> images(JsonObject q) {
    int limit = q.getInteger("limit");
    long before = decodeCursor(q.getString("cursor"));
    return repository.images(before, limit + 1).map(page -> {
      JsonArray items = new JsonArray();
      page.stream().limit(limit).forEach(i -> items.add(ResultViews.image(i)));
      String next = page.size() > limit ? encodeCursor(page.get(limit - 1).seq()) : null;
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
