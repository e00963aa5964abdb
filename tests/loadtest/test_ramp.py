"""The step ramp: stages from RAMP_STAGES, the stage at a given time, then the end."""

from __future__ import annotations

import pytest

from loadtest.ramp import DEFAULT_STAGES, Stage, parse_stages, stage_at


def test_stages_parse_as_seconds_and_users() -> None:
    assert parse_stages("30:4, 10:8") == (Stage(30.0, 4), Stage(10.0, 8))


@pytest.mark.parametrize("text", ["30", "0:4", "10:0", "x:4"])
def test_malformed_stages_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="RAMP_STAGES"):
        parse_stages(text)


def test_each_moment_falls_in_its_stage_and_the_ramp_ends_after_the_last() -> None:
    stages = parse_stages("10:2,20:5")
    assert stage_at(stages, 0.0) == Stage(10.0, 2)
    assert stage_at(stages, 9.99) == Stage(10.0, 2)
    assert stage_at(stages, 10.0) == Stage(20.0, 5)
    assert stage_at(stages, 29.9) == Stage(20.0, 5)
    assert stage_at(stages, 30.0) is None


def test_the_default_ramp_doubles_users_each_stage() -> None:
    users = [stage.users for stage in parse_stages(DEFAULT_STAGES)]
    assert users == [2, 4, 8, 16]
