import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { createApp, type SwitchboardApp } from "../../server/src/app.js";
import { loadConfig } from "../../server/src/config.js";
import type { Logger } from "../../server/src/logger.js";

/** The admin API key of every HTTP test app (32+ characters, like a real one). */
export const HTTP_ADMIN_KEY = "sb_http_test_admin_0123456789abcdefghij";
/** The HS256 secret of every HTTP test app, so tests can verify the tokens it mints. */
export const HTTP_JWT_SECRET = "http-test-secret-0123456789-0123456789-abcdef";

/** A response with its body already read (JSON when it parses, else the text). */
export interface CallResult<T> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Options of {@link HttpTestApp.call}. */
export interface CallOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (for malformed bodies and other content types). */
  raw?: string;
  /** API key; default the admin key, `null` for none. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** An app built in-process and called without a socket, through `app.request`. */
export interface HttpTestApp {
  app: SwitchboardApp;
  /** Log lines the app wrote (JSON objects), oldest first. */
  logs: Record<string, unknown>[];
  /** Calls a route; `T` is the caller's expectation of the body, not checked. */
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<CallResult<T>>;
  /** Closes the app and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Builds an app on a fresh data directory (port 0, loopback) with a logger whose lines the
 * test can read. `env` adds or overrides variables, for example a small `RATE_LIMIT_HTTP`.
 */
export async function startHttpApp(env: Record<string, string> = {}): Promise<HttpTestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-http-"));
  const { logger, logs } = captureLogger();
  let app: SwitchboardApp;
  try {
    app = await createApp(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        ADMIN_API_KEY: HTTP_ADMIN_KEY,
        JWT_SECRET: HTTP_JWT_SECRET,
        SQLITE_SYNCHRONOUS: "NORMAL",
        ...env,
      }),
      { logger },
    );
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    app,
    logs,
    call: (method, urlPath, options) => call(app, method, urlPath, options),
    async close() {
      try {
        await app.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Calls `app.request` with JSON conventions and reads the body. */
export async function call<T = any>(
  app: { request(input: string, init?: RequestInit): Response | Promise<Response> },
  method: string,
  urlPath: string,
  options: CallOptions = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? HTTP_ADMIN_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const res = await app.request(urlPath, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (HTML pages, empty 204 bodies): the text it is.
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** A pino logger (same redaction as the real one) whose lines land in an array. */
export function captureLogger(): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino(
    {
      level: "debug",
      redact: { paths: ["token", "*.token", "apiKey", "*.apiKey", "authorization", "*.authorization", "req.headers.authorization"], censor: "[redacted]" },
    },
    sink,
  );
  return { logger, logs };
}
