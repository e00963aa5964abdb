// Boots the Python Worker runtime inside Node: Pyodide (pyodide-loader.mjs), the worker's upload
// set copied to /session/metadata as workerd lays it out, the vendored packages (python_modules/,
// as wrangler uploads them) copied into /session/metadata/python_modules (on sys.path before site-packages, as workerd does with
// python_workers_force_new_vendor_path), the runtime-internal modules registered, and the main
// module imported. Returns a function that runs one fetch invocation.
import { readFileSync } from "node:fs";
import path from "node:path";
import { createEntrypointHelper } from "./entrypoint-helper.mjs";
import { ExecutionContext } from "./execution-context.mjs";
import { startPyodide } from "./pyodide-loader.mjs";

const SESSION_DIR = "/session/metadata";
const VENDOR_DIR = `${SESSION_DIR}/python_modules`;
const GLUE_SOURCE = readFileSync(new URL("./host_glue.py", import.meta.url), "utf8");

function elapsedSince(startMs) {
  return Math.round((performance.now() - startMs) * 10) / 10;
}

function cpuMillisecondsSince(start) {
  const { user, system } = process.cpuUsage(start);
  return Math.round((user + system) / 100) / 10;
}

// Node's fetch is the worker's fetch, so it is wrapped once, for good: while the runtime boots,
// every call is recorded, which is how the harness shows that booting used no network.
function recordFetchesDuringBoot() {
  const nodeFetch = globalThis.fetch;
  const recorded = [];
  let booting = true;
  globalThis.fetch = function fetch(input, init) {
    if (booting) recorded.push(String(input instanceof Request ? input.url : input));
    return nodeFetch(input, init);
  };
  return { recorded, finish: () => (booting = false) };
}

// workerd replaces loadPackage: a Python Worker's packages are vendored, never fetched.
function disablePackageLoading(pyodide) {
  const refuse = () => {
    throw new Error("pyodide.loadPackage is disabled: Python Workers vendor their packages");
  };
  pyodide.loadPackage = refuse;
  pyodide.loadPackagesFromImports = refuse;
}

function writeFileTree(pyodide, files) {
  for (const { name, path: hostPath } of files) {
    const target = `${SESSION_DIR}/${name}`;
    pyodide.FS.mkdirTree(path.posix.dirname(target));
    pyodide.FS.writeFile(target, readFileSync(hostPath));
  }
}

function writeVendoredModules(pyodide, vendoredModules) {
  pyodide.FS.mkdirTree(VENDOR_DIR);
  writeFileTree(pyodide, vendoredModules.map(({ name, path: hostPath }) => ({ name: `python_modules/${name}`, path: hostPath })));
}

function setSearchPath(pyodide) {
  pyodide.runPython(`
import os, sys
os.chdir(${JSON.stringify(SESSION_DIR)})
sys.path.insert(0, ${JSON.stringify(SESSION_DIR)})
sys.path.insert(next(i for i, p in enumerate(sys.path) if "site-packages" in p), ${JSON.stringify(VENDOR_DIR)})
`);
}

function vendoredModuleImporter(pyodide) {
  return async (specifier) => {
    const source = pyodide.FS.readFile(`${SESSION_DIR}/${specifier}`, { encoding: "utf8" });
    return import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
  };
}

/**
 * @param {object} options
 * @param {{main: {name: string, path: string}, modules: {name: string, path: string}[]}} options.uploadSet
 * @param {{name: string, path: string}[]} options.vendoredModules files of python_modules/
 * @param {object} options.env
 * @param {Record<string, boolean>} options.compatibilityFlags
 * @param {import("./execution-context.mjs").WaitUntilRegistry} options.registry
 * @param {string | null} options.snapshotDir where baseline snapshots live; null boots from scratch
 */
export async function bootPythonRuntime({ uploadSet, vendoredModules, env, compatibilityFlags, registry, snapshotDir }) {
  const bootStart = performance.now();
  const cpuStart = process.cpuUsage();
  const fetches = recordFetchesDuringBoot();

  const { pyodide, snapshot } = await startPyodide(snapshotDir);
  const loadPyodideMs = elapsedSince(bootStart);
  disablePackageLoading(pyodide);

  const prepareStart = performance.now();
  writeFileTree(pyodide, [uploadSet.main, ...uploadSet.modules]);
  writeVendoredModules(pyodide, vendoredModules);
  setSearchPath(pyodide);
  const helper = createEntrypointHelper({ env, registry, importVendoredModule: vendoredModuleImporter(pyodide) });
  pyodide.registerJsModule("_pyodide_entrypoint_helper", helper);
  pyodide.registerJsModule("_cloudflare_compat_flags", { ...compatibilityFlags });
  const prepareMs = elapsedSince(prepareStart);

  const importStart = performance.now();
  const glue = pyodide.globals.get("dict")();
  pyodide.runPython(GLUE_SOURCE, { globals: glue, filename: "host_glue.py" });
  const mainModule = pyodide.pyimport(uploadSet.main.name.slice(0, -".py".length));
  const entrypointClass = glue.get("find_default_entrypoint")(mainModule);
  const importWorkerMs = elapsedSince(importStart);
  fetches.finish();

  const callFetch = glue.get("call_fetch");
  const versionsProxy = glue.get("runtime_versions")();
  const versions = versionsProxy.toJs({ dict_converter: Object.fromEntries });
  versionsProxy.destroy();

  return {
    versions,
    coldStart: {
      pyodide_snapshot: snapshot,
      load_pyodide_ms: loadPyodideMs,
      prepare_ms: prepareMs,
      import_worker_ms: importWorkerMs,
      total_ms: elapsedSince(bootStart),
      cpu_ms: cpuMillisecondsSince(cpuStart),
    },
    bootNetworkRequests: fetches.recorded,
    loadedPackages: Object.keys(pyodide.loadedPackages),
    /** One invocation of the worker's fetch handler; resolves to what it returned. */
    invokeFetch: (request) => callFetch(entrypointClass, new ExecutionContext(registry), env, request),
  };
}
