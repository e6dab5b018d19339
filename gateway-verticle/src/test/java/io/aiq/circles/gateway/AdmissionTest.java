package io.aiq.circles.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.messaging.BacklogMonitor.Backlog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** When an upload is told "not now", and what Retry-After says. */
class AdmissionTest {
  private final AtomicReference<Backlog> backlog = new AtomicReference<>();

  private Admission admission(long maxJobs, double maxSeconds, long maxBytes) {
    return new Admission(new AppConfig.Upload(1 << 20, 1 << 20, 1000, maxBytes, maxJobs, maxSeconds), backlog::get,
        new SimpleMeterRegistry());
  }

  private void backlog(long jobs, double capacity) {
    backlog.set(new Backlog(jobs, capacity, System.nanoTime()));
  }

  @Test
  void within_both_bounds_an_upload_is_admitted() {
    Admission a = admission(1000, 60, 1 << 20);
    backlog(999, 100);
    assertThat(a.checkBacklog()).isNull();
  }

  @Test
  void past_the_seconds_of_work_an_upload_is_refused_and_told_when_the_excess_will_have_drained() {
    Admission a = admission(0, 60, 1 << 20);
    backlog(7_000, 100);
    Admission.Refusal r = a.checkBacklog();
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).isEqualTo(10);
    assertThat(r.message()).contains("7000 images wait").contains("70 s of work");
  }

  @Test
  void past_the_job_bound_an_upload_is_refused_even_while_the_capacity_is_unknown() {
    Admission a = admission(500, 60, 1 << 20);
    backlog(501, 0);
    Admission.Refusal r = a.checkBacklog();
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).isEqualTo(5);
  }

  @Test
  void with_an_unknown_capacity_the_seconds_bound_does_not_refuse() {
    // an idle or scaled-to-zero inference: only the job bound can say no
    Admission a = admission(0, 1, 1 << 20);
    backlog(400, 0);
    assertThat(a.checkBacklog()).isNull();
  }

  @Test
  void a_batch_is_refused_whole_when_its_last_file_would_pass_the_job_bound() {
    Admission a = admission(1000, 0, 1 << 20);
    backlog(997, 100);
    assertThat(a.checkBacklog(4)).as("997 waiting + 3 ahead of the last file: at the bound").isNull();
    assertThat(a.checkBacklog(5)).as("the fifth file would be the 1001st waiting").isNotNull();
  }

  @Test
  void a_batch_counts_its_files_as_seconds_of_work_too() {
    Admission a = admission(0, 60, 1 << 20);
    backlog(5_990, 100);
    assertThat(a.checkBacklog(10)).isNull();
    assertThat(a.checkBacklog(16)).isNotNull();
  }

  @Test
  void without_a_reading_of_the_backlog_nothing_is_refused_for_it() {
    assertThat(admission(1, 1, 1 << 20).checkBacklog()).isNull();
  }

  @Test
  void retry_after_is_between_one_and_thirty_seconds() {
    assertThat(Admission.retryAfter(0.01)).isEqualTo(1);
    assertThat(Admission.retryAfter(12.2)).isEqualTo(13);
    assertThat(Admission.retryAfter(1e9)).isEqualTo(30);
    assertThat(Admission.retryAfter(Double.NaN)).isEqualTo(5);
  }

  @Test
  void bytes_in_flight_are_reserved_up_to_the_bound_and_given_back() {
    Admission a = admission(0, 0, 1000);
    assertThat(a.reserve(600)).isTrue();
    assertThat(a.reserve(500)).isFalse();
    assertThat(a.bytesInFlight()).isEqualTo(600);
    a.release(600);
    assertThat(a.reserve(500)).isTrue();
  }

  @Test
  void one_upload_larger_than_the_bound_is_still_taken_when_nothing_else_is_held() {
    // upload.max-bytes caps a single upload; this bound is about many at once
    Admission a = admission(0, 0, 1000);
    assertThat(a.reserve(5000)).isTrue();
    assertThat(a.reserve(1)).isFalse();
  }
}
