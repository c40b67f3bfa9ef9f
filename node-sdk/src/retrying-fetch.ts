import { randomUUID } from "node:crypto";
import { parseRetryAfter, SwitchboardApiError } from "./errors.js";

/** How failed requests are retried. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3); 0 turns retrying off. */
  maxRetries?: number;
  /** Cap of the exponential backoff before jitter, first retry (default 250 ms). */
  baseDelayMs?: number;
  /** Largest wait between two attempts, also for `Retry-After` (default 10 000 ms). */
  maxDelayMs?: number;
  /** Each attempt is aborted after this long (default 30 000 ms) and counts as a network error. */
  timeoutMs?: number;
}

/** Statuses worth another attempt: the limit resets, the server or its proxy recovers. */
const RETRYABLE = (status: number) => status === 429 || status >= 500;

/**
 * A `fetch` that retries 429, 5xx and network errors with full-jitter exponential backoff
 * (a random wait in [0, min(max, base·2^attempt)], so many clients that failed together do not
 * come back together), honouring `Retry-After` when the server sends it. Any other 4xx is
 * answered at once: the request itself is wrong and would fail the same way again.
 *
 * Every POST gets an `Idempotency-Key` (a UUID, unless the caller set one) before the first
 * attempt, so all attempts of one call carry the same key and the server applies it once.
 */
export function retryingFetch(options: RetryOptions & { fetch?: typeof fetch; random?: () => number; sleep?: (ms: number) => Promise<void> } = {}) {
  const maxRetries = options.maxRetries ?? 3;
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const inner = options.fetch ?? globalThis.fetch;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  return async (request: Request): Promise<Response> => {
    if (request.method === "POST" && !request.headers.has("idempotency-key")) request.headers.set("Idempotency-Key", randomUUID());
    // Read once: a Request's body can be sent only once, and each attempt needs its own.
    const body = request.body === null ? undefined : await request.arrayBuffer();
    for (let attempt = 0; ; attempt++) {
      const backoff = () => Math.round(random() * Math.min(max, base * 2 ** attempt));
      let response: Response;
      try {
        // The caller's signal (openapi-fetch's `signal` option) and this attempt's timeout, either one ends it.
        const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
        response = await inner(new Request(request, { ...(body === undefined ? {} : { body }), signal }));
      } catch (err) {
        // The caller gave up: no retry, and their own abort reason, not a network error.
        if (request.signal.aborted) throw request.signal.reason;
        if (attempt >= maxRetries) {
          throw new SwitchboardApiError({
            code: "network_error",
            status: 0,
            message: `${request.method} ${new URL(request.url).pathname}: no answer after ${attempt + 1} attempt(s) (${(err as Error).message}). Check the base URL and that the server is up.`,
            cause: err,
          });
        }
        await sleep(backoff());
        continue;
      }
      if (!RETRYABLE(response.status) || attempt >= maxRetries) return response;
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      // Longer than we are willing to wait: the caller decides, with retryAfterMs on the error.
      if (retryAfter !== undefined && retryAfter > max) return response;
      await response.body?.cancel();
      await sleep(retryAfter ?? backoff());
    }
  };
}
