-- wrk script: POST the file $BODY_FILE as JSON to the URL given on the command line, and at the end
-- write a one-line JSON summary to $SUMMARY_FILE (requests, duration, errors, latency percentiles
-- in µs) so the orchestrator does not scrape wrk's text output.
--
--   BODY_FILE=Benchmarks/fixtures/small-request.json SUMMARY_FILE=/tmp/s.json \
--     wrk -t2 -c32 -d20s --latency -s Benchmarks/wrk/post_body.lua http://127.0.0.1:8000/v1/messages

local path = os.getenv("BODY_FILE") or error("set BODY_FILE to the request body file")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Anthropic-Version"] = "2023-06-01"

function done(summary, latency, requests)
   local out = os.getenv("SUMMARY_FILE")
   if not out then return end
   local e = summary.errors
   local o = assert(io.open(out, "w"))
   o:write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max))
   o:close()
end
