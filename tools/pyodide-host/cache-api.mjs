// `caches` as Cloudflare's Workers runtime provides it: caches.default and caches.open(name), each
// a Cache with match/put/delete keyed by request URL, honouring the response headers Cloudflare
// honours (decisions in cache-policy.mjs). Storage is process memory, bounded in bytes with
// least-recently-used eviction (Cloudflare may also evict any entry at any time). Differences from
// production are listed in serve.mjs's header comment.
import { byteRange, decidePut, isNotModified } from "./cache-policy.mjs";

// Headers a 304 carries over from the stored response (RFC 9110 section 15.4.5).
const NOT_MODIFIED_HEADERS = ["cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary"];

/** All caches' entries in one byte-bounded LRU (Map iteration order is recency order). */
export class CacheStore {
  #entries = new Map();
  #bytes = 0;

  constructor({ maxBytes, maxEntryBytes }) {
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxEntryBytes;
  }

  get(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key, entry) {
    this.delete(key);
    this.#entries.set(key, entry);
    this.#bytes += entry.size;
    for (const [oldestKey] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.delete(oldestKey);
    }
  }

  delete(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.size;
    return true;
  }

  /** Removes every entry the predicate selects; returns how many. */
  purge(predicate) {
    let purged = 0;
    for (const [key, entry] of [...this.#entries]) {
      if (predicate(entry)) purged += Number(this.delete(key));
    }
    return purged;
  }

  stats() {
    return { entries: this.#entries.size, bytes: this.#bytes, max_bytes: this.maxBytes };
  }
}

function cacheUrl(request) {
  const url = new URL(request.url);
  url.hash = "";
  return url.href;
}

function coerceRequest(requestOrUrl) {
  return requestOrUrl instanceof Request ? requestOrUrl : new Request(requestOrUrl);
}

function headerSize(headers) {
  return headers.reduce((total, [name, value]) => total + name.length + value.length, 0);
}

export class Cache {
  #store;
  #namespace;

  constructor(store, namespace) {
    this.#store = store;
    this.#namespace = namespace;
  }

  #key(request) {
    return `${this.#namespace}\n${cacheUrl(request)}`;
  }

  async match(requestOrUrl, options = {}) {
    const request = coerceRequest(requestOrUrl);
    if (request.method !== "GET" && !options.ignoreMethod) return undefined;
    const key = this.#key(request);
    const entry = this.#store.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() >= entry.expiresAtMs) {
      this.#store.delete(key);
      return undefined;
    }
    return respondFromEntry(entry, request.headers);
  }

  async put(requestOrUrl, response) {
    const request = coerceRequest(requestOrUrl);
    const decision = decidePut({
      method: request.method,
      status: response.status,
      responseType: response.type,
      headers: response.headers,
      nowMs: Date.now(),
    });
    if (decision.outcome === "reject") throw new TypeError(decision.message);
    // Like Cloudflare's, put() consumes the response body whether or not it stores it.
    const body = new Uint8Array(await response.arrayBuffer());
    if (decision.outcome === "skip" || body.byteLength > this.#store.maxEntryBytes) return undefined;

    const headers = [...response.headers]
      .filter(([name]) => name !== "set-cookie" && !decision.strippedHeaders.includes(name));
    if (!decision.strippedHeaders.includes("set-cookie")) {
      headers.push(...response.headers.getSetCookie().map((value) => ["set-cookie", value]));
    }
    this.#store.set(this.#key(request), {
      url: cacheUrl(request),
      status: response.status,
      statusText: response.statusText,
      headers,
      body,
      tags: new Set(decision.tags),
      expiresAtMs: Date.now() + decision.ttlSeconds * 1000,
      size: body.byteLength + headerSize(headers),
    });
    return undefined;
  }

  async delete(requestOrUrl, options = {}) {
    const request = coerceRequest(requestOrUrl);
    if (request.method !== "GET" && !options.ignoreMethod) return false;
    return this.#store.delete(this.#key(request));
  }
}

// Every answer from the cache says so, as Cloudflare's does (CF-Cache-Status: HIT).
function hitHeaders(stored, onlyNames) {
  const selected = new Headers(onlyNames ? [...stored].filter(([name]) => onlyNames.includes(name)) : stored);
  selected.set("cf-cache-status", "HIT");
  return selected;
}

function respondFromEntry(entry, requestHeaders) {
  const stored = new Headers(entry.headers);
  if (isNotModified(requestHeaders, stored)) {
    return new Response(null, { status: 304, headers: hitHeaders(stored, NOT_MODIFIED_HEADERS) });
  }
  const size = entry.body.byteLength;
  const range = entry.status === 200 ? byteRange(requestHeaders.get("range"), size) : null;
  if (range === "unsatisfiable") {
    const headers = hitHeaders(stored);
    headers.set("content-range", `bytes */${size}`);
    headers.delete("content-length");
    return new Response(null, { status: 416, headers });
  }
  if (range !== null) {
    const headers = hitHeaders(stored);
    headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
    headers.set("content-length", String(range.end - range.start + 1));
    return new Response(entry.body.slice(range.start, range.end + 1), { status: 206, headers });
  }
  const nullBody = [101, 204, 205, 304].includes(entry.status);
  return new Response(nullBody ? null : entry.body.slice(), {
    status: entry.status,
    statusText: entry.statusText,
    headers: hitHeaders(stored),
  });
}

/** The global `caches`: caches.default plus named caches from caches.open(). */
export class CacheStorage {
  #store;
  #named = new Map();

  constructor(store) {
    this.#store = store;
    this.default = new Cache(store, "default");
  }

  async open(name) {
    if (!this.#named.has(name)) this.#named.set(name, new Cache(this.#store, `named:${name}`));
    return this.#named.get(name);
  }

  /**
   * Cloudflare's purge (zone purge API body: {tags}, {files} or {purge_everything}), which reaches
   * every cache of the zone; returns how many entries went.
   */
  purge({ tags, files, purge_everything: everything }) {
    if (everything === true) return this.#store.purge(() => true);
    if (Array.isArray(tags)) {
      const wanted = new Set(tags.map((tag) => String(tag).trim().toLowerCase()));
      return this.#store.purge((entry) => [...entry.tags].some((tag) => wanted.has(tag)));
    }
    if (Array.isArray(files)) {
      const wanted = new Set(files.map((file) => cacheUrl({ url: String(file) })));
      return this.#store.purge((entry) => wanted.has(entry.url));
    }
    throw new TypeError("purge expects {tags: [...]}, {files: [...]} or {purge_everything: true}");
  }
}
