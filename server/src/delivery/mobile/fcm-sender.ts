import { createPrivateKey, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import { parseRetryAfter } from "../../webhooks/webhook-retry-policy.js";
import type { DeviceRecord } from "./device-store.js";
import { describeBody, type MobilePush, type MobilePushResult, type MobilePushSender } from "./mobile-push-sender.js";

/** The fields of a Google service-account key file (`FCM_SERVICE_ACCOUNT_FILE`) the driver uses. */
export interface FcmServiceAccount {
  /** `project_id`: the Firebase project messages are sent through. */
  projectId: string;
  /** `client_email`: the assertion's `iss`. */
  clientEmail: string;
  /** `private_key`: PEM (PKCS#8 RSA), signs the assertion with RS256. */
  privateKey: string;
  /** `private_key_id`, sent as the assertion's `kid` when present. */
  privateKeyId?: string;
  /** `token_uri`: where the assertion is exchanged for an access token (and its `aud`). */
  tokenUri: string;
}

/** Options of {@link FcmSender}. */
export interface FcmSenderOptions {
  serviceAccount: FcmServiceAccount;
  /** `https://fcm.googleapis.com`, or a compatible server (`FCM_BASE_URL`). */
  baseUrl: string;
  /** How long one request may take, in ms (`PUSH_TIMEOUT_MS`). */
  timeoutMs: number;
  /** How long FCM keeps an alert for an offline device (`android.ttl`, from `PUSH_TTL_SECONDS`). */
  ttlSeconds: number;
  /** The clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

/** The OAuth2 scope of FCM HTTP v1. */
export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** Lifetime asked for the assertion (Google's maximum). */
const ASSERTION_LIFETIME_S = 3600;
/** An access token is replaced this long before it expires, so no request carries one that dies on the way. */
const ACCESS_TOKEN_MARGIN_MS = 5 * 60_000;

interface FcmErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: { "@type"?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[] };
}

/**
 * The FCM HTTP v1 driver of {@link MobilePushSender}: an OAuth2 access token from the service
 * account (a JWT assertion signed with RS256 and exchanged at the key's `token_uri`, RFC 7523),
 * cached until shortly before it expires and fetched once however many pushes wait for it; then
 * `POST /v1/projects/{project}/messages:send`. Alerts carry a `notification` with the
 * conversation as `tag` and `collapse_key`; badge updates are data-only messages.
 */
export class FcmSender implements MobilePushSender {
  readonly channel = "fcm" as const;
  readonly platform = "android" as const;
  private readonly key: KeyObject;
  private readonly now: () => number;
  private accessToken?: { token: string; renewAt: number };
  private pending?: Promise<string>;

  constructor(private readonly options: FcmSenderOptions) {
    this.key = createPrivateKey(options.serviceAccount.privateKey);
    this.now = options.now ?? Date.now;
  }

  /** The access token in force; one exchange at a time, shared by every push waiting for it. */
  private token(): Promise<string> {
    if (this.accessToken && this.accessToken.renewAt > this.now()) return Promise.resolve(this.accessToken.token);
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const { clientEmail, tokenUri, privateKeyId } = this.options.serviceAccount;
    const issuedAt = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(privateKeyId ? { kid: privateKeyId } : {}) })
      .setIssuer(clientEmail)
      .setAudience(tokenUri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_S)
      .sign(this.key);
    const response = await fetch(tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new TokenError(response.status, `the OAuth2 token endpoint ${tokenUri} answered ${response.status}${describeBody(text)}`);
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new TokenError(response.status, `the OAuth2 token endpoint ${tokenUri} answered something other than JSON`);
    }
    if (typeof parsed.access_token !== "string") throw new TokenError(response.status, `the OAuth2 token endpoint ${tokenUri} answered without access_token`);
    const expiresInMs = (typeof parsed.expires_in === "number" ? parsed.expires_in : 3600) * 1000;
    this.accessToken = { token: parsed.access_token, renewAt: this.now() + Math.max(0, expiresInMs - ACCESS_TOKEN_MARGIN_MS) };
    return parsed.access_token;
  }

  async send(device: DeviceRecord, push: MobilePush): Promise<MobilePushResult> {
    let token: string;
    try {
      token = await this.token();
    } catch (err) {
      if (err instanceof TokenError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        return { kind: "failed", statusCode: err.status, detail: `${err.message}; check FCM_SERVICE_ACCOUNT_FILE` };
      }
      return { kind: "retry", detail: `FCM access token unavailable: ${(err as Error).message}` };
    }
    const url = `${this.options.baseUrl}/v1/projects/${encodeURIComponent(this.options.serviceAccount.projectId)}/messages:send`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ message: this.message(device, push) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const error = err as Error & { cause?: { code?: string } };
      const what = error.name === "TimeoutError" ? `did not answer within ${this.options.timeoutMs} ms` : `unreachable: ${error.cause?.code ?? error.message}`;
      return { kind: "retry", detail: `FCM ${what}` };
    }
    return this.interpret(response, text);
  }

  /** The HTTP v1 `Message` for the device. */
  private message(device: DeviceRecord, push: MobilePush): Record<string, unknown> {
    switch (push.kind) {
      case "alert":
        return {
          token: device.token,
          notification: { title: push.title, body: push.body },
          data: { ...push.data, badge: String(push.badge) },
          android: {
            priority: "high",
            ttl: `${this.options.ttlSeconds}s`,
            collapse_key: push.collapseId.slice(0, 100),
            ...(device.appId ? { restricted_package_name: device.appId } : {}),
            notification: { tag: push.collapseId, notification_count: push.badge },
          },
        };
      case "badge":
        // Data only: Android shows nothing; the app clears the conversation's notification and sets its count.
        return {
          token: device.token,
          data: { type: "read", conversationId: push.conversationId, badge: String(push.badge) },
          android: { priority: "normal", ttl: "0s", collapse_key: `read:${push.conversationId}`.slice(0, 100), ...(device.appId ? { restricted_package_name: device.appId } : {}) },
        };
      default: {
        const exhaustive: never = push;
        return exhaustive;
      }
    }
  }

  private interpret(response: Response, text: string): MobilePushResult {
    const status = response.status;
    if (response.ok) {
      const name = safeJson<{ name?: unknown }>(text)?.name;
      return { kind: "sent", statusCode: status, ...(typeof name === "string" ? { id: name } : {}) };
    }
    const error = safeJson<FcmErrorBody>(text)?.error;
    const errorCode = error?.details?.find((d) => d.errorCode)?.errorCode ?? error?.status;
    const detail = `FCM answered ${status}${describeBody(text)}`;
    const reason = errorCode ? { reason: errorCode } : {};
    if (errorCode === "UNREGISTERED" || (status === 404 && errorCode === "NOT_FOUND")) {
      return { kind: "invalid_token", statusCode: status, reason: errorCode, detail };
    }
    // INVALID_ARGUMENT also covers a bad payload; only a complaint about the token proves the token bad.
    if (status === 400 && errorCode === "INVALID_ARGUMENT" && aboutToken(error)) {
      return { kind: "invalid_token", statusCode: status, reason: errorCode, detail };
    }
    if (status === 401) {
      // The access token was revoked or expired early: fetch a new one for the retry.
      this.accessToken = undefined;
      return { kind: "retry", statusCode: status, ...reason, detail };
    }
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
      return { kind: "retry", statusCode: status, ...reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail };
    }
    return { kind: "failed", statusCode: status, ...reason, detail };
  }

  async close(): Promise<void> {
    // fetch's pooled connections close themselves when idle.
  }
}

class TokenError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function aboutToken(error: FcmErrorBody["error"]): boolean {
  if (error?.details?.some((d) => d.fieldViolations?.some((v) => v.field === "message.token"))) return true;
  return /registration token/i.test(error?.message ?? "");
}

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
