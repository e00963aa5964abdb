"""The rules of settings that the edge and the origin share, so that both sides agree.

The edge runs under Pyodide and reads its variables by hand (``edge/config.py``); the origin reads
its own with pydantic-settings (``origin/settings.py``). What a valid duration or size is, the
development secret both sides start with, and where the policy files live are decided here once,
with the standard library only. Each parser takes the variable's text and returns the value, or
raises :class:`ValueError` with a message that completes "``NAME='value'``: ...".
"""

from __future__ import annotations

import math
from pathlib import Path

# The assertion secret the edge (local mode) and the origin (outside production) start with, so
# that the app runs out of the box. It is public: a production edge or origin refuses it.
# Generate a real one: python -c "import secrets; print(secrets.token_urlsafe(32))".
DEVELOPMENT_EDGE_SECRET = "outpost-development-only-edge-secret-never-deploy"  # noqa: S105
DEVELOPMENT_EDGE_KEY_ID = "dev"

# Data files shipped with the code: read relative to the package, which works on CPython and in
# a Python Worker (wrangler uploads them as Data modules, laid out like the source tree).
POLICIES_DIR = Path(__file__).resolve().parent / "policies"
GEOFENCE_POLICY_FILE = POLICIES_DIR / "geofence.json"
ROUTES_FILE = POLICIES_DIR / "routes.json"

_SWITCH_ON = ("on", "true", "1")
_SWITCH_OFF = ("off", "false", "0")


def finite_number(text: str) -> float:
    """A finite number: ``inf`` and ``nan`` parse as floats but mean no setting."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def duration(text: str) -> float:
    """Seconds, more than zero and finite (a timeout of ``inf`` never fires: say what you mean)."""
    value = finite_number(text)
    if value <= 0:
        raise ValueError("must be a positive, finite number of seconds")
    return value


def positive_number(text: str) -> float:
    """A rate or a ratio: more than zero and finite."""
    value = finite_number(text)
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def whole_number(text: str, low: int, high: int | None = None) -> int:
    """A whole number from ``low`` up (to ``high``, when given)."""
    value = int(text)
    if high is not None and not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    if value < low:
        raise ValueError(
            "must be a positive whole number" if low == 1 else f"must be at least {low}"
        )
    return value


def size(text: str, minimum: int = 1) -> int:
    """A size in bytes: a whole number of at least ``minimum``."""
    return whole_number(text, minimum)


def port(text: str) -> int:
    """A TCP port; 0 lets the system choose one."""
    return whole_number(text, 0, 65535)


def switch(text: str) -> bool:
    """``on``/``off`` (or ``true``/``false``, ``1``/``0``), in any letter case."""
    value = text.strip().lower()
    if value not in _SWITCH_ON + _SWITCH_OFF:
        raise ValueError("expected on or off")
    return value in _SWITCH_ON


def comma_separated(text: str) -> tuple[str, ...]:
    """The non-empty items of a comma-separated list, stripped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
