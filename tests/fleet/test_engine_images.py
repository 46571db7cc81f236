"""The engine panel's and the images dialog's domain (giftdesk/fleet/engine.py, images.py) and
``giftdesk engine|image`` on top of it, against the real engine. Images are built offline from
``giftdesk-test-tracker:latest`` under unique tags and removed again; the two shared test images
are never touched."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from giftdesk.core.errors import ServiceUnavailableError, ValidationError
from giftdesk.docker.api import BuildCancelled
from giftdesk.docker.engine import check_engine, engine_info
from giftdesk.fleet.images import ImageCatalog, build_tag
from giftdesk.fleet.spec import InstanceSettings
from tests.fleet.conftest import FLEET_TEST_LABEL, unique

pytestmark = pytest.mark.docker
BASE_IMAGE = "giftdesk-test-tracker:latest"
PROTECTED = {BASE_IMAGE, "giftdesk-fleet-tracker:latest"}


class Builds:
    """Build contexts under ``root`` with unique tags; ``remove()`` takes away every image they made."""

    def __init__(self, engine, root):
        self.engine, self.root, self.builds = engine, Path(root), []

    def __call__(self, extra: str = "", name: str = "gd-img-test") -> tuple[str, str]:
        """``(folder, tag)``: a context folder whose Dockerfile ends with ``extra``, and a unique tag."""
        build = uuid.uuid4().hex[:8]
        folder = self.root / build / "gift-tracker"  # reads like the tracker's repository checked out
        folder.mkdir(parents=True)
        (folder / "hello.txt").write_text("hello from the build context\n")
        # A label of its own: identical Dockerfiles would give one cached image with several tags.
        (folder / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nLABEL {FLEET_TEST_LABEL}=1 org.giftdesk.build={build}\n"
                                           f"COPY hello.txt /hello.txt\n{extra}")
        tag = f"{name}:{uuid.uuid4().hex[:10]}"
        assert tag not in PROTECTED
        self.builds.append(build)
        return str(folder), tag

    def remove(self) -> None:
        # Every image of these builds, intermediate layers of a failed build included (they carry the
        # build's label), newest first; never anything else.
        engine = self.engine
        for build in self.builds:
            images = engine.api.images(all=True, filters={"label": f"org.giftdesk.build={build}"})
            for image in images:  # a container made from a test image (an instance's, stopped) holds it
                for container in engine.api.containers(all=True, filters={"ancestor": image["Id"]}):
                    try:
                        engine.api.remove_container(container["Id"], force=True)
                    except Exception:
                        pass
            for image in sorted(images, key=lambda i: i.get("Created", 0), reverse=True):
                try:
                    engine.api.remove_image(image["Id"], force=True)
                except Exception:
                    pass


@pytest.fixture
def built(engine, tmp_path):
    """``built(dockerfile_extra, name) -> (folder, tag)``: a context folder and a unique tag, cleaned up."""
    builds = Builds(engine, tmp_path)
    yield builds
    builds.remove()


def test_engine_info_and_test_agree_with_the_cli(fleet_desk, account, engine, cli):
    acct = account()
    fleet_desk.fleet.create(unique("eng"), acct.id)
    info = engine_info(fleet_desk.fleet)
    version = engine.api.version()
    assert (info.version, info.api_version) == (version["Version"], version["ApiVersion"])
    assert info.host == fleet_desk.fleet.docker.clients.where and info.host_source == "DOCKER_HOST"
    assert info.trackers == 1 and info.trackers_running == 1 and info.trackers_on_engine >= 1
    assert info.containers == info.running + info.paused + info.stopped and info.running >= 1
    assert info.cpus >= 1 and info.memory_bytes > 0 and info.storage_driver and info.kernel
    assert 0 < info.ping_ms < 1000
    shown = dict(info.pairs())
    assert shown["GiftDesk trackers"].startswith("1 of this desk (1 running)")
    assert "(from DOCKER_HOST)" in shown["Host"]

    out, _ = cli("engine", "info", "--json")
    data = json.loads(out)
    assert {k: data[k] for k in ("version", "apiVersion", "host", "hostSource", "trackers", "storageDriver")} == {
        "version": info.version, "apiVersion": info.api_version, "host": info.host, "hostSource": "DOCKER_HOST",
        "trackers": 1, "storageDriver": info.storage_driver}
    out, _ = cli("engine", "info")
    assert "GiftDesk trackers" in out and "Round trip" in out

    checked = check_engine(fleet_desk.fleet)
    assert checked.reachable and checked.trackers == 1 and checked.ping_ms > 0
    assert checked.round_trip_ms >= checked.ping_ms and "answers: ping" in checked.sentence
    out, _ = cli("engine", "test", "--json")
    assert json.loads(out)["reachable"] is True and json.loads(out)["trackers"] == 1


def test_settings_host_wins_and_an_unreachable_engine_is_one_sentence(fleet_desk, cli):
    fleet_desk.settings.update({"docker.host": "unix:///tmp/no-such-engine.sock"})
    checked = check_engine(fleet_desk.fleet)
    assert not checked.reachable and checked.host_source == "Settings"
    assert checked.error.startswith("The Docker engine at unix:///tmp/no-such-engine.sock did not answer")
    assert "\n" not in checked.error and checked.sentence == checked.error
    with pytest.raises(ServiceUnavailableError, match="did not answer"):
        engine_info(fleet_desk.fleet)
    out, _ = cli("engine", "test", "--json", expect=1)
    assert json.loads(out)["reachable"] is False and "did not answer" in json.loads(out)["error"]
    _, err = cli("engine", "test", expect=1)
    assert err.startswith("giftdesk: The Docker engine at unix:///tmp/no-such-engine.sock") and err.count("\n") == 1


def test_image_usage_removal_refusals_and_unused(fleet_desk, account, engine, built, foreign):
    catalog = ImageCatalog(fleet_desk.fleet)
    used_folder, used_tag = built()
    free_folder, free_tag = built()
    other_folder, other_tag = built()
    for folder, tag in ((used_folder, used_tag), (free_folder, free_tag), (other_folder, other_tag)):
        catalog.build(folder, tag)
    name = fleet_desk.fleet.create(unique("img"), account().id, settings=InstanceSettings(image=used_tag),
                                   start=False).name
    foreign(image=other_tag, command=["true"])  # a container the console did not create

    rows = {r.reference: r for r in catalog.list()}
    used, free, other = rows[used_tag], rows[free_tag], rows[other_tag]
    assert used.instances == (name,) and used.containers == 1 and used.in_use
    assert other.instances == () and other.other_containers == 1 and other.usage == "1 other container"
    assert not free.in_use and free.unused and free.size_bytes > 0 and len(free.short_id) == 12
    default = next(r for r in catalog.list() if r.is_default)
    assert default.reference == "giftdesk-fleet-tracker:latest" and default not in catalog.unused()

    # An image an instance uses is refused, and the refusal names the instance.
    [refused] = catalog.remove([used.id])
    assert refused.outcome == "refused" and name in refused.message and "force" in refused.message
    [refused] = catalog.remove([other.id])
    assert refused.outcome == "refused" and "1 other container" in refused.message
    # "Remove unused" re-checks: of the three only the free one goes.
    results = {r.reference: r for r in catalog.remove_unused([used.id, free.id, other.id])}
    assert results[free_tag].outcome == "removed"
    assert results[used_tag].outcome == "refused" and name in results[used_tag].message
    assert results[other_tag].outcome == "refused"
    assert not engine.api.images(name=free_tag)
    # Force, as the user confirmed it: the tag goes although a stopped container still uses it.
    [forced] = catalog.remove([other.id], force=True)
    assert forced.outcome == "removed"
    assert other_tag not in {t for r in catalog.list() for t in r.tags}
    # Builds and removals are in the audit log (who, what, forced or not).
    audit = [(e.action, e.summary) for e in fleet_desk.audit.list(limit=20)]
    assert ("image.remove", f"Removed image {other_tag} (forced)") in audit
    assert ("image.remove", f"Removed image {free_tag}") in audit
    assert sum(1 for action, _ in audit if action == "image.build") >= 3
    for protected in PROTECTED:
        assert engine.api.inspect_image(protected)


def test_build_validates_streams_and_reports_the_failing_line(fleet_desk, built, tmp_path, engine):
    catalog = ImageCatalog(fleet_desk.fleet)
    with pytest.raises(ValidationError, match="has no Dockerfile"):
        catalog.build(tmp_path, "gd-img-test:x")
    with pytest.raises(ValidationError, match="not a folder"):
        catalog.build(tmp_path / "missing", "gd-img-test:x")
    for bad in ("", "Bad Tag", "UPPER:case", "name:", "a:b:c"):
        with pytest.raises(ValidationError):
            build_tag(bad)
    assert build_tag(" gift-tracker:1.4 ") == "gift-tracker:1.4"
    assert build_tag("registry.example.com:5000/team/gift-tracker:v2") == "registry.example.com:5000/team/gift-tracker:v2"

    folder, tag = built("RUN echo building-step-ok\n")
    lines: list[str] = []
    result = catalog.build(folder, tag, on_line=lines.append)
    assert result.image_id.startswith("sha256:") and result.tag == tag
    assert engine.api.inspect_image(tag)["Id"] == result.image_id
    assert any("building-step-ok" in line for line in lines) and result.lines == len(lines)
    assert engine.api.inspect_image(tag)["Config"]["Labels"][FLEET_TEST_LABEL] == "1"

    folder, tag = built("RUN echo about-to-fail && exit 3\n")
    with pytest.raises(ValidationError) as failed:
        catalog.build(folder, tag)
    assert "returned a non-zero code: 3" in str(failed.value) and str(failed.value).startswith("The build failed")
    assert not engine.api.images(filters={"reference": tag})


def test_cancel_stops_the_engines_build(fleet_desk, built, engine):
    catalog = ImageCatalog(fleet_desk.fleet)
    marker = f"gd-cancel-{uuid.uuid4().hex[:8]}"
    folder, tag = built(f"RUN echo {marker} && sleep 30\n")
    cancel = threading.Event()
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if line.strip() == marker:  # the step runs in its container now
            cancel.set()

    def step_containers() -> list[dict]:
        return [c for c in engine.api.containers(all=True) if marker in (c.get("Command") or "")]

    with pytest.raises(BuildCancelled):
        catalog.build(folder, tag, cancel=cancel, on_line=on_line)
    assert cancel.is_set() and any(marker == line.strip() for line in lines)
    deadline = time.monotonic() + 60
    while step_containers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert step_containers() == []  # the engine killed and removed the step's container
    assert not engine.api.images(filters={"reference": tag})


def test_cli_image_list_prune_and_remove(fleet_desk, built, engine, cli, account):
    catalog = ImageCatalog(fleet_desk.fleet)
    folder, tag = built("RUN printf 'step \\033[2J done\\n'\n", name="gd-img-cli")
    out, _ = cli("image", "build", folder, "--tag", tag)
    assert f"Built {tag}" in out
    assert "step \\x1b[2J done" in out and "\x1b" not in out  # a step's escape sequence is written out, not obeyed
    listed = json.loads(cli("image", "list", "--json")[0])
    mine = next(r for r in listed if tag in r["tags"])
    assert mine["containers"] == 0 and mine["instances"] == [] and mine["inUse"] is False
    match = tag.split(":")[1]
    out, _ = cli("image", "prune", "--match", match, "--dry-run", "--json")
    assert [r["tags"] for r in json.loads(out)] == [[tag]]
    _, err = cli("image", "prune", "--match", match, expect=2)  # no terminal, no --yes
    assert "--yes" in err and engine.api.images(filters={"reference": tag})
    out, _ = cli("image", "prune", "--match", match, "--yes", "--json")
    assert json.loads(out) == [{"reference": tag, "outcome": "removed", "message": ""}]

    folder, tag = built(name="gd-img-cli")
    catalog.build(folder, tag)
    name = fleet_desk.fleet.create(unique("cli"), account().id, settings=InstanceSettings(image=tag), start=False).name
    _, err = cli("image", "remove", tag, "--yes", expect=2)
    assert name in err and "--force" in err
    _, err = cli("image", "build", folder, "--tag", "Not A Tag", expect=2)
    assert "not a valid image tag" in err


def test_a_viewer_cannot_remove_or_build(fleet_desk, built):
    from giftdesk.core.errors import PermissionDeniedError
    from giftdesk.core.context import Actor

    viewer = fleet_desk.as_actor(Actor("vera", "viewer"))
    try:
        catalog = ImageCatalog(viewer.fleet)
        assert catalog.list()  # reading is fine
        folder, tag = built()
        for attempt in (lambda: catalog.build(folder, tag), lambda: catalog.remove([BASE_IMAGE]),
                        lambda: catalog.remove_unused()):
            with pytest.raises(PermissionDeniedError, match="viewer"):
                attempt()
        assert not fleet_desk.fleet.docker.image_exists(tag)
    finally:
        viewer.fleet.close()
