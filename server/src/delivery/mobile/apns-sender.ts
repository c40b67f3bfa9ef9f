import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import http2 from "node:http2";
import { SignJWT } from "jose";
import { parseRetryAfter } from "../../webhooks/webhook-retry-policy.js";
import type { DeviceRecord } from "./device-store.js";
import { describeBody, type MobilePush, type MobilePushResult, type MobilePushSender } from "./mobile-push-sender.js";

/** Apple's hosts; `APNS_ENV` picks one, `APNS_BASE_URL` overrides both. */
export const APNS_HOSTS = { sandbox: "https://api.sandbox.push.apple.com", production: "https://api.push.apple.com" } as const;

/** Options of {@link ApnsSender}. */
export interface ApnsSenderOptions {
  /** The `.p8` signing key's PEM (PKCS#8, P-256), as Apple's developer portal hands it out. */
  keyPem: string;
  /** The key's 10-character id (`APNS_KEY_ID`), sent as the JWT's `kid`. */
  keyId: string;
  /** The team id (`APNS_TEAM_ID`), the JWT's `iss`. */
  teamId: string;
  /** The app's bundle id (`APNS_TOPIC`), the `apns-topic` of devices registered without an `appId`. */
  topic: string;
  /** `https://api.push.apple.com`, the sandbox host, or a test server (`APNS_BASE_URL`). */
  baseUrl: string;
  /** How long one request may take, in ms (`PUSH_TIMEOUT_MS`). */
  timeoutMs: number;
  /** How long APNs keeps an alert for an offline device (`apns-expiration`, from `PUSH_TTL_SECONDS`). */
  ttlSeconds: number;
  /** Extra CA certificates to trust for `baseUrl` (PEM): tests pass their local server's. Default: Node's roots. */
  ca?: string;
  /** How long one provider token is reused, in ms. Default 50 minutes. */
  tokenMaxAgeMs?: number;
  /** The clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

/**
 * Apple refuses a provider token older than an hour (`ExpiredProviderToken`) and one refreshed
 * more often than every 20 minutes (`TooManyProviderTokenUpdates`): 50 minutes sits between.
 */
const DEFAULT_TOKEN_MAX_AGE_MS = 50 * 60_000;
/** `apns-collapse-id` may hold at most 64 bytes. */
const COLLAPSE_ID_MAX_BYTES = 64;
/** Reasons for which the token is dead: the device is removed. */
const INVALID_TOKEN_REASONS = new Set(["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"]);

/**
 * The APNs driver of {@link MobilePushSender}: one HTTP/2 session to Apple (opened on first use,
 * reopened after it closes or receives GOAWAY), token authentication with an ES256 JWT signed
 * from the team's `.p8` key and reused for 50 minutes, and Apple's documented headers:
 * `apns-topic`, `apns-push-type` (`alert` / `background`), `apns-priority` (10 / 5),
 * `apns-expiration` and `apns-collapse-id` (the conversation).
 */
export class ApnsSender implements MobilePushSender {
  readonly channel = "apns" as const;
  readonly platform = "ios" as const;
  private readonly key: KeyObject;
  private readonly now: () => number;
  private session?: http2.ClientHttp2Session;
  private token?: { jwt: string; issuedAt: number };

  constructor(private readonly options: ApnsSenderOptions) {
    // Parsed once: a bad key stops the start instead of every push.
    this.key = createPrivateKey(options.keyPem);
    this.now = options.now ?? Date.now;
  }

  /** The provider token in force; signed again once it is `tokenMaxAgeMs` old (or after Apple said it expired). */
  private async providerToken(): Promise<string> {
    const now = this.now();
    const maxAge = this.options.tokenMaxAgeMs ?? DEFAULT_TOKEN_MAX_AGE_MS;
    if (this.token && now - this.token.issuedAt < maxAge) return this.token.jwt;
    const issuedAt = Math.floor(now / 1000);
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: this.options.keyId }).setIssuer(this.options.teamId).setIssuedAt(issuedAt).sign(this.key);
    this.token = { jwt, issuedAt: issuedAt * 1000 };
    return jwt;
  }

  /** The shared session, opened when there is none usable. */
  private connection(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.options.baseUrl, this.options.ca ? { ca: this.options.ca } : {});
    // Errors surface on the streams; the session is simply replaced on the next push.
    session.on("error", () => undefined);
    session.on("goaway", () => session.close());
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    // Idle between bursts: no open streams should not keep the process alive.
    session.unref();
    this.session = session;
    return session;
  }

  async send(device: DeviceRecord, push: MobilePush): Promise<MobilePushResult> {
    let jwt: string;
    try {
      jwt = await this.providerToken();
    } catch (err) {
      return { kind: "failed", detail: `APNs provider token could not be signed: ${(err as Error).message}` };
    }
    const now = this.now();
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": `/3/device/${encodeURIComponent(device.token)}`,
      authorization: `bearer ${jwt}`,
      "apns-topic": device.appId ?? this.options.topic,
      "content-type": "application/json",
    };
    let payload: unknown;
    switch (push.kind) {
      case "alert":
        headers["apns-push-type"] = "alert";
        headers["apns-priority"] = "10";
        headers["apns-expiration"] = String(Math.floor(now / 1000) + this.options.ttlSeconds);
        headers["apns-collapse-id"] = collapseId(push.collapseId);
        payload = { aps: { alert: { title: push.title, body: push.body }, badge: push.badge, sound: "default", "thread-id": push.collapseId }, ...push.data };
        break;
      case "badge":
        // Apple requires priority 5 for background pushes and throttles them; an old badge is worthless.
        headers["apns-push-type"] = "background";
        headers["apns-priority"] = "5";
        headers["apns-expiration"] = "0";
        payload = { aps: { "content-available": 1, badge: push.badge }, type: "read", conversationId: push.conversationId };
        break;
      default: {
        const exhaustive: never = push;
        return exhaustive;
      }
    }
    const answer = await this.request(headers, JSON.stringify(payload));
    if ("error" in answer) return { kind: "retry", detail: answer.error };
    return this.interpret(answer);
  }

  /** One POST on the shared session; resolves with the answer or the reason there is none. */
  private request(headers: http2.OutgoingHttpHeaders, body: string): Promise<{ status: number; apnsId?: string; retryAfter?: string; body: string } | { error: string }> {
    return new Promise((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connection().request(headers);
      } catch (err) {
        resolve({ error: `APNs unreachable: ${(err as Error).message}` });
        return;
      }
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        resolve({ error: `APNs did not answer within ${this.options.timeoutMs} ms` });
      }, this.options.timeoutMs);
      let status = 0;
      let apnsId: string | undefined;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        apnsId = typeof h["apns-id"] === "string" ? h["apns-id"] : undefined;
        retryAfter = typeof h["retry-after"] === "string" ? h["retry-after"] : undefined;
      });
      stream.on("data", (chunk: Buffer) => {
        // Apple's error bodies are a few dozen bytes; anything past 4 KiB is not worth keeping.
        if (chunks.reduce((n, c) => n + c.length, 0) < 4096) chunks.push(chunk);
      });
      stream.on("end", () => {
        clearTimeout(timer);
        resolve(status ? { status, ...(apnsId ? { apnsId } : {}), ...(retryAfter ? { retryAfter } : {}), body: Buffer.concat(chunks).toString("utf8") } : { error: "APNs closed the stream without an answer" });
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        resolve({ error: `APNs unreachable: ${(err as NodeJS.ErrnoException).code ?? ""} ${err.message}`.replace(/\s+/g, " ") });
      });
      stream.end(body);
    });
  }

  private interpret(answer: { status: number; apnsId?: string; retryAfter?: string; body: string }): MobilePushResult {
    const { status } = answer;
    if (status === 200) return { kind: "sent", statusCode: status, ...(answer.apnsId ? { id: answer.apnsId } : {}) };
    const reason = parseReason(answer.body);
    const detail = `APNs answered ${status}${describeBody(answer.body)}`;
    if (status === 410 || (status === 400 && reason && INVALID_TOKEN_REASONS.has(reason))) {
      return { kind: "invalid_token", statusCode: status, reason: reason ?? "Unregistered", detail };
    }
    if (status === 403 && reason === "ExpiredProviderToken") {
      // Our clock or Apple's drifted: sign a fresh token for the retry.
      this.token = undefined;
      return { kind: "retry", statusCode: status, reason, detail };
    }
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(answer.retryAfter, this.now());
      return { kind: "retry", statusCode: status, ...(reason ? { reason } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail };
    }
    return { kind: "failed", statusCode: status, ...(reason ? { reason } : {}), detail };
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.closed) return;
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}

/** The conversation id as an `apns-collapse-id`: itself when it fits 64 bytes, else a hash of it. */
export function collapseId(conversationId: string): string {
  if (Buffer.byteLength(conversationId, "utf8") <= COLLAPSE_ID_MAX_BYTES) return conversationId;
  return createHash("sha256").update(conversationId, "utf8").digest("base64url");
}

function parseReason(body: string): string | undefined {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === "string" ? reason : undefined;
  } catch {
    return undefined;
  }
}
