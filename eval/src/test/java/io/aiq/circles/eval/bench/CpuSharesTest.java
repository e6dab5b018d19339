package io.aiq.circles.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark's account of where the CPU went: per process, per service thread, per job. */
class CpuSharesTest {
  private static final int CORES = Runtime.getRuntime().availableProcessors();

  @Test
  void numbered_threads_of_one_kind_are_one_group() {
    assertThat(CpuShares.threadGroup("GC Thread#1")).isEqualTo("GC Thread");
    assertThat(CpuShares.threadGroup("aiq-inference-0")).isEqualTo("aiq-inference");
    assertThat(CpuShares.threadGroup("vert.x-eventloo")).isEqualTo("vert.x-eventloo");
    assertThat(CpuShares.threadGroup("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
    assertThat(CpuShares.threadGroup("42")).isEqualTo("42");
  }

  @Test
  void cpu_per_job_is_the_busy_share_of_all_cores_over_the_phase_divided_by_the_jobs() {
    // one second on every core: 100 ticks a core; the service used half of it, postgres a tenth
    CpuShares.Snapshot from = new CpuShares.Snapshot(0, 1000, Map.of("service", 10L, "postgres", 5L),
        Map.of("aiq-inference", 8L, "vert.x-eventloop", 2L));
    CpuShares.Snapshot to = new CpuShares.Snapshot(1_000_000_000L, 1000 + 100L * CORES,
        Map.of("service", 10 + 50L * CORES, "postgres", 5 + 10L * CORES),
        Map.of("aiq-inference", 8 + 40L * CORES, "vert.x-eventloop", 2 + 10L * CORES));

    CpuShares.Phase phase = new CpuShares.Phase(from, to, 10);

    assertThat(phase.idleShare()).isCloseTo(0.4, within(1e-9));
    assertThat(phase.cpuMsPerJob()).isCloseTo(60.0 * CORES, within(1e-6));
    assertThat(phase.perJob()).startsWith(String.format(java.util.Locale.ROOT, "service %.1f ms; postgres %.1f ms",
        50.0 * CORES, 10.0 * CORES));
    assertThat(phase.servicePerJob()).startsWith(String.format(java.util.Locale.ROOT, "aiq-inference %.1f ms",
        40.0 * CORES));
    assertThat(phase.shares()).isEqualTo("service 50 %; postgres 10 %");
  }

  @Test
  void time_the_hypervisor_took_is_steal_not_idle() {
    // one second on every core: the service used half, the hypervisor took a fifth for other machines
    CpuShares.Snapshot from = new CpuShares.Snapshot(0, 1000, Map.of("service", 10L), Map.of(), 7);
    CpuShares.Snapshot to = new CpuShares.Snapshot(1_000_000_000L, 1000 + 100L * CORES,
        Map.of("service", 10 + 50L * CORES), Map.of(), 7 + 20L * CORES);

    CpuShares.Phase phase = new CpuShares.Phase(from, to, 10);

    assertThat(phase.stealShare()).isCloseTo(0.2, within(1e-9));
    assertThat(phase.idleShare()).isCloseTo(0.3, within(1e-9));
    assertThat(phase.idleAndSteal()).isEqualTo("; idle 30 %; stolen by the hypervisor 20 %");
  }

  @Test
  void a_phase_without_steal_says_only_its_idle_share() {
    CpuShares.Snapshot from = new CpuShares.Snapshot(0, 1000, Map.of("service", 10L), Map.of());
    CpuShares.Snapshot to = new CpuShares.Snapshot(1_000_000_000L, 1000 + 100L * CORES,
        Map.of("service", 10 + 50L * CORES), Map.of());

    assertThat(new CpuShares.Phase(from, to, 10).idleAndSteal()).isEqualTo("; idle 50 %");
  }

  @Test
  void the_efficiency_ceiling_is_the_model_s_cpu_per_image_over_the_cpu_per_job() {
    CpuShares.Snapshot from = new CpuShares.Snapshot(0, 0, Map.of("service", 0L), Map.of());
    CpuShares.Snapshot to = new CpuShares.Snapshot(1_000_000_000L, 100L * CORES, Map.of("service", 100L * CORES), Map.of());
    // every core busy for a second, 50 jobs: 20 ms × cores of CPU a job
    CpuShares.Phase phase = new CpuShares.Phase(from, to, 50);

    // a bare model at 100 images/s needs 10 ms × cores an image: half of each job's CPU
    assertThat(Stats.efficiencyCeiling(100, phase)).isCloseTo(0.5, within(1e-9));
  }

  @Test
  void one_process_s_cpu_per_job_counts_that_process_alone() {
    CpuShares.Snapshot from = new CpuShares.Snapshot(0, 0, Map.of("service", 0L, "postgres", 0L), Map.of());
    // a second on every core: the service three quarters of it, PostgreSQL a quarter; 50 jobs
    CpuShares.Snapshot to = new CpuShares.Snapshot(1_000_000_000L, 100L * CORES,
        Map.of("service", 75L * CORES, "postgres", 25L * CORES), Map.of());
    CpuShares.Phase phase = new CpuShares.Phase(from, to, 50);

    assertThat(phase.cpuMsPerJob("service")).isCloseTo(15.0 * CORES, within(1e-9));
    assertThat(phase.cpuMsPerJob("postgres")).isCloseTo(5.0 * CORES, within(1e-9));
    assertThat(phase.cpuMsPerJob("not there")).isZero();
    // the bare model at 100 images/s: 10 ms × cores an image, two thirds of the service's 15
    assertThat(Stats.efficiencyCeiling(100, phase.cpuMsPerJob("service"))).isCloseTo(10.0 / 15, within(1e-9));
  }
}
