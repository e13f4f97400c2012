#!/usr/bin/env bash
# WebSocket conformance check of palaver's /ws with Autobahn|Testsuite.
#
#   scripts/autobahn.sh
#
# 1. finds Python 2.7 (wstest runs only there); without it prints
#    "SKIPPED: ..." and exits 0;
# 2. creates, or reuses while it still matches scripts/autobahn/requirements.txt,
#    a virtualenv with a fully pinned wstest;
# 3. builds palaver (or takes $PALAVER_BIN) and starts `palaver serve` on a
#    free loopback port with a temporary data dir in conformance echo mode
#    (CHAT_CONFORMANCE_ECHO=true: /ws needs no login and echoes every message);
# 4. runs `wstest -m fuzzingclient` against ws://127.0.0.1:PORT/ws;
# 5. summarises target/autobahn/report/index.json: counts per behavior, and
#    each failing case with the suite's explanation; exits non-zero if any
#    case is FAILED / WRONG CODE / UNCLEAN, if the run itself fails, or if the
#    server dies during the run. The last line reads
#    "autobahn: N cases, M failed".
#
# Everything it leaves is under target/autobahn/ (a CI artifact): report/
# (index.html, index.json, one .html/.json per case), spec.json,
# wstest.log and server.log.
#
# Environment (all optional):
#   AUTOBAHN_PYTHON2          Python 2.7 interpreter to use
#   AUTOBAHN_VENV             virtualenv dir [~/.cache/palaver-autobahn-venv]
#   AUTOBAHN_OUT              output dir [<repo>/target/autobahn]
#   AUTOBAHN_CASES            comma separated case patterns [1.*,2.*,...,10.*]
#   AUTOBAHN_EXCLUDE_CASES    comma separated case patterns to skip [none]
#   AUTOBAHN_FAIL_ON          behaviors that fail a case [FAILED,WRONG CODE,UNCLEAN]
#   AUTOBAHN_PORT             port for the server [a free one]
#   AUTOBAHN_TIMEOUT          seconds for the wstest run [600]
#   AUTOBAHN_INSTALL_TIMEOUT  seconds for the virtualenv install [900]
#   AUTOBAHN_BUILD_TIMEOUT    seconds for `cargo build --release` [1800]
#   PALAVER_BIN               palaver binary to test instead of building one
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/autobahn
VENV=${AUTOBAHN_VENV:-$HOME/.cache/palaver-autobahn-venv}
OUT=${AUTOBAHN_OUT:-$ROOT/target/autobahn}
CASES=${AUTOBAHN_CASES:-1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*}
EXCLUDE_CASES=${AUTOBAHN_EXCLUDE_CASES:-}
RUN_TIMEOUT=${AUTOBAHN_TIMEOUT:-600}
INSTALL_TIMEOUT=${AUTOBAHN_INSTALL_TIMEOUT:-900}
BUILD_TIMEOUT=${AUTOBAHN_BUILD_TIMEOUT:-1800}
AGENT=palaver

say() { printf 'autobahn.sh: %s\n' "$*"; }
die() { printf 'autobahn.sh: error: %s\n' "$*" >&2; echo "autobahn: run failed ($*)"; exit 1; }
now() { date +%s; }

# --- 1. Python 2.7 ----------------------------------------------------------
is_py27() {
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' >/dev/null 2>&1
}
PY2=""
for cand in "${AUTOBAHN_PYTHON2:-}" /root/.pyenv/versions/2.7.18/bin/python "$(command -v python2.7 2>/dev/null || true)"; do
  if is_py27 "$cand"; then PY2=$cand; break; fi
done
if [ -z "$PY2" ]; then
  echo "SKIPPED: autobahn conformance needs Python 2.7 (not found)"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/palaver-autobahn.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. virtualenv with wstest ------------------------------------------------
# (env vars rather than flags: pip 19 of the bare 2.7 interpreter lacks some flags)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_NO_PYTHON_VERSION_WARNING=1
PIP_QUIET=(-q)
STAMP="$(cat "$HERE/requirements.txt" "$HERE/bootstrap-requirements.txt" | sha256sum | cut -d' ' -f1) $("$PY2" -c 'import sys; print(sys.version.split()[0])')"
STAMP_FILE=$VENV/.palaver-autobahn-stamp

venv_ok() {
  [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/wstest" ] &&
    [ "$(cat "$STAMP_FILE" 2>/dev/null)" = "$STAMP" ] &&
    PYTHONWARNINGS=ignore "$VENV/bin/wstest" -a >/dev/null 2>&1
}

if venv_ok; then
  say "reusing virtualenv $VENV"
else
  t0=$(now)
  say "creating virtualenv $VENV with pinned wstest (Python $PY2)"
  if [ -e "$VENV" ]; then
    if [ -f "$VENV/pyvenv.cfg" ] || [ -f "$STAMP_FILE" ] || [ -z "$(ls -A "$VENV")" ]; then
      rm -rf "$VENV"
    else
      die "$VENV exists and is not a virtualenv; remove it or set AUTOBAHN_VENV"
    fi
  fi
  "$PY2" -m pip --version >/dev/null 2>&1 || die "$PY2 has no pip (try: $PY2 -m ensurepip)"
  mkdir -p "$(dirname "$VENV")"
  # virtualenv itself goes into a throw-away dir, not into the 2.7 interpreter
  timeout "$INSTALL_TIMEOUT" "$PY2" -m pip install "${PIP_QUIET[@]}" --no-deps \
    --target "$WORK/bootstrap" -r "$HERE/bootstrap-requirements.txt" \
    2> >(grep -v '^DEPRECATION: Python 2.7' >&2) ||
    die "could not install virtualenv for Python 2.7"
  PYTHONPATH="$WORK/bootstrap" timeout "$INSTALL_TIMEOUT" "$PY2" -m virtualenv -q \
    --no-periodic-update --no-download "$VENV" || die "could not create $VENV"
  # --no-deps + pip check: requirements.txt must pin every dependency
  timeout "$INSTALL_TIMEOUT" "$VENV/bin/python" -m pip install "${PIP_QUIET[@]}" --no-deps \
    -r "$HERE/requirements.txt" || die "pip install of scripts/autobahn/requirements.txt failed"
  "$VENV/bin/python" -m pip check >"$WORK/pip-check.txt" 2>&1 ||
    { cat "$WORK/pip-check.txt"; die "pip check found missing or conflicting dependencies"; }
  echo "$STAMP" >"$STAMP_FILE"
  venv_ok || { PYTHONWARNINGS=ignore "$VENV/bin/wstest" -a || true; die "wstest does not run in $VENV"; }
  say "virtualenv ready in $(($(now) - t0)) s"
fi
PY=$VENV/bin/python

# --- 3. palaver ------------------------------------------------------------------
if [ -n "${PALAVER_BIN:-}" ]; then
  BIN=$PALAVER_BIN
else
  t0=$(now)
  say "cargo build --release --bin palaver"
  (cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release --bin palaver) || die "cargo build failed"
  TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  BIN=$TARGET_DIR/release/palaver
  say "built in $(($(now) - t0)) s"
fi
[ -x "$BIN" ] || die "no palaver binary at $BIN"

PORT=${AUTOBAHN_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
URL=ws://127.0.0.1:$PORT/ws
mkdir -p "$OUT"
rm -rf "$OUT/report" "$OUT/spec.json" "$OUT/wstest.log" "$OUT/server.log"
mkdir -p "$WORK/data"

say "starting $BIN serve on 127.0.0.1:$PORT (conformance echo mode)"
CHAT_DATA_DIR=$WORK/data CHAT_BIND=127.0.0.1:$PORT CHAT_CONFORMANCE_ECHO=true CHAT_BCRYPT_COST=4 \
  "$BIN" serve >"$OUT/server.log" 2>&1 </dev/null &
SERVER_PID=$!

server_died() {
  echo "---- last lines of $OUT/server.log ----"
  tail -n 40 "$OUT/server.log" || true
  die "$1"
}
port_answers() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
  fi
}
ready=""
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || server_died "palaver exited before it answered"
  if port_answers; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || server_died "palaver did not answer on 127.0.0.1:$PORT within 60 s"

# --- 4. wstest -------------------------------------------------------------------
"$PY" - "$WORK/spec.json" "$URL" "$OUT/report" "$AGENT" "$CASES" "$EXCLUDE_CASES" <<'PYEOF'
import json, sys
path, url, outdir, agent, cases, exclude = sys.argv[1:7]
split = lambda s: [c.strip() for c in s.split(",") if c.strip()]
spec = {
    "outdir": outdir,
    "servers": [{"agent": agent, "url": url}],
    "cases": split(cases),
    "exclude-cases": split(exclude),
    "exclude-agent-cases": {},
}
with open(path, "w") as f:
    json.dump(spec, f, indent=2, sort_keys=True)
PYEOF
cp "$WORK/spec.json" "$OUT/spec.json"

t0=$(now)
say "wstest -m fuzzingclient against $URL (cases $CASES; at most $RUN_TIMEOUT s)"
set +e
(cd "$WORK" && PYTHONWARNINGS=ignore timeout "$RUN_TIMEOUT" "$VENV/bin/wstest" -m fuzzingclient -s "$WORK/spec.json") \
  >"$OUT/wstest.log" 2>&1
wstest_rc=$?
set -e
say "wstest finished in $(($(now) - t0)) s (exit $wstest_rc)"

problem=""
if [ "$wstest_rc" = 124 ]; then
  problem="wstest timed out after $RUN_TIMEOUT s"
elif [ "$wstest_rc" != 0 ]; then
  problem="wstest exited with status $wstest_rc"
elif ! grep -q 'Traceback' "$OUT/wstest.log"; then
  :
else
  problem="wstest printed a Python traceback (see $OUT/wstest.log)"
fi
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  problem="${problem:+$problem; }palaver exited during the run (see $OUT/server.log)"
  tail -n 40 "$OUT/server.log" || true
fi
if [ -n "$problem" ]; then
  echo "---- last lines of $OUT/wstest.log ----"
  tail -n 30 "$OUT/wstest.log" || true
fi

# --- 5. summary ------------------------------------------------------------------
set +e
PYTHONIOENCODING=utf-8 "$PY" "$HERE/report.py" "$OUT/report" "$AGENT"
report_rc=$?
set -e
if [ -n "$problem" ]; then
  echo "autobahn: run failed ($problem)"
  exit 1
fi
exit "$report_rc"
