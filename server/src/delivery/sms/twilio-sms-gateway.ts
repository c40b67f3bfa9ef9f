import { parseRetryAfter } from "../../webhooks/webhook-retry-policy.js";
import type { InboundMediaRef, SmsGateway, SmsSendRequest, SmsSendResult, SmsWebhook } from "./sms-gateway.js";
import type { TwilioParams } from "./twilio-signature.js";

/** Options of {@link TwilioSmsGateway}, from `Config.delivery.sms`. */
export interface TwilioSmsGatewayOptions {
  /** `TWILIO_ACCOUNT_SID` (`AC…`). */
  accountSid: string;
  /** `TWILIO_AUTH_TOKEN`. */
  authToken: string;
  /** `TWILIO_API_BASE_URL`, e.g. `https://api.twilio.com` (no trailing path). */
  apiBaseUrl: string;
  /** One request's time limit (`SMS_TIMEOUT_MS`); a send that takes longer is retried. */
  timeoutMs: number;
  /** The HTTP client. Default the global `fetch` (undici). */
  fetch?: typeof fetch;
}

/** Twilio's error codes that this driver acts on. */
const TWILIO_UNSUBSCRIBED = "21610";

/** The statuses Twilio answers a create with, as {@link SmsSendResult} names them. */
const ACCEPTED_STATUSES = new Set(["queued", "accepted", "sending", "sent"]);

/** Sent as `User-Agent`, so Twilio's request logs tell Switchboard's traffic apart. */
const USER_AGENT = "Switchboard-SMS/1";

/** The body of Twilio's answer to a create, success or error (fields we read only). */
interface TwilioMessageJson {
  sid?: unknown;
  status?: unknown;
  num_segments?: unknown;
  code?: unknown;
  message?: unknown;
  more_info?: unknown;
}

/**
 * Sends texts through Twilio's REST Messages API
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth, a form body) and
 * turns every answer into an {@link SmsSendResult}: 201 accepted; 429, 5xx, a timeout or a
 * network failure retried (after `Retry-After` when given); error 21610 (the number texted STOP)
 * `opted_out`; any other 4xx (21211 invalid number, 21614 not a mobile, 20003 bad credentials…)
 * failed for good. It never throws for what Twilio answers.
 */
export class TwilioSmsGateway implements SmsGateway {
  readonly name = "twilio" as const;
  private readonly fetch: typeof fetch;
  private readonly endpoint: string;
  private readonly authorization: string;

  constructor(private readonly options: TwilioSmsGatewayOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    const base = options.apiBaseUrl.replace(/\/+$/, "");
    this.endpoint = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    this.authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  }

  async send(request: SmsSendRequest): Promise<SmsSendResult> {
    const form = new URLSearchParams({ To: request.to, From: request.from, Body: request.body, StatusCallback: request.statusCallbackUrl });
    // One field per picture, repeated: Twilio fetches each URL and sends the text as an MMS.
    for (const url of request.mediaUrls ?? []) form.append("MediaUrl", url);
    let response: Response;
    let json: TwilioMessageJson;
    try {
      // The signal covers reading the body too: a server that stalls mid-answer is a timeout.
      response = await this.fetch(this.endpoint, {
        method: "POST",
        headers: {
          Authorization: this.authorization,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
          "User-Agent": USER_AGENT,
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: "error",
      });
      json = await readJson(response);
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      return {
        kind: "retry",
        detail: timedOut
          ? `Twilio did not answer within ${this.options.timeoutMs} ms (SMS_TIMEOUT_MS).`
          : `Could not reach Twilio at ${this.endpoint}: ${describeNetworkError(err)}.`,
      };
    }
    return interpretAnswer(response, json, Date.now());
  }
}

/** What Twilio's answer to a create means for the delivery worker. */
function interpretAnswer(response: Pick<Response, "status" | "headers">, json: TwilioMessageJson, now: number): SmsSendResult {
  const statusCode = response.status;
  if (statusCode >= 200 && statusCode < 300) {
    if (typeof json.sid !== "string" || json.sid === "") {
      // Not retried: Twilio may well have queued the text, and a retry could send it twice.
      return { kind: "failed", statusCode, detail: `Twilio answered ${statusCode} without a message sid.` };
    }
    const status = typeof json.status === "string" && ACCEPTED_STATUSES.has(json.status) ? (json.status as "queued" | "accepted" | "sending" | "sent") : "queued";
    const segments = Number(json.num_segments);
    return {
      kind: "accepted",
      providerMessageId: json.sid,
      status,
      statusCode,
      ...(Number.isInteger(segments) && segments > 0 ? { segments } : {}),
    };
  }
  const errorCode = json.code === undefined || json.code === null ? undefined : String(json.code);
  const detail = describeError(statusCode, errorCode, json);
  const withCode = errorCode === undefined ? {} : { errorCode };
  if (statusCode === 429 || statusCode >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now);
    return { kind: "retry", statusCode, ...withCode, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), detail };
  }
  if (errorCode === TWILIO_UNSUBSCRIBED) return { kind: "opted_out", statusCode, errorCode, detail };
  return { kind: "failed", statusCode, ...withCode, detail };
}

/** Media Twilio attaches to one inbound message at most; `NumMedia` above it is read as this. */
const MAX_INBOUND_MEDIA = 10;

/**
 * Reads an inbound-message or status-callback webhook from its form parameters; null when they
 * are neither. Inbound texts carry `SmsStatus=received` (and `Body`, "" for a picture-only MMS),
 * and an MMS `NumMedia` with `MediaUrl0…` and `MediaContentType0…`; status callbacks carry
 * `MessageStatus` (older accounts: `SmsStatus`), with `ErrorCode` on failures. Twilio's
 * `accepted`/`scheduled` count as `queued`, `read` (WhatsApp) as `delivered` and `canceled` as
 * `failed`.
 */
export function parseTwilioWebhook(params: TwilioParams): SmsWebhook | null {
  const get = (key: string): string | undefined => {
    const value = params[key];
    return typeof value === "string" ? value : value?.[0];
  };
  const providerMessageId = get("MessageSid") ?? get("SmsSid");
  if (!providerMessageId) return null;
  const status = get("MessageStatus") ?? get("SmsStatus");
  const from = get("From");
  const to = get("To");
  const body = get("Body");
  if (status === "received" || status === "receiving" || (status === undefined && body !== undefined)) {
    if (!from || !to) return null;
    return { kind: "inbound", providerMessageId, from, to, body: body ?? "", media: inboundMedia(get) };
  }
  const mapped = status === undefined ? undefined : STATUS_MAP[status];
  if (!mapped) return null;
  const errorCode = get("ErrorCode") || undefined;
  const detail = get("ErrorMessage") || (errorCode ? ERROR_DESCRIPTIONS[errorCode] : undefined);
  return {
    kind: "status",
    providerMessageId,
    status: mapped,
    ...(errorCode ? { errorCode } : {}),
    ...(detail ? { detail: errorCode ? `Twilio error ${errorCode}: ${detail}` : detail } : {}),
  };
}

/** `MediaUrl{N}` and `MediaContentType{N}` for N below `NumMedia`, skipping gaps. */
function inboundMedia(get: (key: string) => string | undefined): InboundMediaRef[] {
  const count = Number(get("NumMedia") ?? "0");
  if (!Number.isInteger(count) || count <= 0) return [];
  const media: InboundMediaRef[] = [];
  for (let i = 0; i < Math.min(count, MAX_INBOUND_MEDIA); i++) {
    const url = get(`MediaUrl${i}`);
    if (!url) continue;
    const contentType = get(`MediaContentType${i}`);
    media.push({ url, ...(contentType ? { contentType } : {}) });
  }
  return media;
}

const STATUS_MAP: Record<string, Extract<SmsWebhook, { kind: "status" }>["status"] | undefined> = {
  accepted: "queued",
  scheduled: "queued",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  read: "delivered",
  undelivered: "undelivered",
  failed: "failed",
  canceled: "failed",
};

/** What the error codes of status callbacks mean (Twilio sends only the number). */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  "21610": "the recipient replied STOP (unsubscribed).",
  "30001": "queue overflow at Twilio.",
  "30002": "the Twilio account was suspended.",
  "30003": "unreachable destination handset.",
  "30004": "message blocked by the recipient or carrier.",
  "30005": "unknown destination handset.",
  "30006": "landline or unreachable carrier.",
  "30007": "filtered by the carrier as spam.",
  "30008": "unknown error from the carrier.",
};

/** Twilio's JSON body, or `{}` when the answer has none (a proxy's HTML error page). */
async function readJson(response: Response): Promise<TwilioMessageJson> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" ? (parsed as TwilioMessageJson) : {};
  } catch {
    return {};
  }
}

function describeError(statusCode: number, errorCode: string | undefined, json: TwilioMessageJson): string {
  const message = typeof json.message === "string" ? json.message : `HTTP ${statusCode}`;
  const more = typeof json.more_info === "string" ? ` (${json.more_info})` : "";
  return `Twilio answered ${statusCode}${errorCode ? ` with error ${errorCode}` : ""}: ${message}${more}`;
}

/** The most specific reason undici gives (its `cause` names ECONNREFUSED and the like). */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause && "code" in cause ? String((cause as { code: unknown }).code) : undefined;
  return code ? `${err.message} (${code})` : cause ? `${err.message}: ${cause.message}` : err.message;
}
