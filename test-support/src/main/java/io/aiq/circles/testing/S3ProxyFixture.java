package io.aiq.circles.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;

/**
 * A real S3 server in this JVM: S3Proxy on 127.0.0.1 and a free port, AWS signature v4 with fixed
 * test credentials, over jclouds' in-memory ({@link #start()}) or filesystem ({@link #start(Path)})
 * backend. Nothing of the AWS SDK is involved on this side: what a test reads back through
 * {@link #object} is what the server holds.
 *
 * <p>S3Proxy brings jclouds (and Guice, Guava, JAXB): a module that uses this fixture declares
 * {@code org.gaul:s3proxy} in test scope itself (test-support has it as optional).
 */
public final class S3ProxyFixture implements AutoCloseable {
  public static final String ACCESS_KEY_ID = "aiq-test-access-key";
  public static final String SECRET_ACCESS_KEY = "aiq-test-secret-key-0123456789";
  public static final String REGION = "us-east-1";

  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final int port;

  private S3ProxyFixture(BlobStoreContext context) {
    this.context = context;
    // a port of its own, kept across stop() and restart(): a store that comes back where it was
    this.port = TestEnv.freePort();
    this.proxy = S3Proxy.builder()
        .blobStore(context.getBlobStore())
        .endpoint(URI.create("http://127.0.0.1:" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        .build();
    try {
      restart();
    } catch (RuntimeException e) {
      context.close();
      throw e;
    }
  }

  /** An S3 server whose objects live in memory. */
  public static S3ProxyFixture start() {
    return new S3ProxyFixture(ContextBuilder.newBuilder("transient")
        .credentials("identity", "credential").build(BlobStoreContext.class));
  }

  /** An S3 server whose buckets are folders under this one (as {@code just dev --s3} runs it). */
  public static S3ProxyFixture start(Path basedir) {
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", basedir.toAbsolutePath().toString());
    return new S3ProxyFixture(ContextBuilder.newBuilder("filesystem")
        .credentials("identity", "credential").overrides(p).build(BlobStoreContext.class));
  }

  /** The server's URL, {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Creates a bucket (nothing if it is there) and returns its name. */
  public String createBucket(String name) {
    context.getBlobStore().createContainerInLocation(null, name);
    return name;
  }

  /** The bytes of an object as the server holds them, or null if there is none under the key. */
  public byte[] object(String bucket, String key) {
    BlobStore store = context.getBlobStore();
    Blob blob = store.getBlob(bucket, key);
    if (blob == null) {
      return null;
    }
    try (InputStream in = blob.getPayload().openStream()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The content type an object was stored with, or null if there is none under the key. */
  public String contentType(String bucket, String key) {
    Blob blob = context.getBlobStore().getBlob(bucket, key);
    return blob == null ? null : blob.getMetadata().getContentMetadata().getContentType();
  }

  /** The {@code store} section of the configuration for this server's bucket, as an override. */
  public JsonObject storeConfig(String bucket, String prefix) {
    return new JsonObject().put("type", "s3").put("s3", new JsonObject()
        .put("bucket", bucket).put("prefix", prefix).put("endpoint", endpoint()).put("region", REGION)
        .put("path-style", true).put("access-key-id", ACCESS_KEY_ID).put("secret-access-key", SECRET_ACCESS_KEY));
  }

  /** The same settings as {@code AIQ_STORE_*} environment variables (for a process started apart). */
  public Map<String, String> environment(String bucket, String prefix) {
    return Map.of("AIQ_STORE_TYPE", "s3", "AIQ_STORE_S3_BUCKET", bucket, "AIQ_STORE_S3_PREFIX", prefix,
        "AIQ_STORE_S3_ENDPOINT", endpoint(), "AIQ_STORE_S3_REGION", REGION, "AIQ_STORE_S3_PATH_STYLE", "true",
        "AIQ_STORE_S3_ACCESS_KEY_ID", ACCESS_KEY_ID, "AIQ_STORE_S3_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
  }

  /** Deletes an object behind the back of whoever stored it. */
  public void deleteObject(String bucket, String key) {
    context.getBlobStore().removeBlob(bucket, key);
  }

  /** Starts the server (again, after {@link #stop}) on its port, with the objects it held. */
  public void restart() {
    try {
      proxy.start();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!"STARTED".equals(proxy.getState())) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
        }
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while S3Proxy started", e);
    } catch (Exception e) {
      throw new IllegalStateException("S3Proxy did not start on " + endpoint(), e);
    }
  }

  /** Stops the server: afterwards its port refuses connections, as a store that is down does. */
  public void stop() {
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException("S3Proxy did not stop", e);
    }
  }

  @Override
  public void close() {
    try {
      if (!"STOPPED".equals(proxy.getState())) {
        stop();
      }
    } finally {
      context.close();
    }
  }
}
