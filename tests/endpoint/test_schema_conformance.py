"""The endpoint against its own ``/openapi.json`` (schemathesis): what the schema allows is accepted,
what it refuses is a 4xx, every answer matches the documented status, headers and body, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import ignored_auth

from giftdesk.social.http import SocialSyncHandler
from tests.endpoint.helpers import auth_headers

# 19 operations (the social route included) x 2 modes x this many cases each (plus schemathesis's own extra requests): about
# 20 s here; the example count, not a clock, is what bounds it.
EXAMPLES_PER_OPERATION = 25


def _exercise(operation, mode: GenerationMode, base_url: str, account_id: int, headers: dict) -> None:
    # Negative cases carry the real key too (so that what is refused is their body), which
    # schemathesis would read as "invalid auth accepted": that one check is left to positive cases.
    excluded = [ignored_auth] if mode is GenerationMode.NEGATIVE else []

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode))
    def check(case) -> None:
        if case.path_parameters and "accountId" in case.path_parameters:
            case.path_parameters["accountId"] = str(account_id)  # the key's own account: real reads and saves
        ours = {name.lower() for name in headers}  # the real key and token, not generated ones (any case)
        case.headers = {**{k: v for k, v in (case.headers or {}).items() if k.lower() not in ours}, **headers}
        case.call_and_validate(base_url=base_url, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # (an operation without parameters or body has no negative cases)


@pytest.mark.timeout(240)  # hundreds of generated cases (or every screen); minutes on a loaded machine
def test_every_operation_conforms_to_the_openapi_document(start_endpoint, account, desk):
    account_id, api_key = account
    desk.social.create("Schema Creator", account_id=account_id)  # the key's account has a profile to sync
    # The limits raised (10 syncs a minute per profile; failed authentications per address, which
    # schemathesis's own ignored-auth probes would use up): every case is a real sync.
    social = SocialSyncHandler(desk.social, limit=1_000_000)
    server = start_endpoint(rate_limit_per_minute=1_000_000, auth_failures_per_minute=1_000_000, social=social)
    base_url = f"http://127.0.0.1:{server.port}"
    headers = auth_headers(account_id, api_key)
    headers["Authorization"] = f"Bearer {api_key}"  # the social route's token (the tracker routes ignore it)
    del headers["Content-Type"]  # schemathesis sends the body's own
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # Positive cases must be accepted (2xx); negative ones (what the schema refuses) must be a 4xx.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _exercise(operation, mode, base_url, account_id, headers)
    assert operations >= 17
    assert server.stats().social_syncs > 20  # the social route was exercised with real, committed syncs
    counts = server.stats().status_counts
    assert counts.get(200, 0) > 200 and counts.get(400, 0) > 0 and not any(status >= 500 for status in counts), counts
