import type { PushSubscriptionRecord } from "../delivery-store.js";

/** Options of one Web Push message (RFC 8030 section 5). */
export interface PushOptions {
  /** Seconds the push service keeps the message for an offline browser (`TTL` header). */
  ttlSeconds: number;
  /** `Urgency` header (RFC 8030 section 5.3). */
  urgency: "very-low" | "low" | "normal" | "high";
  /**
   * `Topic` header (RFC 8030 section 5.4): a newer message with the same topic replaces one the
   * push service still holds. At most 32 characters of the URL-safe base64 alphabet.
   */
  topic?: string;
}

/** What a push service answered, as the delivery worker acts on it. */
export type PushResult =
  /** Accepted (201). `location`: the push message resource the service created, when it said. */
  | { kind: "sent"; statusCode: number; location?: string }
  /** 404 or 410: the subscription expired or was unsubscribed; remove it, never retry. */
  | { kind: "gone"; statusCode: number; detail: string }
  /** 429, 5xx, a timeout or a network error: retry, after `retryAfterMs` when the service said. */
  | { kind: "retry"; statusCode?: number; retryAfterMs?: number; detail: string }
  /** Any other answer (400, 401, 403, 413, …): a permanent error, never retried. */
  | { kind: "failed"; statusCode?: number; detail: string };

/**
 * Sends one encrypted Web Push message (RFC 8291) with VAPID (RFC 8292) to one subscription.
 * Drivers: `web-push-sender.ts` (the `web-push` library). Never throws for an answer of the push
 * service; every outcome is a {@link PushResult}.
 */
export interface PushSender {
  /** The VAPID public key (uncompressed P-256 point, base64url) browsers subscribe with. */
  readonly publicKey: string;
  send(subscription: PushSubscriptionRecord, payload: string, options: PushOptions): Promise<PushResult>;
}
