-- wrk script: GET one job or one image's objects per request, for ids drawn at random from a list.
-- The list file holds "jobId|imageId" lines; the second argument says which route:
--   wrk -c 8 -t 2 -d 10s -s scripts/bench/read.lua URL -- IDSFILE jobs|objects
local ids = {}
local route = "jobs"

function init(args)
  local list = assert(io.open(args[1]), "the list of ids")
  for line in list:lines() do
    local job, image = line:match("^([^|]+)|(.+)$")
    if job then
      ids[#ids + 1] = { job, image }
    end
  end
  list:close()
  route = args[2] or "jobs"
  math.randomseed(os.time() + (tid or 0))
end

function setup(thread)
  thread:set("tid", math.random(1000000))
end

function request()
  local pick = ids[math.random(#ids)]
  local path = route == "objects" and ("/images/" .. pick[2] .. "/objects") or ("/jobs/" .. pick[1])
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"seconds\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
      .. "\"max\":%.3f,\"errors\":%d}\n", summary.requests, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
