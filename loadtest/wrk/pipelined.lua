-- GET / pipelined: each connection writes `depth` requests at once and reads the answers.
--   wrk -t2 -c32 -d10s -s loadtest/wrk/pipelined.lua http://127.0.0.1:8080 -- depth=16
-- wrk times a batch from its first request's write to its last response, so latency here is
-- per batch, not per request.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "lib/?.lua;"
  .. package.path
local summary = require("summary")

local batch

function init(args)
  local options = summary.parse_args(args, { "depth" })
  local depth = summary.integer_option(options, "depth", 16)
  batch = string.rep(wrk.format("GET", "/"), depth)
  parameters = { path = "/", depth = depth }
end

function request()
  return batch
end

summary.install("pipelined")
