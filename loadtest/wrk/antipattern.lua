-- The anti-pattern: GET /block?ms=N makes a worker thread sleep synchronously, so every task
-- queued on that worker waits. The load half of the anti-pattern scenario, the counterpart of
-- offload.lua; give it ms= equal to the time one /cpu request takes and measure GET / beside it
-- with plaintext.lua. brigade serves /block only when started with --enable-block-endpoint
-- (404 otherwise, which the summary's statuses show).
--   wrk -t1 -c4 -d10s -s loadtest/wrk/antipattern.lua http://127.0.0.1:8080 -- ms=20 &
--   wrk -t1 -c8 -d10s -s loadtest/wrk/plaintext.lua http://127.0.0.1:8080
-- Options: ms=N (milliseconds each request blocks its worker, default 20).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "lib/?.lua;"
  .. package.path
local summary = require("summary")

function init(args)
  local options = summary.parse_args(args, { "ms" })
  local ms = summary.integer_option(options, "ms", 20)
  wrk.path = "/block?ms=" .. ms
  parameters = { path = wrk.path, ms = ms }
end

summary.install("antipattern")
