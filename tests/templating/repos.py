"""Real git repositories for the template tests: a small throwaway template, and helpers to
commit to a repository and to read its state."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = ("-c", "user.name=Template Tests", "-c", "user.email=tests@localhost")

# A template in miniature: every kind of place the slug lives, the demo markers, an overlay,
# exempt and template-only files. Keys are paths; "+x" at the end of a key makes it executable.
SMALL_TEMPLATE: dict[str, str | bytes] = {
    ".gitignore": ".env\n__pycache__/\n",
    "pyproject.toml": (
        '[project]\nname = "outpost"\nversion = "0.1.0"\ndependencies = ["starlette>=1", '
        '"Py_JWT[crypto]>=2"]\n\n[project.optional-dependencies]\ndev = ["pytest>=8"]\n\n'
        '[project.scripts]\noutpost = "commands:main"\n'
    ),
    "README.md": (
        "# outpost\n\nRun `outpost dev`; settings carry the `OUTPOST_` prefix.\n\n"
        "| `origin/demo/` | the demo shop | <!-- template:demo -->\n"
        "<!-- template:only-begin -->\n## Start a new app\n\n`outpost new ../my-app`\n"
        "<!-- template:only-end -->\n## Errors\n\nJSON.\n"
    ),
    "wrangler.toml": 'name = "outpost"\nmain = "edge/worker.py"\n',
    "compose.yaml": "name: outpost\nservices:\n  origin:\n    image: outpost-origin:latest\n",
    "origin/__init__.py": "",
    "origin/settings.py": (
        'ENV_PREFIX = "OUTPOST_"\nREDIS_PREFIX = "outpost:"\n'
        'LOGGER = "outpost.origin"\nMETRIC = "outpost_cache_requests_total"\n'
    ),
    "origin/app.py": (
        "from origin.demo import routes as demo  # template:demo\n"
        "# template:no-demo: from origin import example\n\n"
        "ROUTES = [\n"
        '    "health",\n'
        "    *demo.ROUTES,  # template:demo\n"
        "    # template:no-demo: *example.ROUTES,\n"
        "]\n"
    ),
    "origin/demo/__init__.py": "",
    "origin/demo/routes.py": 'ROUTES = ["products", "orders"]\n',
    "templating/__init__.py": "",
    "templating/rules.py": 'TEMPLATE_SLUG = "outpost"\n',
    "templating/no_demo/origin/example.py.tmpl": 'ROUTES = ["hello"]\n',
    "shared/policies/routes.json": (
        '{\n  "routes": [\n    {"prefix": "/healthz", "auth": "public"},\n'
        '    {"prefix": "/api/products", "auth": "public"},\n'
        '    {"prefix": "/api/orders", "auth": "required"}\n  ]\n}\n'
    ),
    "shared/assertion.py": 'HEADER = "X-Outpost-Assertion"\n',
    "scripts/dev+x": "#!/bin/sh\nexec .venv/bin/outpost dev\n",
    "tests/data/issuer.txt": "signed by outpost\n",
    "tests/templating/test_generation.py": "def test_nothing() -> None: ...\n",
    "assets/logo.bin": b"\x89PNG\0outpost\0",
}


def git(repository: Path, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 (a list of arguments, no shell)
        ["git", *IDENTITY, *args],  # noqa: S607 (git from PATH)
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.rstrip("\n")


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for key, content in files.items():
        executable = key.endswith("+x")
        path = root / key.removesuffix("+x")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        path.chmod(0o755 if executable else 0o644)


def commit(
    repository: Path, files: Mapping[str, str | bytes], message: str, delete: tuple[str, ...] = ()
) -> str:
    """Write ``files``, remove ``delete``, commit everything; the new commit's id."""
    write_files(repository, files)
    for path in delete:
        (repository / path).unlink()
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "-m", message)
    return git(repository, "rev-parse", "HEAD")


def make_template(root: Path, files: Mapping[str, str | bytes] = SMALL_TEMPLATE) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    commit(root, files, "template")
    return root


def status(repository: Path) -> list[str]:
    return git(repository, "status", "--porcelain").splitlines()
