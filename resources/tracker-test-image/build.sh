#!/usr/bin/env bash
# Build the offline test tracker image (default giftdesk-test-tracker:latest) with no
# registry and no Dockerfile: a root file system holding a static busybox and tracker.sh,
# imported with `docker import`. See README.md beside this file.
#
# Usage: build.sh [--force]
# Env:   DOCKER_HOST (default unix:///tmp/gd-docker/docker.sock when that socket exists)
#        GIFTDESK_TEST_IMAGE  image reference to build (default giftdesk-test-tracker:latest)
#
# Idempotent: the image carries a label with a hash of its inputs (this script, tracker.sh,
# the busybox binary); when the image already has the same hash nothing is built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script=build.sh
# shellcheck source=common.sh
. "$here/common.sh"
image="${GIFTDESK_TEST_IMAGE:-giftdesk-test-tracker:latest}"
force=0
[ "${1:-}" = --force ] && force=1
find_static_busybox

hash="$(cat "$here/build.sh" "$here/common.sh" "$here/tracker.sh" "$busybox" | sha256sum | cut -c1-16)"
exit_if_built "$image" "$hash" giftdesk-test-image "$force"

start=$(date +%s.%N)
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/tmp" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
install -m 0755 "$here/tracker.sh" "$rootfs/tracker.sh"
echo 'root:x:0:0:root:/:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . |
    "$docker_cli" import \
        --change 'ENV PATH=/bin' \
        --change 'ENV PORT=3000' \
        --change 'EXPOSE 3000/tcp' \
        --change 'WORKDIR /' \
        --change "LABEL $label=$hash" \
        --change 'CMD ["/bin/sh", "/tracker.sh"]' \
        - "$image" >/dev/null
# A rebuild leaves the previous image untagged: drop it.
"$docker_cli" image prune -f --filter "label=$label" >/dev/null 2>&1 || true
say "built $image ($hash) in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s"
