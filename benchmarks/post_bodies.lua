-- wrk script: POST each line of a file once, as the request body, then stop.
-- Usage: wrk -t 1 -c 16 -s post_bodies.lua URL -- BODIES_FILE AUTHORIZATION IDLE_PATH
-- One thread is enough: wrk is event-driven, and the other core belongs to the server.
-- Once every body was sent, the remaining requests are cheap GETs of IDLE_PATH; the benchmark
-- stops wrk (SIGINT) when the server has counted every alert.

local bodies, next_body, primed, idle = {}, 1, false, "/"
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

function done(summary, latency, _requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
