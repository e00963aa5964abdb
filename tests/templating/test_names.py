"""A new app's name: what is accepted, what is refused and why, and its spellings."""

from __future__ import annotations

import pytest

from templating.errors import TemplateError
from templating.names import AppName, dependency_names, parse_app_name


@pytest.mark.parametrize("raw", ["shop", "my-shop", "shop2", "a1-b2-c3", "x" * 40])
def test_lower_case_slugs_are_accepted(raw: str) -> None:
    assert parse_app_name(raw).slug == raw


@pytest.mark.parametrize(
    ("raw", "because"),
    [
        ("My-Shop", "lower-case letters"),
        ("my_shop", "lower-case letters"),
        ("2shop", "starting with a letter"),
        ("-shop", "starting with a letter"),
        ("shop-", "single hyphens"),
        ("my--shop", "single hyphens"),
        ("my shop", "lower-case letters"),
        ("", "lower-case letters"),
        ("shop/../x", "lower-case letters"),
        ("x" * 41, "longer than 40"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("json", "standard-library module"),
        ("email", "standard-library module"),
        ("test", "taken"),
        ("outpost", "taken"),
        ("origin", "taken"),
        ("requests", "taken"),
    ],
)
def test_unsuitable_names_are_refused_with_the_reason(raw: str, because: str) -> None:
    with pytest.raises(TemplateError, match=because):
        parse_app_name(raw)


def test_a_hyphenated_name_is_refused_when_its_identifier_form_is_a_stdlib_module() -> None:
    with pytest.raises(TemplateError, match="standard-library module"):
        parse_app_name("py-compile")  # py_compile


def test_names_the_template_depends_on_are_taken() -> None:
    taken = frozenset({"py-jwt"})
    with pytest.raises(TemplateError, match="taken"):
        parse_app_name("py-jwt", taken=taken)
    assert parse_app_name("my-jwt", taken=taken).slug == "my-jwt"


def test_each_context_gets_its_spelling() -> None:
    name = AppName("my-shop")
    assert (name.slug, name.snake, name.upper, name.title, name.pascal) == (
        "my-shop",
        "my_shop",
        "MY_SHOP",
        "My-Shop",
        "MyShop",
    )


def test_dependency_names_are_pep503_normalised_and_include_extras() -> None:
    pyproject = (
        '[project]\nname = "x"\ndependencies = ["Py_JWT[crypto]>=2", "starlette>=1,<2", '
        "\"SQLAlchemy.Ext ; python_version > '3'\"]\n"
        '[project.optional-dependencies]\ndev = ["pytest>=8"]\n'
    )
    assert dependency_names(pyproject) == {"py-jwt", "starlette", "sqlalchemy-ext", "pytest"}


def test_a_pyproject_without_dependencies_takes_no_names() -> None:
    assert dependency_names("") == frozenset()
