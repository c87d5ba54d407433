-- wrk script: every request a distinct, correctly signed Tylt CPG pay-in body (~450 bytes).
-- Bodies are made on the fly from a counter and signed with OpenSSL's HMAC through LuaJIT's FFI (wrk is
-- linked against libcrypto), so no body ever repeats, however long the run.
-- Parameters come from the environment, which every Lua state of wrk sees (wrk decides whether the script
-- has a `delay` before it calls `init`): BENCH_SECRET, BENCH_NONCE (8 hex digits, unique per run) and
-- BENCH_RATE (offered requests/s; unset or 0 = as fast as the server answers).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
const void *EVP_sha256(void);
unsigned char *HMAC(const void *md, const void *key, int key_len, const unsigned char *d, size_t n,
                    unsigned char *out, unsigned int *out_len);
]]
local ok, crypto = pcall(function() return ffi.load("crypto.so.3") end)
if not ok then crypto = ffi.C end

local secret = os.getenv("BENCH_SECRET") or ""
local nonce = os.getenv("BENCH_NONCE") or "00000000"
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
-- Globals, so that `done` can read them from each thread with thread:get.
counter, thread_id = 0, 0
local digest = ffi.new("unsigned char[32]")
local digest_len = ffi.new("unsigned int[1]")
local now = ffi.new("bench_timespec")
local hex = {}
for i = 0, 255 do hex[i] = string.format("%02x", i) end
local parts = {}
local next_at = nil

local function clock_ms()
  ffi.C.clock_gettime(1, now) -- CLOCK_MONOTONIC
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end


local function body_for(n)
  local id = string.format("%s%04x%020x", nonce, thread_id, n)
  local uuid = id:sub(1, 8) .. "-" .. id:sub(9, 12) .. "-4" .. id:sub(14, 16) .. "-8" .. id:sub(18, 20) .. "-" .. id:sub(21, 32)
  return '{"type":"pay-in","data":{"orderId":"' .. uuid .. '","merchantOrderId":"ORD-' .. n ..
    '","baseAmount":120.5,"baseCurrency":"USDT","settledCurrency":"USDT","settledAmountRequested":120.5,' ..
    '"settledAmountReceived":120.5,"commission":1.2,"network":"TRC20",' ..
    '"depositAddress":"TQ5nVd3Hx8rY2kP7sW1mZ4cL9aB6eF3gJ0","status":"Completed",' ..
    '"transactions":[{"transactionHash":"' .. id .. id .. '"}],' ..
    '"createdAt":"2026-11-20T10:00:00.000Z"}}'
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local body = body_for(counter)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body, digest, digest_len)
  for i = 0, 31 do parts[i + 1] = hex[digest[i]] end
  headers["X-TLP-Signature"] = table.concat(parts)
  return wrk.format("POST", nil, headers, body)
end

-- A constant offered rate: each request is scheduled `interval_ms` after the previous one, whichever
-- connection sends it; a late server makes the schedule catch up instead of slowing the offer down.
if rate > 0 then
  local interval_ms = 1000 / rate
  function delay()
    local t = clock_ms()
    if next_at == nil then next_at = t end
    next_at = next_at + interval_ms
    local wait = next_at - t
    if wait < 0 then return 0 end
    return wait
  end
end

-- BENCH_HISTOGRAM=1 adds every latency recorded, as [microseconds, count] pairs, so that runs can be pooled.
local function histogram(latency)
  if os.getenv("BENCH_HISTOGRAM") ~= "1" then return "" end
  local pairs_ = {}
  for i = 1, #latency do
    local value, count = latency(i)
    pairs_[i] = string.format("[%d,%d]", value, count)
  end
  return ',"histogram":[' .. table.concat(pairs_, ",") .. "]"
end

function done(summary, latency, requests)
  local sent = 0
  for _, thread in ipairs(threads) do sent = sent + (thread:get("counter") or 0) end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"sent":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,"timeouts":%d,' ..
    '"p50Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f%s}\n',
    summary.requests, sent, summary.duration, errors.status, errors.connect + errors.read + errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    histogram(latency)))
end
