#!/usr/bin/env bash
# The publish path measured from outside (issue #15): one peer in its own process, wrk (an
# independent generator, C) POSTing publishes on 64 keep-alive connections, and the server's CPU
# read from /proc/<pid>/stat before and after. Prints CPU µs per acknowledged publish and
# acknowledged publishes/s, one line per run.
#
#   scripts/publish-cost.sh [peer ...]        peers: memory sqlite raw nchan (default: all four)
#   RUNS=3 SECONDS_=5 CONNECTIONS=64 THREADS=2 scripts/publish-cost.sh memory
#   SSEHUB_BENCH_ROOT=/path/to/other/checkout scripts/publish-cost.sh memory   (compare a build)
#
# ssehub runs as users run it (`node dist/server/cli.js`, as bench/peers/ssehub.ts starts it:
# anonymous, warn-level JSON logs, history of 100,000); build first (`npx tsc -p
# tsconfig.build.json`), or set ENTRY=src to run src/ through tsx. SQLite is durable
# (`synchronous=full`, the default) in a fresh temporary file. The raw peer is
# bench/peers/raw-node.ts; Nchan is nginx + Nchan configured as bench/peers/nchan.ts does, one
# worker, stopped by the pid in its pid file. Each run: 1 s of warm-up, then SECONDS_ measured.
# A publish counts as acknowledged when its answer is 2xx (wrk counts the others apart); the
# body is a 100-byte payload on one of 8 topics, as in bench/durable-http.bench.ts. Loopback only.
set -euo pipefail

ROOT=${SSEHUB_BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RUNS=${RUNS:-3}
DURATION=${SECONDS_:-5}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ENTRY=${ENTRY:-dist}
HOST=127.0.0.1
SECRET='ssehub-bench-secret-0123456789-abcdefghijkl'
TICKS=$(getconf CLK_TCK)
PEERS=("$@")
[ ${#PEERS[@]} -eq 0 ] && PEERS=(memory sqlite raw nchan)
command -v wrk >/dev/null || { echo 'wrk is missing: apt-get install -y wrk' >&2; exit 1; }

WORK=$(mktemp -d /tmp/publish-cost.XXXXXX)
SERVER_PID=''
NGINX_PIDFILE=''
stop_server() {
  if [ -n "$NGINX_PIDFILE" ] && [ -f "$NGINX_PIDFILE" ]; then
    kill -QUIT "$(cat "$NGINX_PIDFILE")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$NGINX_PIDFILE" ] || break; sleep 0.1; done
  fi
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 80); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=''
  NGINX_PIDFILE=''
}
trap 'stop_server; rm -rf "$WORK"' EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_http() { # url
  for _ in $(seq 200); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "no answer from $1" >&2
  return 1
}

# Sums utime and stime (clock ticks) of the given pids: prints "user system".
cpu_ticks() {
  local user=0 system=0 pid fields
  for pid in "$@"; do
    # Fields after the command name's closing parenthesis: utime and stime are the 12th and 13th.
    fields=$(sed 's/^.*) //' "/proc/$pid/stat")
    # shellcheck disable=SC2086
    set -- $fields
    user=$((user + ${12}))
    system=$((system + ${13}))
  done
  echo "$user $system"
}

# 100 bytes of payload, as the bench's publishers send.
PAYLOAD=$(printf 'P%099d' 0)

start_peer() { # peer → sets SERVER_PID or NGINX_PIDFILE, PORT, PIDS, BODY, PATH_, HEADER
  PORT=$(free_port)
  case "$1" in
    memory | sqlite)
      local store=memory entry
      if [ "$1" = sqlite ]; then store="sqlite:$WORK/hub-$RANDOM.db"; fi
      if [ "$ENTRY" = src ]; then entry=(--import tsx "$ROOT/src/server/cli.ts"); else entry=("$ROOT/dist/server/cli.js"); fi
      PORT=$PORT HOST=$HOST SSEHUB_STORE=$store SSEHUB_JWT_KEY=$SECRET SSEHUB_ANONYMOUS=true \
        SSEHUB_MAX_LIFETIME=off SSEHUB_MAX_PER_ADDRESS=off SSEHUB_LOG_LEVEL=warn \
        SSEHUB_LOG_FORMAT=json SSEHUB_HISTORY_SIZE=100000 \
        node ${NODE_ARGS:-} "${entry[@]}" >"$WORK/server.log" 2>&1 &
      SERVER_PID=$!
      wait_http "http://$HOST:$PORT/healthz"
      PIDS=$SERVER_PID
      local token
      token=$(SSEHUB_JWT_KEY=$SECRET node "$ROOT/dist/server/cli.js" token --publish '*' --ttl 24h)
      HEADER="Authorization: Bearer $token"
      PATH_=/.well-known/mercure
      TOPICS_PREFIX='topic=https%3A%2F%2Fexample.com%2Ft%2F'
      ;;
    raw)
      (cd "$ROOT" && exec node --import tsx bench/peers/raw-node.ts "$PORT" 1000) &
      SERVER_PID=$!
      wait_http "http://$HOST:$PORT/stats"
      PIDS=$SERVER_PID
      HEADER='X-Peer: raw'
      PATH_='/pub?topic='
      TOPICS_PREFIX=''
      ;;
    nchan)
      local prefix=$WORK/nchan
      mkdir -p "$prefix/tmp"
      chmod 755 "$WORK" "$prefix"
      NGINX_PIDFILE=$prefix/nginx.pid
      cat >"$prefix/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 20000;
pid       $NGINX_PIDFILE;
error_log $prefix/error.log warn;
events { worker_connections 19000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path       $prefix/tmp/proxy;
  fastcgi_temp_path     $prefix/tmp/fastcgi;
  uwsgi_temp_path       $prefix/tmp/uwsgi;
  scgi_temp_path        $prefix/tmp/scgi;
  keepalive_requests    1000000;
  nchan_max_reserved_memory 512M;
  server {
    listen $HOST:$PORT backlog=8192;
    location = /pub {
      nchan_publisher;
      nchan_message_buffer_length 1000;
      nchan_message_timeout 1h;
      nchan_channel_id \$arg_id;
    }
    location = /nchan_status { nchan_stub_status; }
  }
}
EOF
      /usr/sbin/nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log"
      for _ in $(seq 50); do [ -f "$NGINX_PIDFILE" ] && break; sleep 0.1; done
      wait_http "http://$HOST:$PORT/nchan_status"
      local master
      master=$(cat "$NGINX_PIDFILE")
      PIDS="$master $(pgrep -P "$master" | tr '\n' ' ')"
      HEADER='X-Peer: nchan'
      PATH_='/pub?id='
      TOPICS_PREFIX=''
      ;;
    *)
      echo "unknown peer $1 (memory, sqlite, raw, nchan)" >&2
      exit 2
      ;;
  esac
}

# The wrk script: each connection publishes to one of 8 topics, a fresh request per publish.
write_lua() { # path-prefix topic-prefix
  cat >"$WORK/publish.lua" <<EOF
local counter = 0
local requests = {}
function init(args)
  for topic = 0, 7 do
    local path, body
    if "$2" ~= "" then
      path = "$1"
      body = "$2" .. topic .. "&data=$PAYLOAD"
    else
      path = "$1" .. "t" .. topic
      body = "$PAYLOAD"
    end
    requests[topic] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["$(echo "$HEADER" | cut -d: -f1)"] = "$(echo "$HEADER" | cut -d' ' -f2-)",
    }, body)
  end
end
function request()
  counter = counter + 1
  return requests[counter % 8]
end
EOF
}

printf '%-8s %4s %10s %11s %9s %9s %8s %8s\n' peer run 'acks/s' 'CPU µs/ack' 'user µs' 'sys µs' 'non-2xx' 'errors'
for peer in "${PEERS[@]}"; do
  for run in $(seq "$RUNS"); do
    start_peer "$peer"
    write_lua "$PATH_" "$TOPICS_PREFIX"
    url="http://$HOST:$PORT"
    # Warm-up: the JIT, the connections' first requests, SQLite's first pages.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d1s -s "$WORK/publish.lua" "$url" >/dev/null
    # shellcheck disable=SC2086
    read -r user0 sys0 <<<"$(cpu_ticks $PIDS)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/publish.lua" "$url" >"$WORK/wrk.out"
    # shellcheck disable=SC2086
    read -r user1 sys1 <<<"$(cpu_ticks $PIDS)"
    total=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
    bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
    errors=$(awk '/Socket errors/ {print $0}' "$WORK/wrk.out" | sed 's/.*errors: //')
    bad=${bad:-0}
    acks=$((total - bad))
    awk -v peer="$peer" -v run="$run" -v acks="$acks" -v d="$DURATION" -v user=$((user1 - user0)) \
      -v sys=$((sys1 - sys0)) -v hz="$TICKS" -v bad="$bad" -v errors="${errors:-0}" 'BEGIN {
        per = acks > 0 ? 1e6 / hz / acks : 0
        printf "%-8s %4d %10.0f %11.2f %9.2f %9.2f %8d %8s\n", peer, run, acks / d,
          (user + sys) * per, user * per, sys * per, bad, errors }'
    stop_server
  done
done
