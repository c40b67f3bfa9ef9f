import { parseRetryAfter } from "../../webhooks/webhook-retry-policy.js";
import type { DeviceRecord } from "./device-store.js";
import { describeBody, type MobilePush, type MobilePushResult, type MobilePushSender } from "./mobile-push-sender.js";

/** Options of {@link ExpoSender}. */
export interface ExpoSenderOptions {
  /** `https://exp.host`, or a compatible server (`EXPO_BASE_URL`). */
  baseUrl: string;
  /** The project's access token when its push security is on (`EXPO_ACCESS_TOKEN`); sent as a bearer token. */
  accessToken?: string;
  /** How long one request may take, in ms (`PUSH_TIMEOUT_MS`). */
  timeoutMs: number;
  /** How long an alert may wait for an offline device (`ttl`, from `PUSH_TTL_SECONDS`). */
  ttlSeconds: number;
  /** The clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

interface ExpoTicket {
  status?: "ok" | "error";
  id?: string;
  message?: string;
  details?: { error?: string };
}

/**
 * The Expo driver of {@link MobilePushSender}, for apps built with Expo: one message per request
 * to `POST /--/api/v2/push/send`, whose answer is a push ticket. Expo forwards to APNs or FCM
 * itself; a ticket saying `DeviceNotRegistered` means the token is dead. Push receipts (which
 * report later failures) are not fetched: an app that uninstalled is reported on the next push.
 */
export class ExpoSender implements MobilePushSender {
  readonly channel = "expo" as const;
  readonly platform = "expo" as const;
  private readonly now: () => number;

  constructor(private readonly options: ExpoSenderOptions) {
    this.now = options.now ?? Date.now;
  }

  async send(device: DeviceRecord, push: MobilePush): Promise<MobilePushResult> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.options.baseUrl}/--/api/v2/push/send`, {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          ...(this.options.accessToken ? { authorization: `Bearer ${this.options.accessToken}` } : {}),
        },
        body: JSON.stringify([this.message(device, push)]),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const error = err as Error & { cause?: { code?: string } };
      const what = error.name === "TimeoutError" ? `did not answer within ${this.options.timeoutMs} ms` : `unreachable: ${error.cause?.code ?? error.message}`;
      return { kind: "retry", detail: `Expo ${what}` };
    }
    const status = response.status;
    const detail = `Expo answered ${status}${describeBody(text)}`;
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
      return { kind: "retry", statusCode: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail };
    }
    if (!response.ok) return { kind: "failed", statusCode: status, detail: status === 401 || status === 403 ? `${detail}; check EXPO_ACCESS_TOKEN` : detail };
    let ticket: ExpoTicket | undefined;
    try {
      const data = (JSON.parse(text) as { data?: ExpoTicket[] | ExpoTicket }).data;
      ticket = Array.isArray(data) ? data[0] : data;
    } catch {
      ticket = undefined;
    }
    if (ticket?.status === "ok") return { kind: "sent", statusCode: status, ...(ticket.id ? { id: ticket.id } : {}) };
    const reason = ticket?.details?.error;
    if (reason === "DeviceNotRegistered") return { kind: "invalid_token", statusCode: status, reason, detail };
    if (reason === "MessageRateExceeded") return { kind: "retry", statusCode: status, reason, detail };
    return { kind: "failed", statusCode: status, ...(reason ? { reason } : {}), detail: ticket ? detail : `${detail} (no push ticket in the answer)` };
  }

  /** Expo's message format; the badge update is a data message with iOS background delivery. */
  private message(device: DeviceRecord, push: MobilePush): Record<string, unknown> {
    switch (push.kind) {
      case "alert":
        return {
          to: device.token,
          title: push.title,
          body: push.body,
          badge: push.badge,
          sound: "default",
          priority: "high",
          ttl: this.options.ttlSeconds,
          // Expo's format has no collapse id: the conversation travels in `data` for the app.
          data: push.data,
        };
      case "badge":
        return { to: device.token, badge: push.badge, priority: "normal", _contentAvailable: true, data: { type: "read", conversationId: push.conversationId, badge: String(push.badge) } };
      default: {
        const exhaustive: never = push;
        return exhaustive;
      }
    }
  }

  async close(): Promise<void> {
    // fetch's pooled connections close themselves when idle.
  }
}
