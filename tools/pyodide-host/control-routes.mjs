// The harness's own endpoints, under a path prefix no worker route uses. They exist only in this
// local harness (Cloudflare has nothing like them): read the boot report and counters, wait for
// background (waitUntil) work, and purge the cache the way Cloudflare's purge API does.
export const CONTROL_PREFIX = "/__harness/";

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function errorJson(status, code, message) {
  return json(status, { error: { code, message } });
}

/**
 * @param {Request} request
 * @param {{report: () => object, registry: object, caches: object}} harness
 * @returns {Promise<Response>}
 */
export async function handleControlRequest(request, { report, registry, caches }) {
  const route = `${request.method} ${new URL(request.url).pathname.slice(CONTROL_PREFIX.length)}`;
  switch (route) {
    case "GET stats":
      return json(200, report());
    case "POST wait-until": {
      const timeoutMs = Number(new URL(request.url).searchParams.get("timeout_ms") ?? 10000);
      const stats = await registry.settle(timeoutMs);
      return json(stats.pending === 0 ? 200 : 504, stats);
    }
    case "POST cache/purge": {
      let body;
      try {
        body = await request.json();
      } catch {
        return errorJson(400, "invalid_json", "the purge request body must be JSON");
      }
      try {
        return json(200, { purged: caches.purge(body ?? {}) });
      } catch (error) {
        return errorJson(400, "invalid_purge", error.message);
      }
    }
    default:
      return errorJson(404, "not_found", `no harness endpoint ${route}`);
  }
}
