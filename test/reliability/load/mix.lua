-- The request mix of test/reliability/load.test.ts. Paths come from the environment (one per
-- line in LOAD_PATHS_FILE, each "kind path"); each thread counts statuses by class and the
-- done() hook prints one JSON line the test parses.
local paths = {}
local threads = {}

local function load_paths()
  local f = assert(io.open(os.getenv("LOAD_PATHS_FILE"), "r"))
  for line in f:lines() do
    local kind, path = line:match("^(%S+) (%S+)$")
    if kind then paths[#paths + 1] = { kind = kind, path = path } end
  end
  f:close()
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  load_paths()
  math.randomseed(os.time() + id * 7919)
  s2xx, s206, s3xx, s404, s4xx, s5xx = 0, 0, 0, 0, 0, 0
end

function request()
  local p = paths[math.random(#paths)]
  if p.kind == "range" then
    local from = math.random(0, 1000)
    return wrk.format("GET", p.path, { ["Range"] = "bytes=" .. from .. "-" .. (from + math.random(0, 4000)) })
  end
  if p.kind == "miss" then
    -- a fresh 40-hex hash every time: the store has none of them, so each goes upstream
    local h = {}
    for i = 1, 40 do h[i] = string.format("%x", math.random(0, 15)) end
    return wrk.format("GET", p.path .. table.concat(h))
  end
  return wrk.format("GET", p.path)
end

function response(status, headers, body)
  if status == 206 then s206 = s206 + 1
  elseif status < 300 then s2xx = s2xx + 1
  elseif status < 400 then s3xx = s3xx + 1
  elseif status == 404 then s404 = s404 + 1
  elseif status < 500 then s4xx = s4xx + 1
  else s5xx = s5xx + 1 end
end

function done(summary, latency, requests)
  local t = { s2xx = 0, s206 = 0, s3xx = 0, s404 = 0, s4xx = 0, s5xx = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  io.write(string.format(
    'LOAD {"requests":%d,"errors_connect":%d,"errors_read":%d,"errors_timeout":%d,"s2xx":%d,"s206":%d,"s3xx":%d,"s404":%d,"s4xx":%d,"s5xx":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"duration_us":%d}\n',
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.timeout,
    t.s2xx, t.s206, t.s3xx, t.s404, t.s4xx, t.s5xx,
    latency:percentile(50), latency:percentile(99), latency.max, summary.duration))
end
