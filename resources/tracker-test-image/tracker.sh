#!/bin/sh
# GiftDesk test tracker: the command of the offline image giftdesk-test-tracker:latest.
# It behaves like a gift tracker just enough for tests: it reads its settings from the
# environment, fetches its config and gift groups from the console's backend with its API
# key, posts gift groups and a config back, logs what happened on stdout and serves its
# www folder over HTTP until it is stopped. Busybox only: sh, wget, httpd.
#
# Environment:
#   API_KEY, ACCOUNT_ID, TIKTOK_USERNAME   as the console sets them
#   BACKEND_API_URL   base URL ending in /api/instances (no trailing slash needed)
#   PORT              port httpd listens on (default 3000)
#   TRACKER_GIFT_GROUPS_BODY, TRACKER_CONFIG_BODY   JSON bodies to POST (defaults below)
#   TRACKER_RETRIES   attempts for the first GET while the backend is not up (default 3)
#   TRACKER_SKIP_BACKEND=1   serve only, call no backend
# Behaviour tests control (the fleet tests):
#   TRACKER_REQUIRE_ENV=1     exit 1 when API_KEY, ACCOUNT_ID or TIKTOK_USERNAME is empty (as the
#                             real tracker's entrypoint: under a restart policy, a restart loop)
#   TRACKER_EXIT_CODE=N       exit with N after TRACKER_EXIT_AFTER seconds (default 0)
#   TRACKER_UNHEALTHY_AFTER=N stop answering /api/state after N seconds (the probe says unhealthy)
#   TRACKER_IGNORE_TERM=1     ignore SIGTERM (docker stop waits for its timeout, then kills)
#   TRACKER_LIVE_STATUS, TRACKER_VIEWERS, TRACKER_GIFTS, TRACKER_DIAMONDS   what /api/state says
set -u

PORT="${PORT:-3000}"
WWW=/www
BASE="${BACKEND_API_URL:-}"
BASE="${BASE%/}"
# (Not ${VAR:-default}: a "}" inside the default would end the expansion.)
GROUPS_BODY='{"groups":{"group-1":{"name":"From tracker","color":"#ff0000","giftIds":[5655]}}}'
[ -n "${TRACKER_GIFT_GROUPS_BODY:-}" ] && GROUPS_BODY="$TRACKER_GIFT_GROUPS_BODY"
CONFIG_BODY='{"theme":"dark"}'
[ -n "${TRACKER_CONFIG_BODY:-}" ] && CONFIG_BODY="$TRACKER_CONFIG_BODY"
RETRIES="${TRACKER_RETRIES:-3}"
# Busybox 1.35's `wget -T SECS` crashes (SIGSEGV, seen with Debian's busybox-static):
# bound each request with the timeout applet instead.
WGET_TIMEOUT="${TRACKER_WGET_TIMEOUT:-15}"

log() { echo "tracker: $*"; }

if [ "${TRACKER_REQUIRE_ENV:-0}" = 1 ]; then
    for var in API_KEY ACCOUNT_ID TIKTOK_USERNAME; do
        eval "value=\${$var:-}"
        if [ -z "$value" ]; then
            echo "ERROR: $var is required" >&2
            exit 1
        fi
    done
fi
if [ -n "${TRACKER_EXIT_CODE:-}" ]; then
    sleep "${TRACKER_EXIT_AFTER:-0}"
    log "exiting with ${TRACKER_EXIT_CODE} as asked"
    exit "${TRACKER_EXIT_CODE}"
fi

HTTPD_PID=
stop() {
    log "stopping"
    [ -n "$HTTPD_PID" ] && kill "$HTTPD_PID" 2>/dev/null
    exit 0
}
# As PID 1 a shell gets SIGTERM only through a handler: without this trap `docker stop`
# would wait for its whole timeout.
trap stop TERM INT HUP
if [ "${TRACKER_IGNORE_TERM:-0}" = 1 ]; then
    trap '' TERM
fi

# call METHOD PATH OUTFILE [BODY]: one request to the backend with the tracker's headers.
# Prints the response body to the log; returns wget's status (non-zero on HTTP >= 400).
call() {
    method="$1" path="$2" out="$3" body="${4:-}"
    url="$BASE/$ACCOUNT_ID/$path"
    if [ "$method" = POST ]; then
        timeout "$WGET_TIMEOUT" wget -q -O "$out" \
            --header "X-API-Key: $API_KEY" \
            --header "X-Account-ID: $ACCOUNT_ID" \
            --header "Content-Type: application/json" \
            --post-data "$body" "$url" 2>"$out.err"
    else
        timeout "$WGET_TIMEOUT" wget -q -O "$out" \
            --header "X-API-Key: $API_KEY" \
            --header "X-Account-ID: $ACCOUNT_ID" \
            --header "Content-Type: application/json" \
            "$url" 2>"$out.err"
    fi
    status=$?
    if [ "$status" -eq 0 ]; then
        log "$method $path -> ok: $(cat "$out")"
    else
        log "$method $path -> failed ($status): $(cat "$out.err")"
    fi
    return "$status"
}

mkdir -p "$WWW"
log "starting account=${ACCOUNT_ID:-} username=${TIKTOK_USERNAME:-} port=$PORT backend=${BASE:-<none>}"
cat >"$WWW/index.html" <<EOF
<!doctype html>
<html><head><title>GiftDesk test tracker</title></head>
<body><h1>GiftDesk test tracker</h1>
<p id="username">${TIKTOK_USERNAME:-}</p><p id="account">${ACCOUNT_ID:-}</p>
<p><a href="config.json">config</a> <a href="gift-groups.json">gift groups</a>
<a href="status.txt">status</a></p></body></html>
EOF
echo "starting" >"$WWW/status.txt"

if [ -n "$BASE" ] && [ "${TRACKER_SKIP_BACKEND:-0}" != 1 ]; then
    : "${API_KEY:=}" "${ACCOUNT_ID:=}"
    n=1
    until call GET config "$WWW/config.json"; do
        [ "$n" -ge "$RETRIES" ] && break
        n=$((n + 1))
        sleep 1
    done
    call GET gift-groups "$WWW/gift-groups.json"
    call POST gift-groups "$WWW/post-gift-groups.json" "$GROUPS_BODY"
    call POST config "$WWW/post-config.json" "$CONFIG_BODY"
    log "backend calls done"
else
    log "no BACKEND_API_URL: serving only"
fi
echo "ready" >"$WWW/status.txt"
# The real tracker's unauthenticated state route, as a static file httpd serves.
mkdir -p "$WWW/api"
cat >"$WWW/api/state" <<EOF
{"counters":{},"groups":{},"target":"${TIKTOK_USERNAME:-}","stats":{"liveStatus":"${TRACKER_LIVE_STATUS:-DISCONNECTED}","username":"${TIKTOK_USERNAME:-}","liveViewers":${TRACKER_VIEWERS:-0},"uniqueJoins":0,"totalGifts":${TRACKER_GIFTS:-0},"totalDiamonds":${TRACKER_DIAMONDS:-0},"errorCount":0,"lastError":null}}
EOF
if [ -n "${TRACKER_UNHEALTHY_AFTER:-}" ]; then
    (sleep "$TRACKER_UNHEALTHY_AFTER"; rm -f "$WWW/api/state"; log "no longer answering /api/state") &
fi

httpd -f -p "$PORT" -h "$WWW" &
HTTPD_PID=$!
log "serving $WWW on port $PORT"
# `wait` returns early when a trapped signal arrives, so stop() runs at once.
wait "$HTTPD_PID"
log "httpd exited ($?)"
