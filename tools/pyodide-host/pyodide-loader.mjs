// Starts Pyodide from node_modules (indexURL is local: nothing is fetched, no CDN), either from
// scratch or from a baseline memory snapshot cached in .cache/pyodide-snapshots/.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { loadPyodide } from "pyodide";

const PYODIDE_DIR = path.dirname(createRequire(import.meta.url).resolve("pyodide/package.json"));

// Standard-library modules imported before the baseline snapshot is taken, so that restoring it
// skips their import too: workerd's baseline list (src/workerd/api/pyodide/pyodide.c++,
// snapshotImports), plus http.client (loads OpenSSL, ~1.5 s here) and pyodide.http, which the
// workers SDK imports at top level. On Cloudflare the per-worker dedicated snapshot, on by default
// since 2025-10-16, captures those imports along with the rest of the worker's.
const BASELINE_IMPORTS = [
  "asyncio", "collections.abc", "importlib", "importlib.machinery", "importlib.metadata", "inspect",
  "pathlib", "re", "shutil", "site", "sysconfig", "tarfile", "tempfile", "traceback", "typing", "zipfile",
  "http.client", "pyodide.http",
];

// A snapshot is Pyodide's WebAssembly memory: valid only for the exact build that made it.
function baselineSnapshotPath(snapshotDir) {
  const digest = createHash("sha256");
  for (const file of ["pyodide.asm.wasm", "python_stdlib.zip", "package.json"]) {
    digest.update(readFileSync(path.join(PYODIDE_DIR, file)));
  }
  return path.join(snapshotDir, `baseline-${digest.digest("hex").slice(0, 16)}.bin`);
}

async function createBaselineSnapshot(snapshotPath) {
  const pyodide = await loadPyodide({ indexURL: `${PYODIDE_DIR}/`, packages: [], _makeSnapshot: true });
  pyodide.runPython(`import ${BASELINE_IMPORTS.join(", ")}`);
  const snapshot = pyodide.makeMemorySnapshot();
  mkdirSync(path.dirname(snapshotPath), { recursive: true });
  // Write then rename, so a harness booting alongside never reads half a snapshot.
  const partial = `${snapshotPath}.${process.pid}.partial`;
  writeFileSync(partial, snapshot);
  renameSync(partial, snapshotPath);
}

/**
 * Pyodide booted from scratch (snapshotDir null), or restored from a baseline snapshot of a booted
 * interpreter, made on first use. Cloudflare also starts Python Workers from a baseline snapshot
 * (plus, by default, a per-worker "dedicated" one taken after importing the worker, not done here).
 */
export async function startPyodide(snapshotDir) {
  if (!snapshotDir) {
    return { pyodide: await loadPyodide({ indexURL: `${PYODIDE_DIR}/`, packages: [] }), snapshot: "none" };
  }
  const snapshotPath = baselineSnapshotPath(snapshotDir);
  const created = !existsSync(snapshotPath);
  if (created) await createBaselineSnapshot(snapshotPath);
  try {
    const memory = new Uint8Array(readFileSync(snapshotPath));
    const pyodide = await loadPyodide({ indexURL: `${PYODIDE_DIR}/`, packages: [], _loadSnapshot: memory });
    return { pyodide, snapshot: created ? "created" : "restored" };
  } catch (error) {
    // A snapshot that does not load is discarded; the next start makes a new one.
    rmSync(snapshotPath, { force: true });
    throw new Error(`could not restore ${snapshotPath} (removed; start again): ${error?.message ?? error}`);
  }
}
