#!/usr/bin/env bash
# Run a command on a private virtual X screen (Xvfb), with a real xcb window:
#
#     scripts/screenshot.sh                       # python -m giftdesk.gui.screenshots <repo>/resources/screenshots
#     scripts/screenshot.sh python -m giftdesk    # any command
#
# Env: SCREEN_GEOMETRY  WIDTHxHEIGHTxDEPTH of the screen (default 1600x1000x24)
#      XVFB_TIMEOUT     seconds to wait for Xvfb to come up (default 20)
# Xvfb picks a free display itself (-displayfd), so parallel runs do not collide; it is
# stopped when the command ends, whatever the outcome. Exits with the command's status.
# The command runs in the current directory. Needs Debian's xvfb and Qt's xcb libraries
# (installed by .ci/run).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "$#" -eq 0 ]; then
    python="$(command -v python || command -v python3)"
    set -- "$python" -m giftdesk.gui.screenshots "$repo/resources/screenshots" --scheme both
fi
geometry="${SCREEN_GEOMETRY:-1600x1000x24}"
timeout_s="${XVFB_TIMEOUT:-20}"

command -v Xvfb >/dev/null || { echo "screenshot.sh: Xvfb not found (apt-get install xvfb)" >&2; exit 1; }

state="$(mktemp -d)"
xvfb_pid=
cleanup() {
    if [ -n "$xvfb_pid" ] && kill -0 "$xvfb_pid" 2>/dev/null; then
        kill "$xvfb_pid" 2>/dev/null || true
        wait "$xvfb_pid" 2>/dev/null || true
    fi
    rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -displayfd: Xvfb chooses an unused display number and writes it to fd 3 once it accepts
# connections, which is both the "free display" and the "wait until ready".
Xvfb -displayfd 3 -screen 0 "$geometry" -nolisten tcp -noreset \
    3>"$state/display" >"$state/xvfb.log" 2>&1 </dev/null &
xvfb_pid=$!

deadline=$((SECONDS + timeout_s))
until [ -s "$state/display" ]; do
    if ! kill -0 "$xvfb_pid" 2>/dev/null; then
        echo "screenshot.sh: Xvfb exited:" >&2
        cat "$state/xvfb.log" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "screenshot.sh: Xvfb did not start within ${timeout_s}s" >&2
        cat "$state/xvfb.log" >&2
        exit 1
    fi
    sleep 0.1
done
DISPLAY=":$(tr -d '[:space:]' <"$state/display")"
export DISPLAY
export QT_QPA_PLATFORM=xcb
echo "screenshot.sh: Xvfb on $DISPLAY ($geometry)" >&2

status=0
"$@" || status=$?
exit "$status"
