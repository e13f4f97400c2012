#!/usr/bin/env bash
# Join a room with websocat and print its messages as they arrive.
#
#   PALAVER_PASSWORD=... scripts/ws-listen.sh http://127.0.0.1:8080 alice general [--raw]
#
# Logs in through the API (curl), then drives websocat with the bearer token
# in a header. --raw prints every frame as JSON. Ctrl-C to stop.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-auth.sh"
[ $# -ge 3 ] || { echo "usage: $0 URL USER ROOM [--raw]" >&2; exit 2; }
url=$1 user=$2 room=$3 raw=${4:-}
pass=${PALAVER_PASSWORD:?set PALAVER_PASSWORD}
command -v websocat >/dev/null || { echo "websocat not found: cargo install websocat" >&2; exit 2; }
token=$(palaver_token "$url" "$user" "$pass")
join=$(ROOM=$room python3 -c 'import json,os; print(json.dumps({"type":"join","room":os.environ["ROOM"]}))')
format='
import json, sys
for line in sys.stdin:
    f = json.loads(line)
    t = f.get("type")
    if t == "message":
        print("[%s #%s] %s: %s" % (f["room"], f["seq"], f["user"], f["body"]), flush=True)
    elif t == "history":
        for m in f["messages"]:
            print("[%s #%s] %s: %s" % (m["room"], m["seq"], m["user"], m["body"]), flush=True)
    elif t == "error":
        print("error %s: %s" % (f["code"], f["message"]), file=sys.stderr, flush=True)
'
# The join frame first, then keep the socket open until interrupted.
{ printf '%s\n' "$join"; sleep infinity; } |
  websocat -t "$(palaver_ws_url "$url")" -H "Authorization: Bearer $token" |
  if [ "$raw" = --raw ]; then cat; else python3 -u -c "$format"; fi
