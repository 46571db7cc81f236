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
image="${GIFTDESK_TEST_NODE_IMAGE:-giftdesk-test-node-tracker:latest}"
label=org.giftdesk.test-image.hash
force=0
[ "${1:-}" = --force ] && force=1
if [ -z "${DOCKER_HOST:-}" ] && [ -S /tmp/gd-docker/docker.sock ]; then
    export DOCKER_HOST=unix:///tmp/gd-docker/docker.sock
fi
docker_cli=docker
[ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker
say() { echo "build-node.sh: $*" >&2; }

node="$(command -v node || true)"
[ -n "$node" ] || { say "no node on PATH"; exit 1; }
node="$(readlink -f "$node")"
busybox=
for candidate in /bin/busybox /usr/bin/busybox; do
    if [ -x "$candidate" ] && ! ldd "$candidate" >/dev/null 2>&1; then busybox="$candidate"; break; fi
done
[ -n "$busybox" ] || { say "no static busybox found: apt-get install busybox-static"; exit 1; }

hash="$(cat "$here/build-node.sh" "$here/node/index.js" "$here/node/docker-entrypoint.sh" "$busybox" |
    cat - <(sha256sum "$node") | sha256sum | cut -c1-16)"
exec 9>"${TMPDIR:-/tmp}/giftdesk-test-node-image.lock"
flock 9
current="$("$docker_cli" image inspect -f "{{index .Config.Labels \"$label\"}}" "$image" 2>/dev/null || true)"
if [ "$force" = 0 ] && [ "$current" = "$hash" ]; then
    say "$image is up to date ($hash)"
    exit 0
fi

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
