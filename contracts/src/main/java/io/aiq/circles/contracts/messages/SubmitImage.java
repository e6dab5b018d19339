package io.aiq.circles.contracts.messages;

import io.aiq.circles.contracts.EventBusAddresses;
import io.aiq.circles.contracts.UploadBytesCodec;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

/**
 * A validated upload, from the gateway to ingest ({@link EventBusAddresses#INGEST_SUBMIT}): the bytes
 * as the body (through {@link UploadBytesCodec}, no copy within a process), what the validator read
 * from them in headers. Answered with a {@link Submission}.
 *
 * @param callbackUrl the webhook to call once the job is finished, already checked by the gateway
 *     (see {@link io.aiq.circles.contracts.WebhookTargets}); null when none was asked for
 */
public record SubmitImage(String imageId, String format, String contentType, int width, int height, boolean reprocess,
                          Buffer bytes, String callbackUrl) {
  private static final String IMAGE_ID = "imageId";
  private static final String FORMAT = "format";
  private static final String CONTENT_TYPE = "contentType";
  private static final String WIDTH = "width";
  private static final String HEIGHT = "height";
  private static final String REPROCESS = "reprocess";
  private static final String CALLBACK_URL = "callbackUrl";

  /** An upload without a webhook. */
  public SubmitImage(String imageId, String format, String contentType, int width, int height, boolean reprocess,
                     Buffer bytes) {
    this(imageId, format, contentType, width, height, reprocess, bytes, null);
  }

  /** Delivery options carrying this message's headers, with the given timeout. */
  public DeliveryOptions options(long sendTimeoutMs) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(sendTimeoutMs).setCodecName(UploadBytesCodec.NAME)
        .addHeader(IMAGE_ID, imageId).addHeader(FORMAT, format).addHeader(CONTENT_TYPE, contentType)
        .addHeader(WIDTH, String.valueOf(width)).addHeader(HEIGHT, String.valueOf(height))
        .addHeader(REPROCESS, String.valueOf(reprocess));
    return callbackUrl == null ? options : options.addHeader(CALLBACK_URL, callbackUrl);
  }

  public static SubmitImage fromMessage(Message<Buffer> message) {
    MultiMap h = message.headers();
    return new SubmitImage(h.get(IMAGE_ID), h.get(FORMAT), h.get(CONTENT_TYPE), Integer.parseInt(h.get(WIDTH)),
        Integer.parseInt(h.get(HEIGHT)), Boolean.parseBoolean(h.get(REPROCESS)), message.body(), h.get(CALLBACK_URL));
  }
}
