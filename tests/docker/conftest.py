"""The real Docker Engine the docker tests share (started by .ci/run / tests/support/dockerd.sh)."""

from __future__ import annotations

import pytest

from tests.conftest import require_service
from tests.support.docker_engine import ensure_engine, ensure_test_image, remove_test_containers


@pytest.fixture(scope="module")
def engine():
    client = ensure_engine()
    require_service(client is not None, "a Docker Engine (tests/support/dockerd.sh, DOCKER_HOST)")
    ensure_test_image(client)
    yield client
    remove_test_containers(client)
    client.close()
