package io.aiq.circles.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an Idempotency-Key may be, and what binds it to a request (its fingerprint). */
class IdempotencyKeysTest {
  private static UploadReceiver.Part part(int index, String name, String bytes) {
    return new UploadReceiver.Part(index, name, Buffer.buffer(bytes));
  }

  @Test
  void a_key_is_1_to_255_printable_ascii_characters_bare_or_quoted() {
    assertThat(IdempotencyKeys.parse("8e03978e-40d5-43e8-bc93-6894a57f9324")).isEqualTo("8e03978e-40d5-43e8-bc93-6894a57f9324");
    assertThat(IdempotencyKeys.parse("\"abc def\"")).isEqualTo("abc def");
    assertThat(IdempotencyKeys.parse("k".repeat(255))).hasSize(255);
  }

  @Test
  void an_empty_long_or_non_ascii_key_is_refused() {
    assertThat(IdempotencyKeys.parse("")).isNull();
    assertThat(IdempotencyKeys.parse("\"\"")).isNull();
    assertThat(IdempotencyKeys.parse("k".repeat(256))).isNull();
    assertThat(IdempotencyKeys.parse("clé")).isNull();
    assertThat(IdempotencyKeys.parse("a\u0001b")).isNull();
  }

  @Test
  void the_fingerprint_changes_with_the_bytes_their_order_the_names_and_the_parameters() {
    String base = IdempotencyKeys.fingerprint(List.of(part(0, "a", "AAA"), part(1, "b", "BBB")), List.of("reprocess=false"));

    assertThat(IdempotencyKeys.fingerprint(List.of(part(0, "a", "AAA"), part(1, "b", "BBB")), List.of("reprocess=false")))
        .isEqualTo(base);
    assertThat(IdempotencyKeys.fingerprint(List.of(part(0, "b", "BBB"), part(1, "a", "AAA")), List.of("reprocess=false")))
        .isNotEqualTo(base);
    assertThat(IdempotencyKeys.fingerprint(List.of(part(0, "a", "AAAB"), part(1, "b", "BB")), List.of("reprocess=false")))
        .as("bytes moved from one file to the next").isNotEqualTo(base);
    assertThat(IdempotencyKeys.fingerprint(List.of(part(0, "x", "AAA"), part(1, "b", "BBB")), List.of("reprocess=false")))
        .isNotEqualTo(base);
    assertThat(IdempotencyKeys.fingerprint(List.of(part(0, "a", "AAA"), part(1, "b", "BBB")), List.of("reprocess=true")))
        .isNotEqualTo(base);
  }
}
