#!/usr/bin/env bash
# Open K listeners in a room, in the background, for SECONDS; then report
# how many messages each one received.
#
#   PALAVER_PASSWORD=... scripts/ws-listeners.sh http://127.0.0.1:8080 general 10 30 [PREFIX]
#
# Registers (or logs in) users PREFIX1..PREFIXK (default prefix "listener"),
# all with PALAVER_PASSWORD. Send to the room meanwhile, e.g. with
# scripts/ws-send.sh. Every listener should report the same count.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-auth.sh"
[ $# -ge 4 ] || { echo "usage: $0 URL ROOM K SECONDS [PREFIX]" >&2; exit 2; }
url=$1 room=$2 k=$3 seconds=$4 prefix=${5:-listener}
pass=${PALAVER_PASSWORD:?set PALAVER_PASSWORD}
command -v websocat >/dev/null || { echo "websocat not found: cargo install websocat" >&2; exit 2; }
out=$(mktemp -d)
join=$(ROOM=$room python3 -c 'import json,os; print(json.dumps({"type":"join","room":os.environ["ROOM"]}))')
pids=()
for i in $(seq 1 "$k"); do
  token=$(palaver_token "$url" "$prefix$i" "$pass" register)
  { printf '%s\n' "$join"; sleep "$seconds"; } |
    timeout "$((seconds + 5))" websocat -t "$(palaver_ws_url "$url")" -H "Authorization: Bearer $token" \
      > "$out/$i.jsonl" 2> "$out/$i.err" &
  pids+=($!)
done
echo "$k listeners in #$room for ${seconds}s (frames in $out)" >&2
for pid in "${pids[@]}"; do wait "$pid" || true; done
for i in $(seq 1 "$k"); do
  count=$(grep -c '"type":"message"' "$out/$i.jsonl" || true)
  printf '%s%s\t%s messages\n' "$prefix" "$i" "$count"
done
