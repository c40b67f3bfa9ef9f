import { createHmac } from "node:crypto";
import type { WebhookEndpoint } from "./webhook-store.js";

/** Prefix of Standard Webhooks signing secrets; the rest is the key, base64. */
const SECRET_PREFIX = "whsec_";

/**
 * The `webhook-signature` header value (Standard Webhooks): `v1,<base64 HMAC-SHA256>` per secret,
 * space-separated, over `${id}.${timestamp}.${body}`, keyed with the base64-decoded part of the
 * secret after `whsec_`. Receivers accept the request when any one signature matches.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
      return `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
    })
    .join(" ");
}

/** The three Standard Webhooks headers of one signed request. */
export interface StandardWebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * Signs `body` for a request sent at `nowMs`: the `webhook-id`, `webhook-timestamp` (Unix
 * seconds) and `webhook-signature` headers, as the outbound webhooks and the pre-send hook send
 * them. `id` must be unique per message; a resend of the same message keeps it (receivers
 * de-duplicate by it).
 */
export function standardWebhookHeaders(secrets: readonly string[], id: string, body: string, nowMs: number): StandardWebhookHeaders {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(secrets, id, timestamp, body),
  };
}

/**
 * The secrets a request is signed with at `now`: the current one, plus the one before the last
 * rotation while its grace period lasts, so receivers can switch secrets without losing a request.
 */
export function signingSecrets(endpoint: WebhookEndpoint, now: number): string[] {
  const previousValid =
    endpoint.previousSecret !== undefined &&
    endpoint.previousSecretExpiresAt !== undefined &&
    Date.parse(endpoint.previousSecretExpiresAt) > now;
  return previousValid ? [endpoint.secret, endpoint.previousSecret as string] : [endpoint.secret];
}
