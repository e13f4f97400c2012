# Shared by the websocat scripts: log in (registering first if asked) and
# print a bearer token. Source it; needs curl and python3.
#
#   palaver_token URL USER PASSWORD [register]
#
# The token travels only in the Authorization header, never in a URL.

palaver_register() {
  local url=$1 user=$2 pass=$3 jar csrf code
  jar=$(mktemp)
  csrf=$(curl -fsS -c "$jar" "$url/register" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
  code=$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" \
    --data-urlencode "username=$user" --data-urlencode "password=$pass" \
    --data-urlencode "csrf=$csrf" "$url/register")
  rm -f "$jar"
  # 303: created; 400: most likely the name is taken already (then log in).
  [ "$code" = 303 ] || [ "$code" = 400 ]
}

palaver_token() {
  local url=$1 user=$2 pass=$3 register=${4:-}
  if [ -n "$register" ]; then
    palaver_register "$url" "$user" "$pass" || { echo "register $user failed" >&2; return 1; }
  fi
  USER_NAME=$user PASSWORD=$pass python3 - "$url" <<'PY'
import json, os, sys, urllib.request
url = sys.argv[1].rstrip("/") + "/api/login"
body = json.dumps({"username": os.environ["USER_NAME"], "password": os.environ["PASSWORD"]}).encode()
req = urllib.request.Request(url, body, {"content-type": "application/json"})
try:
    print(json.load(urllib.request.urlopen(req))["token"])
except urllib.error.HTTPError as err:
    sys.exit("login failed: %s %s" % (err.code, err.read().decode(errors="replace")))
PY
}

# ws:// or wss:// URL of /ws for an http(s):// base URL.
palaver_ws_url() {
  printf '%s/ws' "$(printf '%s' "${1%/}" | sed 's#^http#ws#')"
}
