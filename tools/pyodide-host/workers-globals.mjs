// Globals the Workers runtime has and Node's do not, installed on Node's so the worker's `js`
// module sees them: `caches`, crypto.subtle.timingSafeEqual (a non-standard Workers addition,
// TypeError on unequal lengths as in workerd's crypto.c++), navigator.userAgent.
import { timingSafeEqual } from "node:crypto";

function bytesOf(source) {
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  throw new TypeError("timingSafeEqual expects ArrayBuffer or ArrayBufferView arguments");
}

/** @param {import("./cache-api.mjs").CacheStorage} caches */
export function installWorkersGlobals(caches) {
  globalThis.caches = caches;
  globalThis.crypto.subtle.timingSafeEqual = (a, b) => {
    const left = bytesOf(a);
    const right = bytesOf(b);
    if (left.byteLength !== right.byteLength) {
      throw new TypeError("Input buffers must have the same byte length.");
    }
    return timingSafeEqual(left, right);
  };
  // Workers report this user agent (global_navigator, on since 2022-03-21); Node 20 has no navigator.
  if (globalThis.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Cloudflare-Workers" } });
  }
}
