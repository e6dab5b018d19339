-- wrk script: POST /images with JPEGs no request repeats. Each request is one of the photos listed
-- in the file given as the script's first argument, with a JPEG comment segment (FF FE) holding a
-- counter inserted after the start-of-image marker: the bytes differ, so the service deduplicates
-- none of them and every request is a new image and a new job.
--   wrk -c N -t T -d 10s -s scripts/bench/upload.lua URL -- LISTFILE RUNTAG
local photos = {}
local counter = 0
local tag = "x"
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local list = assert(io.open(args[1]), "the list of photos")
  for path in list:lines() do
    local f = assert(io.open(path, "rb"))
    photos[#photos + 1] = f:read("*a")
    f:close()
  end
  list:close()
  tag = (args[2] or "run") .. "-" .. tostring(tid)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "image/jpeg"
end

function request()
  counter = counter + 1
  local jpeg = photos[(counter % #photos) + 1]
  local text = tag .. "-" .. counter
  local len = #text + 2
  local segment = "\255\254" .. string.char(math.floor(len / 256), len % 256) .. text
  return wrk.format(nil, "/images", nil, jpeg:sub(1, 2) .. segment .. jpeg:sub(3))
end

-- done(): the figures as one JSON line, from report.lua beside this script
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
