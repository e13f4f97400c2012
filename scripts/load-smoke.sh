#!/usr/bin/env bash
# A few seconds of real load, so the load tool and the server's fan-out
# don't rot between benchmark sessions (run by .ci/run).
#
#   scripts/load-smoke.sh
#
# Starts `palaver` on a temporary data dir and a free loopback port (cheap
# bcrypt, raised limits), waits for /healthz, runs
# `palaver-load --json --duration 3` with 50 clients in 2 rooms, 5 of them
# sending, and fails if the run reports an error, a failed or lost
# connection, or no deliveries. The server is stopped by its PID on every
# exit path. The last line reads "load smoke: N delivered/s, p99 X ms".
#
# Environment (all optional):
#   PALAVER_BIN        server binary [$CARGO_TARGET_DIR/debug/palaver, or target/]
#   PALAVER_LOAD_BIN   load tool [next to PALAVER_BIN]
#   SMOKE_TIMEOUT      seconds the load run may take in all [120]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER_BIN=${PALAVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/palaver}
LOAD_BIN=${PALAVER_LOAD_BIN:-$(dirname "$SERVER_BIN")/palaver-load}
RUN_TIMEOUT=${SMOKE_TIMEOUT:-120}
# How long the server may take to answer /healthz.
START_TIMEOUT_SECS=30

say() { printf 'load-smoke.sh: %s\n' "$*" >&2; }
die() { printf 'load-smoke.sh: error: %s\n' "$*" >&2; exit 1; }

[ -x "$SERVER_BIN" ] || die "no server binary at $SERVER_BIN (cargo build, or set PALAVER_BIN)"
[ -x "$LOAD_BIN" ] || die "no load tool at $LOAD_BIN (cargo build --bin palaver-load, or set PALAVER_LOAD_BIN)"
command -v python3 >/dev/null || die "python3 is needed to pick a port and read the report"
command -v curl >/dev/null || die "curl is needed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/palaver-smoke.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [ -z "$SERVER_PID" ] || wait "$SERVER_PID" 2>/dev/null || true
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    say "server log (last 20 lines):"
    tail -n 20 "$WORK/server.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CHAT_DATA_DIR=$WORK/data CHAT_BIND=127.0.0.1:$PORT CHAT_BCRYPT_COST=4 \
  CHAT_SEND_RATE=100000 CHAT_SEND_BURST=100000 CHAT_MAX_CONNECTIONS_PER_IP=100000 \
  CHAT_LOG=warn "$SERVER_BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + START_TIMEOUT_SECS))
until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start-up"
  [ $SECONDS -lt "$deadline" ] || die "the server did not answer /healthz within $START_TIMEOUT_SECS s"
  sleep 0.1
done

say "palaver-load against 127.0.0.1:$PORT for 3 s"
timeout "$RUN_TIMEOUT" "$LOAD_BIN" --quiet --json --server-pid "$SERVER_PID" \
  --url "http://127.0.0.1:$PORT" --clients 50 --rooms 2 --senders 5 \
  --warmup 1 --duration 3 --drain 1 >"$WORK/report.json" 2>"$WORK/load.log" \
  || { cat "$WORK/load.log" >&2; die "palaver-load failed or timed out"; }

python3 - "$WORK/report.json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    r = json.load(f)
problems = []
if r["delivered"] == 0:
    problems.append("no deliveries")
if r["errors"]:
    problems.append(f"errors {r['errors']}")
c = r["connections"]
if c["failed"] or c["lost"]:
    problems.append(f"{c['failed']} connections failed, {c['lost']} lost: {c['failures']} {c['lost_reasons']}")
if r["delivery"]["out_of_order"]:
    problems.append(f"{r['delivery']['out_of_order']} deliveries out of order")
if problems:
    sys.exit("load-smoke.sh: error: " + "; ".join(problems))
print(f"load smoke: {r['delivered_per_sec']:,.0f} delivered/s, p99 {r['latency_ms']['p99']} ms")
EOF
