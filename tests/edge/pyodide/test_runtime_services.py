"""What the Workers runtime hands a Python Worker, as the harness provides it: env bindings,
ctx.waitUntil, request.cf, request bodies, and a 500 without details when the worker throws."""

from __future__ import annotations

import secrets
import time

import httpx

from tests.edge.pyodide.conftest import DEV_VARS_SECRET, PROCESS_SECRET
from tests.edge.pyodide.harness import HarnessProcess, wrangler_vars
from tests.edge.pyodide.upstream import Upstream


def binding(probe: httpx.Client, name: str) -> object:
    response = probe.get(f"/env/{name}")
    assert response.status_code == 200
    return response.json()["value"]


def test_vars_from_wrangler_toml_are_bindings(probe: httpx.Client) -> None:
    configured = wrangler_vars()

    assert binding(probe, "JWT_AUDIENCE") == configured["JWT_AUDIENCE"]
    assert binding(probe, "JWKS_URL") == configured["JWKS_URL"]


def test_a_var_override_replaces_the_configured_value(
    probe: httpx.Client, upstream: Upstream
) -> None:
    assert binding(probe, "ORIGIN_URL") == upstream.base_url


def test_secrets_come_from_dev_vars_and_the_process_environment(probe: httpx.Client) -> None:
    assert binding(probe, "EDGE_ASSERTION_SECRET") == DEV_VARS_SECRET
    assert binding(probe, "PROBE_PROCESS_SECRET") == PROCESS_SECRET


def test_an_undeclared_environment_variable_is_not_a_binding(probe: httpx.Client) -> None:
    assert binding(probe, "PATH") is None


def test_wait_until_work_finishes_after_the_response(
    probe: httpx.Client, upstream: Upstream
) -> None:
    token = secrets.token_hex(8)
    beacon = f"/beacon?token={token}"

    response = probe.get("/background", params={"token": token})
    answered_before_beacon = beacon not in upstream.paths()
    settled = probe.post("/__harness/wait-until")

    assert response.status_code == 202
    assert answered_before_beacon
    assert settled.status_code == 200
    assert settled.json()["pending"] == 0
    assert beacon in upstream.paths()


def test_request_cf_carries_the_location_the_harness_simulates(probe: httpx.Client) -> None:
    response = probe.get(
        "/cf", headers={"X-Harness-Cf-Country": "de", "X-Harness-Cf-Continent": "EU"}
    )

    assert response.json() == {
        "country": "DE",
        "continent": "EU",
        "isEUCountry": "1",
        "region": None,
        "httpProtocol": "HTTP/1.1",
    }


def test_a_country_outside_the_eu_has_no_eu_flag(probe: httpx.Client) -> None:
    cf = probe.get("/cf", headers={"X-Harness-Cf-Country": "US"}).json()

    assert cf["country"] == "US"
    assert cf["isEUCountry"] is None


def test_a_client_sent_cf_ipcountry_never_becomes_request_cf(probe: httpx.Client) -> None:
    cf = probe.get("/cf", headers={"CF-IPCountry": "KP", "CF-IPContinent": "AS"}).json()

    assert (cf["country"], cf["continent"]) == (None, None)


def test_a_request_body_streams_into_the_worker(probe: httpx.Client) -> None:
    body = "outpost " * 50_000

    response = probe.post("/echo", content=body.encode())

    assert response.status_code == 200
    assert response.text == body


def test_an_exception_is_a_bare_500_and_the_details_stay_in_the_log(
    probe: httpx.Client, probe_harness: HarnessProcess
) -> None:
    response = probe.get("/boom")

    assert response.status_code == 500
    assert response.text == "Worker threw exception"
    assert "secret-looking" not in response.text
    deadline = time.monotonic() + 5
    while "secret-looking" not in probe_harness.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "RuntimeError: probe worker failure" in probe_harness.stderr()


def test_unknown_harness_endpoints_are_json_404s(probe: httpx.Client) -> None:
    response = probe.get("/__harness/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
