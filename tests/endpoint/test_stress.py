"""A flood of bad keys does not keep good keys out."""

from __future__ import annotations

import http.client
import threading

from tests.endpoint.helpers import auth_headers


class _Connection:
    """http.client with reconnection when the server closes (as it does on a 429 for failed authentications)."""

    def __init__(self, port: int):
        self.port = port
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, path: str, headers: dict[str, str]) -> int:
        for _ in range(2):
            try:
                self.http.request("GET", path, headers=headers)
                response = self.http.getresponse()
                response.read()
                if response.getheader("connection") == "close":
                    self.http.close()
                return response.status
            except (ConnectionError, http.client.RemoteDisconnected):
                self.http.close()
        raise AssertionError("could not get an answer twice in a row")

    def close(self) -> None:
        self.http.close()


def test_a_thousand_bad_keys_interleaved_with_good_ones(endpoint, make_account):
    accounts = [make_account() for _ in range(4)]
    bad_statuses: list[int] = []
    good_statuses: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        row, api_key = accounts[index]
        path = f"/api/instances/{row.id}/gift-groups"
        bad_headers = {"X-API-Key": f"00000000-0000-4000-8000-{index:012d}", "X-Account-ID": str(row.id)}
        bad, good = _Connection(endpoint.port), _Connection(endpoint.port)
        try:
            for n in range(250):
                status = bad.get(path, bad_headers)
                with lock:
                    bad_statuses.append(status)
                if n % 5 == 0:
                    status = good.get(path, auth_headers(row.id, api_key))
                    with lock:
                        good_statuses.append(status)
        finally:
            bad.close()
            good.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(bad_statuses) == 1000 and set(bad_statuses) <= {401, 429}
    assert 429 in bad_statuses  # the per-address limit on failed authentications kicked in
    assert good_statuses == [200] * 200
    stats = endpoint.stats()
    assert stats.status_counts[200] == 200
    assert stats.status_counts.get(500, 0) == 0
