// Turns a Node HTTP request into the WHATWG Request a Worker receives, with `request.cf`.
// On Cloudflare, request.cf comes from the client's IP, never from anything the client sends. The
// harness has no IP geolocation, so the caller simulates it with harness-only headers
// (X-Harness-Cf-Country: DE, X-Harness-Cf-Continent, X-Harness-Cf-Region, ...), which are removed
// before the worker sees the request. The visitor-location headers a client can forge on the
// internet (CF-IPCountry, ...) never reach request.cf: they pass through as plain headers, exactly
// what a worker in production mode must ignore.
import { Readable } from "node:stream";

// EU member states (ISO 3166-1 alpha-2); Cloudflare sets cf.isEUCountry = "1" for these.
const EU_COUNTRIES = new Set([
  "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
  "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
]);

// Every header under this prefix is the harness's, not the request's.
export const HARNESS_HEADER_PREFIX = "x-harness-";
// request.cf field <- the harness-only header that simulates it.
const LOCATION_HEADERS = {
  country: "x-harness-cf-country",
  continent: "x-harness-cf-continent",
  region: "x-harness-cf-region",
  regionCode: "x-harness-cf-region-code",
  city: "x-harness-cf-city",
  postalCode: "x-harness-cf-postal-code",
  latitude: "x-harness-cf-latitude",
  longitude: "x-harness-cf-longitude",
  timezone: "x-harness-cf-timezone",
  metroCode: "x-harness-cf-metro-code",
};

// Connection-level headers belong to the hop from the client, not to the request the Worker sees.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

/** The IncomingRequestCfProperties this harness can honestly provide (from the raw headers). */
export function buildCf(rawHeaders, httpVersion) {
  const cf = { httpProtocol: `HTTP/${httpVersion}` };
  const simulated = new Map();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    simulated.set(rawHeaders[index].toLowerCase(), rawHeaders[index + 1]);
  }
  for (const [field, header] of Object.entries(LOCATION_HEADERS)) {
    const value = simulated.get(header);
    if (value !== undefined && value !== "") cf[field] = value;
  }
  if (cf.country !== undefined) cf.country = cf.country.toUpperCase();
  if (EU_COUNTRIES.has(cf.country)) cf.isEUCountry = "1";
  return cf;
}

/** Names this hop consumes: the fixed hop-by-hop set plus every name `Connection` lists. */
export function hopByHopNames(rawHeaders) {
  const names = new Set(HOP_BY_HOP);
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index].toLowerCase() !== "connection") continue;
    for (const token of rawHeaders[index + 1].split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "") names.add(name);
    }
  }
  return names;
}

/** The request's end-to-end headers, as Cloudflare's front passes them to a Worker. */
export function toHeaders(rawHeaders) {
  const dropped = hopByHopNames(rawHeaders);
  const headers = new Headers();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toLowerCase();
    if (!dropped.has(name) && !name.startsWith(HARNESS_HEADER_PREFIX)) {
      headers.append(name, rawHeaders[index + 1]);
    }
  }
  return headers;
}

/** @param {import("node:http").IncomingMessage} message */
export function toWorkerRequest(message, { abortSignal }) {
  const headers = toHeaders(message.rawHeaders);
  // Cloudflare overwrites this with the connecting client's address; so does the harness.
  headers.set("cf-connecting-ip", message.socket.remoteAddress ?? "");
  const host = headers.get("host") ?? `${message.socket.localAddress}:${message.socket.localPort}`;
  const hasBody = message.method !== "GET" && message.method !== "HEAD";
  const request = new Request(new URL(message.url, `http://${host}`), {
    method: message.method,
    headers,
    body: hasBody ? Readable.toWeb(message) : undefined,
    duplex: hasBody ? "half" : undefined,
    signal: abortSignal,
  });
  const cf = buildCf(message.rawHeaders, message.httpVersion);
  Object.defineProperty(request, "cf", { value: cf, enumerable: true });
  return request;
}
