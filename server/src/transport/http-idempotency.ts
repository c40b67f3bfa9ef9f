import { createHash, randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { SwitchboardError } from "../core/errors.js";
import type { IdempotencyStore } from "../idempotency/idempotency-store.js";
import type { Logger } from "../logger.js";
import type { HttpEnv } from "./http-routes.js";

/** Longest `Idempotency-Key` accepted. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** How long a key is remembered after its first request (Stripe's 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/**
 * How long a claim holds while its request runs. Longer than any request should take (the
 * shutdown drain is 10 s by default); after it, a retry may take over the key of a request whose
 * node died mid-way instead of getting "still in progress" until the key expires.
 */
export const IDEMPOTENCY_LOCK_MS = 60_000;

/** Options of {@link idempotency}. */
export interface IdempotencyOptions {
  store: IdempotencyStore;
  logger: Logger;
  /** Default {@link IDEMPOTENCY_TTL_MS}. */
  ttlMs?: number;
  /** Default {@link IDEMPOTENCY_LOCK_MS}. */
  lockMs?: number;
}

/**
 * `Idempotency-Key` for POST requests, with Stripe's semantics. Runs after authentication, keyed
 * by (API key id, idempotency key):
 *
 * - First request with a key: it runs, and its response (status and body) is stored when it is
 *   final: 2xx, or a 4xx other than 408 and 429. A 5xx, 408 or 429 is not stored: the claim is
 *   released so the same request can be retried.
 * - The same key again with the same request (method, path and a byte-identical body): the
 *   stored response is replayed with `Idempotent-Replayed: true`, and nothing runs.
 * - The same key with another body or path: 409 `conflict`.
 * - The same key while the first request still runs: 409 `conflict` ("still in progress").
 * - Keys are forgotten 24 h after their first request.
 * Without the header, a request runs as usual.
 */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler<HttpEnv> {
  const { store, logger } = options;
  const ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
  const lockMs = options.lockMs ?? IDEMPOTENCY_LOCK_MS;
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    const principal = c.get("principal");
    if (c.req.method !== "POST" || key === undefined || !principal) return next();
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      throw new SwitchboardError("invalid_argument", `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`);
    }
    // Read once here; hono caches it, so the route's JSON validator parses the same text.
    const body = await c.req.text();
    const url = new URL(c.req.url);
    const fingerprint = sha256(`${c.req.method}\n${url.pathname}${url.search}\n${sha256(body)}`);
    const scope = { apiKeyId: principal.keyId, key };
    const token = randomUUID();
    const now = Date.now();
    const claimed = await store.claim({
      ...scope,
      fingerprint,
      token,
      now: new Date(now),
      lockedUntil: new Date(now + lockMs),
      expiresAt: new Date(now + ttlMs),
    });
    switch (claimed.kind) {
      case "completed": {
        if (claimed.fingerprint !== fingerprint) throw reusedKey(key);
        const { status, body: stored, contentType } = claimed.response;
        c.header("Idempotent-Replayed", "true");
        if (contentType) c.header("Content-Type", contentType);
        return NULL_BODY_STATUSES.has(status) ? c.body(null, status as 204) : c.body(stored, status as ContentfulStatusCode);
      }
      case "in_progress":
        if (claimed.fingerprint !== fingerprint) throw reusedKey(key);
        throw new SwitchboardError(
          "conflict",
          `A request with this key is still in progress (Idempotency-Key ${JSON.stringify(key)}); retry once it has finished.`,
        );
      case "claimed":
        break;
      default: {
        const exhaustive: never = claimed;
        return exhaustive;
      }
    }

    try {
      await next();
    } catch (err) {
      await store.release(scope, token).catch((e: unknown) => logger.warn({ err: e }, "could not release an idempotency key"));
      throw err;
    }
    const status = c.res.status;
    try {
      if (isFinal(status)) {
        const contentType = c.res.headers.get("content-type");
        await store.complete(scope, token, {
          status,
          body: await c.res.clone().text(),
          ...(contentType ? { contentType } : {}),
        });
      } else {
        await store.release(scope, token);
      }
    } catch (err) {
      // The request itself succeeded or failed on its own; only its replay is lost. A retry after
      // the lock passes runs again, which the API's own idempotency (clientMessageId) covers.
      logger.warn({ err, status }, "could not record the response of an idempotent request");
    }
  };
}

/** Statuses whose response has no body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Whether a response is the request's final answer, to replay: successes and client errors,
 * except those that say "try again later" (408, 429). Server errors are never final.
 */
function isFinal(status: number): boolean {
  return (status >= 200 && status < 300) || (status >= 400 && status < 500 && status !== 408 && status !== 429);
}

function reusedKey(key: string): SwitchboardError {
  return new SwitchboardError(
    "conflict",
    `Idempotency-Key ${JSON.stringify(key)} was already used with a different request (method, path or body); use a new key for a new request.`,
  );
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
