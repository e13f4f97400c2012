#!/usr/bin/env bash
# Send a file's lines as messages to a room at a steady rate, with websocat.
#
#   PALAVER_PASSWORD=... scripts/ws-send.sh http://127.0.0.1:8080 alice general lines.txt 5
#
# RATE is messages per second (default 2). Each line gets a unique
# client_id, so a resend is harmless. Prints the acks' seq numbers as they
# arrive and a summary at the end. Empty lines are skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-auth.sh"
[ $# -ge 4 ] || { echo "usage: $0 URL USER ROOM FILE [RATE]" >&2; exit 2; }
url=$1 user=$2 room=$3 file=$4 rate=${5:-2}
pass=${PALAVER_PASSWORD:?set PALAVER_PASSWORD}
command -v websocat >/dev/null || { echo "websocat not found: cargo install websocat" >&2; exit 2; }
[ -r "$file" ] || { echo "cannot read $file" >&2; exit 2; }
token=$(palaver_token "$url" "$user" "$pass")
frames='
import json, os, sys, time
room, rate, run = os.environ["ROOM"], float(os.environ["RATE"]), os.environ["RUN"]
n = 0
for line in open(os.environ["FILE"], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    n += 1
    print(json.dumps({"type": "send", "room": room, "body": line, "client_id": "%s-%d" % (run, n)}), flush=True)
    time.sleep(1.0 / rate)
time.sleep(2)  # let the last acks arrive before the socket closes
'
summary='
import json, sys
acks = errors = 0
for line in sys.stdin:
    f = json.loads(line)
    if f.get("type") == "ack":
        acks += 1
        print("ack %s -> #%s" % (f["client_id"], f["seq"]), flush=True)
    elif f.get("type") == "error":
        errors += 1
        print("error %s: %s" % (f["code"], f["message"]), file=sys.stderr, flush=True)
print("sent file lines: %d acked, %d errors" % (acks, errors))
sys.exit(1 if errors else 0)
'
ROOM=$room RATE=$rate FILE=$file RUN="send-$$-$(date +%s)" python3 -u -c "$frames" |
  websocat -t "$(palaver_ws_url "$url")" -H "Authorization: Bearer $token" |
  python3 -u -c "$summary"
