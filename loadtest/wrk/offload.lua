-- Keeps brigade's blocking pool busy: GET /cpu?work=N, CPU-bound hashing that brigade runs on
-- the blocking pool, never on a worker. This is the load half of the offload scenario; measure
-- GET / at the same time with a second wrk running plaintext.lua (loadtest/run does both):
--   wrk -t1 -c4 -d10s -s loadtest/wrk/offload.lua http://127.0.0.1:8080 -- work=10000 &
--   wrk -t1 -c8 -d10s -s loadtest/wrk/plaintext.lua http://127.0.0.1:8080
-- Options: work=N (rounds of SHA-256 per request, default 10000).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "lib/?.lua;"
  .. package.path
local summary = require("summary")

function init(args)
  local options = summary.parse_args(args, { "work" })
  local work = summary.integer_option(options, "work", 10000)
  wrk.path = "/cpu?work=" .. work
  parameters = { path = wrk.path, work = work }
end

summary.install("offload")
