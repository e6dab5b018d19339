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
 */
public record SubmitImage(String imageId, String format, String contentType, int width, int height, boolean reprocess,
                          Buffer bytes) {
  private static final String IMAGE_ID = "imageId";
  private static final String FORMAT = "format";
  private static final String CONTENT_TYPE = "contentType";
  private static final String WIDTH = "width";
  private static final String HEIGHT = "height";
  private static final String REPROCESS = "reprocess";

  /** Delivery options carrying this message's headers, with the given timeout. */
  public DeliveryOptions options(long sendTimeoutMs) {
    return new DeliveryOptions().setSendTimeout(sendTimeoutMs).setCodecName(UploadBytesCodec.NAME)
        .addHeader(IMAGE_ID, imageId).addHeader(FORMAT, format).addHeader(CONTENT_TYPE, contentType)
        .addHeader(WIDTH, String.valueOf(width)).addHeader(HEIGHT, String.valueOf(height))
        .addHeader(REPROCESS, String.valueOf(reprocess));
  }

  public static SubmitImage fromMessage(Message<Buffer> message) {
    MultiMap h = message.headers();
    return new SubmitImage(h.get(IMAGE_ID), h.get(FORMAT), h.get(CONTENT_TYPE), Integer.parseInt(h.get(WIDTH)),
        Integer.parseInt(h.get(HEIGHT)), Boolean.parseBoolean(h.get(REPROCESS)), message.body());
  }
}
