"""`caches.default` under the harness: put/match round trip and Cloudflare's rules on put."""

from __future__ import annotations

import secrets

import httpx

from tests.edge.pyodide.harness import HarnessProcess


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}"


def test_a_put_response_is_matched_on_the_next_request(probe: httpx.Client) -> None:
    name = unique("round-trip")

    first = probe.get(f"/cache/{name}")
    second = probe.get(f"/cache/{name}")

    assert first.status_code == second.status_code == 200
    assert "cf-cache-status" not in first.headers
    assert second.headers["cf-cache-status"] == "HIT"
    assert second.json() == first.json()
    assert second.headers["cache-control"] == "public, max-age=60"


def test_a_private_response_is_never_stored(probe: httpx.Client) -> None:
    name = unique("private")

    first = probe.get(f"/cache/{name}", params={"cc": "private, max-age=60"})
    second = probe.get(f"/cache/{name}", params={"cc": "private, max-age=60"})

    assert "cf-cache-status" not in second.headers
    assert second.json()["generated"] > first.json()["generated"]


def test_a_response_setting_a_cookie_is_never_stored(probe: httpx.Client) -> None:
    name = unique("cookie")

    probe.get(f"/cache/{name}", params={"cookie": "1"})
    second = probe.get(f"/cache/{name}", params={"cookie": "1"})

    assert "cf-cache-status" not in second.headers
    assert second.headers["set-cookie"] == "session=probe"


def test_no_store_and_zero_lifetimes_are_not_cached(probe: httpx.Client) -> None:
    for cache_control in ("no-store", "max-age=0", "public, s-maxage=0, max-age=60"):
        name = unique("uncacheable")
        probe.get(f"/cache/{name}", params={"cc": cache_control})
        again = probe.get(f"/cache/{name}", params={"cc": cache_control})
        assert "cf-cache-status" not in again.headers, cache_control


def test_purging_a_tag_removes_the_tagged_responses(
    probe: httpx.Client, probe_harness: HarnessProcess
) -> None:
    tagged, untagged = unique("tagged"), unique("untagged")
    tag = unique("products")
    probe.get(f"/cache/{tagged}", params={"tag": f"{tag},catalog"})
    probe.get(f"/cache/{untagged}")

    purge = probe.post("/__harness/cache/purge", json={"tags": [tag.upper()]})

    assert purge.status_code == 200
    assert purge.json() == {"purged": 1}
    assert "cf-cache-status" not in probe.get(f"/cache/{tagged}").headers
    assert probe.get(f"/cache/{untagged}").headers["cf-cache-status"] == "HIT"


def test_a_malformed_purge_request_is_a_json_error(probe: httpx.Client) -> None:
    response = probe.post("/__harness/cache/purge", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
