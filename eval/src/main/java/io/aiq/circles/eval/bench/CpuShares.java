package io.aiq.circles.eval.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where the machine's cores went during a phase, from Linux's {@code /proc}: the measured service,
 * this benchmark (the load generator), and every other process grouped by name (the Kafka broker
 * is a {@code java} too, PostgreSQL is {@code postgres}). On a small machine these share the cores,
 * which is often why the pipeline falls short of the bare model.
 */
final class CpuShares {
  private CpuShares() {
  }

  record Snapshot(long total, Map<String, Long> byGroup) {
  }

  static Snapshot snapshot(long servicePid) {
    long self = ProcessHandle.current().pid();
    Map<String, Long> groups = new HashMap<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String stat = Files.readString(p.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          long pid = Long.parseLong(p.getFileName().toString());
          String group = pid == servicePid ? "service" : pid == self ? "load generator (this benchmark)"
              : "java".equals(name) ? "other java (Kafka broker, ...)" : name;
          groups.merge(group, ticks, Long::sum);
        } catch (IOException | RuntimeException e) {
          // the process ended meanwhile
        }
      }
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < cpu.length; i++) {
        total += Long.parseLong(cpu[i]);
      }
      return new Snapshot(total, groups);
    } catch (IOException e) {
      return new Snapshot(0, Map.of());
    }
  }

  /** The busiest groups' shares of all CPU time between the two snapshots, idle included. */
  static String between(Snapshot a, Snapshot b) {
    long total = b.total() - a.total();
    if (total <= 0) {
      return "(no /proc here)";
    }
    Map<Long, String> busiest = new TreeMap<>((x, y) -> Long.compare(y, x));
    b.byGroup().forEach((group, ticks) -> {
      long used = ticks - a.byGroup().getOrDefault(group, 0L);
      if (used * 100 / total >= 1) {
        busiest.merge(used, group, (x, y) -> x + ", " + y);
      }
    });
    StringBuilder out = new StringBuilder();
    busiest.forEach((used, group) -> out.append(out.length() == 0 ? "" : "; ")
        .append(String.format(Locale.ROOT, "%s %.0f %%", group, 100.0 * used / total)));
    return out.toString();
  }
}
