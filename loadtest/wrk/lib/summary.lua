-- Shared by every scenario: argument parsing, optional per-status counting, and the
-- machine-readable summary that done() prints as one JSON line.
--
-- wrk runs each script in several Lua states: one per thread (init, request, response) and one
-- for setup and done. Per-thread counters therefore live in each thread's globals and are
-- gathered in done() through the thread objects that setup() kept.
local M = {}

-- The "key=value" words after wrk's "--" as a table. A word that is not key=value, or a key
-- outside `known`, stops wrk with a message: a misspelt option must not be silently ignored.
function M.parse_args(args, known)
  local allowed = {}
  for _, key in ipairs(known) do
    allowed[key] = true
  end
  local options = {}
  for _, word in ipairs(args or {}) do
    local key, value = word:match("^([%w_]+)=(.*)$")
    if not key then
      error(string.format("'%s': options are key=value", word), 0)
    end
    if not allowed[key] then
      error(string.format("unknown option '%s' (this script knows: %s)", key,
        #known > 0 and table.concat(known, ", ") or "none"), 0)
    end
    options[key] = value
  end
  return options
end

-- A positive integer option, or the default; anything else stops wrk with a clear message.
function M.integer_option(options, name, default)
  local text = options[name]
  if text == nil then
    return default
  end
  local value = tonumber(text)
  if value == nil or value < 1 or value ~= math.floor(value) then
    error(string.format("%s=%s: expected a positive integer", name, tostring(text)), 0)
  end
  return value
end

-- Counts responses by status in the thread's globals. wrk itself only counts statuses above
-- 399; telling a 503 (blocking queue full) from a 404 (endpoint disabled) needs the code. The
-- Lua call per response cost under 5% of GET / throughput when measured here.
local function count_statuses()
  status_counts = {}
  response = function(status)
    status_counts[status] = (status_counts[status] or 0) + 1
  end
end

local threads = {}

local function merged_status_counts()
  local merged, any = {}, false
  for _, thread in ipairs(threads) do
    local counts = thread:get("status_counts")
    if counts then
      any = true
      for status, n in pairs(counts) do
        local key = tostring(status)
        merged[key] = (merged[key] or 0) + n
      end
    end
  end
  return any and merged or nil
end

local function json_value(value)
  local kind = type(value)
  if kind == "nil" then
    return "null"
  elseif kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return "null"
    end
    if value == math.floor(value) and math.abs(value) < 2 ^ 53 then
      return string.format("%d", value)
    end
    return string.format("%.3f", value)
  elseif kind == "boolean" then
    return tostring(value)
  elseif kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  end
  -- A table: an object with its keys sorted, so the line is stable from run to run.
  local keys = {}
  for key in pairs(value) do
    keys[#keys + 1] = key
  end
  table.sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do
    parts[#parts + 1] = json_value(tostring(key)) .. ":" .. json_value(value[key])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
M.json = json_value

-- Defines the globals response(), setup() and done() for a scenario; call it at the top level
-- so that every Lua state gets them. A scenario's init() may set the global
-- `parameters` (a table of numbers and strings, e.g. the pipeline depth): it is reported too.
function M.install(scenario)
  count_statuses()
  setup = function(thread)
    threads[#threads + 1] = thread
  end

  done = function(summary, latency)
    local ms = function(microseconds) return microseconds / 1000 end
    local seconds = summary.duration / 1e6
    local statuses = merged_status_counts()
    local non_2xx = nil
    if statuses then
      non_2xx = 0
      for status, n in pairs(statuses) do
        local code = tonumber(status)
        if code < 200 or code > 299 then
          non_2xx = non_2xx + n
        end
      end
    end
    -- wrk corrects its latency histogram for coordinated omission after the run, and the
    -- correction can add samples below the recorded minimum, which its percentile walk starts
    -- from: a high percentile then comes back as 0 (seen with pipelining). Such a percentile is
    -- reported as unknown (null), never as a number wrk did not measure.
    local percentiles, note = {}, nil
    local previous = 0
    for _, p in ipairs({ 50, 90, 99 }) do
      local value = latency:percentile(p)
      if value < previous or (value == 0 and latency.max > 0) then
        note = "wrk could not place some percentiles after its coordinated-omission correction"
      else
        percentiles[p] = ms(value)
        previous = value
      end
    end
    local errors = summary.errors
    local line = {
      scenario = scenario,
      parameters = threads[1] and threads[1]:get("parameters") or {},
      duration_s = seconds,
      requests = summary.requests,
      requests_per_s = seconds > 0 and summary.requests / seconds or 0,
      bytes = summary.bytes,
      latency_ms = {
        p50 = percentiles[50],
        p90 = percentiles[90],
        p99 = percentiles[99],
        max = ms(latency.max),
        mean = ms(latency.mean),
      },
      latency_note = note,
      errors = {
        connect = errors.connect,
        read = errors.read,
        write = errors.write,
        timeout = errors.timeout,
        status_over_399 = errors.status,
      },
      non_2xx = non_2xx,
      statuses = statuses,
    }
    io.write(json_value(line), "\n")
  end
end

return M
