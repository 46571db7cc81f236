#!/usr/bin/env bash
# Build the Node test tracker image (default giftdesk-test-node-tracker:latest) offline: the
# machine's own node binary and its shared libraries in a root file system, with a static
# busybox for the entrypoint's shell, imported with `docker import`. It runs like the real
# tracker image: WORKDIR /app/server, ENTRYPOINT /docker-entrypoint.sh, CMD node index.js.
#
# Usage: build-node.sh [--force]      Env: DOCKER_HOST, GIFTDESK_TEST_NODE_IMAGE
# Idempotent: a label carries a hash of the inputs; an image with the same hash is kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script=build-node.sh
# shellcheck source=common.sh
. "$here/common.sh"
image="${GIFTDESK_TEST_NODE_IMAGE:-giftdesk-test-node-tracker:latest}"
force=0
[ "${1:-}" = --force ] && force=1

node="$(command -v node || true)"
[ -n "$node" ] || { say "no node on PATH"; exit 1; }
node="$(readlink -f "$node")"
find_static_busybox

hash="$(cat "$here/build-node.sh" "$here/common.sh" "$here/node/index.js" "$here/node/docker-entrypoint.sh" "$busybox" |
    cat - <(sha256sum "$node") | sha256sum | cut -c1-16)"
exit_if_built "$image" "$hash" giftdesk-test-node-image "$force"

start=$(date +%s.%N)
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/usr/local/bin" "$rootfs/app/server" "$rootfs/tmp" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cp "$node" "$rootfs/usr/local/bin/node"
# Every shared library node needs, and the dynamic loader, at the same paths.
for lib in $(ldd "$node" | awk '/=>/ { print $3 } $1 ~ /^\// { print $1 }'); do
    [ -f "$lib" ] || continue
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
done
cp "$busybox" "$rootfs/bin/busybox"
for applet in sh cat echo env sleep wget; do ln -s busybox "$rootfs/bin/$applet"; done
install -m 0755 "$here/node/docker-entrypoint.sh" "$rootfs/docker-entrypoint.sh"
install -m 0644 "$here/node/index.js" "$rootfs/app/server/index.js"
echo 'root:x:0:0:root:/:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . |
    "$docker_cli" import \
        --change 'ENV PATH=/usr/local/bin:/bin' \
        --change 'ENV NODE_ENV=production' \
        --change 'EXPOSE 3000/tcp' \
        --change 'WORKDIR /app/server' \
        --change "LABEL $label=$hash" \
        --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' \
        --change 'CMD ["node", "index.js"]' \
        - "$image" >/dev/null
"$docker_cli" image prune -f --filter "label=$label" >/dev/null 2>&1 || true
say "built $image ($hash) in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s"
