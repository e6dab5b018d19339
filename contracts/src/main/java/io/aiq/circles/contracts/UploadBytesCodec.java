package io.aiq.circles.contracts;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * The codec of an upload's bytes on their way from the gateway to ingest
 * ({@link EventBusAddresses#INGEST_SUBMIT}). Vert.x's own Buffer codec copies the buffer for every
 * local delivery, so that sender and receiver may both change it; an upload is never changed once
 * received, so within one process it travels as it is, and a 20 MiB upload is not held twice.
 * Across a clustered event bus it is written and read like any buffer.
 */
public final class UploadBytesCodec implements MessageCodec<Buffer, Buffer> {
  public static final String NAME = "aiq-upload-bytes";

  /** Registers the codec once per event bus; every process registers it, senders and receivers. */
  public static synchronized void register(EventBus bus) {
    try {
      bus.registerCodec(new UploadBytesCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // a second application in the same Vert.x instance (tests): the first registration serves
    }
  }

  @Override
  public void encodeToWire(Buffer wire, Buffer bytes) {
    wire.appendInt(bytes.length()).appendBuffer(bytes);
  }

  @Override
  public Buffer decodeFromWire(int pos, Buffer wire) {
    int length = wire.getInt(pos);
    return wire.getBuffer(pos + 4, pos + 4 + length);
  }

  @Override
  public Buffer transform(Buffer bytes) {
    return bytes;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
