import { createHash } from "node:crypto";
import type https from "node:https";
import webpush from "web-push";
import { parseRetryAfter } from "../../webhooks/webhook-retry-policy.js";
import type { DestinationPolicy } from "../../webhooks/destination-policy.js";
import type { PushSubscriptionRecord } from "../delivery-store.js";
import type { PushOptions, PushResult, PushSender } from "./push-sender.js";

/** The VAPID identity (RFC 8292) every push request is signed with. */
export interface VapidDetails {
  /** A `mailto:` or `https:` contact the push service operator can reach us at. */
  subject: string;
  /** Uncompressed P-256 public key, base64url (87 characters). */
  publicKey: string;
  /** P-256 private key, base64url (43 characters). */
  privateKey: string;
}

/** Options of {@link WebPushSender}. */
export interface WebPushSenderOptions {
  vapid: VapidDetails;
  /**
   * How long one request to a push service may take, in ms (`PUSH_TIMEOUT_MS`). Bounds both the
   * socket's idle time and the whole exchange, so a service that trickles its answer cannot hold
   * a delivery lease.
   */
  timeoutMs: number;
  /**
   * The HTTPS agent for push requests. Default: Node's global agent. Tests pass one that trusts
   * the self-signed certificate of their local push service (web-push only speaks https).
   */
  agent?: https.Agent;
  /**
   * Asked before every send: an endpoint accepted at subscription time may resolve to a private
   * address later. Default: none (every endpoint is sent to); the composition root passes the
   * policy of `PUSH_ALLOW_PRIVATE`.
   */
  destinations?: DestinationPolicy;
}

/** Lifetime of a VAPID JWT (RFC 8292 allows at most 24 h). */
const VAPID_TOKEN_LIFETIME_S = 12 * 3600;
/** A cached VAPID JWT is replaced this long before it expires. */
const VAPID_RENEW_MARGIN_S = 3600;
/** Push service origins whose VAPID header is kept. */
const VAPID_CACHE_MAX = 1000;

/** At most this much of a push service's error body goes into a result's `detail`. */
const DETAIL_BODY_CHARS = 200;

/**
 * The Web Push driver of {@link PushSender}: encrypts with RFC 8291 (`aes128gcm`), signs with
 * VAPID (RFC 8292) and POSTs to the subscription's push service through the `web-push` library,
 * then turns whatever happened into a {@link PushResult}. It never throws: the delivery worker
 * decides on the result alone.
 */
export class WebPushSender implements PushSender {
  readonly publicKey: string;
  /** VAPID `Authorization` per push service origin, signed once and reused until near expiry. */
  private readonly vapidHeaders = new Map<string, { authorization: string; renewAt: number }>();

  constructor(private readonly options: WebPushSenderOptions) {
    this.publicKey = options.vapid.publicKey;
  }

  /**
   * The VAPID header for the endpoint's push service. web-push signs a fresh ES256 JWT per push
   * unless given one: measured on an idle 2-core machine, a push took 1.55 ms of event-loop time
   * that way and 0.39 ms (the RFC 8291 encryption alone) with this cache. Push services accept the
   * same token until its `exp`, so it is signed once per origin and lifetime.
   */
  private authorization(endpoint: string, now: number): string {
    const url = new URL(endpoint);
    const audience = `${url.protocol}//${url.host}`;
    const cached = this.vapidHeaders.get(audience);
    if (cached && cached.renewAt > now) return cached.authorization;
    const { subject, publicKey, privateKey } = this.options.vapid;
    const headers = webpush.getVapidHeaders(audience, subject, publicKey, privateKey, "aes128gcm", Math.floor(now / 1000) + VAPID_TOKEN_LIFETIME_S);
    // Few push services exist; the cap only guards against a flood of made-up origins.
    if (this.vapidHeaders.size >= VAPID_CACHE_MAX) this.vapidHeaders.clear();
    this.vapidHeaders.set(audience, { authorization: headers.Authorization, renewAt: now + (VAPID_TOKEN_LIFETIME_S - VAPID_RENEW_MARGIN_S) * 1000 });
    return headers.Authorization;
  }

  async send(subscription: PushSubscriptionRecord, payload: string, options: PushOptions): Promise<PushResult> {
    const { timeoutMs, agent, destinations } = this.options;
    if (destinations) {
      const verdict = await destinations.check(subscription.endpoint);
      switch (verdict.verdict) {
        case "allowed":
          break;
        case "refused":
          return { kind: "failed", detail: `push not sent: ${verdict.reason}; push endpoints must be public (PUSH_ALLOW_PRIVATE)` };
        case "unresolved":
          return { kind: "retry", detail: `push not sent: ${verdict.reason}` };
        default: {
          const exhaustive: never = verdict;
          return exhaustive;
        }
      }
    }
    const request = webpush.sendNotification(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      payload,
      {
        // Signed here (and cached) instead of by web-push on every call: no vapidDetails, and
        // this process never calls webpush.setVapidDetails, so web-push does not sign again.
        headers: { Authorization: this.authorization(subscription.endpoint, Date.now()) },
        TTL: options.ttlSeconds,
        urgency: options.urgency,
        ...(options.topic ? { topic: options.topic } : {}),
        // Pinned: RFC 8291 is aes128gcm; the older `aesgcm` draft was web-push's default once.
        contentEncoding: "aes128gcm",
        timeout: timeoutMs,
        ...(agent ? { agent } : {}),
      },
    );
    let timer: NodeJS.Timeout | undefined;
    // The socket timeout only fires on idleness; this bounds the whole exchange. The request
    // left behind ends on its own socket timeout; its late outcome is dropped.
    const deadline = new Promise<PushResult>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "retry", detail: `push service did not answer within ${timeoutMs} ms` }), timeoutMs);
    });
    try {
      return await Promise.race([request.then(accepted, refused), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The RFC 8030 `Topic` of a conversation's notifications: a newer push with the same topic
 * replaces one the push service still holds for an offline browser, so a burst waits there as
 * one message. URL-safe base64 of a SHA-256, cut to the 32 characters the RFC allows; the
 * conversation id itself may hold characters a topic may not.
 */
export function pushTopic(conversationId: string): string {
  return createHash("sha256").update(conversationId, "utf8").digest("base64url").slice(0, 32);
}

function accepted(response: webpush.SendResult): PushResult {
  const location = header(response.headers, "location");
  return { kind: "sent", statusCode: response.statusCode, ...(location ? { location } : {}) };
}

/** Maps a non-2xx answer, a network failure or a refused input to a result. */
function refused(err: unknown): PushResult {
  if (err instanceof webpush.WebPushError) {
    const status = err.statusCode;
    const detail = `push service answered ${status}${describeBody(err.body)}`;
    if (status === 404 || status === 410) return { kind: "gone", statusCode: status, detail };
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(header(err.headers, "retry-after"), Date.now());
      return { kind: "retry", statusCode: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail };
    }
    return { kind: "failed", statusCode: status, detail };
  }
  const error: NodeJS.ErrnoException = err instanceof Error ? err : new Error(String(err));
  // web-push rejects bad inputs (keys that do not decode, an invalid point, a bad VAPID subject)
  // before sending anything: retrying cannot help.
  if (!isNetworkError(error)) return { kind: "failed", detail: `push not sent: ${error.message}` };
  return { kind: "retry", detail: `push service unreachable: ${error.code ? `${error.code} ` : ""}${error.message}` };
}

/**
 * Whether the error came from the connection (refused, reset, DNS, TLS, web-push's socket
 * timeout) rather than from preparing the request.
 */
function isNetworkError(error: NodeJS.ErrnoException): boolean {
  if (error.message === "Socket timeout") return true;
  const code = error.code;
  if (!code) return false;
  if (code.startsWith("ERR_CRYPTO_") || code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE") return false;
  return true;
}

function describeBody(body: string | undefined): string {
  const text = body?.trim();
  if (!text) return "";
  return `: ${text.length > DETAIL_BODY_CHARS ? `${text.slice(0, DETAIL_BODY_CHARS)}…` : text}`;
}

function header(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
