/** One outbound text. */
export interface SmsSendRequest {
  /** E.164. */
  to: string;
  /** Our number, E.164. */
  from: string;
  body: string;
  /**
   * MMS: absolute URLs of pictures the provider fetches and sends with the text (Twilio: one
   * `MediaUrl` field each, at most 10). Absent or empty: a plain SMS.
   */
  mediaUrls?: readonly string[];
  /** Where the provider posts status reports for this text (`POST /v1/sms/status`), absolute. */
  statusCallbackUrl: string;
}

/** One file of an inbound MMS, as the provider announced it. */
export interface InboundMediaRef {
  /** Where the provider serves it (Twilio: its API, which redirects to a CDN). */
  url: string;
  /** The type the provider names (`MediaContentType{N}`); the bytes decide in the end. */
  contentType?: string;
}

/** What the provider answered, as the delivery worker acts on it. */
export type SmsSendResult =
  /** Accepted. `providerMessageId`: the provider's id (Twilio `SM…`); `status` as the provider put it. */
  | { kind: "accepted"; providerMessageId: string; status: "queued" | "accepted" | "sending" | "sent"; statusCode: number; segments?: number }
  /**
   * The number unsubscribed at the provider (Twilio error 21610): never retry, and record an
   * opt-out in the consent ledger.
   */
  | { kind: "opted_out"; statusCode: number; errorCode: string; detail: string }
  /** 429, 5xx, a timeout or a network error: retry, after `retryAfterMs` when the provider said. */
  | { kind: "retry"; statusCode?: number; errorCode?: string; retryAfterMs?: number; detail: string }
  /** A permanent error (invalid number, bad credentials, …): never retried. */
  | { kind: "failed"; statusCode?: number; errorCode?: string; detail: string };

/** An inbound text or status report, parsed from the provider's webhook. */
export type SmsWebhook =
  | { kind: "inbound"; providerMessageId: string; from: string; to: string; body: string; media: InboundMediaRef[] }
  | { kind: "status"; providerMessageId: string; status: "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed"; errorCode?: string; detail?: string };

/**
 * An SMS provider. Drivers side by side: `twilio-sms-gateway.ts` (Twilio's REST Messages API and
 * webhooks) and `sandbox-sms-gateway.ts` (the default: texts are stored and shown on a local page).
 * Never throws for a provider's answer; every outcome is an {@link SmsSendResult}.
 */
export interface SmsGateway {
  /** `twilio` or `sandbox`, for logs and the timeline. */
  readonly name: "twilio" | "sandbox";
  send(request: SmsSendRequest): Promise<SmsSendResult>;
}
