#!/usr/bin/env python3
"""Lay out the Cloudflare Python Worker exactly as wrangler uploads it (wrangler.toml [build]).

    python3 tools/build_worker.py

- ``build/worker/``: ``edge/worker.py`` as ``worker.py`` (Cloudflare imports the entry as the
  top-level module ``worker``), and the packages ``edge/`` and ``shared/`` (``.py`` and ``.json``
  files) without what only the host runs (``HOST_ONLY``);
- ``python_modules/`` next to wrangler.toml: the pinned wheels of ``edge/requirements.txt``
  (downloaded by ``tools/fetch-wheels.sh``) unpacked, which is where wrangler picks
  up a Python Worker's vendored packages.

``wrangler dev`` (``outpost edge --runtime workerd``) serves the same two directories, so what is
tested is what is uploaded.
Standard library only (wrangler runs it with whatever ``python3`` the deploying machine has).
Each output is rebuilt only when its inputs changed, and replaced in one rename, so concurrent
builds (parallel test sessions) never see a half-written tree.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTRY = "edge/worker.py"
PACKAGES = ("edge", "shared")
UPLOADED_SUFFIXES = (".py", ".json")
# What only the host runs, never uploaded (the worker cannot import it: sockets, threads, httpx,
# cryptography, subprocesses): the CPython edge and the workerd launcher, and the `outpost`
# command's parts that live in the uploaded packages (the edge's verb, the command toolkit).
HOST_ONLY = ("edge/runtime/cpython", "edge/cli.py", "shared/cli")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$")


class BuildError(RuntimeError):
    """An input is missing or malformed; the message names the fix."""


def worker_sources(root: Path) -> dict[str, Path]:
    """Upload name -> source file for the worker's own code."""
    sources = {"worker.py": root / ENTRY}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            name = path.relative_to(root).as_posix()
            if (
                path.is_file()
                and path.suffix in UPLOADED_SUFFIXES
                and "__pycache__" not in path.parts
                and name != ENTRY
                and not _is_host_only(name)
            ):
                sources[name] = path
    return sources


def _is_host_only(name: str) -> bool:
    return any(name == root or name.startswith(f"{root}/") for root in HOST_ONLY)


def pinned_requirements(text: str) -> list[tuple[str, str]]:
    """(name, version) of each ``name==version`` line; hashes and comments ignored."""
    pins = []
    for line in text.replace("\\\n", " ").splitlines():
        spec = line.split("#", 1)[0].split(" --", 1)[0].strip()
        if not spec:
            continue
        match = _PIN.match(spec)
        if match is None:
            raise BuildError(f"edge/requirements.txt: pin every package as name==version: {spec}")
        pins.append((match[1], match[2]))
    return pins


def wheel_files(pins: Iterable[tuple[str, str]], wheel_dir: Path) -> list[Path]:
    """The universal wheel for each pin (names normalised as in PEP 427)."""
    available = sorted(wheel_dir.glob("*.whl")) if wheel_dir.is_dir() else []
    wheels = []
    for name, version in pins:
        prefix = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"
        found = [wheel for wheel in available if wheel.name.lower().startswith(prefix)]
        if not found:
            raise BuildError(
                f"no wheel for {name}=={version} in {wheel_dir}: "
                "run `sh tools/fetch-wheels.sh` first"
            )
        if not found[0].name.endswith("-none-any.whl"):
            raise BuildError(f"{found[0].name} is not pure Python; a Python Worker cannot load it")
        wheels.append(found[0])
    return wheels


def digest_of(files: Iterable[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(
    root: Path = PROJECT_ROOT,
    *,
    out: Path | None = None,
    vendor_dir: Path | None = None,
    wheel_dir: Path | None = None,
) -> bool:
    """Builds both outputs; returns whether anything had to be rewritten."""
    out = out or root / "build" / "worker"
    vendor_dir = vendor_dir or root / "python_modules"
    wheel_dir = wheel_dir or root / ".cache" / "pyodide-wheels"
    sources = worker_sources(root)
    requirements = (root / "edge" / "requirements.txt").read_text(encoding="utf-8")
    wheels = wheel_files(pinned_requirements(requirements), wheel_dir)

    # The stamps live in build/, outside both outputs: wrangler uploads all of python_modules/.
    stamps = root / "build"
    wrote_worker = _refresh(
        out,
        stamps / ".worker.digest",
        digest_of(sources.items()),
        lambda staged: _copy(sources, staged),
    )
    wrote_vendor = _refresh(
        vendor_dir,
        stamps / ".python_modules.digest",
        digest_of((wheel.name, wheel) for wheel in wheels),
        lambda staged: _unpack(wheels, staged),
    )
    return wrote_worker or wrote_vendor


def _copy(sources: dict[str, Path], target: Path) -> None:
    for name, source in sources.items():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def _unpack(wheels: Iterable[Path], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)


def _refresh(target: Path, stamp: Path, digest: str, fill: Callable[[Path], None]) -> bool:
    if target.is_dir() and _read(stamp) == digest:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.staged-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    fill(staged)
    _swap_in(staged, target)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest, encoding="utf-8")
    return True


def _swap_in(staged: Path, target: Path) -> None:
    retired = target.with_name(f".{target.name}.retired-{os.getpid()}")
    try:
        if target.exists():
            os.rename(target, retired)
        os.rename(staged, target)
    except OSError:
        # Another build swapped its identical tree in first; keep that one.
        shutil.rmtree(staged, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the project directory")
    args = parser.parse_args(argv)
    try:
        wrote = build(args.root)
    except BuildError as error:
        print(f"build_worker: {error}", file=sys.stderr)
        return 1
    out = args.root / "build" / "worker"
    state = "built" if wrote else "up to date"
    print(f"build_worker: {out.relative_to(args.root)}/ and python_modules/ {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
