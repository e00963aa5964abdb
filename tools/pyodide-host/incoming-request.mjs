// Turns a Node HTTP request into the WHATWG Request a Worker receives, with `request.cf`.
// In production Cloudflare fills request.cf from the client's IP; this local harness takes the
// location from the visitor-location headers Cloudflare itself can add (CF-IPCountry,
// CF-IPContinent, CF-Region, ...), sent by whoever calls the harness. Never trust these headers
// from the internet: in production they are Cloudflare's, here they are the caller's.
import { Readable } from "node:stream";

// EU member states (ISO 3166-1 alpha-2); Cloudflare sets cf.isEUCountry = "1" for these.
const EU_COUNTRIES = new Set([
  "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
  "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
]);

// request.cf field <- header carrying it (Cloudflare's names for the same values).
const LOCATION_HEADERS = {
  country: "cf-ipcountry",
  continent: "cf-ipcontinent",
  region: "cf-region",
  regionCode: "cf-region-code",
  city: "cf-ipcity",
  postalCode: "cf-postal-code",
  latitude: "cf-iplatitude",
  longitude: "cf-iplongitude",
  timezone: "cf-timezone",
  metroCode: "cf-metro-code",
};

// Connection-level headers belong to the hop from the client, not to the request the Worker sees.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

/** The IncomingRequestCfProperties this harness can honestly provide. */
export function buildCf(headers, httpVersion) {
  const cf = { httpProtocol: `HTTP/${httpVersion}` };
  for (const [field, header] of Object.entries(LOCATION_HEADERS)) {
    const value = headers.get(header);
    if (value !== null && value !== "") cf[field] = value;
  }
  if (cf.country !== undefined) cf.country = cf.country.toUpperCase();
  if (EU_COUNTRIES.has(cf.country)) cf.isEUCountry = "1";
  return cf;
}

function toHeaders(rawHeaders) {
  const headers = new Headers();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toLowerCase();
    if (!HOP_BY_HOP.has(name)) headers.append(name, rawHeaders[index + 1]);
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
  Object.defineProperty(request, "cf", { value: buildCf(headers, message.httpVersion), enumerable: true });
  return request;
}
