"""Renaming the template's slug: which spelling each occurrence takes, and what is left alone."""

from __future__ import annotations

import subprocess
import tokenize
from pathlib import Path

import pytest

from templating.names import AppName
from templating.rules import (
    EXEMPT_PATHS,
    RENAME_RULES,
    TEMPLATE_SLUG,
    is_exempt,
    leftover_slugs,
    rename_path,
    rename_text,
)

NAME = AppName("my-shop")


@pytest.mark.parametrize(
    ("template", "app"),
    [
        ('name = "outpost"', 'name = "my-shop"'),  # distribution, worker, compose project
        ('outpost = "commands:main"', 'my-shop = "commands:main"'),  # console script
        ('ENV_PREFIX = "OUTPOST_"', 'ENV_PREFIX = "MY_SHOP_"'),
        ("OUTPOST_ENV=production", "MY_SHOP_ENV=production"),
        ('getLogger("outpost.origin.kv")', 'getLogger("my-shop.origin.kv")'),
        ('redis_prefix = "outpost:"', 'redis_prefix = "my-shop:"'),
        ("outpost_cache_requests_total", "my_shop_cache_requests_total"),
        ('f"outpost_test_{hex}"', 'f"my_shop_test_{hex}"'),
        ("X-Outpost-Assertion", "X-My-Shop-Assertion"),
        ("class OutpostError:", "class MyShopError:"),
        ("# outpost\n\nAn app.", "# my-shop\n\nAn app."),
        ("image: outpost-origin:latest", "image: my-shop-origin:latest"),
        ('stamp="$VENV/.outpost-installed"', 'stamp="$VENV/.my-shop-installed"'),
        ("sqlite:///data/outpost.db", "sqlite:///data/my-shop.db"),
    ],
)
def test_each_occurrence_takes_the_spelling_its_context_needs(template: str, app: str) -> None:
    assert rename_text(template, NAME) == app


@pytest.mark.parametrize(
    "phrase",
    [
        "see .outpost-template.json",
        "made from the outpost template",
        "generated from outpost at abc123",
    ],
)
def test_phrases_naming_the_template_itself_are_kept(phrase: str) -> None:
    assert rename_text(phrase, NAME) == phrase
    assert leftover_slugs(phrase) == []


def test_the_issuer_and_audience_signed_into_the_test_tokens_are_kept() -> None:
    # The frozen token vectors (tests/data) are signed for these; the logger is the app's.
    text = 'ISSUER = "https://outpost.test"\nAUDIENCE = "outpost-api"\nLOG = "outpost.test"\n'
    assert rename_text(text, NAME) == (
        'ISSUER = "https://outpost.test"\nAUDIENCE = "outpost-api"\nLOG = "my-shop.test"\n'
    )


def test_a_protected_phrase_does_not_shield_the_rest_of_the_line() -> None:
    assert rename_text("outpost, generated from outpost", NAME) == "my-shop, generated from outpost"


def test_text_without_the_slug_is_unchanged() -> None:
    text = "An edge in front of an origin: post, out, Post-Office."
    assert rename_text(text, NAME) == text


def test_paths_are_renamed_component_by_component() -> None:
    assert rename_path("deploy/outpost/outpost.service", NAME) == "deploy/my-shop/my-shop.service"
    assert rename_path("origin/settings.py", NAME) == "origin/settings.py"


@pytest.mark.parametrize("path", EXEMPT_PATHS)
def test_exempt_paths_keep_their_names(path: str) -> None:
    assert is_exempt(path)
    assert rename_path(path + ("outpost.txt" if path.endswith("/") else ""), NAME).startswith(path)


def test_a_path_that_merely_starts_like_an_exempt_directory_is_not_exempt() -> None:
    assert not is_exempt("origin/templates.py")
    assert is_exempt("templating/rules.py")


def test_leftovers_are_found_in_any_letter_case() -> None:
    assert leftover_slugs("OutPost and OUTPOST and outposts") == ["OutPost", "OUTPOST", "outpost"]


def test_after_renaming_no_slug_is_left() -> None:
    text = "outpost OUTPOST_X X-Outpost-Y Outpost outpost_z a.outpost.b Outposts"
    assert leftover_slugs(rename_text(text, NAME)) == []


def test_every_rule_explains_itself() -> None:
    assert all(rule.why for rule in RENAME_RULES)


def test_the_template_never_uses_its_slug_as_a_bare_python_name() -> None:
    # A standing-alone `outpost` becomes the slug (`my-shop`), which is no Python name: a function
    # or variable called `outpost` would break every new app's syntax.
    project = Path(__file__).resolve().parents[2]
    listed = subprocess.run(
        ["git", "ls-files", "*.py"],  # noqa: S607 - git from PATH, as the template machinery
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    bare = []
    for path in listed:
        if is_exempt(path) or not (project / path).is_file():
            continue
        with (project / path).open("rb") as source:
            for token in tokenize.tokenize(source.readline):
                if token.type == tokenize.NAME and token.string == TEMPLATE_SLUG:
                    bare.append(f"{path}:{token.start[0]}")
    assert bare == []
