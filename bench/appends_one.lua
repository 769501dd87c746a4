-- bench/revoke.sh's peer: POST /v1/log/entries with BATCH fresh digests per request
-- (default 1: one durable append per request, like one revocation per request). Digest =
-- thread id (8 hex) || per-thread request counter (16 hex) || position (8 hex) || run nonce
-- (32 hex). args: NONCE TOKEN [BATCH]
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end
function init(args)
  nonce = args[1]
  batch = tonumber(args[3] or "1")
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end
request = function()
  counter = counter + 1
  local parts = {}
  local prefix = string.format("%08x%016x", tid, counter)
  for i = 1, batch do
    parts[i] = '"' .. prefix .. string.format("%08x", i) .. nonce .. '"'
  end
  return wrk.format(nil, "/v1/log/entries", nil, '{"digests":[' .. table.concat(parts, ",") .. ']}')
end
