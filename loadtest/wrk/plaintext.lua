-- GET / over kept-alive connections: the server's fastest path, for throughput.
--   wrk -t2 -c32 -d10s -s loadtest/wrk/plaintext.lua http://127.0.0.1:8080
-- Also the latency probe of the offload and anti-pattern runs, where a second wrk keeps the
-- server busy with /cpu or /block: this process requests only GET /, so its latency is GET /'s.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "lib/?.lua;"
  .. package.path
local summary = require("summary")

function init(args)
  summary.parse_args(args, {})
  wrk.path = "/"
  parameters = { path = wrk.path }
end

summary.install("plaintext")
