-- bench/issue_single.sh: POST /v1/credentials with one unsigned OpenBadgeCredential per
-- request (the same body each time: single issuance has no idempotency key, so each request
-- issues a new credential with its own id, issue number and status slot).
-- args: BODY_FILE TOKEN
function init(args)
  local f = assert(io.open(args[1], "r"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end
