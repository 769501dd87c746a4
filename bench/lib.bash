# Shared harness for the HTTP benchmarks (sourced): a scratch dir whose processes are always
# stopped, free loopback ports, the static-file nginx peer, wrk runs and the side-by-side
# report. Expects W to be unset; sets W, PIDS and an EXIT trap.

bench_workdir() { # PREFIX
  W=$(mktemp -d "/tmp/$1-XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$W"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "no answer from $1" >&2; exit 2
}

# nginx serving directory WWW on a free port: its own prefix in $W/nginx, not daemonised, 2
# workers, no access log, long keep-alive; LOCATION adds directives to "location /" (types,
# index, etag). Waits until CHECK_PATH answers. Sets NG_PORT.
start_nginx_dir() { # WWW CHECK_PATH LOCATION
  NG_PORT=$(free_port)
  mkdir -p "$W/nginx/logs" "$W/nginx/tmp"
  # Run as root, nginx's workers run as nobody: let them read the files (the data dir inside
  # $W stays 0700).
  chmod 0755 "$W" "$W/nginx"
  chmod -R a+rX "$1"
  cat > "$W/nginx/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 2;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $W/nginx/tmp/body;
  proxy_temp_path $W/nginx/tmp/proxy;
  fastcgi_temp_path $W/nginx/tmp/fastcgi;
  uwsgi_temp_path $W/nginx/tmp/uwsgi;
  scgi_temp_path $W/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NG_PORT;
    location / { root $1; $3 }
  }
}
NGINX
  nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" 2>>"$W/nginx/logs/error.log" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$NG_PORT$2"
}

# nginx serving FILE at URL path PATH (e.g. /proof.json) as JSON (start_nginx_dir).
start_static_nginx() { # FILE PATH
  local www=$W/nginx/www
  mkdir -p "$(dirname "$www$2")"
  cp "$1" "$www$2"
  start_nginx_dir "$www" "$2" "default_type application/json;"
}

# N credentials of the security-awareness-2026 template issued by `issue --csv` (the real
# issuance path, 10,000 rows per synced commit) into a new data dir $D; prints the time.
populate_credentials() { # N
  python3 - "$W/list.csv" "$1" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("externalId,name,email,department,course,completedAt\n")
    for i in range(n):
        f.write(f"R-{i:07d},Participant {i},p{i}@example.org,Department {i % 23},"
                f"security-awareness-2026,2026-03-{1 + i % 28:02d}\n")
PY
  "$BIN" init --config "$CONF" --data-dir "$D" >/dev/null 2>&1
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" issue --csv "$W/list.csv" --chunk 10000 --config "$CONF" --data-dir "$D" \
    >/dev/null 2>"$W/issue.err" || { tail -3 "$W/issue.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print(f'populate: {$1} credentials by issue --csv in {$t1 - $t0:.1f} s "\
"({$1 / ($t1 - $t0):.0f}/s)')"
  rm -f "$W/list.csv"
}

run_wrk() { wrk -t2 -c64 -d"$DURATION" --latency "$@"; }
parse_wrk() { # file -> "rps p50 p99 non2xx" (latencies in ms)
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f} {non2xx.group(1) if non2xx else 0}")
PY
}

# Warms up, then runs wrk against credanchor (with the Lua script cycling over many URLs) and
# against the nginx peer, and prints the table, the ratio and TARGETS.
compare_with_nginx() { # TITLE LUA NGINX_PATH TARGETS
  echo "warming up ..." >&2
  wrk -t2 -c64 -d2s -s "$2" "http://127.0.0.1:$CA_PORT" >/dev/null
  run_wrk -s "$2" "http://127.0.0.1:$CA_PORT" > "$W/wrk-ca.txt"
  run_wrk "http://127.0.0.1:$NG_PORT$3" > "$W/wrk-nginx.txt"
  local ca_rps ca_p50 ca_p99 ca_bad ng_rps ng_p50 ng_p99 ng_bad
  read -r ca_rps ca_p50 ca_p99 ca_bad < <(parse_wrk "$W/wrk-ca.txt")
  read -r ng_rps ng_p50 ng_p99 ng_bad < <(parse_wrk "$W/wrk-nginx.txt")
  echo "== $1"
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); wrk -t2 -c64 -d$DURATION on the same host"
  printf '%-22s %12s %10s %10s %8s\n' "server" "req/s" "p50 ms" "p99 ms" "non-2xx"
  printf '%-22s %12s %10s %10s %8s\n' "credanchor serve" "$ca_rps" "$ca_p50" "$ca_p99" "$ca_bad"
  printf '%-22s %12s %10s %10s %8s\n' "nginx (static file)" "$ng_rps" "$ng_p50" "$ng_p99" "$ng_bad"
  python3 -c "print(f'ratio credanchor/nginx: {$ca_rps/$ng_rps:.2f}x   ($4)')"
}

# The run's setting, printed before any figure: machine, data dir's filesystem, binary, the
# config file and every CREDANCHOR_* override (durability itself is not configurable).
print_bench_setting() { # BIN CONF
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), data dir on $(df --output=source,fstype "$W" | tail -1 | tr -s ' ')"
  echo "binary: $1"
  echo "config: $2 (fsync on every commit: always on, not configurable) + env:"
  env | grep '^CREDANCHOR_' | sort | sed 's/^/  /'
}
