import { createPrivateKey } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * Every setting of a Switchboard node. This module is the only place that reads `process.env`;
 * each subsystem receives its slice from the composition root.
 */
export interface Config {
  /** HTTP + Socket.IO port (`PORT`, default 3000; 0 picks a free port). */
  port: number;
  /** Bind address (`HOST`, default `0.0.0.0`). */
  host: string;
  /** Embedded store and generated keys (`DATA_DIR`, default `./data`), as an absolute path. */
  dataDir: string;
  /** Use MongoDB instead of the embedded SQLite store (`MONGODB_URI`). */
  mongodbUri?: string;
  /** Cluster mode (`REDIS_URL`). */
  redisUrl?: string;
  /**
   * Socket.IO Redis adapter in cluster mode (`CLUSTER_ADAPTER`): `classic` (PUBLISH to every
   * node) or `sharded` (Redis 7 SPUBLISH per room; a node receives only rooms it has members in).
   * Default `classic`; see the benchmark in README.md.
   */
  clusterAdapter: "classic" | "sharded";
  /** This node's name in logs, metrics and the presence registry (`NODE_ID`, default host-pid). */
  nodeId: string;
  /** Accept the long-polling transport (`ALLOW_POLLING`, default on); needs sticky sessions in a cluster. */
  allowPolling: boolean;
  jwt: {
    /** HS256 secret (`JWT_SECRET`); generated into `DATA_DIR` when neither key option is set. */
    secret?: string;
    /** Asymmetric verification keys (`JWT_JWKS_URL`). */
    jwksUrl?: string;
    /** Asymmetric verification key as PEM (`JWT_PUBLIC_KEY`). */
    publicKey?: string;
    /** Required `iss` (`JWT_ISSUER`). */
    issuer?: string;
    /** Required `aud` (`JWT_AUDIENCE`). */
    audience?: string;
    /** Clock tolerance in seconds (`JWT_CLOCK_TOLERANCE_SECONDS`, default 5). */
    clockToleranceSeconds: number;
    /** Longest lifetime `POST /v1/tokens` mints (`TOKEN_MAX_TTL_SECONDS`, default 86400). */
    maxTtlSeconds: number;
  };
  /** Bootstrap admin API key (`ADMIN_API_KEY`); generated and printed once when unset. */
  adminApiKey?: string;
  /** How long an API key's replaced secret keeps working after a rotation (`API_KEY_ROTATION_GRACE_HOURS`, default 24; 0 ends it at once). */
  apiKeyRotationGraceHours: number;
  /** Allowed browser origins (`ALLOWED_ORIGINS`); empty means only the server's own origin. */
  allowedOrigins: string[];
  /** Externally visible base URL (`PUBLIC_URL`, default `http://localhost:$PORT`). */
  publicUrl: string;
  /** Bearer token `GET /metrics` requires (`METRICS_TOKEN`); unset: no token, so keep /metrics on the private network. */
  metricsToken?: string;
  /** pino level (`LOG_LEVEL`, default `info`). */
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Human-readable logs instead of JSON (`LOG_PRETTY`, default off). */
  logPretty: boolean;
  sqlite: {
    /** `PRAGMA synchronous` (`SQLITE_SYNCHRONOUS`, default `FULL`: an ack survives power loss). */
    synchronous: "FULL" | "NORMAL";
    /** How long a writer waits for another process's lock (`SQLITE_BUSY_TIMEOUT_MS`, default 5000). */
    busyTimeoutMs: number;
  };
  presence: {
    /** Conversations above this many members get occupancy counts, not per-member presence (`PRESENCE_ROOM_LIMIT`, default 100). */
    roomLimit: number;
    /** Window in which presence changes are coalesced (`PRESENCE_COALESCE_MS`, default 250). */
    coalesceMs: number;
    /** Most one occupancy count per large conversation per this interval (`PRESENCE_OCCUPANCY_INTERVAL_MS`, default 1000). */
    occupancyIntervalMs: number;
  };
  limits: {
    /** Socket events per connection per 10 s (`RATE_LIMIT_SOCKET_EVENTS`, default 300). */
    socketEventsPer10s: number;
    /** Messages a user may send per 10 s, all connections together (`RATE_LIMIT_MESSAGES`, default 100). */
    messagesPer10s: number;
    /** HTTP requests per API key per 10 s (`RATE_LIMIT_HTTP`, default 1000). */
    httpPer10s: number;
    /** Conversations one socket may have joined at once (`MAX_JOINED_CONVERSATIONS`, default 200). */
    joinedConversationsPerSocket: number;
    /**
     * Conversations above this many members reach clients with only the receiving user's own
     * membership, and `memberCount` (`CONVERSATION_MEMBER_LIST_LIMIT`, default 100).
     */
    memberListLimit: number;
    /** Largest HTTP request body in bytes (`MAX_HTTP_BODY_BYTES`, default 65536). */
    httpBodyBytes: number;
  };
  /** Seconds a `typing` indicator lives without renewal (`TYPING_TTL_SECONDS`, default 6). */
  typingTtlSeconds: number;
  /** How long SIGTERM waits for in-flight work before closing (`SHUTDOWN_TIMEOUT_MS`, default 10000). */
  shutdownTimeoutMs: number;
  /** Outbound webhooks (see `server/src/webhooks/`). */
  webhooks: WebhookConfig;
  /** The support desk, its widget and the demo (see `server/src/support/`, `demo-app/`). */
  support: SupportConfig;
  /** Reaching offline users: Web Push, then SMS (see `server/src/delivery/`). */
  delivery: DeliveryConfig;
  /** Uploaded files and where their bytes live (see `server/src/uploads/`, `server/src/blobs/`). */
  uploads: UploadConfig;
  /** The optional pre-send moderation hook (see `server/src/moderation/`). */
  preSendHook?: PreSendHookConfig;
}

/** The `Config.uploads` slice. */
export interface UploadConfig {
  /** Where uploaded bytes are kept (`BLOB_STORE`): `fs` under `DATA_DIR/blobs` (default) or `s3`. */
  blobStore: "fs" | "s3";
  /** S3-compatible storage, with `BLOB_STORE=s3`. */
  s3: {
    /** `S3_BUCKET`, required with `s3`. */
    bucket?: string;
    /** `S3_REGION`, default `us-east-1`. */
    region: string;
    /** `S3_ENDPOINT`: MinIO, R2 and the like (default: AWS). */
    endpoint?: string;
    /** `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`; unset: the AWS SDK's default credential chain. */
    accessKeyId?: string;
    secretAccessKey?: string;
    /** `S3_FORCE_PATH_STYLE`: `bucket` in the path instead of the host name (MinIO); default off. */
    forcePathStyle: boolean;
    /** `S3_PREFIX`: key prefix inside the bucket, default `switchboard/`. */
    prefix: string;
  };
  /** Largest upload in bytes (`UPLOAD_MAX_BYTES`, default 10485760 = 10 MiB). */
  maxBytes: number;
  /** Types accepted, as detected from the bytes (`UPLOAD_ALLOWED_TYPES`; `image/*` style wildcards allowed). */
  allowedTypes: string[];
  /** Lifetime of signed download URLs (`UPLOAD_URL_TTL_SECONDS`, default 3600). */
  urlTtlSeconds: number;
  /** An upload no message holds is deleted after this long (`UPLOAD_UNATTACHED_TTL_SECONDS`, default 86400). */
  unattachedTtlSeconds: number;
  /** A deleted message's files are kept this long, then removed (`UPLOAD_DELETED_RETENTION_SECONDS`, default 86400). */
  deletedRetentionSeconds: number;
  /** Uploads one user (or API key) may make per minute (`RATE_LIMIT_UPLOADS`, default 30). */
  uploadsPerMinute: number;
  /** Most pixels an uploaded image may have, against decompression bombs (`UPLOAD_MAX_IMAGE_PIXELS`, default 50000000). */
  maxImagePixels: number;
  /** How often each node deletes expired and released uploads (`UPLOAD_SWEEP_INTERVAL_MS`, default 60000). */
  sweepIntervalMs: number;
  /** Outbound MMS: an image is recompressed to fit this many bytes (`MMS_MAX_BYTES`, default 750000). */
  mmsMaxBytes: number;
  /** Lifetime of the signed media URLs handed to the SMS provider (`MMS_MEDIA_URL_TTL_SECONDS`, default 14400). */
  mmsMediaUrlTtlSeconds: number;
  /** Largest inbound MMS media file fetched from the provider (`MMS_INBOUND_MAX_BYTES`, default 5242880). */
  mmsInboundMaxBytes: number;
}

/** The `Config.preSendHook` slice; present when `PRESEND_HOOK_URL` is set. */
export interface PreSendHookConfig {
  /** `PRESEND_HOOK_URL`: called (POST, Standard Webhooks signature) before each message other than a backend's `system` message is stored; http(s), no credentials. */
  url: string;
  /** `PRESEND_HOOK_SECRET`: `whsec_` + base64, the signing secret; required with the URL. */
  secret: string;
  /** `PRESEND_HOOK_TIMEOUT_MS`: one call's time limit, answer included; default 2000, 50-10000. */
  timeoutMs: number;
  /** `PRESEND_HOOK_FAILURE`: `open` (default: store the message as sent) or `closed` (refuse it with `unavailable`) when the hook fails or times out. */
  failurePolicy: "open" | "closed";
}

/** Default `UPLOAD_ALLOWED_TYPES`: pictures, PDFs, plain text, common audio and video, zip archives. */
export const DEFAULT_UPLOAD_ALLOWED_TYPES =
  "image/jpeg,image/png,image/gif,image/webp,image/heic,image/avif,application/pdf,text/plain,audio/mpeg,audio/mp4,audio/ogg,audio/wav,video/mp4,video/quicktime,video/webm,application/zip";

/**
 * Every channel name `DELIVERY_LADDER` accepts, in the default ladder's order: Web Push, Firebase
 * Cloud Messaging, Apple Push Notification service, Expo push, email, SMS.
 */
export const LADDER_CHANNELS = ["push", "fcm", "apns", "expo", "email", "sms"] as const;

/** A channel of the fallback ladder, as configured. */
export type LadderChannel = (typeof LADDER_CHANNELS)[number];

/** One rung of the fallback ladder: a channel and how long after the message it is tried. */
export interface LadderStep {
  channel: LadderChannel;
  /** Wait after the message before this channel's notification, in ms (a user's own delay for the channel overrides it). */
  delayMs: number;
}

/** The email rung's wait in the default ladder, in ms: one minute, the default of `EMAIL_DELAY_SECONDS`. */
export const DEFAULT_EMAIL_DELAY_MS = 60_000;

/**
 * The ladder used when `DELIVERY_LADDER` is unset: every push channel at once, email after
 * `emailDelayMs`, SMS after `smsDelayMs` (`SMS_DELAY_SECONDS`).
 */
export function defaultLadder(delays: { smsDelayMs: number; emailDelayMs: number }): LadderStep[] {
  return [
    { channel: "push", delayMs: 0 },
    { channel: "fcm", delayMs: 0 },
    { channel: "apns", delayMs: 0 },
    { channel: "expo", delayMs: 0 },
    { channel: "email", delayMs: delays.emailDelayMs },
    { channel: "sms", delayMs: delays.smsDelayMs },
  ];
}

/** Longest wait a ladder step may have: a week, like `SMS_DELAY_SECONDS`. */
const MAX_LADDER_DELAY_MS = 7 * 86_400_000;

/** The `Config.delivery` slice: the offline fallback ladder, its outbox and its channels. */
export interface DeliveryConfig {
  /**
   * The fallback ladder (`DELIVERY_LADDER`, e.g. `push:0s,fcm:0s,apns:0s,email:60s,sms:2m`): which
   * channels reach an offline member, in order, each after its delay; a channel left out is never
   * used. Default {@link defaultLadder} with `SMS_DELAY_SECONDS` (default 120) for SMS.
   */
  ladder: LadderStep[];
  /** The email channel; absent (email off) while `SMTP_URL` is unset. */
  email?: EmailConfig;
  /**
   * How long a sent notification keeps absorbing the conversation's next messages while the
   * recipient has not read or connected (`DELIVERY_COLLAPSE_SECONDS`, default 900): a burst
   * gives one push and one SMS, not one per message.
   */
  collapseWindowMs: number;
  /**
   * Waits before each retry of a transient failure (`DELIVERY_RETRY_SCHEDULE`, default
   * `5s,30s,2m,10m,30m`); retry n waits a random time between step n-1 and step n, or longer
   * when the provider's `Retry-After` says so. Attempts: steps + 1.
   */
  retryScheduleMs: number[];
  /** How often each node looks for due deliveries (`DELIVERY_POLL_INTERVAL_MS`, default 1000). */
  pollIntervalMs: number;
  /** Finished deliveries are deleted after this many days (`DELIVERY_RETENTION_DAYS`, default 30). */
  retentionDays: number;
  push: {
    /** VAPID key pair (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`, base64url); generated once and stored when unset. */
    vapidPublicKey?: string;
    vapidPrivateKey?: string;
    /** VAPID contact (`VAPID_SUBJECT`, a `mailto:` or `https:` URL; default `PUBLIC_URL` when it is https, else `mailto:admin@localhost`). */
    vapidSubject: string;
    /** How long a push service keeps a message for an offline browser (`PUSH_TTL_SECONDS`, default 86400). */
    ttlSeconds: number;
    /** RFC 8030 `Urgency` of chat notifications (`PUSH_URGENCY`, default `high`). */
    urgency: "very-low" | "low" | "normal" | "high";
    /** How long one request to a push service may take (`PUSH_TIMEOUT_MS`, default 10000). */
    timeoutMs: number;
    /** Accept subscription endpoints in private, loopback and link-local ranges (`PUSH_ALLOW_PRIVATE`, default off). */
    allowPrivate: boolean;
    /** Subscriptions one user may hold; registering one more drops their oldest (`PUSH_MAX_SUBSCRIPTIONS_PER_USER`, default 10). */
    maxSubscriptionsPerUser: number;
  };
  /** Native mobile push; each provider is off while its variables are unset. */
  mobile: MobilePushConfig;
  sms: {
    /** `sandbox` (default: texts stored and shown at `/sandbox/sms`) or `twilio` (`SMS_PROVIDER`). */
    provider: "sandbox" | "twilio";
    /** Our numbers, E.164, comma-separated (`SMS_FROM`; default `+15005550006` in the sandbox; required for twilio). With several, each conversation of a phone user gets its own number while one is free. */
    fromNumbers: string[];
    /** Texts per second one of our numbers may send (`SMS_PER_NUMBER_PER_SECOND`, default 1, a US long code's limit). */
    perNumberPerSecond: number;
    /** Answer STOP/START/HELP with the standard replies (`SMS_KEYWORD_REPLIES`, default on; turn off when the provider already answers them). */
    keywordReplies: boolean;
    /** The answer to HELP (`SMS_HELP_TEXT`). */
    helpText: string;
    /** How long one request to the provider may take (`SMS_TIMEOUT_MS`, default 10000). */
    timeoutMs: number;
    twilio: {
      /** `TWILIO_ACCOUNT_SID` (`AC…`), required with `SMS_PROVIDER=twilio`. */
      accountSid?: string;
      /** `TWILIO_AUTH_TOKEN`: authenticates our requests and signs Twilio's webhooks. */
      authToken?: string;
      /** `TWILIO_API_BASE_URL`, default `https://api.twilio.com` (point it at a compatible service or a test double). */
      apiBaseUrl: string;
    };
  };
}

/** The `Config.delivery.email` slice: outbound over SMTP, replies and bounces in over our own SMTP listener. */
export interface EmailConfig {
  /** `SMTP_URL`: `smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://…:465` (TLS from the start). */
  smtpUrl: string;
  /** `EMAIL_FROM`: the `From` of every email, `Name <address>` or an address; required with `SMTP_URL`. */
  from: string;
  /**
   * `EMAIL_REPLY_DOMAIN`: the domain of the signed reply (`reply+…@`) and bounce (`bounce+…@`)
   * addresses, whose MX must reach the inbound listener. Unset: emails carry no reply address and
   * bounces go to `EMAIL_FROM`.
   */
  replyDomain?: string;
  /** How long one SMTP send may take (`SMTP_TIMEOUT_MS`, default 10000). */
  timeoutMs: number;
  /** The inbound SMTP listener for replies and bounces; absent while `INBOUND_EMAIL_SMTP_PORT` is unset. */
  inbound?: {
    /** `INBOUND_EMAIL_SMTP_PORT` (0 picks a free port). */
    port: number;
    /** `INBOUND_EMAIL_SMTP_HOST`, default `HOST`. */
    host: string;
    /** Largest message accepted, in bytes (`INBOUND_EMAIL_MAX_BYTES`, default 5242880); bigger ones are refused at DATA. */
    maxBytes: number;
    /** PEM files for STARTTLS (`INBOUND_EMAIL_TLS_KEY_FILE`, `INBOUND_EMAIL_TLS_CERT_FILE`); without them the listener offers no TLS. */
    tlsKeyFile?: string;
    tlsCertFile?: string;
  };
}

/** The `Config.delivery.mobile` slice: FCM for Android devices, APNs for iOS devices. */
export interface MobilePushConfig {
  /** Devices one user may register; one more drops their oldest (`PUSH_MAX_DEVICES_PER_USER`, default 10). */
  maxDevicesPerUser: number;
  /** Firebase Cloud Messaging HTTP v1; absent while `FCM_SERVICE_ACCOUNT_FILE` is unset. */
  fcm?: {
    /** From the service-account key file (`FCM_SERVICE_ACCOUNT_FILE`), read and checked at start. */
    serviceAccount: { projectId: string; clientEmail: string; privateKey: string; privateKeyId?: string; tokenUri: string };
    /** `FCM_BASE_URL`, default `https://fcm.googleapis.com`. */
    baseUrl: string;
  };
  /** Apple Push Notification service with token auth; absent while `APNS_KEY_FILE` is unset. */
  apns?: {
    /** The `.p8` key's PEM (`APNS_KEY_FILE`), read and checked at start. */
    keyPem: string;
    /** `APNS_KEY_ID`: the key's 10-character id. */
    keyId: string;
    /** `APNS_TEAM_ID`: the 10-character team id. */
    teamId: string;
    /** `APNS_TOPIC`: the app's bundle id, for devices registered without `appId`. */
    topic: string;
    /** `APNS_ENV`: `production` (default) or `sandbox` (development builds). */
    env: "sandbox" | "production";
    /** `APNS_BASE_URL`, default Apple's host for `APNS_ENV`. */
    baseUrl: string;
  };
  /** Expo's push service; absent unless `EXPO_PUSH` is on. */
  expo?: {
    /** `EXPO_ACCESS_TOKEN`, for projects with enhanced push security. */
    accessToken?: string;
    /** `EXPO_BASE_URL`, default `https://exp.host`. */
    baseUrl: string;
  };
}

/** Default `DELIVERY_RETRY_SCHEDULE`: 5 retries (6 attempts) over about 45 minutes. */
export const DEFAULT_DELIVERY_RETRY_SCHEDULE = "5s,30s,2m,10m,30m";

/** The default answer to HELP. */
export const DEFAULT_SMS_HELP_TEXT = "Switchboard chat notifications. Reply to this text to answer in the conversation. Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

/** The `Config.support` slice. */
export interface SupportConfig {
  /**
   * Demo mode (`DEMO_MODE`): seeds the demo agents and the `wk_demo` widget key, and enables
   * `POST /demo/session`, which lets ANYONE sign in as a demo agent. Default on in the embedded
   * single-node setup (no `MONGODB_URI`, no `REDIS_URL`), off otherwise. Turn it off in production.
   */
  demoMode: boolean;
  /** Lifetime of visitor tokens minted by `POST /v1/widget/sessions` (`WIDGET_TOKEN_TTL_SECONDS`, default 3600). */
  visitorTokenTtlSeconds: number;
  /** Widget sessions one IP address may start per minute (`RATE_LIMIT_WIDGET_SESSIONS`, default 30). */
  widgetSessionsPerMinute: number;
}

/** The `Config.webhooks` slice. */
export interface WebhookConfig {
  /** Allow destinations in private, loopback and link-local ranges (`WEBHOOK_ALLOW_PRIVATE`, default off). */
  allowPrivate: boolean;
  /** How long one attempt may take (`WEBHOOK_TIMEOUT_MS`, default 10000). */
  timeoutMs: number;
  /**
   * Waits before each retry (`WEBHOOK_RETRY_SCHEDULE`, default `5s,1m,5m,30m,2h,5h,8h,12h,16h,20h,24h`);
   * retry n waits a random time between step n-1 and step n. Attempts: steps + 1.
   */
  retryScheduleMs: number[];
  /** Consecutive failed attempts that, with {@link disableAfterHours}, disable an endpoint (`WEBHOOK_DISABLE_AFTER_FAILURES`, default 10). */
  disableAfterFailures: number;
  /** How long those failures must have lasted (`WEBHOOK_DISABLE_AFTER_HOURS`, default 120 = 5 days). */
  disableAfterHours: number;
  /** How often each node looks for due deliveries (`WEBHOOK_POLL_INTERVAL_MS`, default 1000). */
  pollIntervalMs: number;
  /** How long the old secret keeps signing after a rotation (`WEBHOOK_SECRET_GRACE_HOURS`, default 24). */
  secretGraceHours: number;
  /** Finished deliveries and their events are deleted after this many days (`WEBHOOK_RETENTION_DAYS`, default 30). */
  retentionDays: number;
}

const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const url = z.url({ message: "must be a URL such as http://host:port" });
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

/** Default `WEBHOOK_RETRY_SCHEDULE`: 11 retries (12 attempts) over about three days. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5s,1m,5m,30m,2h,5h,8h,12h,16h,20h,24h";

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `"5s,1m,2h"` → milliseconds; the caller has checked the format. */
function parseDurations(list: string): number[] {
  return list.split(",").map((item) => {
    const [, amount, unit] = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(item) ?? [];
    return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
  });
}

const durationList = z
  .string()
  .regex(/^\s*\d+(ms|s|m|h)\s*(,\s*\d+(ms|s|m|h)\s*)*$/, "must be comma-separated durations such as 5s,1m,30m,2h")
  .transform(parseDurations)
  .refine((steps) => steps.length <= 30 && steps.every((ms, i) => ms >= 1 && ms <= 7 * 86_400_000 && (i === 0 || ms >= steps[i - 1])), {
    message: "must hold 1-30 durations, each between 1ms and 168h, none shorter than the one before",
  });

/**
 * `DELIVERY_LADDER`: `channel:duration` pairs, comma-separated, e.g. `push:0s,email:60s,sms:2m`.
 * Each problem is its own issue, so a start fails naming every bad step at once.
 */
const ladderSchema = z.string().transform((list, ctx): LadderStep[] => {
  const steps: LadderStep[] = [];
  const items = list.split(",").map((item) => item.trim());
  if (items.length === 1 && items[0] === "") {
    ctx.addIssue({ code: "custom", message: "must name at least one channel, e.g. push:0s,sms:2m" });
    return steps;
  }
  for (const item of items) {
    const match = /^([a-z]+)\s*:\s*(\d+)(ms|s|m|h)$/.exec(item);
    if (!match) {
      ctx.addIssue({ code: "custom", message: `step ${JSON.stringify(item)} must be channel:duration such as sms:2m (units ms, s, m, h)` });
      continue;
    }
    const [, name, amount, unit] = match;
    if (!(LADDER_CHANNELS as readonly string[]).includes(name)) {
      ctx.addIssue({ code: "custom", message: `unknown channel ${JSON.stringify(name)}; known channels: ${LADDER_CHANNELS.join(", ")}` });
      continue;
    }
    const channel = name as LadderChannel;
    const delayMs = Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    if (delayMs > MAX_LADDER_DELAY_MS) {
      ctx.addIssue({ code: "custom", message: `${channel}: delay ${amount}${unit} is longer than 168h` });
      continue;
    }
    if (steps.some((step) => step.channel === channel)) {
      ctx.addIssue({ code: "custom", message: `channel ${channel} appears twice; each channel is one step` });
      continue;
    }
    steps.push({ channel, delayMs });
  }
  return steps;
});

const envSchema = z.object({
  PORT: optional(int(0, 65535)),
  HOST: optional(z.string().min(1)),
  DATA_DIR: optional(z.string().min(1)),
  MONGODB_URI: optional(z.string().regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")),
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://")),
  CLUSTER_ADAPTER: optional(z.enum(["classic", "sharded"])),
  NODE_ID: optional(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, dots, dashes or underscores")),
  ALLOW_POLLING: optional(bool),
  JWT_SECRET: optional(z.string().min(32, "must be at least 32 characters (256 bits for HS256)")),
  JWT_JWKS_URL: optional(url),
  JWT_PUBLIC_KEY: optional(z.string().includes("-----BEGIN PUBLIC KEY-----", { message: "must be a PEM (SPKI) public key" })),
  JWT_ISSUER: optional(z.string().min(1)),
  JWT_AUDIENCE: optional(z.string().min(1)),
  JWT_CLOCK_TOLERANCE_SECONDS: optional(int(0, 300)),
  TOKEN_MAX_TTL_SECONDS: optional(int(60, 30 * 86400)),
  ADMIN_API_KEY: optional(z.string().min(24, "must be at least 24 characters")),
  API_KEY_ROTATION_GRACE_HOURS: optional(int(0, 720)),
  ALLOWED_ORIGINS: optional(z.string()),
  PUBLIC_URL: optional(url),
  METRICS_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  LOG_LEVEL: optional(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
  LOG_PRETTY: optional(bool),
  SQLITE_SYNCHRONOUS: optional(z.enum(["FULL", "NORMAL"])),
  SQLITE_BUSY_TIMEOUT_MS: optional(int(100, 60_000)),
  PRESENCE_ROOM_LIMIT: optional(int(2, 1_000_000)),
  PRESENCE_COALESCE_MS: optional(int(0, 10_000)),
  PRESENCE_OCCUPANCY_INTERVAL_MS: optional(int(100, 60_000)),
  CONVERSATION_MEMBER_LIST_LIMIT: optional(int(1, 10_000)),
  RATE_LIMIT_SOCKET_EVENTS: optional(int(1, 1_000_000)),
  RATE_LIMIT_MESSAGES: optional(int(1, 1_000_000)),
  RATE_LIMIT_HTTP: optional(int(1, 1_000_000)),
  MAX_JOINED_CONVERSATIONS: optional(int(1, 100_000)),
  MAX_HTTP_BODY_BYTES: optional(int(1024, 10 * 1024 * 1024)),
  TYPING_TTL_SECONDS: optional(int(1, 60)),
  SHUTDOWN_TIMEOUT_MS: optional(int(0, 600_000)),
  WEBHOOK_ALLOW_PRIVATE: optional(bool),
  WEBHOOK_TIMEOUT_MS: optional(int(100, 60_000)),
  WEBHOOK_RETRY_SCHEDULE: optional(durationList),
  WEBHOOK_DISABLE_AFTER_FAILURES: optional(int(1, 1_000_000)),
  WEBHOOK_DISABLE_AFTER_HOURS: optional(int(0, 8760)),
  WEBHOOK_POLL_INTERVAL_MS: optional(int(10, 60_000)),
  WEBHOOK_SECRET_GRACE_HOURS: optional(int(0, 720)),
  WEBHOOK_RETENTION_DAYS: optional(int(1, 3650)),
  DEMO_MODE: optional(bool),
  WIDGET_TOKEN_TTL_SECONDS: optional(int(60, 86400)),
  RATE_LIMIT_WIDGET_SESSIONS: optional(int(1, 1_000_000)),
  SMS_DELAY_SECONDS: optional(int(0, 7 * 86400)),
  EMAIL_DELAY_SECONDS: optional(int(0, 7 * 86400)),
  SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.com:587" })),
  EMAIL_FROM: optional(
    z
      .string()
      .trim()
      .max(320)
      .regex(/^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, "must be an address or Name <address>, such as Switchboard <notify@example.com>"),
  ),
  EMAIL_REPLY_DOMAIN: optional(z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$/i, "must be a domain name such as reply.example.com")),
  SMTP_TIMEOUT_MS: optional(int(100, 120_000)),
  INBOUND_EMAIL_SMTP_PORT: optional(int(0, 65535)),
  INBOUND_EMAIL_SMTP_HOST: optional(z.string().min(1)),
  INBOUND_EMAIL_MAX_BYTES: optional(int(1024, 50 * 1024 * 1024)),
  INBOUND_EMAIL_TLS_KEY_FILE: optional(z.string().min(1)),
  INBOUND_EMAIL_TLS_CERT_FILE: optional(z.string().min(1)),
  DELIVERY_LADDER: optional(ladderSchema),
  DELIVERY_COLLAPSE_SECONDS: optional(int(0, 7 * 86400)),
  DELIVERY_RETRY_SCHEDULE: optional(durationList),
  DELIVERY_POLL_INTERVAL_MS: optional(int(10, 60_000)),
  DELIVERY_RETENTION_DAYS: optional(int(1, 3650)),
  VAPID_PUBLIC_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{87}$/, "must be an uncompressed P-256 public key in base64url (87 characters), as `npx web-push generate-vapid-keys` prints")),
  VAPID_PRIVATE_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a P-256 private key in base64url (43 characters)")),
  VAPID_SUBJECT: optional(z.string().regex(/^(mailto:.+@.+|https:\/\/.+)$/, "must be a mailto: or https: URL (RFC 8292 contact)")),
  PUSH_TTL_SECONDS: optional(int(0, 28 * 86400)),
  PUSH_URGENCY: optional(z.enum(["very-low", "low", "normal", "high"])),
  PUSH_TIMEOUT_MS: optional(int(100, 60_000)),
  PUSH_ALLOW_PRIVATE: optional(bool),
  PUSH_MAX_SUBSCRIPTIONS_PER_USER: optional(int(1, 100)),
  PUSH_MAX_DEVICES_PER_USER: optional(int(1, 100)),
  FCM_SERVICE_ACCOUNT_FILE: optional(z.string().min(1)),
  FCM_BASE_URL: optional(url),
  APNS_KEY_FILE: optional(z.string().min(1)),
  APNS_KEY_ID: optional(z.string().regex(/^[A-Z0-9]{10}$/, "must be the 10-character key id Apple shows next to the .p8 key")),
  APNS_TEAM_ID: optional(z.string().regex(/^[A-Z0-9]{10}$/, "must be the 10-character team id of the Apple developer account")),
  APNS_TOPIC: optional(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,154}$/, "must be the app's bundle id, such as com.example.chat")),
  APNS_ENV: optional(z.enum(["sandbox", "production"])),
  APNS_BASE_URL: optional(url),
  EXPO_PUSH: optional(bool),
  EXPO_ACCESS_TOKEN: optional(z.string().min(16, "must be the access token from the Expo dashboard (Access tokens)")),
  EXPO_BASE_URL: optional(url),
  SMS_PROVIDER: optional(z.enum(["sandbox", "twilio"])),
  SMS_FROM: optional(z.string().regex(/^\s*\+[1-9]\d{6,14}\s*(,\s*\+[1-9]\d{6,14}\s*)*$/, "must be comma-separated E.164 numbers such as +15551234567")),
  SMS_PER_NUMBER_PER_SECOND: optional(int(1, 1000)),
  SMS_KEYWORD_REPLIES: optional(bool),
  SMS_HELP_TEXT: optional(z.string().min(1).max(320)),
  SMS_TIMEOUT_MS: optional(int(100, 60_000)),
  TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be an account SID: AC followed by 32 hex digits")),
  TWILIO_AUTH_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  TWILIO_API_BASE_URL: optional(url),
  BLOB_STORE: optional(z.enum(["fs", "s3"])),
  S3_BUCKET: optional(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)")),
  S3_REGION: optional(z.string().regex(/^[a-z0-9-]{1,32}$/, "must be a region name such as us-east-1")),
  S3_ENDPOINT: optional(url),
  S3_ACCESS_KEY_ID: optional(z.string().min(1)),
  S3_SECRET_ACCESS_KEY: optional(z.string().min(1)),
  S3_FORCE_PATH_STYLE: optional(bool),
  S3_PREFIX: optional(z.string().regex(/^[A-Za-z0-9._\/-]{0,200}$/, "must be a key prefix of letters, digits and . _ / -")),
  UPLOAD_MAX_BYTES: optional(int(1024, 1024 * 1024 * 1024)),
  UPLOAD_ALLOWED_TYPES: optional(z.string().regex(/^\s*[a-z]+\/[a-z0-9.+*-]+\s*(,\s*[a-z]+\/[a-z0-9.+*-]+\s*)*$/, "must be comma-separated media types such as image/png,image/*,application/pdf")),
  UPLOAD_URL_TTL_SECONDS: optional(int(1, 7 * 86400)),
  UPLOAD_UNATTACHED_TTL_SECONDS: optional(int(1, 30 * 86400)),
  UPLOAD_DELETED_RETENTION_SECONDS: optional(int(0, 365 * 86400)),
  RATE_LIMIT_UPLOADS: optional(int(1, 1_000_000)),
  UPLOAD_MAX_IMAGE_PIXELS: optional(int(10_000, 1_000_000_000)),
  UPLOAD_SWEEP_INTERVAL_MS: optional(int(10, 3_600_000)),
  MMS_MAX_BYTES: optional(int(50_000, 5_000_000)),
  MMS_MEDIA_URL_TTL_SECONDS: optional(int(60, 7 * 86400)),
  MMS_INBOUND_MAX_BYTES: optional(int(10_000, 100 * 1024 * 1024)),
  PRESEND_HOOK_URL: optional(
    z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL such as https://moderation.example.com/pre-send" })
      .refine((v) => !new URL(v).username && !new URL(v).password, "must not contain credentials; the hook verifies the signature instead"),
  ),
  PRESEND_HOOK_SECRET: optional(z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, "must be a Standard Webhooks secret: whsec_ followed by base64 (at least 18 bytes)")),
  // At most 10 s, the SDK's ack timeout: a longer wait would only make clients give up and resend.
  PRESEND_HOOK_TIMEOUT_MS: optional(int(50, 10_000)),
  PRESEND_HOOK_FAILURE: optional(z.enum(["open", "closed"])),
});

/** A configuration problem; `main` prints it and exits with status 78 (EX_CONFIG). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Reads and validates the environment. Throws {@link ConfigError} naming every bad variable.
 * @param env defaults to `process.env`; tests pass their own.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.JWT_JWKS_URL && e.JWT_PUBLIC_KEY) {
    throw new ConfigError("Invalid configuration:\n  JWT_PUBLIC_KEY: set either JWT_JWKS_URL or JWT_PUBLIC_KEY, not both");
  }
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    throw new ConfigError("Invalid configuration:\n  VAPID_PRIVATE_KEY: set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither (a pair is then generated and stored)");
  }
  const smsProvider = e.SMS_PROVIDER ?? "sandbox";
  if (smsProvider === "twilio") {
    const missing = (["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_FROM"] as const).filter((name) => !e[name]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid configuration:\n${missing.map((name) => `  ${name}: required with SMS_PROVIDER=twilio`).join("\n")}`);
    }
  }
  if (e.SMTP_URL && !e.EMAIL_FROM) throw new ConfigError("Invalid configuration:\n  EMAIL_FROM: required with SMTP_URL (the From of every email, such as Switchboard <notify@example.com>)");
  if (e.INBOUND_EMAIL_SMTP_PORT !== undefined && !e.EMAIL_REPLY_DOMAIN) {
    throw new ConfigError("Invalid configuration:\n  EMAIL_REPLY_DOMAIN: required with INBOUND_EMAIL_SMTP_PORT (replies and bounces are addressed to reply+…@ and bounce+…@ that domain)");
  }
  if (Boolean(e.INBOUND_EMAIL_TLS_KEY_FILE) !== Boolean(e.INBOUND_EMAIL_TLS_CERT_FILE)) {
    throw new ConfigError("Invalid configuration:\n  INBOUND_EMAIL_TLS_CERT_FILE: set both INBOUND_EMAIL_TLS_KEY_FILE and INBOUND_EMAIL_TLS_CERT_FILE, or neither");
  }
  if (e.BLOB_STORE === "s3" && !e.S3_BUCKET) throw new ConfigError("Invalid configuration:\n  S3_BUCKET: required with BLOB_STORE=s3");
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError("Invalid configuration:\n  S3_SECRET_ACCESS_KEY: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (the AWS SDK's default credentials are used)");
  }
  if (e.PRESEND_HOOK_URL && !e.PRESEND_HOOK_SECRET) {
    throw new ConfigError("Invalid configuration:\n  PRESEND_HOOK_SECRET: required with PRESEND_HOOK_URL (whsec_ + base64; the hook verifies the signature with it)");
  }
  const mobile = mobilePushConfig(e);
  const port = e.PORT ?? 3000;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const allowedOrigins = (e.ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (origin !== "*" && !/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(`Invalid configuration:\n  ALLOWED_ORIGINS: ${JSON.stringify(origin)} is not an origin such as https://app.example.com (no path, no trailing slash)`);
    }
  }
  return {
    port,
    host: e.HOST ?? "0.0.0.0",
    dataDir: path.resolve(e.DATA_DIR ?? "./data"),
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    clusterAdapter: e.CLUSTER_ADAPTER ?? "classic",
    nodeId: e.NODE_ID ?? `${os.hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 40)}-${process.pid}`,
    allowPolling: e.ALLOW_POLLING ?? true,
    jwt: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      publicKey: e.JWT_PUBLIC_KEY,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_SECONDS ?? 5,
      maxTtlSeconds: e.TOKEN_MAX_TTL_SECONDS ?? 86400,
    },
    adminApiKey: e.ADMIN_API_KEY,
    apiKeyRotationGraceHours: e.API_KEY_ROTATION_GRACE_HOURS ?? 24,
    allowedOrigins,
    publicUrl,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL ?? "info",
    logPretty: e.LOG_PRETTY ?? false,
    sqlite: {
      synchronous: e.SQLITE_SYNCHRONOUS ?? "FULL",
      busyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS ?? 5000,
    },
    presence: {
      roomLimit: e.PRESENCE_ROOM_LIMIT ?? 100,
      coalesceMs: e.PRESENCE_COALESCE_MS ?? 250,
      occupancyIntervalMs: e.PRESENCE_OCCUPANCY_INTERVAL_MS ?? 1000,
    },
    limits: {
      socketEventsPer10s: e.RATE_LIMIT_SOCKET_EVENTS ?? 300,
      messagesPer10s: e.RATE_LIMIT_MESSAGES ?? 100,
      httpPer10s: e.RATE_LIMIT_HTTP ?? 1000,
      joinedConversationsPerSocket: e.MAX_JOINED_CONVERSATIONS ?? 200,
      memberListLimit: e.CONVERSATION_MEMBER_LIST_LIMIT ?? 100,
      httpBodyBytes: e.MAX_HTTP_BODY_BYTES ?? 64 * 1024,
    },
    typingTtlSeconds: e.TYPING_TTL_SECONDS ?? 6,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE ?? false,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS ?? 10_000,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE ?? parseDurations(DEFAULT_WEBHOOK_RETRY_SCHEDULE),
      disableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES ?? 10,
      disableAfterHours: e.WEBHOOK_DISABLE_AFTER_HOURS ?? 120,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS ?? 1000,
      secretGraceHours: e.WEBHOOK_SECRET_GRACE_HOURS ?? 24,
      retentionDays: e.WEBHOOK_RETENTION_DAYS ?? 30,
    },
    support: {
      demoMode: e.DEMO_MODE ?? (!e.MONGODB_URI && !e.REDIS_URL),
      visitorTokenTtlSeconds: e.WIDGET_TOKEN_TTL_SECONDS ?? 3600,
      widgetSessionsPerMinute: e.RATE_LIMIT_WIDGET_SESSIONS ?? 30,
    },
    delivery: {
      ladder: e.DELIVERY_LADDER ?? defaultLadder({ smsDelayMs: (e.SMS_DELAY_SECONDS ?? 120) * 1000, emailDelayMs: e.EMAIL_DELAY_SECONDS !== undefined ? e.EMAIL_DELAY_SECONDS * 1000 : DEFAULT_EMAIL_DELAY_MS }),
      ...(e.SMTP_URL && e.EMAIL_FROM
        ? {
            email: {
              smtpUrl: e.SMTP_URL,
              from: e.EMAIL_FROM,
              ...(e.EMAIL_REPLY_DOMAIN ? { replyDomain: e.EMAIL_REPLY_DOMAIN.toLowerCase() } : {}),
              timeoutMs: e.SMTP_TIMEOUT_MS ?? 10_000,
              ...(e.INBOUND_EMAIL_SMTP_PORT !== undefined
                ? {
                    inbound: {
                      port: e.INBOUND_EMAIL_SMTP_PORT,
                      host: e.INBOUND_EMAIL_SMTP_HOST ?? e.HOST ?? "0.0.0.0",
                      maxBytes: e.INBOUND_EMAIL_MAX_BYTES ?? 5 * 1024 * 1024,
                      ...(e.INBOUND_EMAIL_TLS_KEY_FILE ? { tlsKeyFile: e.INBOUND_EMAIL_TLS_KEY_FILE } : {}),
                      ...(e.INBOUND_EMAIL_TLS_CERT_FILE ? { tlsCertFile: e.INBOUND_EMAIL_TLS_CERT_FILE } : {}),
                    },
                  }
                : {}),
            },
          }
        : {}),
      collapseWindowMs: (e.DELIVERY_COLLAPSE_SECONDS ?? 900) * 1000,
      retryScheduleMs: e.DELIVERY_RETRY_SCHEDULE ?? parseDurations(DEFAULT_DELIVERY_RETRY_SCHEDULE),
      pollIntervalMs: e.DELIVERY_POLL_INTERVAL_MS ?? 1000,
      retentionDays: e.DELIVERY_RETENTION_DAYS ?? 30,
      push: {
        vapidPublicKey: e.VAPID_PUBLIC_KEY,
        vapidPrivateKey: e.VAPID_PRIVATE_KEY,
        vapidSubject: e.VAPID_SUBJECT ?? (publicUrl.startsWith("https://") ? publicUrl : "mailto:admin@localhost"),
        ttlSeconds: e.PUSH_TTL_SECONDS ?? 86400,
        urgency: e.PUSH_URGENCY ?? "high",
        timeoutMs: e.PUSH_TIMEOUT_MS ?? 10_000,
        allowPrivate: e.PUSH_ALLOW_PRIVATE ?? false,
        maxSubscriptionsPerUser: e.PUSH_MAX_SUBSCRIPTIONS_PER_USER ?? 10,
      },
      mobile,
      sms: {
        provider: smsProvider,
        fromNumbers: (e.SMS_FROM ?? "+15005550006").split(",").map((n) => n.trim()),
        perNumberPerSecond: e.SMS_PER_NUMBER_PER_SECOND ?? 1,
        keywordReplies: e.SMS_KEYWORD_REPLIES ?? true,
        helpText: e.SMS_HELP_TEXT ?? DEFAULT_SMS_HELP_TEXT,
        timeoutMs: e.SMS_TIMEOUT_MS ?? 10_000,
        twilio: {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN,
          apiBaseUrl: (e.TWILIO_API_BASE_URL ?? "https://api.twilio.com").replace(/\/+$/, ""),
        },
      },
    },
    uploads: {
      blobStore: e.BLOB_STORE ?? "fs",
      s3: {
        bucket: e.S3_BUCKET,
        region: e.S3_REGION ?? "us-east-1",
        endpoint: e.S3_ENDPOINT,
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? false,
        prefix: e.S3_PREFIX ?? "switchboard/",
      },
      maxBytes: e.UPLOAD_MAX_BYTES ?? 10 * 1024 * 1024,
      allowedTypes: (e.UPLOAD_ALLOWED_TYPES ?? DEFAULT_UPLOAD_ALLOWED_TYPES).split(",").map((t) => t.trim()),
      urlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS ?? 3600,
      unattachedTtlSeconds: e.UPLOAD_UNATTACHED_TTL_SECONDS ?? 86400,
      deletedRetentionSeconds: e.UPLOAD_DELETED_RETENTION_SECONDS ?? 86400,
      uploadsPerMinute: e.RATE_LIMIT_UPLOADS ?? 30,
      maxImagePixels: e.UPLOAD_MAX_IMAGE_PIXELS ?? 50_000_000,
      sweepIntervalMs: e.UPLOAD_SWEEP_INTERVAL_MS ?? 60_000,
      mmsMaxBytes: e.MMS_MAX_BYTES ?? 750_000,
      mmsMediaUrlTtlSeconds: e.MMS_MEDIA_URL_TTL_SECONDS ?? 14_400,
      mmsInboundMaxBytes: e.MMS_INBOUND_MAX_BYTES ?? 5 * 1024 * 1024,
    },
    ...(e.PRESEND_HOOK_URL && e.PRESEND_HOOK_SECRET
      ? {
          preSendHook: {
            url: e.PRESEND_HOOK_URL,
            secret: e.PRESEND_HOOK_SECRET,
            timeoutMs: e.PRESEND_HOOK_TIMEOUT_MS ?? 2000,
            failurePolicy: e.PRESEND_HOOK_FAILURE ?? "open",
          },
        }
      : {}),
  };
}

/**
 * The mobile push slice: reads and checks the key files now, so a wrong path or a broken key
 * stops the start with a message naming the variable instead of failing every push later.
 */
function mobilePushConfig(e: z.output<typeof envSchema>): MobilePushConfig {
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`Invalid configuration:\n  ${name}: ${message}`);
  };
  const read = (name: string, file: string): string => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch (err) {
      return fail(name, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const config: MobilePushConfig = { maxDevicesPerUser: e.PUSH_MAX_DEVICES_PER_USER ?? 10 };
  if (e.FCM_BASE_URL && !e.FCM_SERVICE_ACCOUNT_FILE) fail("FCM_SERVICE_ACCOUNT_FILE", "required with FCM_BASE_URL (FCM is off without a service account)");
  if (e.FCM_SERVICE_ACCOUNT_FILE) {
    const name = "FCM_SERVICE_ACCOUNT_FILE";
    let key: Record<string, unknown>;
    try {
      key = JSON.parse(read(name, e.FCM_SERVICE_ACCOUNT_FILE)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      return fail(name, "is not JSON; download the service account's key (Firebase console → Project settings → Service accounts → Generate new private key)");
    }
    for (const field of ["project_id", "client_email", "private_key"] as const) {
      if (typeof key[field] !== "string" || !key[field]) fail(name, `the key file has no ${field}; it must be a Google service-account key (type "service_account")`);
    }
    const tokenUri = typeof key.token_uri === "string" ? key.token_uri : "https://oauth2.googleapis.com/token";
    if (!URL.canParse(tokenUri) || !/^https?:$/.test(new URL(tokenUri).protocol)) fail(name, `the key file's token_uri ${JSON.stringify(tokenUri)} is not an http(s) URL`);
    try {
      const parsed = createPrivateKey(key.private_key as string);
      if (parsed.asymmetricKeyType !== "rsa") fail(name, "the key file's private_key is not an RSA key");
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      fail(name, `the key file's private_key is not a PEM private key (${(err as Error).message})`);
    }
    config.fcm = {
      serviceAccount: {
        projectId: key.project_id as string,
        clientEmail: key.client_email as string,
        privateKey: key.private_key as string,
        ...(typeof key.private_key_id === "string" ? { privateKeyId: key.private_key_id } : {}),
        tokenUri,
      },
      baseUrl: (e.FCM_BASE_URL ?? "https://fcm.googleapis.com").replace(/\/+$/, ""),
    };
  }
  const apnsVars = ["APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"] as const;
  const setApns = apnsVars.filter((v) => e[v]);
  if (setApns.length > 0 || e.APNS_BASE_URL || e.APNS_ENV) {
    const missing = apnsVars.filter((v) => !e[v]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid configuration:\n${missing.map((v) => `  ${v}: required with ${setApns[0] ?? (e.APNS_BASE_URL ? "APNS_BASE_URL" : "APNS_ENV")} (APNs needs the .p8 key file, its key id, the team id and the bundle id)`).join("\n")}`);
    }
    const keyPem = read("APNS_KEY_FILE", e.APNS_KEY_FILE as string);
    try {
      const parsed = createPrivateKey(keyPem);
      if (parsed.asymmetricKeyType !== "ec" || parsed.asymmetricKeyDetails?.namedCurve !== "prime256v1") fail("APNS_KEY_FILE", "is not a P-256 (ES256) key; use the AuthKey_<key id>.p8 file from Apple's developer portal");
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      fail("APNS_KEY_FILE", `is not a PEM private key (${(err as Error).message}); use the AuthKey_<key id>.p8 file from Apple's developer portal`);
    }
    const env = e.APNS_ENV ?? "production";
    config.apns = {
      keyPem,
      keyId: e.APNS_KEY_ID as string,
      teamId: e.APNS_TEAM_ID as string,
      topic: e.APNS_TOPIC as string,
      env,
      baseUrl: (e.APNS_BASE_URL ?? (env === "sandbox" ? "https://api.sandbox.push.apple.com" : "https://api.push.apple.com")).replace(/\/+$/, ""),
    };
  }
  if ((e.EXPO_ACCESS_TOKEN || e.EXPO_BASE_URL) && !e.EXPO_PUSH) fail("EXPO_PUSH", `set EXPO_PUSH=1 to use ${e.EXPO_ACCESS_TOKEN ? "EXPO_ACCESS_TOKEN" : "EXPO_BASE_URL"} (Expo push is off)`);
  if (e.EXPO_PUSH) {
    config.expo = { ...(e.EXPO_ACCESS_TOKEN ? { accessToken: e.EXPO_ACCESS_TOKEN } : {}), baseUrl: (e.EXPO_BASE_URL ?? "https://exp.host").replace(/\/+$/, "") };
  }
  return config;
}
