"""Argument types the verbs share: a bad value is a usage error (exit 2) naming the option."""

from __future__ import annotations

import argparse

MAX_PORT = 65535


def port_number(raw: str) -> int:
    """0 to 65535 (0: the system picks a free port)."""
    value = int(raw)
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{value} is not a port: give 0 to {MAX_PORT}")
    return value


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
