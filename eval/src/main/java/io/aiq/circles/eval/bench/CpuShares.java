package io.aiq.circles.eval.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where the machine's cores went during a phase, from Linux's {@code /proc}: the measured service
 * (and, inside it, its threads grouped by name: TensorFlow's, the event loops, the Kafka clients,
 * the garbage collector), this benchmark (the load generator), and every other process grouped by
 * name (the Kafka broker is a {@code java} too, PostgreSQL is {@code postgres}). On a small machine
 * these share the cores, which is often why the pipeline falls short of the bare model; dividing by
 * the jobs completed gives each part's CPU cost per job.
 */
final class CpuShares {
  static final String SERVICE = "service";
  static final String LOAD_GENERATOR = "load generator (this benchmark)";

  private CpuShares() {
  }

  /**
   * @param total ticks of all cores, idle included, since boot
   * @param byGroup ticks used by each process group
   * @param serviceThreads ticks used by each thread group of the service
   */
  record Snapshot(long nanos, long total, Map<String, Long> byGroup, Map<String, Long> serviceThreads, long steal) {
    Snapshot(long nanos, long total, Map<String, Long> byGroup, Map<String, Long> serviceThreads) {
      this(nanos, total, byGroup, serviceThreads, 0);
    }
  }

  static Snapshot snapshot(long servicePid) {
    long self = ProcessHandle.current().pid();
    Map<String, Long> groups = new HashMap<>();
    Map<String, Long> threads = new HashMap<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
        Stat stat = Stat.read(p.resolve("stat"));
        if (stat == null) {
          continue;
        }
        long pid = Long.parseLong(p.getFileName().toString());
        String group = pid == servicePid ? SERVICE : pid == self ? LOAD_GENERATOR
            : "java".equals(stat.name()) ? "other java (Kafka broker, ...)" : stat.name();
        groups.merge(group, stat.ticks(), Long::sum);
      }
      try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(servicePid), "task"))) {
        for (Path t : tasks.toList()) {
          Stat stat = Stat.read(t.resolve("stat"));
          if (stat != null) {
            threads.merge(threadGroup(stat.name()), stat.ticks(), Long::sum);
          }
        }
      } catch (IOException e) {
        // the service has ended
      }
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < cpu.length; i++) {
        total += Long.parseLong(cpu[i]);
      }
      // "steal": time the hypervisor gave this machine's virtual cores to someone else
      long steal = cpu.length > 8 ? Long.parseLong(cpu[8]) : 0;
      return new Snapshot(System.nanoTime(), total, groups, threads, steal);
    } catch (IOException e) {
      return new Snapshot(System.nanoTime(), 0, Map.of(), Map.of());
    }
  }

  private record Stat(String name, long ticks) {
    static Stat read(Path file) {
      try {
        String stat = Files.readString(file);
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new Stat(name, Long.parseLong(f[11]) + Long.parseLong(f[12]));
      } catch (IOException | RuntimeException e) {
        return null; // the process or thread ended meanwhile
      }
    }
  }

  /** "GC Thread#1" and "GC Thread#0" are one group, "aiq-inference-0" and "-1" too. */
  static String threadGroup(String comm) {
    String g = comm.replaceAll("[-#_ ]?\\d+$", "").replaceAll("[-_ ]+$", "");
    return g.isEmpty() ? comm : g;
  }

  /** What happened between two snapshots of a phase in which {@code jobs} jobs completed. */
  record Phase(Snapshot from, Snapshot to, int jobs) {
    private long totalTicks() {
      return to.total() - from.total();
    }

    private static Map<String, Long> used(Map<String, Long> a, Map<String, Long> b) {
      Map<String, Long> used = new HashMap<>();
      b.forEach((k, v) -> used.put(k, v - a.getOrDefault(k, 0L)));
      return used;
    }

    /** Milliseconds of CPU per completed job, from ticks (the phase's wall time × cores = all ticks). */
    private double msPerJob(long ticks) {
      double cpuSeconds = (to.nanos() - from.nanos()) / 1e9 * Runtime.getRuntime().availableProcessors();
      return totalTicks() <= 0 || jobs <= 0 ? Double.NaN : 1000.0 * cpuSeconds * ticks / totalTicks() / jobs;
    }

    /** Share of all CPU time, idle included, that nothing used (nor the hypervisor took). */
    double idleShare() {
      long busy = used(from.byGroup(), to.byGroup()).values().stream().mapToLong(Long::longValue).sum();
      return totalTicks() <= 0 ? Double.NaN
          : Math.max(0, 1.0 - (double) (busy + to.steal() - from.steal()) / totalTicks());
    }

    /**
     * Share of all CPU time the hypervisor took for other machines: on a shared host, a phase with
     * steal ran on less than its cores, and its latencies say more about the neighbours than the service.
     */
    double stealShare() {
      return totalTicks() <= 0 ? Double.NaN : Math.max(0, (double) (to.steal() - from.steal()) / totalTicks());
    }

    /** "; idle N %", and "; stolen by the hypervisor N %" where there was any. */
    String idleAndSteal() {
      double steal = stealShare();
      return String.format(Locale.ROOT, "; idle %.0f %%", 100 * idleShare())
          + (steal >= 0.005 ? String.format(Locale.ROOT, "; stolen by the hypervisor %.0f %%", 100 * steal) : "");
    }

    double cpuMsPerJob() {
      return msPerJob(used(from.byGroup(), to.byGroup()).values().stream().mapToLong(Long::longValue).sum());
    }

    /** CPU milliseconds per job of one process group ("service", "postgres", ...); 0 if it did not run. */
    double cpuMsPerJob(String group) {
      return msPerJob(used(from.byGroup(), to.byGroup()).getOrDefault(group, 0L));
    }

    /** The busiest process groups' shares of all CPU time between the two snapshots, idle included. */
    String shares() {
      return top(used(from.byGroup(), to.byGroup()), 6, ticks -> String.format(Locale.ROOT, "%.0f %%",
          100.0 * ticks / totalTicks()));
    }

    /** CPU milliseconds per job by process group, and inside the service by thread group. */
    String perJob() {
      return top(used(from.byGroup(), to.byGroup()), 5, ticks -> String.format(Locale.ROOT, "%.1f ms", msPerJob(ticks)));
    }

    String servicePerJob() {
      return top(used(from.serviceThreads(), to.serviceThreads()), 7,
          ticks -> String.format(Locale.ROOT, "%.1f ms", msPerJob(ticks)));
    }

    private String top(Map<String, Long> used, int n, java.util.function.LongFunction<String> format) {
      if (totalTicks() <= 0) {
        return "(no /proc here)";
      }
      List<Map.Entry<String, Long>> busiest = used.entrySet().stream().filter(e -> e.getValue() * 200 >= totalTicks())
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n).toList();
      Map<String, String> shown = new LinkedHashMap<>();
      busiest.forEach(e -> shown.put(e.getKey(), format.apply(e.getValue())));
      return shown.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining("; "));
    }
  }
}
