"""A step ramp for Locust (``LoadTestShape``): find where latency starts to climb.

Add it next to the locustfile; Locust then follows the stages instead of ``--users``::

    RAMP_STAGES="30:4,30:8,30:16" locust -f loadtest/locustfile.py,loadtest/shapes.py \\
        --headless --host http://127.0.0.1:8787 --user-rate 5 --tags catalog

``RAMP_STAGES`` is ``seconds:users`` per stage (default: 20 s at 2, 4, 8 and 16 users). Each
stage's users arrive within a second; the test stops after the last stage.
"""

from __future__ import annotations

import os

from locust import LoadTestShape

from loadtest.ramp import DEFAULT_STAGES, parse_stages, stage_at


class StepRamp(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages = parse_stages(os.environ.get("RAMP_STAGES", DEFAULT_STAGES))

    def tick(self) -> tuple[int, float] | None:
        stage = stage_at(self.stages, self.get_run_time())  # type: ignore[no-untyped-call]
        return None if stage is None else (stage.users, float(stage.users))
