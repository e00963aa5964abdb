"""The origin's verbs of the ``outpost`` command: ``origin`` (serve), ``db``, ``keys``,
``accounts``, ``token`` and ``purger``.

Each verb lives in its own module and registers its parser here; heavy imports happen inside the
verb's handler, so ``outpost --help`` stays instant. The command itself (``commands``) assembles
these with the verbs of the other installed packages.
"""

from __future__ import annotations

from typing import Any

from origin.cli import accounts, database, keys, purger, serve, token
from origin.cli.failures import known_failure

__all__ = ["known_failure", "register"]

VERB_MODULES = (serve, database, keys, accounts, token, purger)


def register(verbs: Any) -> None:
    for module in VERB_MODULES:
        module.register(verbs)
