// The worker's vendored pure-Python packages: the pinned list in the requirements file, matched to
// wheels that fetch-wheels.sh downloaded into the cache directory. No resolver, no index, no CDN.
import { readdirSync } from "node:fs";
import path from "node:path";

/** `name==version` lines (hash options and comments ignored); anything unpinned is refused. */
export function parseRequirements(text) {
  const requirements = [];
  const logicalLines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const rawLine of logicalLines) {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const spec = line.split(/\s+--/)[0].trim();
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$/.exec(spec);
    if (!match) throw new Error(`requirements: pin every package as name==version, got ${spec}`);
    requirements.push({ name: match[1], version: match[2] });
  }
  return requirements;
}

// Wheel file names use the normalised distribution name with runs of -_. as "_" (PEP 427/503).
function normaliseName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "_");
}

/** The cached universal wheel (py3-none-any) for each requirement, or an error naming the fix. */
export function locateWheels(requirements, wheelDir) {
  let files = [];
  try {
    files = readdirSync(wheelDir).filter((file) => file.endsWith(".whl"));
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  return requirements.map(({ name, version }) => {
    const wanted = `${normaliseName(name)}-${version}-`;
    const file = files.find((candidate) => candidate.toLowerCase().startsWith(wanted));
    if (!file) {
      throw new Error(
        `no wheel for ${name}==${version} in ${wheelDir}; run tools/pyodide-host/fetch-wheels.sh`,
      );
    }
    const [abi, platform] = file.slice(0, -".whl".length).split("-").slice(-2);
    if (abi !== "none" || platform !== "any") {
      throw new Error(`${file} is not a pure-Python wheel; Python Workers cannot load it here`);
    }
    return path.join(wheelDir, file);
  });
}
