"""`from js import fetch` under Pyodide reaches a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import httpx

from tests.edge.pyodide.upstream import Upstream


def test_worker_relays_an_upstream_json_answer(probe: httpx.Client, upstream: Upstream) -> None:
    response = probe.get("/relay/hello")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "from upstream", "user_agent_seen": True}
    assert "/hello" in upstream.paths()


def test_worker_relays_the_upstream_status_code(probe: httpx.Client) -> None:
    response = probe.get("/relay/status/503")

    assert response.status_code == 503
    assert response.json() == {"status": 503}


def test_query_string_reaches_the_upstream(probe: httpx.Client, upstream: Upstream) -> None:
    probe.get("/relay/hello?probe=query-check")

    assert "/hello?probe=query-check" in upstream.paths()
