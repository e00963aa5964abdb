// Builds the worker's `env` the way `wrangler dev` does locally: [vars] from wrangler.toml, then
// secrets from the git-ignored .dev.vars file, then the process environment for names already
// declared (or asked for with --secret), then explicit --var NAME:VALUE overrides.

/** Parses a .dev.vars file (dotenv syntax: NAME=value, # comments, optional quotes). */
export function parseDevVars(text) {
  const values = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`.dev.vars: cannot parse line ${JSON.stringify(rawLine)}`);
    values[match[1]] = unquote(match[2]);
  }
  return values;
}

function unquote(value) {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replaceAll("\\n", "\n").replaceAll('\\"', '"');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value.replace(/\s+#.*$/, "");
}

/** Parses `--var NAME:VALUE` (wrangler dev's syntax). */
export function parseVarOverride(text) {
  const separator = text.indexOf(":");
  if (separator <= 0) throw new Error(`--var expects NAME:VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, separator), text.slice(separator + 1)];
}

/**
 * @returns {Record<string, unknown>} the env object handed to the worker. Non-string [vars]
 * (tables, arrays) stay structured, as in Cloudflare where they arrive as parsed JSON.
 */
export function buildEnv({ vars, devVars, processEnv, secretNames, overrides }) {
  const env = { ...vars, ...devVars };
  for (const name of Object.keys(env)) {
    if (processEnv[name] !== undefined) env[name] = processEnv[name];
  }
  for (const name of secretNames) {
    if (processEnv[name] === undefined) {
      throw new Error(`--secret ${name}: the environment variable ${name} is not set`);
    }
    env[name] = processEnv[name];
  }
  return { ...env, ...Object.fromEntries(overrides) };
}
