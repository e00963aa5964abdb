"""Whether the origin traces requests with OpenTelemetry, decided once per process.

Tracing is on when the ``otel`` extra is installed (``pip install 'outpost[otel]'``) and an OTLP
endpoint is configured by the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), unless ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none``. Everything else (sampler, batch sizes, headers, timeouts, service
name) is the SDK's own ``OTEL_*`` configuration. Without an endpoint nothing of OpenTelemetry is
imported: tracing off costs nothing.

Tracing never breaks a request: a configuration the SDK refuses turns tracing off with one
warning, and spans a collector does not take are dropped, counted
(``outpost_trace_spans_dropped_total``) and warned about once (see
:mod:`origin.observability.otel`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from origin.observability.metrics import Registry
    from origin.observability.otel import Tracing

logger = logging.getLogger("outpost.origin.tracing")

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_started: dict[str, Tracing | None] = {}


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the standard ``OTEL_*`` variables ask for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def process_tracing(registry: Registry, environ: Mapping[str, str] | None = None) -> Tracing | None:
    """This process's tracing, started on the first call (later calls return the same one);
    ``None`` when it is off. ``registry`` receives the dropped-spans counter."""
    if "process" not in _started:
        _started["process"] = _start(registry, os.environ if environ is None else environ)
    return _started["process"]


def _start(registry: Registry, environ: Mapping[str, str]) -> Tracing | None:
    if not tracing_requested(environ):
        return None
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        logger.warning(
            "an OTLP endpoint is configured but OpenTelemetry is not installed; "
            "install the extra (pip install 'outpost[otel]') to export traces"
        )
        return None
    try:
        from origin.observability.otel import Tracing

        return Tracing.start(registry)
    except Exception as error:  # a value the SDK refuses (an unknown propagator...)
        logger.warning("tracing is off: the OTEL_* settings were refused (%s)", error)
        return None
