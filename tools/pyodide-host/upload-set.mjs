// The files wrangler would upload for a Python Worker, computed the way wrangler does it
// (workers-sdk: deployment-bundle/find-additional-modules.ts, rules.ts, maybe-build-worker.ts):
// - the entry (`main`) is uploaded under its *basename*, so it is imported as a top-level module;
// - every other file under the module root (`base_dir`, else main's directory) is uploaded under
//   its path relative to that root when it matches a module rule, user rules first, then the
//   defaults; a rule type is "completed" by its first rule without `fallthrough = true`, and later
//   rules of that type are dropped (so a user rule shadows the default of the same type);
// - the config file and the `.wrangler` directory are never uploaded.
// Python Workers get a `**/*.py` PythonModule rule only when the user declares none.
import { readdirSync } from "node:fs";
import path from "node:path";

const DEFAULT_MODULE_RULES = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", globs: ["**/*.bin"] },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"] },
];

/** A glob as wrangler reads it (glob-to-regexp, globstar): `**` spans directories, `*` does not. */
export function globToRegExp(glob) {
  let pattern = "";
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index];
    if (char === "*") {
      let end = index;
      while (glob[end + 1] === "*") end += 1;
      const segmentStart = index === 0 || glob[index - 1] === "/";
      const segmentEnd = end + 1 === glob.length || glob[end + 1] === "/";
      if (end > index && segmentStart && segmentEnd) {
        pattern += "((?:[^/]*(?:/|$))*)";
        end += glob[end + 1] === "/" ? 1 : 0; // the globstar owns its trailing slash
      } else {
        pattern += "([^/]*)";
      }
      index = end;
    } else {
      pattern += char.replace(/[.+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${pattern}$`);
}

/** The rules in force: user rules (plus the implicit Python rule) then defaults, shadowing applied. */
export function effectiveRules(userRules) {
  const withPython = userRules.some((rule) => rule.type === "PythonModule")
    ? userRules
    : [...userRules, { type: "PythonModule", globs: ["**/*.py"] }];
  const completed = new Set();
  const rules = [];
  for (const rule of [...withPython, ...DEFAULT_MODULE_RULES]) {
    if (completed.has(rule.type)) continue;
    rules.push({ ...rule, matchers: rule.globs.map(globToRegExp) });
    if (rule.fallthrough !== true) completed.add(rule.type);
  }
  return rules;
}

/**
 * @returns {{main: {name: string, path: string}, modules: {name: string, path: string, type: string}[]}}
 */
export function collectUploadSet({ moduleRoot, configPath, entryFile, userRules }) {
  const rules = effectiveRules(userRules);
  const entryName = toModuleName(path.relative(moduleRoot, entryFile));
  const modules = [];
  for (const name of walk(moduleRoot, "", configPath, literalPrefixes(rules))) {
    if (name === entryName) continue;
    const rule = rules.find((candidate) => candidate.matchers.some((re) => re.test(name)));
    if (rule) modules.push({ name, path: path.join(moduleRoot, name), type: rule.type });
  }
  return { main: { name: path.basename(entryFile), path: entryFile }, modules };
}

function toModuleName(relativePath) {
  return relativePath.split(path.sep).join("/");
}

// The directory part before the first wildcard of every glob in force. Directories that no prefix
// can reach hold no matching file, so the walk skips them (the result is the same as a full walk
// of the tree, which for base_dir = "." would include .venv/ and node_modules/).
function literalPrefixes(rules) {
  const prefixes = [];
  for (const rule of rules) {
    for (const glob of rule.globs) {
      const wildcard = glob.search(/[*?]/);
      const literal = wildcard === -1 ? glob : glob.slice(0, wildcard);
      prefixes.push(literal.slice(0, literal.lastIndexOf("/") + 1));
    }
  }
  return prefixes;
}

function* walk(root, relativeDir, configPath, prefixes) {
  for (const entry of readdirSync(path.join(root, relativeDir), { withFileTypes: true })) {
    const name = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
    if (entry.isDirectory()) {
      const dir = `${name}/`;
      const reachable = prefixes.some((p) => p.startsWith(dir) || dir.startsWith(p));
      if (name !== ".wrangler" && reachable) yield* walk(root, name, configPath, prefixes);
    } else if (path.join(root, name) !== configPath) {
      yield name;
    }
  }
}
