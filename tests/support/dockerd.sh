#!/usr/bin/env bash
# Start (or reuse) a private Docker Engine for the tests, then build the offline test
# tracker image. Prints the DOCKER_HOST to use on stdout, and nothing else there:
#
#     export DOCKER_HOST="$(tests/support/dockerd.sh)"
#
# Usage: dockerd.sh [DIR]        DIR defaults to $GIFTDESK_DOCKERD_DIR or /tmp/gd-docker
# Env:   GIFTDESK_DOCKERD_TIMEOUT  seconds to wait for the engine (default 60)
#        GIFTDESK_SKIP_TEST_IMAGE  set to 1 to start the engine without building the image
#
# Idempotent: an engine already answering on DIR/docker.sock is reused, and the image is
# only built when missing (resources/tracker-test-image/build.sh decides).
# Needs root and Debian's docker.io (dockerd) and busybox-static. Progress goes to stderr,
# the engine's own log to DIR/log.
set -euo pipefail

dir="${1:-${GIFTDESK_DOCKERD_DIR:-/tmp/gd-docker}}"
timeout_s="${GIFTDESK_DOCKERD_TIMEOUT:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sock="$dir/docker.sock"
host="unix://$sock"

say() { echo "dockerd.sh: $*" >&2; }

# Prefer Debian's client beside dockerd: it matches the engine's API version.
docker_cli=docker
[ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker

engine_answers() {
    DOCKER_HOST="$host" timeout 10 "$docker_cli" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if engine_answers; then
    say "reusing the engine on $sock"
else
    command -v dockerd >/dev/null || { say "dockerd not found: apt-get install docker.io"; exit 1; }
    mkdir -p "$dir"
    # A stale pid file or socket from a killed engine makes dockerd refuse to start.
    if [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        say "engine process $(cat "$dir/pid") exists but does not answer yet; waiting for it"
    else
        rm -f "$dir/pid" "$sock"
        say "starting dockerd (data in $dir, log in $dir/log)"
        # setsid + nohup: the engine outlives this script and the shell that ran it, and
        # owns no terminal; its output goes to the log, never to our stdout.
        setsid nohup dockerd --host="$host" --data-root="$dir/root" \
            --exec-root="$dir/exec" --pidfile="$dir/pid" >>"$dir/log" 2>&1 </dev/null &
    fi
    deadline=$((SECONDS + timeout_s))
    until engine_answers; do
        if ((SECONDS >= deadline)); then
            say "the engine did not answer within ${timeout_s}s; last lines of $dir/log:"
            tail -n 20 "$dir/log" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    say "engine up after $((SECONDS))s: $(DOCKER_HOST="$host" "$docker_cli" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
fi

if [ "${GIFTDESK_SKIP_TEST_IMAGE:-0}" != 1 ]; then
    DOCKER_HOST="$host" bash "$repo/resources/tracker-test-image/build.sh" >&2
fi

echo "$host"
