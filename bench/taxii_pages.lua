-- SPDX-License-Identifier: AGPL-3.0-or-later
-- wrk script: GET TAXII object pages, cycling through the request paths
-- written by `bench_taxii gen` (pages of 1,000 starting all over the
-- collection). Arguments: PATHS_FILE API_KEY
local paths = {}
local i = 0
local key = ""

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  key = args[2]
  -- threads start at different offsets
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {
    ["Accept"] = "application/taxii+json;version=2.1",
    ["Authorization"] = "Bearer " .. key,
  })
end

function done(summary, latency, requests)
  io.write(string.format("pages/s %.1f  p50 %.2f ms  p99 %.2f ms  errors %d (non-2xx %d)\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
