package io.aiq.circles.load;

import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.group;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.responseTimeInMillis;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.ByteArrayBodyPart;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.headerRegex;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.http.response.Response;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A flood: uploads arrive faster than the service can detect coins, and it must say "not now"
 * rather than fall over or queue without bound.
 *
 * <p>Open model: {@code rate} new clients a second (default 100, above what one machine's inference
 * drains) for {@code duration} seconds (default 60). Each uploads an image no one uploaded before
 * (a photo of {@code images} with a comment naming the run and a sequence number, see
 * {@link UniqueImages}: the content-addressed store would answer 409 to known bytes) and then:
 * <ul>
 *   <li>on 202, polls {@code GET /jobs/{jobId}} with {@code Prefer: wait=pollWait} (default 10 s)
 *       until the job is {@code succeeded} or {@code failed}, in the group {@value #ACCEPTED_JOB};
 *       a poll answered 429/503 waits its Retry-After, one answered early (the server holds only so
 *       many waits) waits out the rest of a second, so polls come at most once a second and a job
 *       gets at most {@code jobTimeout} + 1 of them within {@code jobTimeout} seconds (default:
 *       three times {@code p99Ms}, at least 120 s); a job still unfinished then fails the request
 *       "job finished within jobTimeout";</li>
 *   <li>on 503 (the backlog bound) or 429 (a rate limit), checks that a {@code Retry-After} header
 *       (delta-seconds or an HTTP-date) came with it, and stops without retrying (the arrival rate
 *       stays the one asked for): an OK outcome;</li>
 *   <li>any other status (a 409, a 500, a timeout) is a failed request.</li>
 * </ul>
 * It passes with no failed request and the 99th percentile of the group {@value #ACCEPTED_JOB}
 * under {@code p99Ms} (default 60000: the default backlog bound keeps 45 s of work queued). That
 * group's time is Gatling's cumulated response time, from the 202 to the poll that saw the job
 * finished, without the pauses described above; the summary printed at the end gives the wall-clock
 * completion times from the upload on, the counts by status and the pauses taken.
 *
 * <pre>
 * just load-test flood [--rate 100] [--duration 60] [--p99-ms 60000] [--url URL] [--images DIR] [--api-key KEY]
 * mvn -f load-test/pom.xml gatling:test -Dgatling.simulationClass=io.aiq.circles.load.FloodSimulation \
 *     -DbaseUrl=http://127.0.0.1:8080 -Drate=100 -Dduration=60 -Dp99Ms=60000 -DpollWait=10 -DjobTimeout=180
 * </pre>
 */
public class FloodSimulation extends Simulation {
  static final String ACCEPTED_JOB = "accepted job";
  /** Retry-After: delta-seconds, or an IMF-fixdate HTTP-date. */
  private static final String RETRY_AFTER =
      "^(?:\\d+|[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT)$";
  /** Polls come at most this often (a poll answered early waits out the rest). */
  private static final long MIN_POLL_INTERVAL_MS = 1000;
  /** A Retry-After longer than this is waited only this long (the job timeout still bounds the job). */
  private static final long MAX_RETRY_PAUSE_MS = 30_000;

  private final LoadParameters p = LoadParameters.fromSystemProperties(100, 60, 60000);
  private final int pollWait = Integer.getInteger("pollWait", 10);
  private final int jobTimeout = Integer.getInteger("jobTimeout", (int) Math.min(3600, Math.max(120, 3L * p.p99Ms() / 1000)));
  private final int maxPolls = jobTimeout + 1;
  private final UniqueImages images = new UniqueImages(p.imageRecords());
  private final Outcomes outcomes = new Outcomes(jobTimeout);

  {
    if (pollWait < 1 || pollWait > 60) {
      throw new IllegalArgumentException("pollWait must be in [1, 60] seconds, got " + pollWait);
    }
    if (jobTimeout < 1 || jobTimeout > 3600) {
      throw new IllegalArgumentException("jobTimeout must be in [1, 3600] seconds, got " + jobTimeout);
    }
    setUp(scenario("flood").exec(flood())
        .injectOpen(constantUsersPerSec(p.rate()).during(p.duration())))
        .protocols(Steps.protocol(p))
        .assertions(global().failedRequests().count().is(0L),
            details(ACCEPTED_JOB).responseTime().percentile(99.0).lt(p.p99Ms()));
  }

  private ChainBuilder flood() {
    return exec(session -> {
      UniqueImages.Image image = images.next();
      return session.set("image", image.bytes()).set("imageName", image.name())
          .set("imageType", image.contentType()).set("uploadedAt", System.currentTimeMillis());
    })
        .exec(upload())
        .exec(session -> {
          outcomes.upload(session);
          return session.remove("image");
        })
        .exitHereIfFailed()
        .doIf(session -> session.getInt("uploadStatus") == 202).then(
            exec(group(ACCEPTED_JOB).on(pollUntilFinished()))
                .exec(session -> {
                  outcomes.job(session);
                  return session;
                })
                .doIf(session -> !finished(session)).then(
                    exec(http("job finished within jobTimeout").get("/jobs/#{jobId}")
                        .check(status().is(200), jsonPath("$.status").in("succeeded", "failed")))));
  }

  /** 202 with a jobId, or 503/429 with a Retry-After; anything else fails the request. */
  private static HttpRequestActionBuilder upload() {
    return http("upload").post("/images")
        .bodyPart(ByteArrayBodyPart("file", session -> (byte[]) session.get("image"))
            .fileName("#{imageName}").contentType("#{imageType}"))
        .asMultipartForm()
        .check(status().in(202, 429, 503).saveAs("uploadStatus"))
        .checkIf((response, session) -> code(response) == 202).then(jsonPath("$.jobId").saveAs("jobId"))
        .checkIf((response, session) -> refused(response)).then(headerRegex("Retry-After", RETRY_AFTER).exists());
  }

  /** Polls the job until it is finished, the job timeout passes or the polls run out. */
  private ChainBuilder pollUntilFinished() {
    HttpRequestActionBuilder poll = http("poll job").get("/jobs/#{jobId}").header("Prefer", "wait=" + pollWait)
        .check(status().in(200, 429, 503).saveAs("pollStatus"), responseTimeInMillis().saveAs("pollMs"))
        .checkIf((response, session) -> code(response) == 200).then(jsonPath("$.status").saveAs("status"))
        .checkIf((response, session) -> refused(response))
        .then(headerRegex("Retry-After", RETRY_AFTER).exists(), header("Retry-After").saveAs("retryAfter"));
    return exec(session -> session.set("status", "queued"))
        .asLongAs(session -> !finished(session) && polls(session) < maxPolls
            && elapsedMs(session) < jobTimeout * 1000L, "polls").on(
            exec(poll)
                .exitHereIfFailed()
                .exec(session -> session.set("pauseMs", nextPollPause(session)))
                .doIf(session -> session.getLong("pauseMs") > 0).then(
                    pause(session -> Duration.ofMillis(session.getLong("pauseMs")))));
  }

  /** Milliseconds to wait before the next poll of an unfinished job (0: poll again at once). */
  private long nextPollPause(Session session) {
    if (finished(session)) {
      return 0;
    }
    int pollStatus = session.getInt("pollStatus");
    long pauseMs;
    if (pollStatus == 429 || pollStatus == 503) {
      String retryAfter = session.getString("retryAfter");
      pauseMs = retryAfter != null && retryAfter.matches("\\d{1,6}") ? Long.parseLong(retryAfter) * 1000
          : MIN_POLL_INTERVAL_MS;
      pauseMs = Math.max(MIN_POLL_INTERVAL_MS, Math.min(MAX_RETRY_PAUSE_MS, pauseMs));
    } else {
      pauseMs = Math.max(0, MIN_POLL_INTERVAL_MS - session.getInt("pollMs"));
    }
    if (pauseMs > 0) {
      outcomes.pauses.increment();
      outcomes.pausedMs.add(pauseMs);
    }
    return pauseMs;
  }

  @Override
  public void after() {
    System.out.println(outcomes.summary(p, pollWait, jobTimeout));
  }

  private static int code(Response response) {
    return response.status().code();
  }

  private static boolean refused(Response response) {
    return code(response) == 429 || code(response) == 503;
  }

  private static boolean finished(Session session) {
    String status = session.getString("status");
    return "succeeded".equals(status) || "failed".equals(status);
  }

  private static int polls(Session session) {
    return session.contains("polls") ? session.getInt("polls") : 0;
  }

  private static long elapsedMs(Session session) {
    return System.currentTimeMillis() - session.getLong("uploadedAt");
  }

  /** What happened, for the summary: uploads by status, jobs by outcome, completion times. */
  private static final class Outcomes {
    private static final int BUCKET_MS = 100;
    final LongAdder accepted = new LongAdder();
    final LongAdder refused503 = new LongAdder();
    final LongAdder refused429 = new LongAdder();
    final LongAdder refusedWithoutRetryAfter = new LongAdder();
    final LongAdder otherUploads = new LongAdder();
    final LongAdder succeeded = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder unfinished = new LongAdder();
    final LongAdder pauses = new LongAdder();
    final LongAdder pausedMs = new LongAdder();
    /** Wall-clock completion, upload sent to finished job seen, in 100 ms buckets (the last: beyond). */
    final AtomicLongArray completion;

    Outcomes(int jobTimeoutSeconds) {
      completion = new AtomicLongArray(jobTimeoutSeconds * (1000 / BUCKET_MS) + 2);
    }

    void upload(Session session) {
      if (!session.contains("uploadStatus")) {
        otherUploads.increment();
        return;
      }
      int status = session.getInt("uploadStatus");
      if (session.isFailed()) {
        (status == 429 || status == 503 ? refusedWithoutRetryAfter : otherUploads).increment();
        return;
      }
      switch (status) {
        case 202 -> accepted.increment();
        case 503 -> refused503.increment();
        case 429 -> refused429.increment();
        default -> otherUploads.increment();
      }
    }

    void job(Session session) {
      String status = session.getString("status");
      if ("succeeded".equals(status) || "failed".equals(status)) {
        ("succeeded".equals(status) ? succeeded : failed).increment();
        long ms = elapsedMs(session);
        completion.incrementAndGet((int) Math.min(completion.length() - 1, ms / BUCKET_MS));
      } else {
        unfinished.increment();
      }
    }

    /** The upper edge of the bucket holding quantile q of the completion times, in seconds. */
    private String quantile(double q) {
      long total = 0;
      for (int i = 0; i < completion.length(); i++) {
        total += completion.get(i);
      }
      if (total == 0) {
        return "-";
      }
      long rank = (long) Math.ceil(q * total);
      long seen = 0;
      for (int i = 0; i < completion.length(); i++) {
        seen += completion.get(i);
        if (seen >= rank) {
          return i == completion.length() - 1 ? "> timeout"
              : String.format(Locale.ROOT, "%.1f s", (i + 1) * BUCKET_MS / 1000.0);
        }
      }
      return "-";
    }

    String summary(LoadParameters p, int pollWait, int jobTimeout) {
      long refused = refused503.sum() + refused429.sum();
      long uploads = accepted.sum() + refused + refusedWithoutRetryAfter.sum() + otherUploads.sum();
      StringBuilder s = new StringBuilder();
      s.append(String.format(Locale.ROOT, "%n---- flood: %d uploads in %d s at %.1f/s ----%n", uploads,
          p.duration().toSeconds(), p.rate()));
      s.append(String.format(Locale.ROOT, "accepted (202)                       %d%n", accepted.sum()));
      s.append(String.format(Locale.ROOT, "refused, 503 + Retry-After           %d%n", refused503.sum()));
      s.append(String.format(Locale.ROOT, "refused, 429 + Retry-After           %d%n", refused429.sum()));
      s.append(String.format(Locale.ROOT, "refused without a valid Retry-After  %d (failed)%n",
          refusedWithoutRetryAfter.sum()));
      s.append(String.format(Locale.ROOT, "any other answer or error            %d (failed)%n", otherUploads.sum()));
      s.append(String.format(Locale.ROOT, "accepted jobs: %d succeeded, %d failed, %d unfinished after %d s%n",
          succeeded.sum(), failed.sum(), unfinished.sum(), jobTimeout));
      s.append(String.format(Locale.ROOT, "completion, upload sent to job finished (wall clock): p50 %s, p99 %s, max %s%n",
          quantile(0.5), quantile(0.99), quantile(1.0)));
      s.append(String.format(Locale.ROOT, "pauses between polls (Retry-After, early answers to wait=%d): %d, %.1f s in all"
          + " (not in the group's time)%n", pollWait, pauses.sum(), pausedMs.sum() / 1000.0));
      if (refused + refusedWithoutRetryAfter.sum() == 0 && uploads > 0) {
        s.append("no upload was refused: the service admitted this rate; raise --rate to flood it\n");
      }
      return s.toString();
    }
  }
}
