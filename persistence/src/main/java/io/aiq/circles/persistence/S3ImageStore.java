package io.aiq.circles.persistence;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Image blobs in an S3-compatible bucket: {@code store.type: s3} (AWS S3, MinIO, Ceph RGW, GCS's
 * interoperability API, S3Proxy). A blob's key is {@code store.s3.prefix} + its reference.
 *
 * <p>The AWS SDK's client is blocking (over the JDK's URL connection: the SDK's Netty client would
 * clash with the Netty of Vert.x), so every call runs on a bounded worker pool of its own
 * ({@code store.s3.worker-threads}, shared by the process), never on an event loop. A PUT is atomic:
 * a reader sees the whole blob or none. Failures are told apart as the pipeline needs them: no object
 * under the key is a {@link MissingBlobException} (the job's image is gone), while a store that cannot
 * be reached, times out, throttles, fails (5xx) or refuses the process (credentials, a bucket that does
 * not exist) is an {@link UnavailableException}: an outage, retried, never a record's fault.
 */
public final class S3ImageStore implements ImageStore {
  static final String WORKER_POOL = "aiq-s3-store";
  private static final Pattern REF = Pattern.compile("[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\\.[a-z0-9]{1,5}");
  private static final Map<String, String> CONTENT_TYPES = Map.of("jpg", "image/jpeg", "jpeg", "image/jpeg",
      "png", "image/png", "gif", "image/gif", "bmp", "image/bmp", "webp", "image/webp", "tif", "image/tiff",
      "tiff", "image/tiff");

  private final AppConfig.S3 config;
  private final S3Client s3;
  private final WorkerExecutor executor;

  public S3ImageStore(Vertx vertx, AppConfig.S3 config) {
    this.config = config;
    this.s3 = client(config);
    this.executor = vertx.createSharedWorkerExecutor(WORKER_POOL, config.workerThreads());
  }

  /** The SDK's client for these settings (also what the store's tests and tools use). */
  public static S3Client client(AppConfig.S3 config) {
    Duration timeout = Duration.ofMillis(config.timeoutMs());
    AwsCredentialsProvider credentials = config.accessKeyId().isBlank()
        ? DefaultCredentialsProvider.builder().build()
        : StaticCredentialsProvider.create(AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey()));
    S3ClientBuilder builder = S3Client.builder()
        .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout))
        .credentialsProvider(credentials)
        .region(Region.of(config.region().isBlank() ? "us-east-1" : config.region()))
        .forcePathStyle(config.pathStyle())
        // checksums only where the API requires them: most S3-compatible stores do not take the
        // trailing checksums the SDK would otherwise add to every upload
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.apiCallTimeout(timeout));
    if (!config.endpoint().isBlank()) {
      builder.endpointOverride(URI.create(config.endpoint()));
    }
    return builder.build();
  }

  @Override
  public Future<String> put(String imageId, String extension, Buffer bytes) {
    String ref = ImageStore.refFor(imageId, extension);
    String key = key(ref);
    byte[] body = bytes.getBytes();
    return call("storing " + key, null, () -> {
      s3.putObject(r -> r.bucket(config.bucket()).key(key).contentLength((long) body.length)
          .contentType(CONTENT_TYPES.getOrDefault(extension, "application/octet-stream")), RequestBody.fromBytes(body));
      return ref;
    });
  }

  @Override
  public Future<Buffer> get(String ref) {
    String key = key(ref);
    return call("reading " + key, ref, () -> Buffer.buffer(
        s3.getObjectAsBytes(r -> r.bucket(config.bucket()).key(key)).asByteArrayUnsafe()));
  }

  @Override
  public Future<Void> delete(String ref) {
    String key = key(ref);
    // S3 answers a DELETE of a key that is not there with 204: deletion is idempotent as it is
    return call("deleting " + key, null, () -> {
      s3.deleteObject(r -> r.bucket(config.bucket()).key(key));
      return null;
    });
  }

  /** The bucket answers a HEAD with these credentials. */
  @Override
  public Future<Void> ready() {
    return call("checking the bucket", null, () -> {
      s3.headBucket(r -> r.bucket(config.bucket()));
      return null;
    });
  }

  @Override
  public Future<Void> close() {
    return executor.close().eventually(() -> {
      s3.close();
      return Future.succeededFuture();
    });
  }

  /** The object key of a reference; a reference that is not one of {@link ImageStore#refFor}'s is refused. */
  public String key(String ref) {
    if (ref == null || !REF.matcher(ref).matches()) {
      throw new IllegalArgumentException("not a storage reference of the image store: " + ref);
    }
    return config.prefix() + ref;
  }

  @Override
  public String toString() {
    return "S3 store s3://" + config.bucket() + "/" + config.prefix()
        + (config.endpoint().isBlank() ? "" : " at " + config.endpoint());
  }

  /**
   * Runs one blocking SDK call on the store's worker pool; its failure told apart as the class says.
   *
   * @param read the reference read, or null if the call reads no blob
   */
  private <T> Future<T> call(String what, String read, Callable<T> call) {
    return executor.executeBlocking(() -> {
      try {
        return call.call();
      } catch (RuntimeException e) {
        throw translate(what, read, e);
      }
    }, false);
  }

  private RuntimeException translate(String what, String read, RuntimeException e) {
    String where = this + ": " + what;
    if (e instanceof NoSuchBucketException) {
      return new UnavailableException(where + ": the bucket " + config.bucket() + " does not exist", e);
    }
    if (e instanceof NoSuchKeyException) {
      return new MissingBlobException(read, e);
    }
    if (e instanceof S3Exception s3e) {
      int status = s3e.statusCode();
      String code = s3e.awsErrorDetails() == null ? null : s3e.awsErrorDetails().errorCode();
      if (status == 404 && read != null && (code == null || !code.toLowerCase(Locale.ROOT).contains("bucket"))) {
        return new MissingBlobException(read, e);
      }
      if (status == 404) {
        return new UnavailableException(where + ": the bucket " + config.bucket() + " does not exist (" + code + ")", e);
      }
      if (status == 401 || status == 403) {
        return new UnavailableException(where + ": the store refused this process's credentials (" + status + " "
            + code + "); check store.s3.access-key-id / secret-access-key or the pod's identity", e);
      }
      if (status >= 500 || status == 429 || s3e.isThrottlingException()) {
        return new UnavailableException(where + ": the store is failing or throttling (" + status + " " + code + ")", e);
      }
      return e;
    }
    if (e instanceof SdkClientException) {
      // not reached, timed out, connection reset: nothing was said about the object
      return new UnavailableException(where + ": the store cannot be reached: " + e.getMessage(), e);
    }
    return e;
  }
}
