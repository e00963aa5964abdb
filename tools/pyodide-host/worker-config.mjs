// Reads the worker's deploy configuration (wrangler.toml) into what the harness needs, with the
// defaults wrangler applies to a Python Worker (module root = base_dir, else main's directory).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";

/**
 * @param {string} configPath path to wrangler.toml
 * @param {{main?: string}} overrides `main` replaces the configured entry (relative to the cwd)
 */
export function loadWorkerConfig(configPath, overrides = {}) {
  const absoluteConfigPath = path.resolve(configPath);
  const projectRoot = path.dirname(absoluteConfigPath);
  const raw = parseToml(readFileSync(absoluteConfigPath, "utf8"));

  const main = overrides.main ? path.resolve(overrides.main) : resolveFrom(projectRoot, raw.main);
  if (!main || !main.endsWith(".py")) {
    throw new Error(`the worker's main module must be a .py file, got ${JSON.stringify(raw.main)}`);
  }
  const compatibilityFlags = raw.compatibility_flags ?? [];
  if (!compatibilityFlags.includes("python_workers")) {
    // wrangler refuses the same configuration.
    throw new Error("compatibility_flags must include python_workers to run a Python Worker");
  }
  return {
    configPath: absoluteConfigPath,
    projectRoot,
    name: raw.name,
    main,
    moduleRoot: raw.base_dir ? resolveFrom(projectRoot, raw.base_dir) : path.dirname(main),
    compatibilityDate: raw.compatibility_date,
    compatibilityFlags,
    vars: raw.vars ?? {},
    rules: raw.rules ?? [],
    buildCommand: raw.build?.command,
  };
}

function resolveFrom(root, relative) {
  return typeof relative === "string" ? path.resolve(root, relative) : undefined;
}
