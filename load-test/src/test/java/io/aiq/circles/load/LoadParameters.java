package io.aiq.circles.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The parameters every simulation takes, as system properties ({@code just load-test} passes them):
 * {@code baseUrl} (default http://127.0.0.1:8080), {@code rate} (new users a second),
 * {@code duration} (seconds), {@code images} (a folder of JPEG/PNG files), {@code p99Ms} (the
 * response-time percentile the run must stay under) and {@code apiKey} (when the service wants one).
 * Every run is bounded: the duration is capped at an hour and the rate at 1,000 users a second.
 */
record LoadParameters(String baseUrl, double rate, Duration duration, Path images, int p99Ms, String apiKey) {

  static LoadParameters fromSystemProperties(double defaultRate, int defaultSeconds, int defaultP99Ms) {
    String baseUrl = System.getProperty("baseUrl", "http://127.0.0.1:8080").replaceAll("/+$", "");
    URI.create(baseUrl);
    double rate = Double.parseDouble(System.getProperty("rate", String.valueOf(defaultRate)));
    long seconds = Long.parseLong(System.getProperty("duration", String.valueOf(defaultSeconds)));
    if (rate <= 0 || rate > 1000) {
      throw new IllegalArgumentException("rate must be in (0, 1000] users a second, got " + rate);
    }
    if (seconds <= 0 || seconds > 3600) {
      throw new IllegalArgumentException("duration must be in (0, 3600] seconds, got " + seconds);
    }
    // the project's photos, from the repository root or from load-test/
    String defaultImages = Files.isDirectory(Path.of("eval/datasets/coins-dev")) ? "eval/datasets/coins-dev"
        : "../eval/datasets/coins-dev";
    Path images = Path.of(System.getProperty("images", defaultImages)).toAbsolutePath().normalize();
    int p99 = Integer.parseInt(System.getProperty("p99Ms", String.valueOf(defaultP99Ms)));
    return new LoadParameters(baseUrl, rate, Duration.ofSeconds(seconds), images, p99,
        System.getProperty("apiKey", ""));
  }

  /** One feeder record per image file: its absolute path, name and content type. */
  List<Map<String, Object>> imageRecords() {
    List<Map<String, Object>> records = new ArrayList<>();
    try (Stream<Path> files = Files.list(images)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        String type = name.endsWith(".jpg") || name.endsWith(".jpeg") ? "image/jpeg"
            : name.endsWith(".png") ? "image/png" : null;
        if (type != null) {
          Map<String, Object> r = new HashMap<>();
          r.put("path", f.toString());
          r.put("name", f.getFileName().toString());
          r.put("contentType", type);
          records.add(r);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the images folder " + images, e);
    }
    if (records.isEmpty()) {
      throw new IllegalArgumentException("no .jpg/.png images in " + images);
    }
    return records;
  }
}
