# Shared by build.sh and build-node.sh (sourced, not run): the engine to talk to, a static
# busybox for images without a libc, and "build once": one build at a time, none when the image
# already carries the hash of its inputs. Expects $script (the caller's name) to be set.

label=org.giftdesk.test-image.hash

if [ -z "${DOCKER_HOST:-}" ] && [ -S /tmp/gd-docker/docker.sock ]; then
    export DOCKER_HOST=unix:///tmp/gd-docker/docker.sock
fi
docker_cli=docker
[ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker

say() { echo "$script: $*" >&2; }

# Sets $busybox to a statically linked busybox (the images have no libc of their own) or exits.
find_static_busybox() {
    busybox=
    for candidate in /bin/busybox /usr/bin/busybox; do
        if [ -x "$candidate" ] && ! ldd "$candidate" >/dev/null 2>&1; then
            busybox="$candidate"
            return 0
        fi
    done
    say "no static busybox found: apt-get install busybox-static"
    exit 1
}

# exit_if_built IMAGE HASH LOCKNAME FORCE: takes the build lock (parallel test workers may all ask
# for the image; the lock is held until the script ends) and exits when IMAGE is up to date.
exit_if_built() {
    exec 9>"${TMPDIR:-/tmp}/$3.lock"
    flock 9
    local current
    current="$("$docker_cli" image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true)"
    if [ "$4" = 0 ] && [ "$current" = "$2" ]; then
        say "$1 is up to date ($2)"
        exit 0
    fi
}
