-- wrk script of `make bench`: rotates through prepared requests and prints one JSON line.
--
-- WRK_REQUESTS names a Lua file returning a list of requests, each
-- { method = "GET", path = "/...", headers = { ... }, body = "..." or nil,
--   chain = "..." or nil }. Thread i starts at request i and rotates through them all.
--
-- WRK_CHAIN, when set, names a JSON string field of each 2xx answer (refresh_token)
-- whose value replaces "{{chain}}" in the body of the thread's next request: a
-- request that must carry what the previous answer returned (token rotation). Then
-- each thread keeps to its own request, starting from its `chain` value, and the
-- values held at the end are printed so the next run goes on from them.
--
-- done() prints "WRK_JSON " and the run as JSON: requests, non-2xx answers and the
-- first non-2xx status, socket errors, the latency percentiles in microseconds.

local requests = dofile(os.getenv("WRK_REQUESTS"))
local chain_field = os.getenv("WRK_CHAIN")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  non2xx = 0
  first_bad = 0
  encoded = {}
  for i, r in ipairs(requests) do
    encoded[i] = wrk.format(r.method, r.path, r.headers, r.body)
  end
  position = (thread_number - 1) % #requests
  own = requests[position + 1]
  chained = own.chain or ""
end

function request()
  if chain_field then
    local body = own.body:gsub("{{chain}}", function() return chained end)
    return wrk.format(own.method, own.path, own.headers, body)
  end
  position = position % #encoded + 1
  return encoded[position]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == 0 then first_bad = status end
    return
  end
  if chain_field then
    local value = body:match('"' .. chain_field .. '"%s*:%s*"([^"]+)"')
    if value then chained = value end
  end
end

local function json_string(value)
  return '"' .. value:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, _)
  local bad, first, chains = 0, 0, {}
  for i, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    if first == 0 then first = thread:get("first_bad") end
    chains[i] = json_string(thread:get("chained") or "")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"first_bad_status":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"chain":[%s]}\n',
    summary.requests, summary.duration, bad, first,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, table.concat(chains, ",")))
end
