package io.aiq.circles.eval.bench;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Issue 17's figures, part of {@code just bench}, measured as a client sees them, with load from
 * wrk (a C program: a Java load generator would take a good part of two cores from the service):
 *
 * <ul>
 *   <li><b>accept</b>: distinct JPEGs ({@code scripts/bench/upload.lua}) at 1, 8 and 32 connections,
 *       closed loops, on a service with the dummy detector as {@code AIQ_DETECTOR=dummy just dev} runs it; the
 *       backlog is drained before each phase, so each starts from an idle pipeline. Where a lone
 *       upload's time goes comes from the service's own stage timers ({@code aiq_ingest_stage_seconds}).
 *   <li><b>reads</b>: {@code GET /jobs/{id}} and {@code GET /images/{id}/objects} at 8 connections for
 *       ids drawn at random, on a database brought to at least {@value #READ_JOBS} jobs (succeeded
 *       jobs with three detections each are inserted by SQL, then analysed).
 *   <li><b>drain</b>: the shipped model; uploads at 16 connections build a backlog, then stop; the
 *       completed jobs a second from then until the backlog is empty, with no upload competing, and
 *       where the cores went meanwhile, beside the bare model's images/s of the same run.
 * </ul>
 *
 * <p>The service's admission limits ({@code upload.max-queued-jobs}, {@code max-backlog-seconds}) are
 * raised here: these phases measure the accept path and the drain, not the refusal of a flood
 * (which has its own benchmark, docs/benchmarks.md "Flood above capacity").
 */
final class ThroughputBenchmark {
  static final int READ_JOBS = 100_000;

  record WrkRun(int connections, int requests, double seconds, double p50Ms, double p90Ms, double p99Ms,
                double maxMs, int errors) {
    double perSecond() {
      return requests / seconds;
    }
  }

  /** One accept phase: wrk's figures, the service's stage means and where the CPU went. */
  record Accept(WrkRun wrk, Map<String, Double> stageMeansMs, CpuShares.Phase cpu) {
  }

  record Read(String route, WrkRun wrk, long jobsInDatabase) {
  }

  record Drain(int jobs, double jobsPerSecond, int uploaded, CpuShares.Phase cpu) {
  }

  record Figures(List<Accept> accepts, List<Read> reads, Drain drain) {
  }

  private final Path jar;
  private final String jvmOptions;
  private final int port;
  private final String kafka;
  private final String databaseUrl;
  private final List<byte[]> photos;
  private final int seconds;
  private final Path scripts;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  ThroughputBenchmark(Path jar, String jvmOptions, int port, String kafka, String databaseUrl, List<byte[]> photos,
                      int seconds, Path scripts) {
    this.jar = jar;
    this.jvmOptions = jvmOptions;
    this.port = port;
    this.kafka = kafka;
    this.databaseUrl = databaseUrl;
    this.photos = photos;
    this.seconds = seconds;
    this.scripts = scripts;
  }

  Figures run() throws Exception {
    Path photoList = writePhotos();
    Map<String, String> raised = raisedLimits();
    Map<String, String> dummy = new LinkedHashMap<>(raised);
    dummy.put("AIQ_DETECTOR", "dummy");
    List<Accept> accepts = new ArrayList<>();
    List<Read> reads = new ArrayList<>();
    ServiceProcess service = new ServiceProcess(jar, jvmOptions, port, kafka, databaseUrl, dummy);
    System.out.printf(Locale.ROOT, "accept and reads: the dummy detector, %s, topics %s.*, log %s%n", jvmOptions,
        service.run(), service.log());
    service.start();
    try {
      service.awaitReady(http, Duration.ofSeconds(120));
      MetricsScraper metrics = new MetricsScraper(http, service.base());
      // the JIT compiles the accept path meanwhile: a long-running service is that warm
      wrk(service, 32, Math.max(30, 2 * seconds), "upload.lua", photoList.toString(), "warm" + tag());
      awaitIdle(service);
      for (int connections : new int[] {1, 8, 32}) {
        String before = metrics.scrape();
        CpuShares.Snapshot from = CpuShares.snapshot(service.pid());
        WrkRun run = wrk(service, connections, seconds, "upload.lua", photoList.toString(), "c" + connections + tag());
        CpuShares.Snapshot to = CpuShares.snapshot(service.pid());
        Map<String, Double> stages = stageMeans(before, metrics.scrape());
        accepts.add(new Accept(run, stages, new CpuShares.Phase(from, to, run.requests())));
        System.out.printf(Locale.ROOT, "accept, %2d connection(s): %,.0f uploads/s, p50 %.1f ms, p99 %.1f ms, "
                + "%d errors; stage means %s%n", connections, run.perSecond(), run.p50Ms(), run.p99Ms(), run.errors(),
            stages);
        awaitIdle(service);
      }
      long jobs = seedJobs();
      Path ids = sampleIds(20_000);
      for (String route : List.of("jobs", "objects")) {
        WrkRun run = wrk(service, 8, seconds, "read.lua", ids.toString(), route);
        reads.add(new Read(route, run, jobs));
        System.out.printf(Locale.ROOT, "read %s, 8 connections, %,d jobs: %,.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors%n",
            route, jobs, run.perSecond(), run.p50Ms(), run.p99Ms(), run.errors());
      }
    } finally {
      service.stop();
    }

    return new Figures(accepts, reads, drain(photoList, raised));
  }

  /** The admission limits out of the way: these phases measure the accept path and the drain, not refusals. */
  private static Map<String, String> raisedLimits() {
    Map<String, String> raised = new LinkedHashMap<>();
    raised.put("AIQ_UPLOAD_MAX_QUEUED_JOBS", "100000000");
    raised.put("AIQ_UPLOAD_MAX_BACKLOG_SECONDS", "1000000");
    return raised;
  }

  /** Phase (i) alone: the shipped model drains a backlog that uploads built, uploads stopped. */
  Drain drain() throws Exception {
    return drain(writePhotos(), raisedLimits());
  }

  private Drain drain(Path photoList, Map<String, String> raised) throws Exception {
    ServiceProcess model = new ServiceProcess(jar, jvmOptions, port, kafka, databaseUrl, raised);
    System.out.printf(Locale.ROOT, "drain: the shipped model, topics %s.*, log %s%n", model.run(), model.log());
    model.start();
    Drain drain;
    try {
      model.awaitReady(http, Duration.ofSeconds(120));
      // two rounds of warm-up: the JIT was still compiling through the drain after one (C2's share)
      for (int round = 0; round < 2; round++) {
        wrk(model, 16, Math.max(10, seconds / 2), "upload.lua", photoList.toString(), "dwarm" + tag());
        awaitIdle(model);
      }
      WrkRun uploads = wrk(model, 16, Math.max(10, seconds / 2), "upload.lua", photoList.toString(), "drain" + tag());
      Timestamp stopped = databaseNow();
      CpuShares.Snapshot from = CpuShares.snapshot(model.pid());
      awaitIdle(model);
      CpuShares.Snapshot to = CpuShares.snapshot(model.pid());
      drain = drainAfter(stopped, uploads.requests(), from, to);
      System.out.printf(Locale.ROOT, "drain: %,d uploads in %.0f s, then %,d jobs completed at %.1f jobs/s with no "
          + "upload competing%n", uploads.requests(), uploads.seconds(), drain.jobs(), drain.jobsPerSecond());
      System.out.printf(Locale.ROOT, "    where the cores went: %s; idle %.0f %%%n    CPU per job: %.1f ms: %s%n"
              + "    inside the service: %s%n", drain.cpu().shares(), 100 * drain.cpu().idleShare(),
          drain.cpu().cpuMsPerJob(), drain.cpu().perJob(), drain.cpu().servicePerJob());
    } finally {
      model.stop();
    }
    return drain;
  }

  private static String tag() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /** The photos as files, and a file listing them, for the wrk script. */
  private Path writePhotos() throws IOException {
    Path dir = Files.createTempDirectory("aiq-bench-photos-");
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < photos.size(); i++) {
      Path p = dir.resolve(String.format(Locale.ROOT, "p%03d.jpg", i));
      Files.write(p, photos.get(i));
      paths.add(p.toString());
    }
    Path list = dir.resolve("photos.txt");
    Files.write(list, paths);
    return list;
  }

  /** Runs wrk and reads the figures its script prints as one JSON line. */
  WrkRun wrk(ServiceProcess service, int connections, int runSeconds, String script, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("wrk", "-c", String.valueOf(connections), "-t",
        String.valueOf(Math.min(2, connections)), "-d", runSeconds + "s", "--timeout", "10s", "-s",
        scripts.resolve(script).toString(), service.base(), "--"));
    command.addAll(List.of(args));
    Process wrk;
    try {
      wrk = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("wrk is needed for these phases (apt-get install wrk; just bench installs it)", e);
    }
    String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!wrk.waitFor(runSeconds + 60L, TimeUnit.SECONDS) || wrk.exitValue() != 0) {
      throw new IOException("wrk failed: " + out);
    }
    String line = out.lines().filter(l -> l.startsWith("JSON ")).findFirst()
        .orElseThrow(() -> new IOException("wrk printed no figures: " + out));
    JsonObject j = new JsonObject(line.substring(5));
    return new WrkRun(connections, j.getInteger("requests"), j.getDouble("seconds"), j.getDouble("p50"),
        j.getDouble("p90"), j.getDouble("p99"), j.getDouble("max"), j.getInteger("errors"));
  }

  /** Waits until the service has no queued or processing job, through its own API. */
  private void awaitIdle(ServiceProcess service) throws Exception {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (System.nanoTime() < end) {
      if (none(service, "queued") && none(service, "processing")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the backlog was not drained within 10 minutes; log: " + service.log());
  }

  private boolean none(ServiceProcess service, String status) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.base() + "/jobs?limit=1&status=" + status))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET /jobs answered " + r.statusCode() + ": " + r.body());
    }
    return new JsonObject(r.body()).getJsonArray("items").isEmpty();
  }

  /** Means of {@code aiq_ingest_stage_seconds} (and of the whole ingest) between two scrapes, in ms. */
  static Map<String, Double> stageMeans(String before, String after) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String stage : List.of("store", "database", "publish")) {
      String labels = "{stage=\"" + stage + "\"}";
      out.put(stage, meanMs(before, after, "aiq_ingest_stage_seconds", labels));
    }
    out.put("ingest", meanMs(before, after, "aiq_ingest_seconds", "{outcome=\"queued\"}"));
    return out;
  }

  private static double meanMs(String before, String after, String metric, String labels) {
    double n = value(after, metric + "_count" + labels) - value(before, metric + "_count" + labels);
    double sum = value(after, metric + "_sum" + labels) - value(before, metric + "_sum" + labels);
    return n <= 0 ? Double.NaN : 1000 * sum / n;
  }

  private static double value(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }

  private Connection database() throws SQLException {
    PgConnectOptions o = PgConnectOptions.fromUri(databaseUrl);
    return DriverManager.getConnection("jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase(),
        o.getUser(), o.getPassword());
  }

  /**
   * Brings the database to at least {@link #READ_JOBS} jobs: succeeded jobs of images of their own,
   * three detections each, as the results writer leaves them; then ANALYZE, as autovacuum would.
   *
   * @return the jobs in the database
   */
  private long seedJobs() throws SQLException {
    try (Connection c = database(); Statement s = c.createStatement()) {
      long have = count(s, "SELECT count(*) FROM jobs");
      long add = Math.max(0, READ_JOBS - have) + 10_000;
      String seed = "'bench-seed-" + tag() + "-' || g";
      s.execute("INSERT INTO images (image_id, storage_ref, content_type, format, width, height, size_bytes) "
          + "SELECT encode(sha256((" + seed + ")::bytea), 'hex'), 'seeded/' || g || '.jpg', 'image/jpeg', 'jpeg', 512, 384,"
          + " 20000 FROM generate_series(1, " + add + ") g");
      s.execute("INSERT INTO jobs (job_id, image_id, status, model_name, model_version, inference_ms, detection_count,"
          + " started_at, finished_at) SELECT gen_random_uuid(), encode(sha256((" + seed + ")::bytea), 'hex'), 'succeeded',"
          + " 'dummy', '1', 3, 3, now(), now() FROM generate_series(1, " + add + ") g");
      s.execute("INSERT INTO detections (job_id, object_id, box_xmin, box_ymin, box_xmax, box_ymax, score) "
          + "SELECT j.job_id, o, 20 * o, 10, 20 * o + 50, 60, 0.9 FROM jobs j JOIN images i USING (image_id) "
          + "CROSS JOIN generate_series(0, 2) o WHERE i.storage_ref LIKE 'seeded/%' "
          + "ON CONFLICT (job_id, object_id) DO NOTHING");
      s.execute("ANALYZE");
      return count(s, "SELECT count(*) FROM jobs");
    }
  }

  /** {@code n} random "jobId|imageId" lines, for the read script. */
  private Path sampleIds(int n) throws SQLException, IOException {
    List<String> lines = new ArrayList<>(n);
    try (Connection c = database(); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT job_id, image_id FROM jobs TABLESAMPLE SYSTEM (50) LIMIT " + n)) {
      while (r.next()) {
        lines.add(r.getString(1) + "|" + r.getString(2).trim());
      }
    }
    Path file = Files.createTempFile("aiq-bench-ids-", ".txt");
    Files.write(file, lines);
    return file;
  }

  private Timestamp databaseNow() throws SQLException {
    try (Connection c = database(); Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT now()")) {
      r.next();
      return r.getTimestamp(1);
    }
  }

  /** Jobs finished after the uploads stopped, and their rate from then to the last of them. */
  private Drain drainAfter(Timestamp stopped, int uploaded, CpuShares.Snapshot from, CpuShares.Snapshot to)
      throws SQLException {
    try (Connection c = database();
         var q = c.prepareStatement("SELECT count(*), extract(epoch FROM max(finished_at) - ?) FROM jobs "
             + "WHERE finished_at > ?")) {
      q.setTimestamp(1, stopped);
      q.setTimestamp(2, stopped);
      try (ResultSet r = q.executeQuery()) {
        r.next();
        int jobs = r.getInt(1);
        double span = r.getDouble(2);
        return new Drain(jobs, span > 0 ? jobs / span : Double.NaN, uploaded, new CpuShares.Phase(from, to, jobs));
      }
    }
  }

  private static long count(Statement s, String sql) throws SQLException {
    try (ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }
}
