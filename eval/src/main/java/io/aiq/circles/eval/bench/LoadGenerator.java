package io.aiq.circles.eval.bench;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmark's clients: uploads the photos in turn ({@code POST /images?reprocess=true}, so the
 * same bytes make a new job each time), either as fast as the service finishes them (closed loop)
 * or at a fixed arrival rate (open loop), and follows the jobs to their end. Every failed request
 * is counted by its kind: a benchmark's errors must say why.
 */
final class LoadGenerator {
  private final HttpClient http;
  private final String base;
  private final List<byte[]> photos;
  private final int backlog;
  private final MetricsScraper metrics;
  private final long servicePid;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger failures = new AtomicInteger();
  /** What failed, by HTTP status or exception. */
  private final Map<String, AtomicInteger> failureKinds = new ConcurrentHashMap<>();

  /**
   * @param backlog in a closed loop, uploads wait while more jobs than this are unfinished
   * @param servicePid the measured process, whose CPU time each closed loop accounts for
   */
  LoadGenerator(HttpClient http, String base, List<byte[]> photos, int backlog, MetricsScraper metrics, long servicePid) {
    this.http = http;
    this.base = base;
    this.photos = photos;
    this.backlog = backlog;
    this.metrics = metrics;
    this.servicePid = servicePid;
  }

  /** An accepted upload: its job and how long the 202 took. */
  record Submitted(String jobId, double acceptMs) {
  }

  /** A closed loop's completed jobs a second, and where the machine's CPU went meanwhile. */
  record ClosedLoop(double rate, CpuShares.Phase cpu) {
  }

  /** Failed requests so far. */
  int failures() {
    return failures.get();
  }

  /** Failed requests so far by kind (HTTP status and body, exception, job error code). */
  Map<String, AtomicInteger> failureKinds() {
    return failureKinds;
  }

  /**
   * Keeps the service saturated: {@code concurrency} uploaders, held back while more than
   * {@code backlog} jobs wait (a few batches ahead of inference, not thousands). Returns completed
   * jobs a second over the phase, after waiting for the phase's backlog to drain.
   */
  ClosedLoop closedLoop(Duration length, int concurrency) throws Exception {
    long end = System.nanoTime() + length.toNanos();
    int startCount = metrics.completedJobs();
    CpuShares.Snapshot before = CpuShares.snapshot(servicePid);
    long start = System.nanoTime();
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(CompletableFuture.runAsync(() -> {
        while (System.nanoTime() < end) {
          if (accepted.get() - completed.get() > backlog) {
            sleep(10);
          } else if (upload() != null) {
            accepted.incrementAndGet();
          }
        }
      }));
    }
    while (System.nanoTime() < end) {
      Thread.sleep(200);
      completed.set(metrics.completedJobs() - startCount);
    }
    CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get();
    int jobs = metrics.completedJobs() - startCount;
    CpuShares.Snapshot after = CpuShares.snapshot(servicePid);
    double rate = jobs / ((System.nanoTime() - start) / 1e9);
    drain(Duration.ofSeconds(120));
    return new ClosedLoop(rate, new CpuShares.Phase(before, after, jobs));
  }

  /** Uploads at a fixed rate (open loop: arrivals do not wait for answers); the accepted ones. */
  List<Submitted> openLoop(Duration length, double rate) throws Exception {
    List<CompletableFuture<Submitted>> sent = new ArrayList<>();
    long start = System.nanoTime();
    long n = (long) (length.toSeconds() * rate);
    for (long i = 0; i < n; i++) {
      long due = start + (long) (i * 1e9 / rate);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      sent.add(CompletableFuture.supplyAsync(this::upload));
    }
    List<Submitted> out = new ArrayList<>();
    for (CompletableFuture<Submitted> f : sent) {
      Submitted s = f.get();
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  /** Follows each job to its end ({@code Prefer: wait=5}, up to 60 times); the succeeded jobs. */
  List<JsonObject> awaitAll(List<Submitted> jobs) throws Exception {
    List<JsonObject> out = Collections.synchronizedList(new ArrayList<>());
    for (Submitted s : jobs) {
      for (int attempt = 0; attempt < 60; attempt++) {
        JsonObject job = new JsonObject(get("/jobs/" + s.jobId(), "wait=5"));
        String status = job.getString("status");
        if ("succeeded".equals(status)) {
          out.add(job);
          break;
        }
        if ("failed".equals(status)) {
          fail("job failed: " + job.getJsonObject("error", new JsonObject()).getString("code"));
          break;
        }
      }
    }
    return out;
  }

  /** Waits until nothing is queued or processing (the backlog of a phase is done). */
  void drain(Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    int last = -1;
    while (System.nanoTime() < end) {
      int now = metrics.completedJobs();
      if (now == last) {
        return;
      }
      last = now;
      Thread.sleep(1500);
    }
  }

  /** One multipart upload of the next photo; null when it was not accepted (counted as a failure). */
  private Submitted upload() {
    byte[] photo = photos.get(Math.floorMod(next.getAndIncrement(), photos.size()));
    String boundary = "bench" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
        + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    body.writeBytes(photo);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/images?reprocess=true"))
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      double ms = (System.nanoTime() - t0) / 1e6;
      if (r.statusCode() != 202) {
        fail("upload answered " + r.statusCode() + " " + r.body().substring(0, Math.min(120, r.body().length())));
        return null;
      }
      return new Submitted(new JsonObject(r.body()).getString("jobId"), ms);
    } catch (IOException e) {
      fail("upload: " + e);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private void fail(String kind) {
    failures.incrementAndGet();
    failureKinds.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
  }

  private String get(String path, String prefer) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (prefer != null) {
      req.header("Prefer", prefer);
    }
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
