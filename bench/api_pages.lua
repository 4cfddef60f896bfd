-- SPDX-License-Identifier: AGPL-3.0-or-later
-- wrk script: GET REST API requests (/api/v1), cycling through the paths of
-- PATHS_FILE (written by bench/load.sh: incident pages and single incidents).
-- Arguments: PATHS_FILE API_KEY
local paths = {}
local i = 0
local key = ""

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  key = args[2]
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
  })
end

function done(summary, latency, requests)
  io.write(string.format("requests/s %.1f  p50 %.2f ms  p99 %.2f ms  errors %d (non-2xx %d)\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
