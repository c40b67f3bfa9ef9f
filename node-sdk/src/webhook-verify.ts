import { createHmac, timingSafeEqual } from "node:crypto";

/** Why a webhook request was refused; `reason` is stable, for logs and metrics. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly reason: "missing_headers" | "bad_timestamp" | "stale" | "no_matching_signature" | "bad_secret",
    message: string,
  ) {
    super(message);
  }
}

/** Headers as Node (`req.headers`), the Fetch API (`Headers`) or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** The endpoint's signing secret (`whsec_…`). */
  secret?: string;
  /** Several secrets, during a rotation: a request signed with any one of them is accepted. */
  secrets?: readonly string[];
  /** How far `webhook-timestamp` may be from now, either way (default 300 s, as Standard Webhooks). */
  toleranceSeconds?: number;
  /** The current time in milliseconds (tests). */
  now?: number;
}

const SECRET_PREFIX = "whsec_";

/**
 * Verifies a Standard Webhooks request (`webhook-id`, `webhook-timestamp`, `webhook-signature`
 * with space-separated `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${body}`) and returns
 * the parsed JSON payload. Pass the raw body exactly as received: a re-serialised object signs
 * differently. Throws {@link WebhookVerificationError} when it is not authentic or too old.
 */
export function verifyWebhook<T = unknown>(headers: WebhookHeaders, body: string | Uint8Array, options: VerifyWebhookOptions): T {
  const secrets = [...(options.secrets ?? []), ...(options.secret !== undefined ? [options.secret] : [])];
  if (secrets.length === 0) throw new WebhookVerificationError("bad_secret", "Pass the endpoint's signing secret as `secret` (or `secrets` during a rotation).");
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError("missing_headers", "Missing webhook-id, webhook-timestamp or webhook-signature header: is this a Switchboard webhook?");
  }
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError("bad_timestamp", "webhook-timestamp is not Unix seconds.");
  const tolerance = options.toleranceSeconds ?? 300;
  const skew = Math.abs(Math.floor((options.now ?? Date.now()) / 1000) - Number(timestamp));
  // Old requests are refused so a captured one cannot be replayed later.
  if (skew > tolerance) throw new WebhookVerificationError("stale", `webhook-timestamp is ${skew} s from now, more than the ${tolerance} s tolerance: check the clock, or this is a replay.`);

  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  const signed = Buffer.from(`${id}.${timestamp}.${text}`, "utf8");
  const presented = signature
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => Buffer.from(entry.slice(3), "base64"));
  for (const secret of secrets) {
    const expected = createHmac("sha256", keyOf(secret)).update(signed).digest();
    // Equal lengths first: timingSafeEqual throws otherwise.
    if (presented.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected))) return JSON.parse(text) as T;
  }
  throw new WebhookVerificationError("no_matching_signature", "No signature matches the secret(s): check the endpoint's secret (GET /v1/webhooks/:id/secret) and that the body is the raw one.");
}

function keyOf(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
  if (key.length === 0) throw new WebhookVerificationError("bad_secret", "The signing secret is empty or not base64 after `whsec_`.");
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}
