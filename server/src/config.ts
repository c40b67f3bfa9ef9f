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
  limits: {
    /** Socket events per connection per 10 s (`RATE_LIMIT_SOCKET_EVENTS`, default 300). */
    socketEventsPer10s: number;
    /** Messages a user may send per 10 s, all connections together (`RATE_LIMIT_MESSAGES`, default 100). */
    messagesPer10s: number;
    /** HTTP requests per API key per 10 s (`RATE_LIMIT_HTTP`, default 1000). */
    httpPer10s: number;
    /** Conversations one socket may have joined at once (`MAX_JOINED_CONVERSATIONS`, default 200). */
    joinedConversationsPerSocket: number;
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
}

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
  const port = e.PORT ?? 3000;
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
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL ?? "info",
    logPretty: e.LOG_PRETTY ?? false,
    sqlite: {
      synchronous: e.SQLITE_SYNCHRONOUS ?? "FULL",
      busyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS ?? 5000,
    },
    limits: {
      socketEventsPer10s: e.RATE_LIMIT_SOCKET_EVENTS ?? 300,
      messagesPer10s: e.RATE_LIMIT_MESSAGES ?? 100,
      httpPer10s: e.RATE_LIMIT_HTTP ?? 1000,
      joinedConversationsPerSocket: e.MAX_JOINED_CONVERSATIONS ?? 200,
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
  };
}
