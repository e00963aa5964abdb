"""The purge client speaks Cloudflare's documented contract, against a real local server that
implements it, and sorts every documented answer into what the dispatcher does next."""

from __future__ import annotations

import email.utils
import json
from pathlib import Path
from typing import Any

import pytest

from origin.purge.cloudflare import (
    Acknowledged,
    CloudflarePurger,
    Outcome,
    RateLimited,
    Refused,
    Retryable,
    retry_after_seconds,
)
from tests.origin.purge.conftest import purge_settings
from tests.support.cloudflare_api import TOKEN, Answer, CloudflareApi

pytestmark = pytest.mark.anyio

ANSWERS = json.loads(
    (Path(__file__).parents[2] / "data" / "cloudflare_purge_answers.json").read_text()
)["answers"]


def summary(outcome: Outcome) -> str:
    if isinstance(outcome, Acknowledged):
        return "acknowledged"
    if isinstance(outcome, RateLimited):
        return f"rate_limited:{outcome.retry_after_seconds:g}"
    assert isinstance(outcome, Retryable | Refused)
    kind = "retryable" if isinstance(outcome, Retryable) else "refused"
    return f"{kind}:{outcome.reason}"


async def purge(api: CloudflareApi, tags: list[str], **overrides: Any) -> Outcome:
    purger = CloudflarePurger(purge_settings(api, **overrides))
    try:
        return await purger.purge_tags(tags)
    finally:
        await purger.aclose()


async def test_a_purge_is_one_documented_request_by_tag(cloudflare: CloudflareApi) -> None:
    outcome = await purge(cloudflare, ["products", "product:1"])

    assert isinstance(outcome, Acknowledged)
    (request,) = cloudflare.received()
    assert request.body == {"tags": ["products", "product:1"]}
    assert request.authorization == f"Bearer {TOKEN}"


@pytest.mark.parametrize("case", ANSWERS, ids=[case["name"] for case in ANSWERS])
async def test_every_answer_means_what_the_contract_says(
    cloudflare: CloudflareApi, case: dict[str, Any]
) -> None:
    raw = case.get("raw")
    cloudflare.answer_next(
        Answer(
            status=case["status"],
            body=case.get("body"),
            headers=case.get("headers", {}),
            raw=raw.encode() if raw is not None else None,
        )
    )

    assert summary(await purge(cloudflare, ["products"])) == case["expect"]


async def test_a_token_cloudflare_does_not_know_is_refused_as_authentication(
    cloudflare: CloudflareApi,
) -> None:
    outcome = await purge(cloudflare, ["products"], api_token="revoked-token")

    assert summary(outcome) == "refused:authentication"
    assert "10000" in outcome.detail  # type: ignore[union-attr]


async def test_an_answer_slower_than_the_timeout_is_retryable(cloudflare: CloudflareApi) -> None:
    cloudflare.answer_next(Answer(delay_seconds=1.0))

    outcome = await purge(cloudflare, ["products"], request_timeout_seconds=0.2)

    assert summary(outcome) == "retryable:timeout"


async def test_a_server_that_is_not_there_is_retryable() -> None:
    from tests.support.ports import free_port

    api = CloudflareApi()
    api.base_url = f"http://127.0.0.1:{free_port()}"

    assert summary(await purge(api, ["products"])) == "retryable:network"


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = 1_800_000_000.0
    in_30_seconds = email.utils.formatdate(now + 30, usegmt=True)

    assert retry_after_seconds("5", now=now) == 5
    assert retry_after_seconds(in_30_seconds, now=now) == pytest.approx(30)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
