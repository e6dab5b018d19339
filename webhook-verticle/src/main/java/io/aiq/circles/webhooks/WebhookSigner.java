package io.aiq.circles.webhooks;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhooks as the Standard Webhooks specification says (https://www.standardwebhooks.com/):
 * the signed content is {@code webhook-id + "." + webhook-timestamp + "." + body}, the signature
 * HMAC-SHA256 of it under the secret, sent as {@code webhook-signature: v1,<base64>}. A secret of the
 * spec's form {@code whsec_<base64>} is the base64-decoded bytes, as the spec's libraries read it;
 * any other text is its UTF-8 bytes.
 */
public final class WebhookSigner {
  static final String PREFIX = "whsec_";
  private static final String HMAC = "HmacSHA256";

  private final SecretKeySpec key;

  /** @throws ConfigException without a secret, or with a {@code whsec_} one that is not base64 */
  public WebhookSigner(String secret) {
    this.key = new SecretKeySpec(keyBytes(secret), HMAC);
  }

  /** The signer of this configuration; the reason the webhooks role cannot start without one. */
  public static WebhookSigner of(AppConfig.Webhooks webhooks) {
    return new WebhookSigner(webhooks.secret());
  }

  static byte[] keyBytes(String secret) {
    if (secret == null || secret.isBlank()) {
      throw new ConfigException("webhooks.secret (AIQ_WEBHOOKS_SECRET) is not set: the webhooks role signs every "
          + "webhook and cannot start without it. Set it, e.g. to \"whsec_\" + `openssl rand -base64 32`, or leave "
          + "webhooks out of roles");
    }
    String s = secret.trim();
    if (!s.startsWith(PREFIX)) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    try {
      byte[] bytes = Base64.getDecoder().decode(s.substring(PREFIX.length()));
      if (bytes.length == 0) {
        throw new IllegalArgumentException("empty");
      }
      return bytes;
    } catch (IllegalArgumentException e) {
      throw new ConfigException("webhooks.secret starts with whsec_ but the rest is not base64: " + e.getMessage());
    }
  }

  /** The {@code webhook-signature} header's value for this message. */
  public String sign(String webhookId, long timestampSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      mac.update((webhookId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      // HmacSHA256 is in every JRE
      throw new IllegalStateException(e);
    }
  }
}
