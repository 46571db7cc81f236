#!/bin/sh
# As the real tracker's entrypoint: refuse to start without its three settings, write .env,
# then hand PID 1 (or the init's child) to node.
set -e
for var in API_KEY ACCOUNT_ID TIKTOK_USERNAME; do
    eval "value=\${$var:-}"
    if [ -z "$value" ]; then
        echo "ERROR: $var environment variable is required" >&2
        exit 1
    fi
done
{
    echo "API_KEY=$API_KEY"
    echo "ACCOUNT_ID=$ACCOUNT_ID"
    echo "TIKTOK_USERNAME=$TIKTOK_USERNAME"
    echo "PORT=${PORT:-3000}"
    echo "BACKEND_API_URL=${BACKEND_API_URL:-}"
} >/app/server/.env
exec "$@"
