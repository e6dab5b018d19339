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

-- done(): the figures as one JSON line, from report.lua beside this script
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
