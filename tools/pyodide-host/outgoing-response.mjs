// Writes the Response a Worker returned to the Node HTTP response, streaming its body.

/**
 * @param {import("node:http").ServerResponse} target
 * @param {Response} response
 * @param {{headOnly: boolean}} options
 */
export async function sendResponse(target, response, { headOnly }) {
  const headers = {};
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") headers[name] = value;
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  target.writeHead(response.status, response.statusText || undefined, headers);

  if (headOnly || response.body === null) {
    await response.body?.cancel();
    target.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Respect backpressure: wait for the socket to drain (or close) before reading further.
      if (!target.write(value)) {
        await new Promise((resolve) => {
          target.once("drain", resolve);
          target.once("close", resolve);
        });
      }
      if (target.destroyed) {
        await reader.cancel();
        return;
      }
    }
    target.end();
  } finally {
    reader.releaseLock();
  }
}
