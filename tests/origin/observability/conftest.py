"""The OTLP receiver the tracing tests export to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.otlp_receiver import OtlpReceiver, running_otlp_receiver


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    """A real OTLP/HTTP receiver on a free local port, for this test only."""
    with running_otlp_receiver() as running_receiver:
        yield running_receiver
