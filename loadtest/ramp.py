"""Ramp stages for :mod:`loadtest.shapes`: parsing and lookup, pure (no Locust import)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_STAGES = "20:2,20:4,20:8,20:16"


@dataclass(frozen=True, slots=True)
class Stage:
    seconds: float
    users: int


def parse_stages(text: str) -> tuple[Stage, ...]:
    """``seconds:users`` per stage, comma-separated."""
    stages = []
    for part in text.split(","):
        seconds, sep, users = part.strip().partition(":")
        if not sep:
            raise ValueError(f"RAMP_STAGES: expected seconds:users, got {part.strip()!r}")
        try:
            stage = Stage(float(seconds), int(users))
        except ValueError:
            raise ValueError(f"RAMP_STAGES: {part.strip()!r} is not seconds:users") from None
        if stage.seconds <= 0 or stage.users < 1:
            raise ValueError(f"RAMP_STAGES: {part.strip()!r} needs seconds > 0 and users >= 1")
        stages.append(stage)
    return tuple(stages)


def stage_at(stages: tuple[Stage, ...], run_time: float) -> Stage | None:
    """The stage running ``run_time`` seconds into the test; ``None`` once all have run."""
    elapsed = 0.0
    for stage in stages:
        elapsed += stage.seconds
        if run_time < elapsed:
            return stage
    return None
