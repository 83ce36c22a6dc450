-- wrk script: POST each line of a file once, as the request body, then stop.
-- Usage: wrk -t 1 -c 16 -s post_bodies.lua URL -- BODIES_FILE AUTHORIZATION IDLE_PATH
-- One thread is enough: wrk is event-driven, and the other core belongs to the server.
-- wrk needs a request for every answer; once every body was sent, connections ask for the
-- cheap IDLE_PATH (whose answer contains "ok") until the last POST is answered. Then the
-- thread stops, so the latency figures are those of the POSTs (and at most a connection's
-- worth of those GETs); wrk itself waits for SIGINT from the benchmark, which checks that the
-- server has taken everything.

local bodies, next_body, primed, idle, answered = {}, 1, false, "/", 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  headers["Authorization"] = args[2]
  idle = args[3]
end

function request()
  -- wrk builds one request per thread before sending anything and may drop it: spend that
  -- first call on a GET so that no body is lost
  if not primed then
    primed = true
    return wrk.format("GET", idle)
  end
  if next_body <= #bodies then
    local body = bodies[next_body]
    next_body = next_body + 1
    return wrk.format("POST", nil, headers, body)
  end
  return wrk.format("GET", idle)
end

function response(status, _headers, body)
  if not string.find(string.lower(body or ""), "ok", 1, true) then
    answered = answered + 1 -- a POST: opsweek answers with counts, Alertmanager with nothing
    if answered >= #bodies then
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, _requests)
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
