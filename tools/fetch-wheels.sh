#!/usr/bin/env sh
# Download the edge worker's pure-Python wheels (edge/requirements.txt, pinned with hashes) into
# .cache/pyodide-wheels/, which tools/build_worker.py (wrangler's [build] command) unpacks into
# python_modules/, the vendored packages wrangler uploads. Only universal wheels are accepted
# (--platform any --abi none): anything that would need compiling for WebAssembly fails here, at
# setup, not when the worker imports it.
set -eu
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
REQUIREMENTS=${REQUIREMENTS:-edge/requirements.txt}
WHEEL_DIR=${WHEEL_DIR:-.cache/pyodide-wheels}
# The Python the worker runs on: wrangler.toml's compatibility_date 2026-09-08 selects Pyodide
# 314.0.6, Python 3.14 (tests/edge/workerd/test_webcrypto_verifier.py asks workerd).
PYTHON_VERSION=${PYTHON_VERSION:-3.14}

mkdir -p "$WHEEL_DIR"
"$PYTHON" -m pip download --quiet --disable-pip-version-check \
  --only-binary=:all: --no-deps --require-hashes \
  --implementation py --abi none --platform any --python-version "$PYTHON_VERSION" \
  --dest "$WHEEL_DIR" -r "$REQUIREMENTS"
echo "wheels for $REQUIREMENTS are in $WHEEL_DIR"
