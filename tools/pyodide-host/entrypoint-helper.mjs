// The two runtime-internal modules that workers-runtime-sdk imports, as workerd registers them
// (src/pyodide/python-entrypoint-helper.ts; their Python-facing shape is in the SDK's .pyi stubs):
// - `_pyodide_entrypoint_helper`: cloudflareWorkersModule (env, waitUntil), cloudflareSocketsModule,
//   doAnImport, patchWaitUntil, patch_env_helper;
// - `_cloudflare_compat_flags`: every Python compatibility flag name -> boolean.
// Written for this harness; behaviour follows workerd's, differences are noted inline.

// A Python awaitable crosses into JS as a PyProxy that Pyodide destroys when the call returns;
// keep our own copy until the work finishes (as workerd's patchWaitUntil does).
function ownAwaitable(awaitable) {
  if (awaitable && typeof awaitable.copy === "function") {
    const copy = awaitable.copy();
    return (async () => {
      try {
        await copy;
      } finally {
        copy.destroy();
      }
    })();
  }
  return Promise.resolve(awaitable);
}

const patchedContexts = new WeakSet();

/** Makes ctx.waitUntil accept Python awaitables; applied by WorkerEntrypoint.__init__. */
function patchWaitUntil(ctx) {
  if (Object.prototype.toString.call(ctx) !== "[object ExecutionContext]" || patchedContexts.has(ctx)) {
    return;
  }
  const original = ctx.waitUntil.bind(ctx);
  ctx.waitUntil = (awaitable) => original(ownAwaitable(awaitable));
  patchedContexts.add(ctx);
}

function socketsUnavailable() {
  throw new Error("cloudflare:sockets connect() is not available in the outpost Pyodide harness");
}

/**
 * @param {object} options
 * @param {object} options.env the bindings object
 * @param {import("./execution-context.mjs").WaitUntilRegistry} options.registry
 * @param {(specifier: string) => Promise<object>} options.importVendoredModule loads
 *   python_modules/<path> JavaScript modules (the SDK ships some, imported via doAnImport)
 */
export function createEntrypointHelper({ env, registry, importVendoredModule }) {
  const cloudflareWorkersModule = {
    env,
    waitUntil: (awaitable) => registry.track(ownAwaitable(awaitable)),
  };
  const cloudflareSocketsModule = { connect: socketsUnavailable };

  async function doAnImport(specifier) {
    if (specifier === "cloudflare:workers") return cloudflareWorkersModule;
    if (specifier === "cloudflare:sockets") return cloudflareSocketsModule;
    if (specifier.startsWith("python_modules/")) return importVendoredModule(specifier);
    throw new Error(`the outpost Pyodide harness cannot import ${JSON.stringify(specifier)}`);
  }

  // `with workers.patch_env(NAME=value):` — env seen through cloudflare:workers is the base env
  // plus the overrides until the block exits. (workerd scopes this with async context; the
  // harness swaps the module's env object, which is visible to concurrent requests too.)
  function* patch_env_helper(overrides) {
    const entries = overrides instanceof Map ? [...overrides] : Object.entries(overrides ?? {});
    const previous = cloudflareWorkersModule.env;
    cloudflareWorkersModule.env = { ...previous, ...Object.fromEntries(entries) };
    try {
      yield;
    } finally {
      cloudflareWorkersModule.env = previous;
    }
  }

  return { cloudflareWorkersModule, cloudflareSocketsModule, doAnImport, patchWaitUntil, patch_env_helper };
}
