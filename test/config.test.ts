import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/src/config.js";
import { ROOT, tempDir } from "./support/harness.js";

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: "0.0.0.0", publicUrl: "http://localhost:3000", allowedOrigins: [] });
    expect(config.mongodbUri).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it("names every bad variable and what it expected", () => {
    const attempt = () =>
      loadConfig({ PORT: "eighty", MONGODB_URI: "postgres://x", JWT_SECRET: "short", ALLOWED_ORIGINS: "https://ok.example, https://bad.example/path" });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toMatch(/PORT: must be a whole number/);
    expect(message).toMatch(/MONGODB_URI: must start with mongodb:\/\//);
    expect(message).toMatch(/JWT_SECRET: must be at least 32 characters/);
    expect(() => loadConfig({ ALLOWED_ORIGINS: "https://bad.example/path" })).toThrow(/ALLOWED_ORIGINS/);
    expect(() => loadConfig({ JWT_JWKS_URL: "https://idp.example/jwks", JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----x" })).toThrow(/not both/);
  });

  it("turns the pre-send hook on only with a URL and a secret, with a 2000 ms timeout and fail-open by default, and names bad values", () => {
    const secret = `whsec_${Buffer.from("a pre-send hook secret of 32 bytes").toString("base64")}`;
    expect(loadConfig({}).preSendHook).toBeUndefined();
    expect(loadConfig({ PRESEND_HOOK_URL: "https://mod.example.com/pre-send", PRESEND_HOOK_SECRET: secret }).preSendHook).toEqual({
      url: "https://mod.example.com/pre-send",
      secret,
      timeoutMs: 2000,
      failurePolicy: "open",
    });
    expect(
      loadConfig({ PRESEND_HOOK_URL: "https://mod.example.com/", PRESEND_HOOK_SECRET: secret, PRESEND_HOOK_TIMEOUT_MS: "500", PRESEND_HOOK_FAILURE: "closed" }).preSendHook,
    ).toMatchObject({ timeoutMs: 500, failurePolicy: "closed" });
    expect(() => loadConfig({ PRESEND_HOOK_URL: "https://mod.example.com/" })).toThrow(/PRESEND_HOOK_SECRET: required with PRESEND_HOOK_URL/);
    for (const [env, message] of [
      [{ PRESEND_HOOK_URL: "ftp://mod.example.com/" }, /PRESEND_HOOK_URL: must be an http\(s\) URL/],
      [{ PRESEND_HOOK_URL: "https://user:pw@mod.example.com/" }, /PRESEND_HOOK_URL: must not contain credentials/],
      [{ PRESEND_HOOK_SECRET: "not-a-secret" }, /PRESEND_HOOK_SECRET: must be a Standard Webhooks secret/],
      [{ PRESEND_HOOK_TIMEOUT_MS: "20000" }, /PRESEND_HOOK_TIMEOUT_MS/],
      [{ PRESEND_HOOK_TIMEOUT_MS: "10" }, /PRESEND_HOOK_TIMEOUT_MS/],
      [{ PRESEND_HOOK_FAILURE: "maybe" }, /PRESEND_HOOK_FAILURE/],
    ] as const) {
      const base: Record<string, string> = { PRESEND_HOOK_URL: "https://mod.example.com/", PRESEND_HOOK_SECRET: secret };
      expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    }
  });

  it("turns email on only with SMTP_URL and EMAIL_FROM, waits 60 s by default, and names what is missing or bad", () => {
    expect(loadConfig({}).delivery.email).toBeUndefined();
    const emailStep = (env: Record<string, string>) => loadConfig(env).delivery.ladder.find((s) => s.channel === "email");
    expect(emailStep({})).toEqual({ channel: "email", delayMs: 60_000 });
    expect(emailStep({ EMAIL_DELAY_SECONDS: "5" })).toEqual({ channel: "email", delayMs: 5000 });
    const on = { SMTP_URL: "smtps://mailer:s3cret@smtp.example.com:465", EMAIL_FROM: "Example Chat <chat@example.com>" };
    expect(loadConfig(on).delivery.email).toEqual({ smtpUrl: on.SMTP_URL, from: on.EMAIL_FROM, timeoutMs: 10_000 });
    expect(loadConfig({ ...on, EMAIL_REPLY_DOMAIN: "Reply.Example.com", INBOUND_EMAIL_SMTP_PORT: "2525", HOST: "127.0.0.1" }).delivery.email).toMatchObject({
      replyDomain: "reply.example.com",
      inbound: { port: 2525, host: "127.0.0.1", maxBytes: 5 * 1024 * 1024 },
    });
    for (const [env, message] of [
      [{ SMTP_URL: on.SMTP_URL }, /EMAIL_FROM: required with SMTP_URL/],
      [{ SMTP_URL: "http://smtp.example.com" }, /SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/],
      [{ EMAIL_FROM: "not an address" }, /EMAIL_FROM: must be an address or Name <address>/],
      [{ EMAIL_REPLY_DOMAIN: "reply@example.com" }, /EMAIL_REPLY_DOMAIN: must be a domain name/],
      [{ ...on, INBOUND_EMAIL_SMTP_PORT: "2525" }, /EMAIL_REPLY_DOMAIN: required with INBOUND_EMAIL_SMTP_PORT/],
      [{ INBOUND_EMAIL_TLS_KEY_FILE: "/k.pem", EMAIL_REPLY_DOMAIN: "r.example.com" }, /set both INBOUND_EMAIL_TLS_KEY_FILE and INBOUND_EMAIL_TLS_CERT_FILE/],
    ] as const) {
      expect(() => loadConfig(env as Record<string, string>)).toThrow(message);
    }
  });

  it("stops the process with status 78 and a message naming the variable", () => {
    const data = tempDir();
    try {
      const result = spawnSync(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: data.dir, PORT: "99999", MONGODB_URI: "", REDIS_URL: "" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toMatch(/PORT: .*99999/);
    } finally {
      data.remove();
    }
  });
});
