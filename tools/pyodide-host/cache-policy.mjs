// Pure decisions behind the Cache API emulation: whether Cloudflare's cache would store a response
// given to cache.put() and for how long, and how a stored response answers a conditional or range
// request on cache.match(). Sources: Cloudflare Workers docs "Cache" (runtime-apis/cache: headers
// honoured on put, Set-Cookie rule), "Cache by status code" (default edge TTLs), workerd
// src/workerd/api/cache.c++ (TypeErrors on put, 304 ignored, non-GET match -> undefined).

// Edge TTL Cloudflare applies when a response has neither Cache-Control max-age/s-maxage nor
// Expires; other statuses are not cached by default.
const DEFAULT_EDGE_TTL_SECONDS = new Map([
  [200, 7200], [206, 7200], [301, 7200],
  [302, 1200], [303, 1200],
  [404, 180], [410, 180],
]);

/** Cache-Control directives: lower-cased name -> unquoted value, or true when valueless. */
export function parseCacheControl(value) {
  const directives = new Map();
  if (!value) return directives;
  for (const part of value.match(/(?:[^,"]+|"[^"]*")+/g) ?? []) {
    const [rawName, ...rest] = part.split("=");
    const name = rawName.trim().toLowerCase();
    if (name === "") continue;
    const rawValue = rest.join("=").trim();
    directives.set(name, rest.length === 0 ? true : rawValue.replace(/^"(.*)"$/, "$1"));
  }
  return directives;
}

function deltaSeconds(value) {
  // A malformed delta makes the response stale, never fresh (RFC 9111 section 1.2.2).
  return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : 0;
}

function freshnessSeconds(status, headers, directives, nowMs) {
  if (directives.has("s-maxage")) return deltaSeconds(directives.get("s-maxage"));
  if (directives.has("max-age")) return deltaSeconds(directives.get("max-age"));
  const expires = headers.get("expires");
  if (expires !== null) {
    const expiresMs = Date.parse(expires);
    const dateMs = Date.parse(headers.get("date") ?? "") || nowMs;
    return Number.isNaN(expiresMs) ? 0 : Math.floor((expiresMs - dateMs) / 1000);
  }
  return DEFAULT_EDGE_TTL_SECONDS.get(status) ?? 0;
}

/** Cache-Tag values (comma separated, case-insensitive) for purge by tag. */
export function parseCacheTags(value) {
  return (value ?? "")
    .split(",")
    .map((tag) => tag.trim().toLowerCase())
    .filter((tag) => tag !== "");
}

/**
 * What cache.put() does with this response.
 * @returns {{outcome: "reject", message: string}
 *   | {outcome: "skip", reason: string}
 *   | {outcome: "store", ttlSeconds: number, strippedHeaders: string[], tags: string[]}}
 */
export function decidePut({ method, status, responseType, headers, nowMs }) {
  if (method !== "GET") return { outcome: "reject", message: "Cannot cache response to non-GET request." };
  if (status === 206) {
    return { outcome: "reject", message: "Cannot cache response to a range request (206 Partial Content)." };
  }
  if ((headers.get("vary") ?? "").includes("*")) {
    return { outcome: "reject", message: "Cannot cache response with 'Vary: *' header." };
  }
  if (responseType === "error") return { outcome: "reject", message: "Cache is unable to store an error response" };
  if (status === 304) return { outcome: "skip", reason: "a 304 is not meaningful to cache" };

  const directives = parseCacheControl(headers.get("cache-control"));
  if (directives.has("no-store")) return { outcome: "skip", reason: "Cache-Control: no-store" };
  const privateFields = directives.get("private");
  if (privateFields === true) return { outcome: "skip", reason: "Cache-Control: private" };
  // no-cache means "revalidate every time"; the Cache API never revalidates, so it never matches.
  if (directives.get("no-cache") === true) return { outcome: "skip", reason: "Cache-Control: no-cache" };

  // private=<fields> keeps the response cacheable without those headers (private=Set-Cookie).
  const strippedHeaders = typeof privateFields === "string"
    ? privateFields.split(",").map((field) => field.trim().toLowerCase()).filter(Boolean)
    : [];
  if (headers.has("set-cookie") && !strippedHeaders.includes("set-cookie")) {
    return { outcome: "skip", reason: "responses with Set-Cookie are never cached" };
  }
  const ttlSeconds = freshnessSeconds(status, headers, directives, nowMs);
  if (ttlSeconds <= 0) return { outcome: "skip", reason: "no freshness lifetime" };
  return { outcome: "store", ttlSeconds, strippedHeaders, tags: parseCacheTags(headers.get("cache-tag")) };
}

function opaqueTag(etag) {
  return etag.trim().replace(/^W\//, "");
}

/** True when a conditional request is answered 304 from the stored response's validators. */
export function isNotModified(requestHeaders, storedHeaders) {
  const ifNoneMatch = requestHeaders.get("if-none-match");
  if (ifNoneMatch !== null) {
    const etag = storedHeaders.get("etag");
    if (etag === null) return false;
    if (ifNoneMatch.trim() === "*") return true;
    // Weak comparison, as RFC 9110 section 13.1.2 requires for If-None-Match.
    return ifNoneMatch.split(",").some((candidate) => opaqueTag(candidate) === opaqueTag(etag));
  }
  const ifModifiedSince = Date.parse(requestHeaders.get("if-modified-since") ?? "");
  const lastModified = Date.parse(storedHeaders.get("last-modified") ?? "");
  return !Number.isNaN(ifModifiedSince) && !Number.isNaN(lastModified) && lastModified <= ifModifiedSince;
}

/**
 * The part of a `size`-byte body a Range header asks for: null to serve it whole (no Range, a
 * malformed one, or several ranges, which a server may ignore), "unsatisfiable", or {start, end}.
 */
export function byteRange(rangeHeader, size) {
  const match = /^bytes=(\d*)-(\d*)$/.exec((rangeHeader ?? "").trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (start >= size) return "unsatisfiable";
  const end = match[2] === "" ? size - 1 : Number(match[2]);
  if (end < start) return null;
  return { start, end: Math.min(end, size - 1) };
}
