"""Reach a real Docker Engine from the tests, and make sure the test tracker image exists.

``ensure_engine()`` gives a ``docker.DockerClient`` or ``None`` when no engine can be reached;
the caller decides what ``None`` means (skip locally, fail under CI). ``ensure_test_image()``
builds ``giftdesk-test-tracker:latest`` offline with ``resources/tracker-test-image/build.sh``
(which does nothing when the image is up to date).

Where the engine is looked for:

* ``DOCKER_HOST`` when set (``.ci/run`` exports the one ``tests/support/dockerd.sh`` prints);
* otherwise the private engine of ``dockerd.sh`` (``unix:///tmp/gd-docker/docker.sock``),
  then the system one (``unix:///var/run/docker.sock``).

With no ``DOCKER_HOST`` and nothing answering, ``ensure_engine()`` starts the private engine
with ``dockerd.sh`` when it can (root, ``dockerd`` on ``PATH``), once per process; set
``GIFTDESK_TEST_START_DOCKERD=0`` to forbid that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import weakref
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERD_SCRIPT = REPO_ROOT / "tests" / "support" / "dockerd.sh"
IMAGE_DIR = REPO_ROOT / "resources" / "tracker-test-image"
BUILD_SCRIPT = IMAGE_DIR / "build.sh"

TEST_IMAGE = os.environ.get("GIFTDESK_TEST_IMAGE", "giftdesk-test-tracker:latest")
PRIVATE_DOCKER_HOST = "unix:///tmp/gd-docker/docker.sock"
SYSTEM_DOCKER_HOST = "unix:///var/run/docker.sock"
# Label put on everything the tests create, so a fixture can clean up by label.
TEST_LABEL = "org.giftdesk.test"

_hosts: "weakref.WeakKeyDictionary[docker.DockerClient, str]" = weakref.WeakKeyDictionary()
_start_tried = False


def _connect(base_url: str, timeout: float) -> docker.DockerClient | None:
    if base_url.startswith("unix://") and not Path(base_url[len("unix://") :]).exists():
        return None
    client = None
    try:
        # version="auto" asks /version once; the engine here speaks API 1.41.
        client = docker.DockerClient(base_url=base_url, version="auto", timeout=timeout)
        client.ping()
    except Exception:  # requests' connection errors are no DockerException
        if client is not None:
            client.close()
        return None
    _hosts[client] = base_url
    return client


def _may_start_private_engine() -> bool:
    return (
        os.environ.get("GIFTDESK_TEST_START_DOCKERD", "1") != "0"
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("dockerd") is not None
    )


def _run_script(script, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script)], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)


def start_private_engine(timeout: float = 90.0) -> str:
    """Run ``dockerd.sh`` (engine only, no image) and return the DOCKER_HOST it prints."""
    done = _run_script(DOCKERD_SCRIPT, dict(os.environ, GIFTDESK_SKIP_TEST_IMAGE="1"), timeout)
    if done.returncode != 0:
        raise RuntimeError(f"dockerd.sh failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def ensure_engine(timeout: float = 30.0) -> docker.DockerClient | None:
    """A client of a running engine, or None when none can be reached."""
    global _start_tried
    explicit = os.environ.get("DOCKER_HOST")
    candidates = [explicit] if explicit else [PRIVATE_DOCKER_HOST, SYSTEM_DOCKER_HOST]
    for base_url in candidates:
        client = _connect(base_url, timeout)
        if client is not None:
            return client
    if explicit or _start_tried or not _may_start_private_engine():
        return None
    _start_tried = True
    try:
        host = start_private_engine()
    except (RuntimeError, subprocess.TimeoutExpired, OSError):
        return None
    return _connect(host, timeout)


def docker_host_of(client: docker.DockerClient) -> str:
    """The DOCKER_HOST URL a client from ``ensure_engine()`` talks to."""
    return _hosts.get(client) or os.environ.get("DOCKER_HOST") or PRIVATE_DOCKER_HOST


def ensure_test_image(client: docker.DockerClient, timeout: float = 120.0):
    """Build the test tracker image when missing or out of date; return the Image."""
    env = dict(os.environ, DOCKER_HOST=docker_host_of(client), GIFTDESK_TEST_IMAGE=TEST_IMAGE)
    done = _run_script(BUILD_SCRIPT, env, timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    try:
        return client.images.get(TEST_IMAGE)
    except ImageNotFound as exc:  # build.sh said yes but the engine has no such image
        raise RuntimeError(f"{TEST_IMAGE} missing after build.sh:\n{done.stderr}") from exc


def wait_for_log(container, text: str, timeout: float = 15.0) -> str:
    """Poll a container's logs until ``text`` shows up; return the logs."""
    deadline = time.monotonic() + timeout
    while True:
        logs = container.logs().decode("utf-8", "replace")
        if text in logs:
            return logs
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{text!r} not in the logs of {container.name} after {timeout}s:\n{logs}")
        time.sleep(0.1)


def remove_test_containers(client: docker.DockerClient) -> None:
    """Force-remove every container carrying TEST_LABEL."""
    for container in client.containers.list(all=True, sparse=True, filters={"label": TEST_LABEL}):
        try:
            container.remove(force=True)
        except DockerException:
            pass
