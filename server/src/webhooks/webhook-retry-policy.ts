import type { DeliveryOutcome } from "./webhook-store.js";

/** What one attempt to send a webhook came to. */
export type AttemptResult =
  /** The receiver answered 2xx. */
  | { kind: "delivered"; statusCode: number }
  /** The receiver answered something else; `retryAfterMs` from its `Retry-After` header. */
  | { kind: "rejected"; statusCode: number; retryAfterMs?: number }
  /** No answer: connection refused or reset, DNS failure, TLS error. */
  | { kind: "network_error"; message: string }
  /** No answer within `WEBHOOK_TIMEOUT_MS`. */
  | { kind: "timeout"; timeoutMs: number }
  /** Not sent: the destination resolves to a private address (see DestinationPolicy). */
  | { kind: "refused"; message: string };

/** The decision after an attempt: the delivery's outcome, and whether to disable the endpoint now. */
export interface RetryDecision {
  outcome: DeliveryOutcome;
  /** Set when the receiver said it is gone for good (HTTP 410). */
  disableEndpoint?: "gone";
}

/** Statuses below 500 that are still worth retrying: timeouts, conflicts, "too early", rate limits. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

/**
 * Decides what follows attempt number `attempt` (1 for the first). Retried: network errors,
 * timeouts, 3xx (redirects are not followed), 408, 409, 425, 429 and 5xx, while the schedule has
 * steps left; a retried answer's `Retry-After` (429, 503) is waited at least, up to the
 * schedule's longest step. Not retried: every other 4xx. 410 also disables the endpoint. A
 * destination refused as private is not retried.
 */
export function decideAfterAttempt(result: AttemptResult, attempt: number, scheduleMs: readonly number[], now: number, random: () => number = Math.random): RetryDecision {
  switch (result.kind) {
    case "delivered":
      return { outcome: { status: "succeeded" } };
    case "refused":
      return { outcome: { status: "failed" } };
    case "rejected": {
      if (result.statusCode === 410) return { outcome: { status: "failed" }, disableEndpoint: "gone" };
      const retryable = result.statusCode >= 500 || result.statusCode < 400 || RETRYABLE_4XX.has(result.statusCode);
      if (!retryable) return { outcome: { status: "failed" } };
      return retryLater(attempt, scheduleMs, now, random, result.retryAfterMs);
    }
    case "network_error":
    case "timeout":
      return retryLater(attempt, scheduleMs, now, random);
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
}

function retryLater(attempt: number, scheduleMs: readonly number[], now: number, random: () => number, retryAfterMs?: number): RetryDecision {
  const wait = retryWaitMs(attempt, scheduleMs, random, retryAfterMs);
  if (wait === undefined) return { outcome: { status: "failed" } };
  return { outcome: { status: "pending", nextAttemptAt: now + wait } };
}

/**
 * The wait before the retry that follows failed attempt number `attempt`: {@link retryDelayMs},
 * or the answer's `Retry-After` when that is longer, but never beyond the schedule's longest
 * step. Undefined when the schedule is used up. Shared by webhooks and offline notifications.
 */
export function retryWaitMs(attempt: number, scheduleMs: readonly number[], random: () => number, retryAfterMs?: number): number | undefined {
  const delay = retryDelayMs(attempt, scheduleMs, random);
  if (delay === undefined) return undefined;
  return retryAfterMs === undefined ? delay : Math.max(delay, Math.min(retryAfterMs, Math.max(...scheduleMs)));
}

/**
 * How long to wait after failed attempt number `attempt` (1-based), or undefined when the
 * schedule is used up (so at most `scheduleMs.length + 1` attempts are made).
 *
 * Full jitter within each step's band: retry n waits a uniformly random time in
 * `(step[n-1], step[n]]` (`(0, step[1]]` for the first). Receivers that come back after an outage
 * are not hit by every delivery at once, and each retry still waits longer than the one before.
 */
export function retryDelayMs(attempt: number, scheduleMs: readonly number[], random: () => number = Math.random): number | undefined {
  const index = attempt - 1;
  if (index < 0 || index >= scheduleMs.length) return undefined;
  const high = scheduleMs[index];
  const low = index === 0 ? 0 : Math.min(scheduleMs[index - 1], high);
  // 1 - random() lies in (0, 1]: the wait is never exactly the band's lower end.
  return Math.max(1, Math.ceil(low + (1 - random()) * (high - low)));
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unusable.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
