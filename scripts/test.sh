#!/usr/bin/env bash
# Run the test suite the way CI does: `scripts/test.sh [pytest args...]`.
# Qt runs offscreen unless QT_QPA_PLATFORM says otherwise. Services the tests use
# (PostgreSQL, a Docker Engine, a Secret Service keyring) are set up by .ci/run; without
# them the tests that need them skip locally (and fail under CI=true).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
python="$(command -v python || command -v python3)"
exec "$python" -m pytest -q --durations=15 "$@"
