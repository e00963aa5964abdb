"""Purge settings: off without Cloudflare's token and zone, the plan's limits by name (each
overridable), and timings that cannot work refused at start with the variable named."""

from __future__ import annotations

import pytest

from origin.purge.limits import PLANS
from origin.settings import Settings, SettingsError

CLOUDFLARE = {"CLOUDFLARE_API_TOKEN": "token", "CLOUDFLARE_ZONE_ID": "zone"}


def test_purging_is_off_until_both_token_and_zone_are_set() -> None:
    assert Settings.from_mapping({}).purge.missing == ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ZONE_ID")
    only_zone = Settings.from_mapping({"CLOUDFLARE_ZONE_ID": "zone"}).purge
    assert not only_zone.enabled
    assert only_zone.missing == ("CLOUDFLARE_API_TOKEN",)
    assert Settings.from_mapping(CLOUDFLARE).purge.enabled


def test_the_default_is_the_free_plan_as_cloudflare_documents_it() -> None:
    limits = Settings.from_mapping(CLOUDFLARE).purge.limits

    assert limits.requests_per_minute == pytest.approx(5)
    assert (limits.bucket, limits.operations_per_request) == (25, 100)


def test_a_plan_is_chosen_by_name_and_each_limit_can_be_overridden() -> None:
    purge = Settings.from_mapping(
        {**CLOUDFLARE, "OUTPOST_PURGE_PLAN": "Business", "OUTPOST_PURGE_BATCH": "30"}
    ).purge

    assert purge.plan == "business"
    assert purge.limits.requests_per_second == PLANS["business"].requests_per_second
    assert purge.limits.operations_per_request == 30


def test_the_token_is_never_shown() -> None:
    assert "secret-token" not in repr(
        Settings.from_mapping({**CLOUDFLARE, "CLOUDFLARE_API_TOKEN": "secret-token"})
    )


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"OUTPOST_PURGE_PLAN": "platinum"}, "OUTPOST_PURGE_PLAN"),
        ({"OUTPOST_PURGE_REQUESTS_PER_MINUTE": "0"}, "OUTPOST_PURGE_REQUESTS_PER_MINUTE"),
        ({"OUTPOST_PURGE_BATCH": "1000"}, "OUTPOST_PURGE_BATCH"),
        ({"OUTPOST_PURGE_API_URL": "ftp://api"}, "OUTPOST_PURGE_API_URL"),
        ({"OUTPOST_PURGE_LEASE": "5", "OUTPOST_PURGE_TIMEOUT": "10"}, "OUTPOST_PURGE_LEASE"),
        ({"OUTPOST_PURGE_BACKOFF": "10", "OUTPOST_PURGE_BACKOFF_MAX": "1"}, "BACKOFF_MAX"),
        ({"OUTPOST_PURGER_METRICS_PORT": "70000"}, "OUTPOST_PURGER_METRICS_PORT"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_variable(
    values: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_mapping({**CLOUDFLARE, **values})
