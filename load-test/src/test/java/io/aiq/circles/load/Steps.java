package io.aiq.circles.load;

import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.feed;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.listFeeder;
import static io.gatling.javaapi.http.HttpDsl.RawFileBodyPart;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpProtocolBuilder;

/** The steps the simulations are made of: what a client of the API does. */
final class Steps {
  /** A job is polled at most this many times (each poll holds up to 5 s with Prefer: wait). */
  static final int MAX_POLLS = 24;

  private Steps() {
  }

  static HttpProtocolBuilder protocol(LoadParameters p) {
    HttpProtocolBuilder protocol = http.baseUrl(p.baseUrl()).acceptHeader("application/json")
        .userAgentHeader("aiq-circles-load-test");
    return p.apiKey().isEmpty() ? protocol : protocol.header("X-API-Key", p.apiKey());
  }

  /**
   * Uploads an image (asking for a new job even when the bytes are known, so every upload is new
   * work), polls its job until it is finished, checks that it succeeded and reads its objects.
   */
  static ChainBuilder uploadPollAndRead(LoadParameters p) {
    return feed(listFeeder(p.imageRecords()).circular())
        .exec(http("upload").post("/images?reprocess=true")
            .bodyPart(RawFileBodyPart("file", "#{path}").fileName("#{name}").contentType("#{contentType}"))
            .asMultipartForm()
            .check(status().is(202), jsonPath("$.jobId").saveAs("jobId"), jsonPath("$.imageId").saveAs("imageId")))
        .exitHereIfFailed()
        .exec(session -> session.set("status", "queued"))
        .asLongAs(session -> !finished(session) && polls(session) < MAX_POLLS, "polls").on(
            exec(http("poll job").get("/jobs/#{jobId}").header("Prefer", "wait=5")
                .check(status().is(200), jsonPath("$.status").saveAs("status"))))
        .exec(http("job succeeded").get("/jobs/#{jobId}")
            .check(status().is(200), jsonPath("$.status").is("succeeded")))
        .exec(http("read objects").get("/images/#{imageId}/objects").check(status().is(200)));
  }

  /** Lists images, then reads one of them, its objects and its latest job, as a dashboard would. */
  static ChainBuilder browse() {
    return exec(http("list images").get("/images?limit=50")
            .check(status().is(200), jsonPath("$.items[*].imageId").findAll().saveAs("imageIds")))
        .exitHereIfFailed()
        .exec(session -> {
          var ids = session.getList("imageIds");
          return session.set("imageId", ids.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(ids.size())));
        })
        .exec(http("read image").get("/images/#{imageId}")
            .check(status().is(200), jsonPath("$.latestJob.jobId").optional().saveAs("jobId")))
        .exec(http("read objects").get("/images/#{imageId}/objects").check(status().is(200)))
        .doIf(session -> session.contains("jobId")).then(
            exec(http("read job").get("/jobs/#{jobId}").check(status().is(200))));
  }

  private static boolean finished(Session session) {
    String status = session.getString("status");
    return "succeeded".equals(status) || "failed".equals(status);
  }

  private static int polls(Session session) {
    return session.contains("polls") ? session.getInt("polls") : 0;
  }
}
