"""Fixtures: a throwaway template repository per test, and a directory to generate apps in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.templating.repos import make_template


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A small template repository (see :data:`tests.templating.repos.SMALL_TEMPLATE`)."""
    return make_template(tmp_path / "template")


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    """An empty directory for generated apps."""
    directory = tmp_path / "apps"
    directory.mkdir()
    return directory
