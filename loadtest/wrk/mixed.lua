-- Mostly GET /, some POST /hash with bodies of varied sizes: the largest are above brigade's
-- hash_offload_threshold (64 KiB by default) and go to the blocking pool, the rest are hashed
-- inline on the worker.
--   wrk -t2 -c32 -d10s -s loadtest/wrk/mixed.lua http://127.0.0.1:8080 -- hash_percent=10
-- Options: hash_percent=P (share of POST /hash, default 10), sizes=B,B,... (body sizes in
-- bytes, used in turn, default 1024,16384,131072).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "lib/?.lua;"
  .. package.path
local summary = require("summary")

local SLOTS = 100 -- one cycle of the schedule; hash_percent of its slots are POST /hash
local schedule
local next_slot = 0

local function parse_sizes(text)
  local sizes = {}
  for word in text:gmatch("[^,]+") do
    local size = tonumber(word)
    if size == nil or size < 0 or size ~= math.floor(size) then
      error("sizes=" .. text .. ": expected byte counts separated by commas", 0)
    end
    sizes[#sizes + 1] = size
  end
  if #sizes == 0 then
    error("sizes=: expected at least one byte count", 0)
  end
  return sizes
end

function init(args)
  local options = summary.parse_args(args, { "hash_percent", "sizes" })
  local hash_percent = tonumber(options.hash_percent or "10")
  if hash_percent == nil or hash_percent < 0 or hash_percent > 100 then
    error("hash_percent=" .. tostring(options.hash_percent) .. ": expected 0..100", 0)
  end
  local size_text = options.sizes or "1024,16384,131072"
  local sizes = parse_sizes(size_text)

  -- Requests are formatted once here: building them in request() would cost more than the
  -- server spends answering GET /.
  local get = wrk.format("GET", "/")
  local posts = {}
  for i, size in ipairs(sizes) do
    local headers = { ["Content-Type"] = "application/octet-stream" }
    posts[i] = wrk.format("POST", "/hash", headers, string.rep("brigade!", size / 8 + 1):sub(1, size))
  end

  -- The POST slots are spread through the cycle, not bunched at its start, and every thread
  -- starts at its own offset so connections do not post in step.
  schedule = {}
  local hashes = math.floor(SLOTS * hash_percent / 100 + 0.5)
  local posted = 0
  for slot = 1, SLOTS do
    local due = math.floor(slot * hashes / SLOTS)
    if due > posted then
      posted = posted + 1
      schedule[slot] = posts[(posted - 1) % #posts + 1]
    else
      schedule[slot] = get
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
  next_slot = math.random(SLOTS) - 1

  parameters = { hash_percent = hash_percent, sizes = size_text }
end

function request()
  next_slot = next_slot % SLOTS + 1
  return schedule[next_slot]
end

summary.install("mixed")
