-- wrk script for bench/serve.sh: every request is one of 1,000 signed-in collectors working
-- their queue, with a think time between a connection's requests.
--   args: sessions file (cookie \t csrf \t case,case,…), think time in ms
local sessions = {}
local think = 1000
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    local cookie, csrf, cases = line:match("([^\t]+)\t([^\t]+)\t([^\t]*)")
    if cookie then
      local list = {}
      for c in cases:gmatch("[^,]+") do list[#list + 1] = c end
      sessions[#sessions + 1] = { cookie = cookie, csrf = csrf, cases = list }
    end
  end
  think = tonumber(args[2] or "1000")
  -- Threads start at different collectors.
  n = math.random(1, #sessions)
end

function delay()
  -- Think time: uniform in [0.5, 1.5] × THINK_MS.
  return math.floor(think * (0.5 + math.random()))
end

function request()
  n = n + 1
  local s = sessions[(n % #sessions) + 1]
  local case = s.cases[(n % math.max(#s.cases, 1)) + 1] or "CASE-T00000000"
  local r = n % 20
  local h = { Cookie = s.cookie }
  if r < 6 then
    return wrk.format("GET", "/workbench", h)
  elseif r < 12 then
    return wrk.format("GET", "/cases/" .. case, h)
  elseif r < 16 then
    return wrk.format("GET", "/api/queue", h)
  elseif r < 18 then
    return wrk.format("GET", "/api/cases/" .. case, h)
  elseif r == 18 then
    h["X-CSRF-Token"] = s.csrf
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/cases/" .. case .. "/notes", h, '{"text":"压测：本人接听，称月底还款"}')
  else
    h["X-CSRF-Token"] = s.csrf
    h["Content-Type"] = "application/json"
    local body = '{"contact_point":"' .. case:sub(6) .. ':mobile","outcome":"no_answer","note":"压测"}'
    return wrk.format("POST", "/api/cases/" .. case .. "/contacts", h, body)
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, errors (connect %d, read %d, write %d, timeout %d, status %d)\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("throughput %.0f requests/s\n", summary.requests / (summary.duration / 1e6)))
end
