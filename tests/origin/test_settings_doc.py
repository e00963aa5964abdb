"""docs/configuration.md lists every variable of the settings model, and the docs name no
``OUTPOST_`` variable that nothing reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from origin import settings_doc
from origin.settings import ENV_PREFIX, variables

ROOT = Path(__file__).resolve().parents[2]
# Prefixed variables that are no origin setting, and the file that reads each.
OTHER_VARIABLES = {
    f"{ENV_PREFIX}PUBLISHED_PORT": "compose.yaml",
    f"{ENV_PREFIX}IMAGE": "compose.yaml",
    f"{ENV_PREFIX}PYODIDE_BUNDLE_DIR": "edge/runtime/cpython/workerd_host.py",
    f"{ENV_PREFIX}CONTRACT_EXAMPLES": "tests/origin/contract/test_openapi_contract.py",
    f"{ENV_PREFIX}CONTRACT_SEED": "tests/origin/contract/test_openapi_contract.py",
}


def test_the_configuration_doc_is_generated_from_the_model() -> None:
    document = settings_doc.DOC_FILE.read_text(encoding="utf-8")

    assert settings_doc.rendered(document) == document, (
        f"{settings_doc.DOC_FILE} is stale: run `.venv/bin/python -m origin.settings_doc`"
    )


def test_every_variable_has_a_row_with_its_type_default_and_meaning() -> None:
    document = settings_doc.DOC_FILE.read_text(encoding="utf-8")
    rows = {
        cells[0].strip(" `"): cells[1:]
        for line in document.splitlines()
        if line.startswith("| `")
        for cells in [line.strip("|").split(" | ")]
    }

    for name in variables():
        kind, default, meaning = rows[name]
        assert kind, name
        assert default, name
        assert meaning.strip(), name
    assert rows[f"{ENV_PREFIX}PORT"][:2] == ["port (0-65535)", "`8000`"]
    assert rows[f"{ENV_PREFIX}GRACEFUL_TIMEOUT"][:2] == ["seconds", "`10`"]


def test_a_stale_table_is_regenerated_and_a_missing_region_is_refused(tmp_path: Path) -> None:
    stale = settings_doc.DOC_FILE.read_text(encoding="utf-8").replace(
        f"| `{ENV_PREFIX}PORT` | port (0-65535) | `8000` |", f"| `{ENV_PREFIX}PORT` | port | `80` |"
    )
    copy = tmp_path / "configuration.md"
    copy.write_text(stale, encoding="utf-8")

    settings_doc.main(copy)

    assert copy.read_text(encoding="utf-8") == settings_doc.DOC_FILE.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="one generated region per section"):
        settings_doc.rendered("# Configuration\n")


def test_the_docs_name_only_variables_that_exist() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        (path.name, name)
        for path in documents
        for name in re.findall(rf"\b{ENV_PREFIX}[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8"))
    }
    known = set(variables()) | set(OTHER_VARIABLES)

    assert sorted(pair for pair in named if pair[1] not in known) == []


@pytest.mark.parametrize(("name", "reader"), sorted(OTHER_VARIABLES.items()))
def test_the_other_prefixed_variables_are_read_where_they_say(name: str, reader: str) -> None:
    assert name in (ROOT / reader).read_text(encoding="utf-8")
