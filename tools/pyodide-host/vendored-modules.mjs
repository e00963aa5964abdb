// The worker's vendored packages: every file under python_modules/ next to wrangler.toml, as
// wrangler uploads them (all files, except what its python_modules.exclude drops: **/*.pyc by
// default). tools/build_worker.py unpacks the pinned wheels of edge/requirements.txt there.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const EXCLUDED = /\.pyc$/;

/** @returns {{name: string, path: string}[]} names relative to python_modules/, sorted */
export function collectVendoredModules(pythonModulesDir) {
  if (!existsSync(pythonModulesDir)) {
    throw new Error(
      `${pythonModulesDir} is missing: run \`python3 tools/build_worker.py\` (after tools/pyodide-host/fetch-wheels.sh)`,
    );
  }
  const files = [];
  const walk = (relativeDir) => {
    for (const entry of readdirSync(path.join(pythonModulesDir, relativeDir), { withFileTypes: true })) {
      const name = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) walk(name);
      else if (!EXCLUDED.test(name)) files.push({ name, path: path.join(pythonModulesDir, name) });
    }
  };
  walk("");
  return files.sort((a, b) => (a.name < b.name ? -1 : 1));
}
