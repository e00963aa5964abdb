#!/usr/bin/env sh
# Slow check (for .ci/run, not the default suite): generate an app with and without the demo
# from the template at HEAD and run each app's own README test command, `./scripts/test`, which
# creates the app's own virtual environment and runs its ruff, mypy and whole pytest suite.
# Usage: tests/templating/generated_app_check.sh [WORK_DIR]   (default: a temporary directory)
set -eu
cd "$(dirname "$0")/../.."
template=$(pwd)
if [ $# -gt 0 ]; then
  work=$1
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

for variant in demo no-demo; do
  app="$work/check-$variant"
  flags=""
  [ "$variant" = no-demo ] && flags="--no-demo"
  echo "==> outpost new $app --name check-$variant $flags"
  # shellcheck disable=SC2086 # flags is empty or one word
  .venv/bin/outpost new "$app" --name "check-$variant" $flags --template "$template"
  # The app reads its settings under its own prefix (OUTPOST_ becomes CHECK_NO_DEMO_...): hand
  # it the offline Pyodide bundle the template's run was given, under the app's name.
  prefix=$(echo "check-$variant" | tr 'a-z-' 'A-Z_')
  if [ -n "${OUTPOST_PYODIDE_BUNDLE_DIR:-}" ]; then
    eval "export ${prefix}_PYODIDE_BUNDLE_DIR=\"\$OUTPOST_PYODIDE_BUNDLE_DIR\""
  fi
  echo "==> ./scripts/test in $app"
  (cd "$app" && ./scripts/test)
done
echo "==> generated apps pass their own tests"
