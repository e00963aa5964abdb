// ctx for each invocation (ExecutionContext: waitUntil, passThroughOnException) and the registry
// of background work handed to waitUntil, which the harness can await (tests, shutdown).

/** Background promises from ctx.waitUntil / cloudflare:workers waitUntil, tracked to completion. */
export class WaitUntilRegistry {
  #pending = new Set();
  #settled = 0;
  #failures = [];

  track(promise) {
    const tracked = Promise.resolve(promise).then(
      () => {
        this.#settled += 1;
      },
      (error) => {
        this.#settled += 1;
        this.#failures.push(String(error?.stack ?? error));
        // Cloudflare logs a rejected waitUntil promise; it never reaches the client.
        console.error(`waitUntil promise rejected: ${error?.stack ?? error}`);
      },
    );
    this.#pending.add(tracked);
    tracked.finally(() => this.#pending.delete(tracked));
  }

  /** Waits until no background work is left (work may schedule more work), or the timeout. */
  async settle(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.size > 0 && Date.now() < deadline) {
      const timeout = new Promise((resolve) => setTimeout(resolve, deadline - Date.now()).unref());
      await Promise.race([Promise.allSettled([...this.#pending]), timeout]);
    }
    return this.stats();
  }

  stats() {
    return { pending: this.#pending.size, settled: this.#settled, failed: this.#failures.length, errors: [...this.#failures] };
  }
}

/** The per-invocation ctx. Its toStringTag is what workerd's Python glue checks for. */
export class ExecutionContext {
  #registry;
  passedThroughOnException = false;

  constructor(registry) {
    this.#registry = registry;
  }

  get [Symbol.toStringTag]() {
    return "ExecutionContext";
  }

  waitUntil(promise) {
    this.#registry.track(promise);
  }

  // In production this makes Cloudflare send the request to the origin server if the Worker
  // throws. The harness has no origin behind the Worker, so it only records the call.
  passThroughOnException() {
    this.passedThroughOnException = true;
  }
}
