// What Cloudflare's runtime is for a given compatibility_date: which Pyodide release (and Python),
// and which Python-related compatibility flags are on. The data lives in runtime-versions.json
// (sources cited there); this module only answers questions about it.
import { readFileSync } from "node:fs";

const DATA = JSON.parse(readFileSync(new URL("./runtime-versions.json", import.meta.url), "utf8"));
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function requireIsoDate(compatibilityDate) {
  if (typeof compatibilityDate !== "string" || !ISO_DATE.test(compatibilityDate)) {
    throw new Error(`compatibility_date must be YYYY-MM-DD, got ${JSON.stringify(compatibilityDate)}`);
  }
}

/** The {pyodide, python, from} row Cloudflare uses for this compatibility_date. */
export function pyodideReleaseFor(compatibilityDate) {
  requireIsoDate(compatibilityDate);
  // ISO dates compare correctly as strings.
  const rows = DATA.pyodide_by_compatibility_date.filter((row) => row.from <= compatibilityDate);
  if (rows.length === 0) {
    throw new Error(`Python Workers did not exist on compatibility_date ${compatibilityDate}`);
  }
  return rows[rows.length - 1];
}

/**
 * The Python compatibility flags as workerd exposes them to Python (_cloudflare_compat_flags):
 * every known flag name mapped to a boolean. A flag is on from its date, or when listed in
 * compatibility_flags; its disable name in compatibility_flags turns it off.
 */
export function pythonCompatibilityFlags(compatibilityDate, explicitFlags = []) {
  requireIsoDate(compatibilityDate);
  const listed = new Set(explicitFlags);
  const flags = { python_workers: listed.has("python_workers") };
  for (const { flag, disable, from } of DATA.python_compatibility_flags) {
    const byDate = from !== null && from <= compatibilityDate;
    flags[flag] = (byDate || listed.has(flag)) && !(disable !== null && listed.has(disable));
  }
  return flags;
}
