#!/usr/bin/env node
// Serves a Cloudflare Python Worker over HTTP from real Pyodide in Node, offline.
//
//   sh tools/pyodide-host/fetch-wheels.sh          # once: the worker's pinned pure-Python wheels
//   node tools/pyodide-host/serve.mjs --config wrangler.toml --port 8787 \
//        [--worker PATH.py] [--host 127.0.0.1] [--var NAME:VALUE]... [--secret NAME]...
//        [--dev-vars PATH] [--no-build] [--no-snapshot] [--cache-max-bytes N] [--cache-max-entry-bytes N]
//
// It serves what `wrangler deploy` uploads: first it runs wrangler.toml's [build] command (as
// wrangler does; --no-build skips it), then loads `main` and the modules under `base_dir` by the
// same rules, and python_modules/ next to wrangler.toml as the vendored packages.
// --worker replaces the entry (a test worker), keeping the rest of the layout.
//
// Pyodide starts from a baseline memory snapshot in .cache/pyodide-snapshots/ (made by the first
// start, as Cloudflare starts Python Workers from one); --no-snapshot boots it from scratch.
// It prints `cold-start {...}` (milliseconds to load Pyodide, lay out the worker, import it), then
// `ready http://HOST:PORT` once it accepts requests, and exits cleanly on SIGTERM/SIGINT after the
// worker's waitUntil work finishes (bounded). --port 0 picks a free port.
//
// What the worker gets, as on Cloudflare: Pyodide matching compatibility_date (refuses to start
// otherwise), the `workers` SDK from the vendored wheel, `_pyodide_entrypoint_helper` and
// `_cloudflare_compat_flags`, Node's fetch / Request / Response / Headers / crypto.subtle as the
// `js` globals plus the Workers-only ones (workers-globals.mjs: `caches` from cache-api.mjs,
// crypto.subtle.timingSafeEqual, navigator.userAgent), env from [vars] + .dev.vars +
// --secret/--var, ctx with waitUntil, request.cf. Under /__harness/ (control-routes.mjs): boot
// report, wait for waitUntil work, cache purge.
//
// Not like production (know these before trusting a result):
// - no JSPI in Node 20: pyodide.ffi.run_sync and import_from_javascript of anything but
//   cloudflare:workers / cloudflare:sockets fail; workerd supports them;
// - only a baseline snapshot: Cloudflare also snapshots each worker after its top-level import
//   (python_dedicated_snapshot), so its cold start skips the import this harness still does;
// - no CPU/memory/subrequest limits, no isolate eviction; one isolate serves every request;
// - request.cf carries httpProtocol plus only the location the caller simulates with harness-only
//   headers (X-Harness-Cf-Country, ...; stripped before the worker sees the request; never from
//   CF-IPCountry); no asn, colo, tls*, botManagement;
// - the methods Fetch forbids (CONNECT, TRACE, TRACK) cannot become a Request: the harness answers
//   them 405 JSON itself; the cache is one process-local LRU (Cloudflare's is per data center, and
//   does nothing at all on workers.dev); no Vary support in the cache, like Cloudflare's;
// - cloudflare:sockets connect(), Durable Objects, bindings other than vars/secrets, HTMLRewriter,
//   WebSocketPair, scheduled/queue handlers are absent.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { CacheStorage, CacheStore } from "./cache-api.mjs";
import { CONTROL_PREFIX, handleControlRequest } from "./control-routes.mjs";
import { buildEnv, parseDevVars, parseVarOverride } from "./env-bindings.mjs";
import { WaitUntilRegistry } from "./execution-context.mjs";
import { toWorkerRequest } from "./incoming-request.mjs";
import { sendResponse } from "./outgoing-response.mjs";
import { bootPythonRuntime } from "./python-runtime.mjs";
import { pyodideReleaseFor, pythonCompatibilityFlags } from "./runtime-versions.mjs";
import { collectUploadSet } from "./upload-set.mjs";
import { collectVendoredModules } from "./vendored-modules.mjs";
import { loadWorkerConfig } from "./worker-config.mjs";
import { installWorkersGlobals } from "./workers-globals.mjs";

// Cloudflare answers 414 when the URL exceeds 32 KB; Node's header limit must leave room for it.
const MAX_URL_BYTES = 32 * 1024;
const MAX_HEADER_BYTES = 128 * 1024;
const SHUTDOWN_WAIT_UNTIL_MS = 5000;
// Fetch refuses to build a Request with these methods (undici throws), so they never reach a
// Worker; the harness refuses them the way the edge refuses methods it does not pass on.
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const ALLOWED_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";

const OPTIONS = {
  config: { type: "string", default: "wrangler.toml" },
  worker: { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "8787" },
  "dev-vars": { type: "string" },
  var: { type: "string", multiple: true, default: [] },
  secret: { type: "string", multiple: true, default: [] },
  "python-modules": { type: "string" },
  "no-build": { type: "boolean", default: false },
  "cache-max-bytes": { type: "string", default: String(64 * 1024 * 1024) },
  "cache-max-entry-bytes": { type: "string", default: String(16 * 1024 * 1024) },
  "snapshot-dir": { type: "string" },
  "no-snapshot": { type: "boolean", default: false },
};

function installedPyodideVersion() {
  const require = createRequire(import.meta.url);
  return JSON.parse(readFileSync(require.resolve("pyodide/package.json"), "utf8")).version;
}

function requireMatchingPyodide(compatibilityDate) {
  const release = pyodideReleaseFor(compatibilityDate);
  const installed = installedPyodideVersion();
  if (installed !== release.pyodide) {
    throw new Error(
      `compatibility_date ${compatibilityDate} runs Pyodide ${release.pyodide} (Python ${release.python}) ` +
        `on Cloudflare, but node_modules has pyodide ${installed}: pin pyodide ${release.pyodide} in package.json`,
    );
  }
  return release;
}

function loadBindings(args, config) {
  const devVarsPath = args["dev-vars"] ?? path.join(config.projectRoot, ".dev.vars");
  return buildEnv({
    vars: config.vars,
    devVars: existsSync(devVarsPath) ? parseDevVars(readFileSync(devVarsPath, "utf8")) : {},
    processEnv: process.env,
    secretNames: args.secret,
    overrides: args.var.map(parseVarOverride),
  });
}

// wrangler runs the [build] command in a shell from the config's directory before it collects
// the modules; its output goes to stderr here, so stdout keeps only the harness's own lines.
function runBuild(config) {
  if (!config.buildCommand) return;
  const result = spawnSync(config.buildCommand, { cwd: config.projectRoot, shell: true, stdio: ["ignore", 2, 2] });
  if (result.status !== 0) {
    throw new Error(`the [build] command failed (${result.status ?? result.signal}): ${config.buildCommand}`);
  }
}

function loadVendoredModules(args, config) {
  return collectVendoredModules(args["python-modules"] ?? path.join(config.projectRoot, "python_modules"));
}

function plainResponse(target, status, text) {
  target.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  target.end(text);
}

const METHOD_NOT_ALLOWED_BODY = JSON.stringify({
  error: { code: "method_not_allowed", message: "this method cannot reach the worker" },
});

function methodNotAllowed(target) {
  target.writeHead(405, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(METHOD_NOT_ALLOWED_BODY),
    allow: ALLOWED_METHODS,
    "cache-control": "no-store",
  });
  target.end(METHOD_NOT_ALLOWED_BODY);
}

// Node hands CONNECT to a `connect` listener with the raw socket (no listener: it drops the
// connection); answer it like the other methods a Worker never receives, then close.
function refuseConnect(_message, socket) {
  socket.end(
    "HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\n" +
      `content-length: ${Buffer.byteLength(METHOD_NOT_ALLOWED_BODY)}\r\nallow: ${ALLOWED_METHODS}\r\n` +
      `cache-control: no-store\r\nconnection: close\r\n\r\n${METHOD_NOT_ALLOWED_BODY}`,
  );
}

async function serveWorker(runtime, message, target) {
  if (Buffer.byteLength(message.url) > MAX_URL_BYTES) {
    plainResponse(target, 414, "URI Too Long");
    return;
  }
  if (FORBIDDEN_METHODS.has(message.method)) {
    methodNotAllowed(target);
    return;
  }
  const abort = new AbortController();
  target.once("close", () => {
    if (!target.writableFinished) abort.abort();
  });
  let result;
  try {
    result = await runtime.invokeFetch(toWorkerRequest(message, { abortSignal: abort.signal }));
  } catch (error) {
    console.error(`worker threw: ${error?.stack ?? error}`);
    plainResponse(target, 500, "Worker threw exception");
    return;
  }
  if (!(result instanceof Response)) {
    console.error(`worker's fetch returned ${String(result)}, not a Response`);
    plainResponse(target, 500, "Worker threw exception");
    return;
  }
  await sendResponse(target, result, { headOnly: message.method === "HEAD" });
}

async function main() {
  const { values: args } = parseArgs({ options: OPTIONS, strict: true });
  const config = loadWorkerConfig(args.config, { main: args.worker });
  const release = requireMatchingPyodide(config.compatibilityDate);
  if (!args["no-build"]) runBuild(config);
  const compatibilityFlags = pythonCompatibilityFlags(config.compatibilityDate, config.compatibilityFlags);
  const uploadSet = collectUploadSet({
    moduleRoot: config.moduleRoot,
    configPath: config.configPath,
    entryFile: config.main,
    userRules: config.rules,
  });
  const vendoredModules = loadVendoredModules(args, config);
  const env = loadBindings(args, config);

  const registry = new WaitUntilRegistry();
  const cacheStore = new CacheStore({
    maxBytes: Number(args["cache-max-bytes"]),
    maxEntryBytes: Number(args["cache-max-entry-bytes"]),
  });
  const caches = new CacheStorage(cacheStore);
  installWorkersGlobals(caches);

  const snapshotDir = args["no-snapshot"]
    ? null
    : (args["snapshot-dir"] ?? path.join(config.projectRoot, ".cache", "pyodide-snapshots"));
  const runtime = await bootPythonRuntime({ uploadSet, vendoredModules, env, compatibilityFlags, registry, snapshotDir });
  console.log(`cold-start ${JSON.stringify(runtime.coldStart)}`);

  let requestsServed = 0;
  const report = () => ({
    worker: config.name,
    main_module: uploadSet.main.name,
    compatibility_date: config.compatibilityDate,
    expected: release,
    running: runtime.versions,
    cold_start: runtime.coldStart,
    boot_network_requests: runtime.bootNetworkRequests,
    loaded_packages: runtime.loadedPackages,
    upload_set: [uploadSet.main.name, ...uploadSet.modules.map((module) => module.name)],
    vendored_modules: vendoredModules.map((module) => module.name),
    compatibility_flags: compatibilityFlags,
    env_names: Object.keys(env).sort(),
    requests_served: requestsServed,
    wait_until: registry.stats(),
    cache: cacheStore.stats(),
  });

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (message, target) => {
    const handled = message.url.startsWith(CONTROL_PREFIX)
      ? handleControlRequest(toWorkerRequest(message, {}), { report, registry, caches }).then((response) =>
          sendResponse(target, response, { headOnly: false }),
        )
      : serveWorker(runtime, message, target).finally(() => (requestsServed += 1));
    handled.catch((error) => {
      console.error(`harness error: ${error?.stack ?? error}`);
      if (!target.headersSent) plainResponse(target, 500, "harness error");
      else target.destroy();
    });
  });

  // Stop accepting, let requests in flight finish, then the background work they started
  // (each step bounded, as Cloudflare bounds waitUntil after the response).
  const shutdown = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_UNTIL_MS))]);
    await registry.settle(SHUTDOWN_WAIT_UNTIL_MS);
    process.exit(0);
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);

  server.on("connect", refuseConnect);

  server.once("error", (error) => {
    console.error(`pyodide-host: cannot listen on ${args.host}:${args.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(Number(args.port), args.host, () => {
    const { address, port } = server.address();
    const host = address.includes(":") ? `[${address}]` : address;
    console.log(`ready http://${host}:${port}`);
  });
}

main().catch((error) => {
  console.error(`pyodide-host: ${error?.message ?? error}`);
  process.exit(1);
});
