package io.aiq.circles.load;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.Simulation;

/**
 * Steady load: {@code rate} new clients a second for {@code duration} seconds, each uploading a real
 * photo, polling its job to the end and reading the detections. Passes when no request failed and
 * the 99th percentile of response times stays under {@code p99Ms} (polls hold up to 5 s by design:
 * the percentile is of all requests).
 */
public class UploadAndPollSimulation extends Simulation {
  private final LoadParameters p = LoadParameters.fromSystemProperties(5, 60, 6000);

  {
    setUp(scenario("upload and poll").exec(Steps.uploadPollAndRead(p))
        .injectOpen(constantUsersPerSec(p.rate()).during(p.duration())))
        .protocols(Steps.protocol(p))
        .assertions(global().failedRequests().count().is(0L),
            global().responseTime().percentile(99.0).lt(p.p99Ms()));
  }
}
