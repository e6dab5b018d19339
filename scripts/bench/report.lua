-- Shared by the wrk scripts here: wrk's figures as one JSON line ("JSON {...}") that just bench
-- reads (ThroughputBenchmark.wrk): requests, seconds, latency percentiles in ms, errors of any kind
-- (connect, read, write, timeout, and HTTP statuses of 400 and above).
function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"seconds\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
      .. "\"max\":%.3f,\"errors\":%d}\n", summary.requests, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
