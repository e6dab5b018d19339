package io.aiq.circles.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * A spike: {@code burst} uploads at once (default 10 × rate), then the steady {@code rate} for
 * {@code duration} seconds. The queue fills, drains, and every job still finishes: no failed
 * request, while response times show the queueing and the recovery in the report.
 */
public class BurstSimulation extends Simulation {
  private final LoadParameters p = LoadParameters.fromSystemProperties(2, 60, 60000);
  private final int burst = Integer.getInteger("burst", (int) Math.ceil(p.rate() * 10));

  {
    setUp(scenario("burst").exec(Steps.uploadPollAndRead(p))
        .injectOpen(nothingFor(Duration.ofSeconds(1)), atOnceUsers(burst),
            constantUsersPerSec(p.rate()).during(p.duration())))
        .protocols(Steps.protocol(p))
        .assertions(global().failedRequests().count().is(0L),
            global().responseTime().percentile(99.0).lt(p.p99Ms()));
  }
}
