-- bench/revoke.sh: POST /v1/credentials/{id}/revoke, each wrk thread cycling over its own
-- slice of the ids file (thread k of T takes ids k, k+T, k+2T, ...), so no id is revoked twice
-- until a thread wraps. Counts answers with "changed":true per thread and reports the totals
-- (and whether any thread wrapped) on one line "LUA changed=... wrapped=... responses=...".
-- args: IDS_FILE TOKEN NTHREADS
local threads = {}
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[3])
  ids = {}
  local i = 0
  for line in io.lines(args[1]) do
    if line ~= "" then
      if i % nthreads == tid then ids[#ids + 1] = line end
      i = i + 1
    end
  end
  pos = 0
  changed = 0
  responses = 0
  wrapped = 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

request = function()
  pos = pos + 1
  if pos > #ids then pos = 1; wrapped = 1 end
  return wrk.format("POST", "/v1/credentials/" .. ids[pos] .. "/revoke")
end

response = function(status, headers, body)
  responses = responses + 1
  if status == 200 and body:find('"changed":true', 1, true) then changed = changed + 1 end
end

function done(summary, latency, requests)
  local c, w, r = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("changed")
    w = w + t:get("wrapped")
    r = r + t:get("responses")
  end
  io.write(string.format("LUA changed=%d wrapped=%d responses=%d\n", c, w, r))
end
