#!/bin/sh
# workerd with the offline Pyodide bundle. Miniflare (and so `wrangler dev`) runs the binary that
# MINIFLARE_WORKERD_PATH names; edge/runtime/cpython/workerd_host.py points it here when
# OUTPOST_PYODIDE_BUNDLE_DIR is set, and this adds where workerd reads the dev bundle from
# (--pyodide-bundle-disk-cache-dir; it is read only under the python_workers_development flag).
#   OUTPOST_WORKERD_BINARY      the real workerd (node_modules/.../workerd/bin/workerd)
#   OUTPOST_PYODIDE_BUNDLE_DIR  the folder holding pyodide_dev.capnp.bin
set -eu
binary=${OUTPOST_WORKERD_BINARY:?the real workerd binary}
if [ "${1:-}" = serve ]; then
  shift
  exec "$binary" serve --pyodide-bundle-disk-cache-dir="${OUTPOST_PYODIDE_BUNDLE_DIR:?the bundle folder}" "$@"
fi
exec "$binary" "$@"
