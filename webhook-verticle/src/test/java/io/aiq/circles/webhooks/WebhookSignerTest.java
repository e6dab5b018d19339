package io.aiq.circles.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Signatures as the Standard Webhooks specification and its reference libraries compute them. */
class WebhookSignerTest {

  @Test
  void the_reference_libraries_test_vector_signs_the_same() {
    // secret, id, timestamp, payload and signature of the Standard Webhooks libraries' own tests
    WebhookSigner signer = new WebhookSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    String signature = signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330L,
        "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8));

    assertThat(signature).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  }

  @Test
  void a_secret_without_the_whsec_prefix_is_its_utf8_bytes() throws Exception {
    byte[] body = "{\"jobId\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec("plain-secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String expected = "v1," + Base64.getEncoder().encodeToString(mac.doFinal("msg_1.42.{\"jobId\":\"x\"}"
        .getBytes(StandardCharsets.UTF_8)));

    assertThat(new WebhookSigner("plain-secret").sign("msg_1", 42, body)).isEqualTo(expected);
  }

  @Test
  void no_secret_is_a_configuration_error_that_names_the_setting() {
    assertThatThrownBy(() -> new WebhookSigner("")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("webhooks.secret").hasMessageContaining("AIQ_WEBHOOKS_SECRET");
    assertThatThrownBy(() -> new WebhookSigner("  ")).isInstanceOf(ConfigException.class);
  }

  @Test
  void a_whsec_secret_that_is_not_base64_is_a_configuration_error() {
    assertThatThrownBy(() -> new WebhookSigner("whsec_not base64!")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("base64");
  }

  @Test
  void the_user_agent_names_the_service_and_its_version() {
    assertThat(WebhooksVerticle.userAgent()).matches("aiq-circles-webhooks/\\d+\\.\\d+\\.\\d+.*");
  }
}
