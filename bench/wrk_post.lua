-- wrk script for bench/: every request is the same prebuilt request, and done() prints
-- the result as one JSON line prefixed "WRK_JSON ".
--
--   WRK_BODY_FILE=small.json WRK_HEADERS=$'Authorization: Bearer T\nContent-Type: application/json' \
--     wrk -t1 -c16 -d10s --timeout 30s -s bench/wrk_post.lua http://127.0.0.1:8080/path
--
-- WRK_METHOD (default POST when WRK_BODY_FILE is set, else GET), WRK_BODY_FILE (the body,
-- sent as is) and WRK_HEADERS (header lines, newline-separated) come from the environment,
-- so the request is built once and wrk sends it without calling Lua per request.
-- Statuses are counted per thread in response() and summed in done(); wrk itself counts
-- answers outside 2xx/3xx in summary.errors.status.

local body_file = os.getenv("WRK_BODY_FILE")
if body_file and body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.method = "POST"
end
local method = os.getenv("WRK_METHOD")
if method and method ~= "" then
   wrk.method = method
end
for line in (os.getenv("WRK_HEADERS") or ""):gmatch("[^\n]+") do
   local name, value = line:match("^%s*([^:]+):%s*(.-)%s*$")
   if name then
      wrk.headers[name] = value
   end
end

local threads = {}
statuses = {} -- global: done() reads each thread's copy with thread:get()

function setup(thread)
   table.insert(threads, thread)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local counted = thread:get("statuses")
      for status, n in pairs(counted) do
         counts[status] = (counts[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"duration_us": %d, "requests": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"statuses": {%s}, "latency_us": {"min": %d, "mean": %.1f, "max": %d, '
         .. '"stdev": %.1f, "p50": %d, "p90": %d, "p99": %d, "p99.9": %d}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(parts, ", "),
      latency.min, latency.mean, latency.max, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9)))
end
