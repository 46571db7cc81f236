"""CORS in a real browser: a page served from another loopback origin calls the sync route with
``fetch`` (Bearer key, JSON body: a preflight first). Headless Chromium; skipped without it."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from giftdesk.social.http import SocialSyncHandler

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

PAGE = """<!doctype html><html><body>waiting<script>
fetch("%(url)s", {method: "POST", headers: {"Authorization": "Bearer %(key)s", "Content-Type": "application/json"},
                  body: JSON.stringify({followers: 7})})
  .then(answer => answer.json())
  .then(body => { document.body.textContent = "SYNCED " + body.profile.stats.totalFollowers; })
  .catch(error => { document.body.textContent = "BLOCKED " + error.name; });
</script></body></html>"""


def _serve_page(page: dict[str, str]) -> tuple[ThreadingHTTPServer, str]:
    """A loopback server answering every GET with ``page["html"]`` (set once the endpoint runs)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _page_text(url: str, profile_dir) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         f"--user-data-dir={profile_dir}", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return result.stdout


def test_a_listed_origin_may_call_the_route_and_another_is_blocked(start_endpoint, desk, make_account, tmp_path):
    account, key = make_account("browser_creator")
    desk.social.create("Browser Creator", account_id=account.id)
    page = {"html": ""}
    listed_page, listed_origin = _serve_page(page)
    other_page, other_origin = _serve_page(page)
    endpoint = start_endpoint(social=SocialSyncHandler(desk.social), cors_origins=[listed_origin])
    page["html"] = PAGE % {"url": f"http://127.0.0.1:{endpoint.port}/api/v1/profiles/social-sync/tiktok", "key": key}
    try:
        assert "SYNCED 7" in _page_text(listed_origin + "/", tmp_path / "listed")
        assert "BLOCKED" in _page_text(other_origin + "/", tmp_path / "other")
    finally:
        for server in (listed_page, other_page):
            server.shutdown()
            server.server_close()
