package io.aiq.circles.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The cursor of GET /jobs by mutation: whatever a client sends in its place decodes to a cursor
 * inside the range of job times or is refused as {@code invalid_cursor}, never another exception
 * (which would be a 500) and never a time PostgreSQL would refuse.
 */
class JobCursorTest {
  private static final Instant EARLIEST = Instant.EPOCH;

  @Test
  void a_cursor_decodes_to_the_job_it_was_made_from() {
    JobCursor c = new JobCursor(Instant.parse("2026-12-01T16:20:00.123456Z"), UUID.randomUUID());

    assertThat(JobCursor.decode(c.encode())).isEqualTo(c);
  }

  @Test
  void a_time_outside_what_a_job_can_have_is_an_invalid_cursor() {
    for (String inside : new String[] {"j-1:", "j-999999999999999999:", "j999999999999999999:"}) {
      String raw = inside + UUID.randomUUID();
      String cursor = Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.US_ASCII));
      assertThatThrownBy(() -> JobCursor.decode(cursor)).as(raw).isInstanceOf(ApiException.class)
          .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(ErrorCode.INVALID_CURSOR));
    }
  }

  @Test
  void mutated_cursors_decode_within_range_or_are_invalid_cursors() {
    Random random = new Random(17);
    String valid = new JobCursor(Instant.parse("2026-12-01T16:20:00Z"), UUID.randomUUID()).encode();
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      String mutated = mutate(random, i % 2 == 0 ? valid
          : new String(Base64.getUrlDecoder().decode(valid), StandardCharsets.US_ASCII));
      try {
        JobCursor c = JobCursor.decode(mutated);
        assertThat(c.createdAt()).as(mutated).isBetween(EARLIEST, JobCursor.START.createdAt());
      } catch (ApiException e) {
        assertThat(e.code()).as(mutated).isEqualTo(ErrorCode.INVALID_CURSOR);
        refused++;
      }
    }
    assertThat(refused).as("most mutations are refused").isGreaterThan(10_000);
  }

  /** One to four byte-level edits: flip, insert, delete, or swap in a character that matters here. */
  private static String mutate(Random random, String s) {
    StringBuilder b = new StringBuilder(s);
    String specials = "j:-=+/_%\u0000\u00ff0123456789abcdefABCDEF ";
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = b.length() == 0 ? 0 : random.nextInt(b.length());
      switch (random.nextInt(4)) {
        case 0 -> {
          if (b.length() > 0) {
            b.setCharAt(at, (char) (b.charAt(at) ^ (1 << random.nextInt(7))));
          }
        }
        case 1 -> b.insert(at, specials.charAt(random.nextInt(specials.length())));
        case 2 -> {
          if (b.length() > 0) {
            b.deleteCharAt(at);
          }
        }
        default -> {
          if (b.length() > 0) {
            b.setCharAt(at, specials.charAt(random.nextInt(specials.length())));
          }
        }
      }
    }
    return b.toString();
  }
}
