"""tools/build_worker.py lays the worker out as wrangler uploads it (wrangler.toml's [build])."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_worker", PROJECT_ROOT / "tools" / "build_worker.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_worker = _load_build_script()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of edge/ and shared/ plus one wheel: builds here never touch the real build/."""
    for package in ("edge", "shared"):
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "edge" / "requirements.txt").write_text("demo-pkg==1.0 \\\n  --hash=sha256:00\n")
    wheels = tmp_path / ".cache" / "pyodide-wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "demo_pkg-1.0-py3-none-any.whl", "w") as archive:
        archive.writestr("demo_pkg/__init__.py", "VALUE = 1\n")
        archive.writestr("demo_pkg-1.0.dist-info/METADATA", "Name: demo-pkg\n")
    return tmp_path


def _files(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_the_entry_becomes_worker_py_beside_edge_and_shared(project: Path) -> None:
    build_worker.build(project)
    built = _files(project / "build" / "worker")

    assert "worker.py" in built
    assert "edge/worker.py" not in built
    policies = {"shared/policies/routes.json", "shared/policies/geofence.json"}
    assert {*policies, "edge/runtime/workers/runtime.py"} <= built
    assert {name.split("/")[0] for name in built} == {"worker.py", "edge", "shared"}
    assert (project / "build" / "worker" / "worker.py").read_bytes() == (
        project / "edge" / "worker.py"
    ).read_bytes()


def test_the_host_only_folder_and_non_module_files_are_left_out(project: Path) -> None:
    build_worker.build(project)
    built = _files(project / "build" / "worker")

    assert not [name for name in built if build_worker._is_host_only(name)]
    assert {"edge/runtime/cpython/server.py", "edge/cli.py", "shared/cli/listening.py"}.isdisjoint(
        built
    )
    assert "edge/requirements.txt" not in built
    assert not any("__pycache__" in name for name in built)


# Libraries and standard modules a Python Worker cannot use (no sockets, threads or processes
# under Pyodide; httpx, h11 and cryptography are not vendored into the worker).
HOST_ONLY_IMPORTS = frozenset(
    {"httpx", "h11", "cryptography", "socket", "ssl", "subprocess", "threading", "signal"}
)


def test_no_uploaded_module_imports_what_only_the_host_has(project: Path) -> None:
    # The folder rule is the whole rule: a host-only module placed outside
    # edge/runtime/cpython/ would be uploaded, and this names it.
    build_worker.build(project)
    offenders = {
        name: sorted(imported & HOST_ONLY_IMPORTS)
        for name, imported in _imports_of_uploaded_modules(project / "build" / "worker").items()
        if imported & HOST_ONLY_IMPORTS
    }

    assert offenders == {}


def test_every_host_only_path_exists() -> None:
    # A renamed folder would otherwise slip into the upload unnoticed.
    assert all((PROJECT_ROOT / root).exists() for root in build_worker.HOST_ONLY)


def test_the_host_only_folder_imports_host_only_libraries() -> None:
    # The other direction: the folder really holds what the worker cannot run.
    folder = PROJECT_ROOT / "edge" / "runtime" / "cpython"
    imported = set().union(*(_top_level_imports(path) for path in folder.glob("*.py")))

    assert {"httpx", "h11", "cryptography", "subprocess"} <= imported


def test_the_pinned_wheels_are_unpacked_into_python_modules(project: Path) -> None:
    build_worker.build(project)

    assert _files(project / "python_modules") == {
        "demo_pkg/__init__.py",
        "demo_pkg-1.0.dist-info/METADATA",
    }


def test_a_second_build_with_unchanged_inputs_rewrites_nothing(project: Path) -> None:
    assert build_worker.build(project) is True
    assert build_worker.build(project) is False

    (project / "edge" / "auth.py").write_text("# changed\n")

    assert build_worker.build(project) is True
    assert (project / "build" / "worker" / "edge" / "auth.py").read_text() == "# changed\n"


def test_a_missing_wheel_is_an_error_naming_the_download_step(project: Path) -> None:
    shutil.rmtree(project / ".cache")

    with pytest.raises(build_worker.BuildError, match=r"fetch-wheels\.sh"):
        build_worker.build(project)


def test_requirements_must_be_pinned() -> None:
    pins = build_worker.pinned_requirements("a-b==1.0 \\\n    --hash=sha256:00\n# comment\n")

    assert pins == [("a-b", "1.0")]
    with pytest.raises(build_worker.BuildError, match="pin every package"):
        build_worker.pinned_requirements("requests>=2\n")


def test_the_command_line_reports_success(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build_worker.main(["--root", str(project)]) == 0
    assert "built" in capsys.readouterr().out
    assert build_worker.main(["--root", str(project)]) == 0
    assert "up to date" in capsys.readouterr().out


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _imports_of_uploaded_modules(built: Path) -> dict[str, set[str]]:
    return {
        path.relative_to(built).as_posix(): _top_level_imports(path) for path in built.rglob("*.py")
    }
