"""A new app's name, validated, and the spellings the renamed template needs.

The name becomes a PyPI distribution, a console script, a Cloudflare worker, an image and a
compose project, an environment-variable prefix and Python-visible identifiers (logger and metric
names), so it must suit all of them at once: lower-case letters, digits and single hyphens,
starting with a letter.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass

from templating.errors import TemplateError

MAX_NAME_LENGTH = 40  # Cloudflare worker names allow 63; leave room for "-staging" and the like
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

# Names a new app cannot take: the template's own packages and command, the tools its commands
# run, and PyPI names so common that installing the app would shadow or be shadowed by them.
RESERVED_NAMES = frozenset(
    {
        "outpost",
        "origin",
        "edge",
        "shared",
        "loadtest",
        "templating",
        "commands",
        "tests",
        "test",
        "app",
        "python",
        "pip",
        "setuptools",
        "wheel",
        "pytest",
        "ruff",
        "mypy",
        "locust",
        "requests",
        "django",
        "flask",
        "fastapi",
        "numpy",
        "pandas",
        "starlette",
        "sqlmodel",
        "sqlalchemy",
        "alembic",
        "aiosqlite",
        "asyncpg",
        "redis",
        "hypercorn",
        "uvicorn",
        "granian",
        "uvloop",
        "httptools",
        "httpx",
        "pyjwt",
        "jwt",
        "cryptography",
        "pyodide",
        "workers",
        "wrangler",
    }
)


@dataclass(frozen=True)
class AppName:
    """One name in the spellings its contexts need (``my-shop`` as the example)."""

    slug: str  # my-shop: distribution, command, worker, image, logger names, prose

    @property
    def snake(self) -> str:  # my_shop: metric names, database names, identifiers
        return self.slug.replace("-", "_")

    @property
    def upper(self) -> str:  # MY_SHOP: environment variables
        return self.snake.upper()

    @property
    def title(self) -> str:  # My-Shop: HTTP header words (X-My-Shop-Assertion)
        return "-".join(part.capitalize() for part in self.slug.split("-"))

    @property
    def pascal(self) -> str:  # MyShop: class names and capitalised prose
        return "".join(part.capitalize() for part in self.slug.split("-"))


def is_well_formed(raw: str) -> bool:
    return bool(_NAME.fullmatch(raw)) and len(raw) <= MAX_NAME_LENGTH


def parse_app_name(raw: str, *, taken: frozenset[str] = frozenset()) -> AppName:
    """``raw`` as an :class:`AppName`, or a :class:`TemplateError` saying what to change.

    ``taken`` adds names that are unavailable for this template (e.g. its dependencies).
    """
    if not _NAME.fullmatch(raw):
        raise TemplateError(
            f"invalid app name {raw!r}: use lower-case letters, digits and single hyphens, "
            "starting with a letter (e.g. my-shop)"
        )
    if len(raw) > MAX_NAME_LENGTH:
        raise TemplateError(f"app name {raw!r} is longer than {MAX_NAME_LENGTH} characters")
    name = AppName(raw)
    if keyword.iskeyword(name.snake) or keyword.issoftkeyword(name.snake):
        raise TemplateError(f"app name {raw!r} is a Python keyword; choose another")
    if name.snake in sys.stdlib_module_names:
        raise TemplateError(f"app name {raw!r} is a Python standard-library module; choose another")
    if raw in RESERVED_NAMES or name.snake in RESERVED_NAMES or raw in taken:
        raise TemplateError(
            f"app name {raw!r} is taken (by the template itself, a tool or a well-known "
            "package); choose another"
        )
    return name


def dependency_names(pyproject_text: str) -> frozenset[str]:
    """The PEP 503-normalised names of a pyproject's dependencies (all extras included):
    an app named like one of them could not be installed next to it."""
    import tomllib

    project = tomllib.loads(pyproject_text).get("project", {})
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    names = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return frozenset(names)
