"""Where the template's slug is an identity, and what it becomes in a new app.

The slug ``outpost`` names the distribution, the console script, the worker, the image, the
compose project, the ``OUTPOST_`` environment prefix, logger and metric names, the Redis key
prefix, the README title... Every occurrence is renamed, in file contents and in paths, except in
:data:`EXEMPT_PATHS` (files that speak about the template, or frozen test data whose signatures
cover the slug) and in :data:`PROTECTED_PHRASES` (where the text names the template itself).

Which spelling replaces an occurrence depends on its neighbours, so each rule is a pattern plus
the :class:`~templating.names.AppName` spelling it takes. Rules apply in order, first match
wins at each position.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from templating.names import AppName

TEMPLATE_SLUG = "outpost"

# Paths (prefixes; a trailing "/" means a directory) whose contents are not renamed (their
# template marks are still resolved, as everywhere).
EXEMPT_PATHS: tuple[str, ...] = (
    "templating/",  # the machinery names the template it re-renders on `update`
    "docs/new-app.md",  # how apps relate to the template: it is about the template
    "tests/data/",  # signed test vectors: renaming their issuer or secret breaks them
    # Its realm "outpost" is what a sanitiser makes of 'out"po\\st', not the app's name.
    "tests/shared/test_jwt_challenge.py",
)

# Text that names the template itself, kept as is wherever it appears.
PROTECTED_PHRASES: tuple[str, ...] = (
    r"\.outpost-template\.json",  # the record file of a generated app
    r"\boutpost template\b",
    r"\bgenerated from outpost\b",
    # The issuer and audience signed into the frozen token vectors (tests/data): the tests that
    # configure an edge or an origin to accept those tokens must keep naming them as signed.
    r"https://outpost\.test\b",
    r"\boutpost-api\b",
)


@dataclass(frozen=True)
class RenameRule:
    """Occurrences matching ``pattern`` become ``spelling(name)``; ``why`` is for the reader."""

    pattern: str
    spelling: Callable[[AppName], str]
    why: str


RENAME_RULES: tuple[RenameRule, ...] = (
    RenameRule(r"OUTPOST", lambda name: name.upper, "environment variables: OUTPOST_ENV"),
    RenameRule(
        r"(?<=-)Outpost|Outpost(?=-)", lambda name: name.title, "header words: X-Outpost-Assertion"
    ),
    RenameRule(r"Outpost", lambda name: name.pascal, "class names and capitalised prose"),
    RenameRule(
        r"(?<=[A-Za-z0-9_])outpost|outpost(?=[A-Za-z0-9_])",
        lambda name: name.snake,
        "inside identifiers: outpost_cache_requests_total, outpost_test_<hex>",
    ),
    RenameRule(
        r"outpost",
        lambda name: name.slug,
        "names standing alone: the distribution, command, worker, image, loggers, prose",
    ),
)

_PROTECTED = "|".join(
    f"(?P<keep{index}>{phrase})" for index, phrase in enumerate(PROTECTED_PHRASES)
)
_RULES = "|".join(f"(?P<rule{index}>{rule.pattern})" for index, rule in enumerate(RENAME_RULES))
# Protected phrases come first so that they win where they overlap a rule.
_OCCURRENCE = re.compile(f"{_PROTECTED}|{_RULES}")
_ANY_SPELLING = re.compile(TEMPLATE_SLUG, re.IGNORECASE)


def is_exempt(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix) for prefix in EXEMPT_PATHS)


def rename_text(text: str, name: AppName) -> str:
    """``text`` with every identity occurrence of the template slug spelled for ``name``."""

    def replace(match: re.Match[str]) -> str:
        group = match.lastgroup or ""
        if group.startswith("keep"):
            return match.group()
        return RENAME_RULES[int(group.removeprefix("rule"))].spelling(name)

    return _OCCURRENCE.sub(replace, text)


def rename_path(path: str, name: AppName) -> str:
    """A file's path with the slug renamed in each component (``outpost.db`` -> ``my-shop.db``)."""
    if is_exempt(path):
        return path
    return "/".join(rename_text(part, name) for part in path.split("/"))


def leftover_slugs(text: str) -> list[str]:
    """Occurrences of the slug, in any letter case, that no protected phrase accounts for."""
    kept = re.compile("|".join(PROTECTED_PHRASES), re.IGNORECASE)
    return _ANY_SPELLING.findall(kept.sub("", text))
