package io.aiq.circles.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A blocking HTTP client of the API, as a test (or a user with curl) sees it. */
public final class ApiClient implements AutoCloseable {
  private final WebClient client;

  public ApiClient(Vertx vertx, int port) {
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
  }

  /** {@code curl -F file=@name} */
  public HttpResponse<Buffer> upload(byte[] bytes, String fileName, String contentType) {
    return uploadTo("/images", bytes, fileName, contentType, null);
  }

  public HttpResponse<Buffer> uploadTo(String path, byte[] bytes, String fileName, String contentType, String prefer) {
    HttpRequest<Buffer> req = client.post(path);
    if (prefer != null) {
      req.putHeader("Prefer", prefer);
    }
    return await(req.sendMultipartForm(MultipartForm.create()
        .binaryFileUpload("file", fileName, Buffer.buffer(bytes), contentType)));
  }

  public HttpResponse<Buffer> uploadForm(MultipartForm form) {
    return await(client.post("/images").sendMultipartForm(form));
  }

  /** {@code curl --data-binary @file -H 'Content-Type: …'} */
  public HttpResponse<Buffer> uploadRaw(byte[] bytes, String contentType) {
    HttpRequest<Buffer> req = client.post("/images");
    if (contentType != null) {
      req.putHeader("Content-Type", contentType);
    }
    return await(req.sendBuffer(Buffer.buffer(bytes)));
  }

  /** The underlying client, for requests the helpers here do not make (custom headers). */
  public WebClient web() {
    return client;
  }

  /** Sends a request built on {@link #web()} and waits for the answer. */
  public HttpResponse<Buffer> send(io.vertx.core.Future<HttpResponse<Buffer>> request) {
    return await(request);
  }

  public HttpResponse<Buffer> get(String path) {
    return await(client.get(path).send());
  }

  public HttpResponse<Buffer> get(String path, String prefer) {
    return await(client.get(path).putHeader("Prefer", prefer).send());
  }

  public HttpResponse<Buffer> request(io.vertx.core.http.HttpMethod method, String path) {
    return await(client.request(method, path).send());
  }

  /** Polls {@code GET /jobs/{id}} until the job is finished, as a client would. */
  public JsonObject awaitJob(String jobId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonObject job;
    do {
      HttpResponse<Buffer> r = get("/jobs/" + jobId, "wait=2");
      if (r.statusCode() != 200) {
        throw new AssertionError("GET /jobs/" + jobId + " answered " + r.statusCode() + ": " + r.bodyAsString());
      }
      job = r.bodyAsJsonObject();
      String status = job.getString("status");
      if ("succeeded".equals(status) || "failed".equals(status) || "cancelled".equals(status)) {
        return job;
      }
    } while (System.nanoTime() < deadline);
    throw new AssertionError("job " + jobId + " did not finish within " + timeout + "; last seen: " + job.encode());
  }

  private static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.await(60, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within 60 s", e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
