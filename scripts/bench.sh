#!/usr/bin/env bash
# Palaver's performance table, reproducible with one command.
#
#   scripts/bench.sh [--runs N] [--shapes LIST] [--peers] [--out FILE] ...
#
# 1. builds the release binaries (`cargo build --release --bins`) unless
#    --no-build;
# 2. for each shape, N times (alternating servers within each run): starts
#    Palaver on a fresh temporary data dir and a free loopback port with cheap
#    bcrypt and raised limits, waits for /healthz, runs
#    `palaver-load --json` bounded in time, samples the server's memory, and
#    stops the server by its PID; with --peers the same shape against the
#    reference peers of ../shared/peers (ceiling-rust, node-ws,
#    python-websockets), built or installed once under --peers-work;
# 3. prints a markdown table (medians over the runs, ratios to the ceiling
#    and to Node `ws`) on stdout or into --out FILE.
#
# Shapes (comma-separated, in this order):
#   small     200 clients, 1 room, 20 senders, as fast as acks allow
#   fanout    1,000 clients, 1 room, 10 senders, as fast as acks allow
#   latency   1,000 clients, 1 room, 10 senders at half of Palaver's median
#             `fanout` send rate (or --latency-rate); every server gets the
#             same rate
#   rooms     5,000 clients in 500 rooms of 10, every client sending 1 msg/s
#             (Palaver only: the peers have no rooms)
#   idle      10,000 idle sockets (no sender; Palaver's in 1,000 rooms of 10)
#             after a 15 s settle: RSS per connection and CPU
#   startup   time from exec to the first 200 from /healthz on an existing
#             database (Palaver only); also the release binary's size
#
# Environment: CARGO_TARGET_DIR is honoured (release binaries are looked up
# there). Everything a run leaves (JSON reports, server logs) goes to
# --keep DIR, or to a temp dir removed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PEERS_DIR=$(cd "$ROOT/.." && pwd)/shared/peers
PEERS_WORK=${XDG_CACHE_HOME:-$HOME/.cache}/palaver-peers
RUNS=3
DURATION=15
WARMUP=5
SHAPES=small,fanout,latency,rooms,idle,startup
WITH_PEERS=false
BUILD=true
OUT=""
KEEP=""
LATENCY_RATE=""
# Seconds on top of warm-up + duration + drain that a load run may take
# (logins and connections of 10,000 clients) before it is killed.
SETUP_SECS=180
# How long a server may take to answer /healthz before the run fails.
START_TIMEOUT_SECS=30
OPEN_FILES=65536
# Warm-up of the idle shape: joins, history and presence frames of 10,000
# new sockets settle before the CPU window starts.
IDLE_SETTLE_SECS=15
REPORT_ONLY=""

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --runs N             runs per shape and server [$RUNS]
  --duration S         measured seconds per run [$DURATION]
  --warmup S           seconds of load before measuring [$WARMUP]
  --shapes LIST        shapes to run [$SHAPES]
  --peers              also measure the reference peers (builds/installs them)
  --peers-dir DIR      the peers' sources [$PEERS_DIR]
  --peers-work DIR     where the peers are built and installed [$PEERS_WORK]
  --latency-rate R     total msg/s of the latency shape [half of Palaver's fanout]
  --no-build           use the release binaries already in \$CARGO_TARGET_DIR
  --out FILE           write the markdown table to FILE instead of stdout
  --keep DIR           keep every run's JSON report and server log in DIR
  --report-only DIR    print the table of a --keep DIR again; runs nothing
  -h, --help           this text
EOF
}

say() { printf 'bench.sh: %s\n' "$*" >&2; }
die() { printf 'bench.sh: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
    --warmup) WARMUP=${2:?--warmup needs seconds}; shift 2 ;;
    --shapes) SHAPES=${2:?--shapes needs a list}; shift 2 ;;
    --peers) WITH_PEERS=true; shift ;;
    --peers-dir) PEERS_DIR=${2:?--peers-dir needs a dir}; shift 2 ;;
    --peers-work) PEERS_WORK=${2:?--peers-work needs a dir}; shift 2 ;;
    --latency-rate) LATENCY_RATE=${2:?--latency-rate needs msg/s}; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --keep) KEEP=${2:?--keep needs a dir}; shift 2 ;;
    --report-only) REPORT_ONLY=${2:?--report-only needs a dir}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
for n in "$RUNS" "$DURATION" "$WARMUP"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--runs, --duration and --warmup take positive integers (got '$n')"
done
IFS=, read -r -a SHAPE_LIST <<<"$SHAPES"
for shape in "${SHAPE_LIST[@]}"; do
  case "$shape" in small|fanout|latency|rooms|idle|startup) ;; *) die "unknown shape '$shape'" ;; esac
done
command -v python3 >/dev/null || die "python3 is needed (to pick ports and add up the reports)"
command -v curl >/dev/null || die "curl is needed"

# Thousands of sockets on each side of loopback.
ulimit -n "$OPEN_FILES" 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
  say "warning: ulimit -n is $(ulimit -n); the idle shape needs more than its 10,000 clients (per process)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/palaver-bench.XXXXXX")
RESULTS=${KEEP:-$WORK/results}
mkdir -p "$RESULTS"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ]; then wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
cleanup() {
  local rc=$?
  stop_server
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

if [ -n "$REPORT_ONLY" ]; then
  [ -d "$REPORT_ONLY" ] || die "--report-only: no such dir $REPORT_ONLY"
  RESULTS=$REPORT_ONLY
  SHAPE_LIST=()
  BUILD=false
  WITH_PEERS=false
fi

# --- build -------------------------------------------------------------------
if $BUILD; then
  say "building release binaries (cargo build --release --bins)"
  (cd "$ROOT" && cargo build --release --bins --quiet) || die "release build failed"
fi
PALAVER=$TARGET_DIR/release/palaver
LOAD=$TARGET_DIR/release/palaver-load
if [ -z "$REPORT_ONLY" ] && { [ ! -x "$PALAVER" ] || [ ! -x "$LOAD" ]; }; then
  die "no release binaries in $TARGET_DIR/release (drop --no-build)"
fi

SERVERS=(palaver)
if $WITH_PEERS; then
  [ -d "$PEERS_DIR" ] || die "no peers at $PEERS_DIR (--peers-dir)"
  mkdir -p "$PEERS_WORK"
  say "preparing the peers under $PEERS_WORK"
  # Copies: the peers' own directory may be read-only.
  rm -rf "$PEERS_WORK/ceiling-rust" "$PEERS_WORK/node-ws"
  cp -r "$PEERS_DIR/ceiling-rust" "$PEERS_DIR/node-ws" "$PEERS_WORK/"
  chmod -R u+w "$PEERS_WORK/ceiling-rust" "$PEERS_WORK/node-ws"
  CARGO_TARGET_DIR=$PEERS_WORK/ceiling-target cargo build --release --quiet \
    --manifest-path "$PEERS_WORK/ceiling-rust/Cargo.toml" || die "building ceiling-rust failed"
  (cd "$PEERS_WORK/node-ws" && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm install for node-ws failed"
  if [ ! -x "$PEERS_WORK/pyws/bin/python" ]; then
    python3 -m venv "$PEERS_WORK/pyws" || die "python3 -m venv failed"
  fi
  "$PEERS_WORK/pyws/bin/pip" install --quiet websockets || die "pip install websockets failed"
  SERVERS+=(ceiling node python)
fi

# --- servers -----------------------------------------------------------------
PORT=""
# start_server NAME LOGFILE: starts it on a free port, sets SERVER_PID and
# PORT, and waits until it answers.
start_server() {
  local name=$1 log=$2
  PORT=$(free_port)
  case "$name" in
    palaver)
      local data="$WORK/data-$PORT"
      mkdir -p "$data"
      CHAT_DATA_DIR=$data CHAT_BIND=127.0.0.1:$PORT CHAT_BCRYPT_COST=4 \
        CHAT_SEND_RATE=1000000 CHAT_SEND_BURST=1000000 \
        CHAT_MAX_CONNECTIONS_PER_IP=1000000 CHAT_LOG=warn \
        "$PALAVER" >"$log" 2>&1 &
      ;;
    ceiling) "$PEERS_WORK/ceiling-target/release/ceiling" "$PORT" >"$log" 2>&1 & ;;
    node) node "$PEERS_WORK/node-ws/server.js" "$PORT" >"$log" 2>&1 & ;;
    python) "$PEERS_WORK/pyws/bin/python" "$PEERS_DIR/python-websockets/server.py" "$PORT" >"$log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  local deadline=$((SECONDS + START_TIMEOUT_SECS))
  while :; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "$name exited at start-up (log above)"; }
    if [ "$name" = palaver ]; then
      curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    else
      # The peers answer any path with a WebSocket upgrade only: a TCP
      # connect is the readiness check.
      (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    fi
    [ $SECONDS -lt "$deadline" ] || die "$name did not start within $START_TIMEOUT_SECS s"
    sleep 0.05
  done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Resident memory of PID once a second, "unix-seconds KiB" per line, until
# it is killed.
sample_rss() {
  while kill -0 "$1" 2>/dev/null; do
    printf '%s %s\n' "$(date +%s.%N)" "$(rss_kib "$1")"
    sleep 1
  done
}

# How long before palaver-load exits its measured window ends (the drain,
# plus a margin): the RSS sample taken then is the in-window figure.
RSS_BEFORE_EXIT_SECS=4

# One load run: run_load SHAPE SERVER RUN palaver-load-args...
run_load() {
  local shape=$1 server=$2 run=$3
  shift 3
  local base="$RESULTS/${shape}__${server}__${run}"
  start_server "$server" "$base.log"
  local rss0 sampler
  rss0=$(rss_kib "$SERVER_PID")
  sample_rss "$SERVER_PID" >"$base.rss" &
  sampler=$!
  local raw=()
  [ "$server" = palaver ] || raw=(--raw)
  local limit=$((shape_warmup + DURATION + 10 + SETUP_SECS))
  say "$shape #$run $server: palaver-load $*"
  if ! timeout "$limit" "$LOAD" --quiet --json --server-pid "$SERVER_PID" "${raw[@]}" \
      --url "http://127.0.0.1:$PORT" --warmup "$shape_warmup" --duration "$DURATION" "$@" \
      >"$base.json" 2>"$base.stderr"; then
    # A report with a failing verdict (e.g. nothing delivered) is still a
    # result; only a run that printed none is recorded as failed.
    if ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))["settings"]' "$base.json" 2>/dev/null; then
      say "  palaver-load failed or timed out (see below); the run is recorded as failed"
      tail -n 5 "$base.stderr" >&2 || true
      echo '{"failed": true}' >"$base.json"
    fi
  fi
  local ended
  ended=$(date +%s.%N)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  # Memory before the clients came, inside the measured window (the last
  # sample RSS_BEFORE_EXIT_SECS before the tool exited), and the peak.
  local in_window
  in_window=$(awk -v t="$ended" -v m="$RSS_BEFORE_EXIT_SECS" '$1 <= t - m {v = $2} END {print v + 0}' "$base.rss")
  printf '{"rss_start_kib": %s, "rss_window_kib": %s, "rss_peak_kib": %s}\n' \
    "$rss0" "$in_window" "$(hwm_kib "$SERVER_PID")" >"$base.mem"
  stop_server
}

hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

median_sent() {
  python3 - "$RESULTS" "$1" <<'EOF'
import glob, json, statistics, sys
rates = []
for path in glob.glob(f"{sys.argv[1]}/{sys.argv[2]}__palaver__*.json"):
    with open(path) as f:
        r = json.load(f)
    if not r.get("failed") and r.get("sent_per_sec"):
        rates.append(r["sent_per_sec"])
print(statistics.median(rates) if rates else "")
EOF
}

startup_runs() {
  local data="$WORK/startup-data" log="$RESULTS/startup.log"
  mkdir -p "$data"
  # An existing database with users and history: one short load run.
  PORT=$(free_port)
  CHAT_DATA_DIR=$data CHAT_BIND=127.0.0.1:$PORT CHAT_BCRYPT_COST=4 CHAT_SEND_RATE=1000000 \
    CHAT_SEND_BURST=1000000 CHAT_MAX_CONNECTIONS_PER_IP=1000000 CHAT_LOG=warn \
    "$PALAVER" >"$log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + START_TIMEOUT_SECS))
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
    [ $SECONDS -lt "$deadline" ] && kill -0 "$SERVER_PID" 2>/dev/null || die "palaver did not start (see $log)"
    sleep 0.05
  done
  say "startup: filling a database (200 clients, 5 s)"
  timeout 120 "$LOAD" --quiet --url "http://127.0.0.1:$PORT" --clients 200 --senders 20 \
    --warmup 1 --duration 5 >/dev/null 2>&1 || die "filling the startup database failed"
  stop_server
  say "startup: $RUNS cold starts on $(du -sh "$data" | cut -f1) of data"
  python3 - "$PALAVER" "$data" "$RUNS" "$START_TIMEOUT_SECS" >"$RESULTS/startup.json" <<'EOF'
import json, os, socket, subprocess, sys, time, urllib.request
binary, data, runs, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
# The default configuration (what users run), and with the cheapest bcrypt
# cost, alternating: start-up computes one bcrypt hash at the configured cost.
configs = {"default": {}, "bcrypt_cost_4": {"CHAT_BCRYPT_COST": "4"}}
times = {name: [] for name in configs}
for _ in range(runs):
    for name, extra in configs.items():
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        # No inherited CHAT_* settings: "default" means the defaults.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
        env.update(CHAT_DATA_DIR=data, CHAT_BIND=f"127.0.0.1:{port}", CHAT_LOG="warn", **extra)
        start = time.monotonic()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if time.monotonic() - start > limit or proc.poll() is not None:
                    sys.exit(f"palaver did not answer /healthz within {limit} s")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.001)
            times[name].append((time.monotonic() - start) * 1000)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
print(json.dumps({"startup_ms": times}))
EOF
  local size stripped
  size=$(stat -c %s "$PALAVER")
  cp "$PALAVER" "$WORK/palaver-stripped"
  strip "$WORK/palaver-stripped" 2>/dev/null || true
  stripped=$(stat -c %s "$WORK/palaver-stripped")
  printf '{"binary_bytes": %s, "stripped_bytes": %s}\n' "$size" "$stripped" >"$RESULTS/size.json"
}

# --- the runs ----------------------------------------------------------------
say "results in $RESULTS; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in "${SHAPE_LIST[@]+"${SHAPE_LIST[@]}"}"; do
  if [ "$shape" = startup ]; then
    startup_runs
    continue
  fi
  servers=("${SERVERS[@]}")
  args=()
  palaver_args=()
  shape_warmup=$WARMUP
  case "$shape" in
    small) args=(--clients 200 --senders 20) ;;
    fanout) args=(--clients 1000 --senders 10) ;;
    latency)
      rate=${LATENCY_RATE:-$(median_sent fanout)}
      [ -n "$rate" ] || die "the latency shape needs the fanout shape first, or --latency-rate"
      rate=$(python3 -c "print(round(float('$rate') * $( [ -n "$LATENCY_RATE" ] && echo 1 || echo 0.5 ), 1))")
      args=(--clients 1000 --senders 10 --rate "$rate")
      ;;
    rooms)
      servers=(palaver)
      args=(--clients 5000 --rooms 500 --senders 5000 --rate 5000)
      ;;
    idle)
      # Rooms of 10 for Palaver: the load is the sockets and heartbeats, not
      # presence lists of a 10,000-member room. The peers have one room.
      args=(--clients 10000 --senders 0)
      shape_warmup=$IDLE_SETTLE_SECS
      palaver_args=(--rooms 1000)
      ;;
  esac
  for run in $(seq 1 "$RUNS"); do
    for server in "${servers[@]}"; do
      if [ "$server" = palaver ]; then
        run_load "$shape" "$server" "$run" "${args[@]}" "${palaver_args[@]}"
      else
        run_load "$shape" "$server" "$run" "${args[@]}"
      fi
    done
  done
done

# --- the table ---------------------------------------------------------------
python3 - "$RESULTS" "$DURATION" "$WARMUP" "$RUNS" >"$WORK/table.md" <<'EOF'
import glob, json, os, statistics, sys
results, duration, warmup, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SHAPES = {
    "small": "200 clients, 1 room, 20 senders, as fast as acks allow",
    "fanout": "1,000 clients, 1 room, 10 senders, as fast as acks allow",
    "latency": "1,000 clients, 1 room, 10 senders at a fixed total rate",
    "rooms": "5,000 clients in 500 rooms, every client 1 msg/s",
    "idle": "10,000 idle sockets (Palaver: 1,000 rooms of 10), measured after a 15 s settle",
}
ORDER = ["palaver", "ceiling", "node", "python"]

def load(path):
    with open(path) as f:
        return json.load(f)

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"

print("Medians over the runs of each server; CPU is % of one core; errors count error frames, failed and lost connections.\n")
for shape, title in SHAPES.items():
    files = sorted(glob.glob(f"{results}/{shape}__*__*.json"))
    if not files:
        continue
    by_server = {}
    for path in files:
        _, server, run = os.path.basename(path)[:-5].split("__")
        report = load(path)
        mem_path = path[:-5] + ".mem"
        report["_mem"] = load(mem_path) if os.path.exists(mem_path) else {}
        by_server.setdefault(server, []).append(report)
    settings = next((r["settings"] for rs in by_server.values() for r in rs if "settings" in r), {})
    duration = settings.get("duration_secs", duration)
    print(f"### {shape}: {title}\n")
    print(f"{settings.get('warmup_secs', warmup)} s warm-up, {duration} s measured.\n")
    rates = {r.get("settings", {}).get("rate") for rs in by_server.values() for r in rs} - {None}
    if rates:
        print(f"Rate: {', '.join(fmt(r) for r in sorted(rates))} msg/s in total.\n")
    rows = {}
    for server in sorted(by_server, key=lambda s: ORDER.index(s) if s in ORDER else 99):
        ok = [r for r in by_server[server] if not r.get("failed")]
        failed = len(by_server[server]) - len(ok)
        lat = lambda key: med([r["latency_ms"][key] for r in ok if r["latency_ms"]["count"]])
        errors = sum(sum(r.get("errors", {}).values()) + r["connections"]["failed"] + r["connections"]["lost"] for r in ok)
        clients = ok[0]["settings"]["clients"] if ok else 0
        # Per connection: in-window RSS (else the peak) above the idle server's.
        rss = [
            (r["_mem"].get("rss_window_kib") or r["_mem"].get("rss_peak_kib", 0)) - r["_mem"].get("rss_start_kib", 0)
            for r in ok if r["_mem"].get("rss_peak_kib")
        ]
        rss = [kib / max(clients, 1) for kib in rss]
        cpu = med([r["cpu"]["server_secs"] / duration * 100 for r in ok if r["cpu"].get("server_secs") is not None])
        loads = [x for r in ok for x in (r["cpu"].get("loadavg_start"), r["cpu"].get("loadavg_end")) if x is not None]
        rows[server] = dict(
            delivered=med([r["delivered_per_sec"] for r in ok]),
            all_delivered=[r["delivered_per_sec"] for r in ok],
            p50=lat("p50"), p99=lat("p99"), max=lat("max"),
            complete=med([r["delivery"]["ratio"] for r in ok]),
            errors=errors, failed=failed, rss=med(rss),
            peak_mib=med([r["_mem"].get("rss_peak_kib", 0) / 1024 for r in ok]),
            window_mib=med([r["_mem"]["rss_window_kib"] / 1024 for r in ok if r["_mem"].get("rss_window_kib")]),
            cpu=cpu, load=(min(loads), max(loads)) if loads else None,
        )
    ceiling = rows.get("ceiling", {}).get("delivered")
    node = rows.get("node", {}).get("delivered")
    print("| server | delivered/s (median) | each run | p50 / p99 / max ms | delivered | errors | server CPU % | RSS in window / peak MiB | KiB/conn | load avg | × ceiling | × Node |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for server, row in rows.items():
        ratio = lambda ref: fmt(row["delivered"] / ref, 2) + "×" if ref and row["delivered"] is not None else "–"
        runs_text = " / ".join(fmt(v) for v in row["all_delivered"]) + (f" ({row['failed']} failed)" if row["failed"] else "")
        load_text = f"{row['load'][0]:.1f}–{row['load'][1]:.1f}" if row["load"] else "–"
        print(
            f"| {server} | {fmt(row['delivered'])} | {runs_text} | {fmt(row['p50'], 1)} / {fmt(row['p99'], 1)} / {fmt(row['max'], 1)} "
            f"| {fmt(row['complete'] * 100 if row['complete'] is not None else None, 2)} % | {row['errors']} | {fmt(row['cpu'], 1)} "
            f"| {fmt(row['window_mib'], 1)} / {fmt(row['peak_mib'], 1)} | {fmt(row['rss'], 1)} | {load_text} | {ratio(ceiling)} | {ratio(node)} |"
        )
    print()

startup = f"{results}/startup.json"
if os.path.exists(startup):
    size = load(f"{results}/size.json")
    print("### startup and size\n")
    for name, times in load(startup)["startup_ms"].items():
        print(f"- Cold start to the first `/healthz` 200 on an existing database, {name.replace('_', ' ')}: "
              f"median {fmt(med(times), 1)} ms ({', '.join(fmt(t, 1) for t in times)}).")
    print(f"- Release binary: {size['binary_bytes'] / 1e6:.1f} MB as built, {size['stripped_bytes'] / 1e6:.1f} MB stripped.\n")
EOF
if [ -n "$OUT" ]; then
  cp "$WORK/table.md" "$OUT"
  say "table written to $OUT"
else
  cat "$WORK/table.md"
fi
