/**
 * Persistence of `Idempotency-Key` records for the HTTP API (see `transport/http-idempotency.ts`,
 * which holds the rules; a driver only stores and compares).
 *
 * A record is keyed by (API key id, idempotency key): two API keys never see each other's
 * records. It starts `in_progress` when a request claims it and becomes `completed` with the
 * response to replay, or is released (deleted) when the response must not be replayed.
 *
 * Contract (shown for every driver by `test/idempotency-store-contract.ts`):
 * - `claim` is atomic: of concurrent claims of one free key, across processes and nodes, exactly
 *   one gets `claimed`.
 * - A record whose `expiresAt` has passed is treated as absent, whether or not it was purged yet.
 * - An `in_progress` record whose `lockedUntil` has passed (its request died with its node) may be
 *   claimed again by a request with the same fingerprint; `complete` and `release` of the old
 *   claim then do nothing, as they match the claim's `token`.
 * Errors are thrown as `SwitchboardError` (`unavailable`).
 */
export interface IdempotencyStore {
  /** Creates tables or indexes; idempotent. */
  init(): Promise<void>;
  /** Claims the key for a request, or tells what holds it. */
  claim(claim: IdempotencyClaim): Promise<ClaimResult>;
  /** Stores the response of the claim identified by `token`; does nothing if the claim was taken over. */
  complete(scope: IdempotencyScope, token: string, response: StoredResponse): Promise<void>;
  /** Forgets the claim identified by `token` while it is in progress, so the request can be retried. */
  release(scope: IdempotencyScope, token: string): Promise<void>;
}

/** Which record: one API key's use of one idempotency key. */
export interface IdempotencyScope {
  apiKeyId: string;
  /** The `Idempotency-Key` header, 1–255 characters. */
  key: string;
}

/** Input of {@link IdempotencyStore.claim}. */
export interface IdempotencyClaim extends IdempotencyScope {
  /** Hex SHA-256 of the request's method, path and body: what the key is bound to. */
  fingerprint: string;
  /** Random; identifies this claim to `complete` and `release`. */
  token: string;
  /** The current time (passed in so the rules are testable without waiting). */
  now: Date;
  /** Until when this claim holds while in progress. */
  lockedUntil: Date;
  /** When the record is forgotten (24 h after the first request). */
  expiresAt: Date;
}

/** A response kept for replay. */
export interface StoredResponse {
  status: number;
  /** The body exactly as sent. */
  body: string;
  contentType?: string;
}

/** Result of {@link IdempotencyStore.claim}. */
export type ClaimResult =
  /** The caller owns the key now and must `complete` or `release` it. */
  | { kind: "claimed" }
  /** Another request holds the key and has not finished. */
  | { kind: "in_progress"; fingerprint: string }
  /** A request finished with this key; `response` is what it answered. */
  | { kind: "completed"; fingerprint: string; response: StoredResponse };
