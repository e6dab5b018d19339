package io.aiq.circles.results;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.persistence.JobView;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The opaque cursor of GET /jobs: the keyset (created_at, job_id) of the last job of a page, as
 * base64url of {@code j<epoch micros>:<job id>}. Opaque to clients, like GET /images's: anything else
 * (garbage, a cursor tampered with, one of GET /images) is 400 {@code invalid_cursor}.
 */
record JobCursor(Instant createdAt, UUID jobId) {
  private static final Pattern FORM = Pattern.compile("j(-?\\d{1,18}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  /** Before every job: the first page. */
  static final JobCursor START = new JobCursor(Instant.parse("9999-12-31T00:00:00Z"),
      new UUID(-1L, -1L));

  private static final long START_MICROS = START.createdAt().getEpochSecond() * 1_000_000L;

  static JobCursor of(JobView job) {
    return new JobCursor(job.createdAt(), job.jobId());
  }

  String encode() {
    long micros = Math.addExact(Math.multiplyExact(createdAt.getEpochSecond(), 1_000_000L), createdAt.getNano() / 1000);
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(("j" + micros + ":" + jobId).getBytes(StandardCharsets.US_ASCII));
  }

  static JobCursor decode(String cursor) {
    if (cursor == null) {
      return START;
    }
    try {
      Matcher m = FORM.matcher(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII));
      if (!m.matches()) {
        throw new IllegalArgumentException();
      }
      long micros = Long.parseLong(m.group(1));
      // a job's creation time lies between 1970 and START; outside it PostgreSQL's timestamptz would
      // refuse the value with an error of its own (a tampered cursor is the client's error, a 400)
      if (micros < 0 || micros > START_MICROS) {
        throw new IllegalArgumentException();
      }
      return new JobCursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000),
          UUID.fromString(m.group(2)));
    } catch (IllegalArgumentException | java.time.DateTimeException e) {
      throw new ApiException(ErrorCode.INVALID_CURSOR, "cursor is not one this API gave out");
    }
  }
}
