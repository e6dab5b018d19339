package io.aiq.circles.load;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.Simulation;

/**
 * Reads only: {@code rate} clients a second list images and read one, its objects and its latest
 * job. Needs images in the service (run upload-and-poll first). Passes with no failed request and
 * the 99th percentile under {@code p99Ms}.
 */
public class ReadHeavySimulation extends Simulation {
  private final LoadParameters p = LoadParameters.fromSystemProperties(50, 60, 100);

  {
    setUp(scenario("read heavy").exec(Steps.browse())
        .injectOpen(constantUsersPerSec(p.rate()).during(p.duration())))
        .protocols(Steps.protocol(p))
        .assertions(global().failedRequests().count().is(0L),
            global().responseTime().percentile(99.0).lt(p.p99Ms()));
  }
}
