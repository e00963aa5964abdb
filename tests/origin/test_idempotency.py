"""The generic ``Idempotency-Key`` layer (``origin.idempotency``) on a small app of its own, not
the demo: a retry gets the first successful answer back without running again, a different
request under the same key is refused, and one still running holds the key."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from origin.idempotency import REPLAYED_HEADER
from tests.origin.conftest import running
from tests.origin.layers_app import counts, layers_app

pytestmark = pytest.mark.anyio

# Nothing listens on port 1: every call to this Redis fails at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def job(layers_client: httpx.AsyncClient, key: str, body: str = '{"n": 1}') -> httpx.Response:
    return await layers_client.post("/jobs", content=body, headers={"Idempotency-Key": key})


async def test_a_retry_gets_the_first_answer_back_without_running_again(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    first = await job(layers_client, "key-1")
    retry = await job(layers_client, "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content == b'{"job":1}'
    assert retry.headers["location"] == first.headers["location"] == "/jobs/1"
    assert retry.headers["content-type"] == "application/json"
    assert REPLAYED_HEADER.lower() not in first.headers
    assert retry.headers[REPLAYED_HEADER] == "true"
    assert counts(layers).jobs_run == 1


async def test_another_key_is_another_request(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    await job(layers_client, "key-1")
    second = await job(layers_client, "key-2")

    assert second.json() == {"job": 2}
    assert REPLAYED_HEADER.lower() not in second.headers
    assert counts(layers).jobs_run == 2


async def test_a_different_request_under_a_used_key_is_refused(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    await job(layers_client, "key-1", '{"n": 1}')
    reused = await job(layers_client, "key-1", '{"n": 2}')

    assert reused.status_code == 422
    error = reused.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "'key-1'" in error["message"]
    assert counts(layers).jobs_run == 1


async def test_a_failed_answer_is_not_kept_so_a_retry_runs_again(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    first = await job(layers_client, "key-1", '{"fail": true}')
    retry = await job(layers_client, "key-1", '{"fail": true}')

    assert first.status_code == retry.status_code == 400
    assert REPLAYED_HEADER.lower() not in retry.headers
    assert counts(layers).jobs_run == 2


async def test_a_retry_while_the_first_still_runs_is_told_to_retry_later(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    state = counts(layers)
    state.hold = True
    answers: dict[str, httpx.Response] = {}

    async def first() -> None:
        answers["first"] = await job(layers_client, "key-1")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        with anyio.fail_after(5):
            await state.started.wait()
        answers["retry"] = await job(layers_client, "key-1")
        state.release.set()

    assert answers["retry"].status_code == 409
    assert answers["retry"].headers["retry-after"] == "1"
    assert answers["retry"].json()["error"]["code"] == "idempotency_key_in_use"
    assert answers["first"].status_code == 201
    # Once the first finished, the key is free again and a retry gets its answer.
    replayed = await job(layers_client, "key-1")
    assert replayed.headers[REPLAYED_HEADER] == "true"
    assert state.jobs_run == 1


async def test_without_the_store_every_request_runs_and_none_fails(
    migrated_url: str, redis_prefix: str
) -> None:
    # Nothing to replay from and no lock to take: the route's own database record (a UNIQUE
    # key) is what stops a second effect, so the layer must step aside, not answer 503.
    async with (
        layers_app(migrated_url, UNREACHABLE_REDIS, prefix=redis_prefix) as layers,
        running(layers) as layers_client,
    ):
        first = await job(layers_client, "key-1")
        retry = await job(layers_client, "key-1")

    assert first.status_code == retry.status_code == 201
    assert REPLAYED_HEADER.lower() not in retry.headers
    assert counts(layers).jobs_run == 2
