import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/src/config.js";
import { ROOT, tempDir } from "./support/harness.js";

/** The message `loadConfig` throws for `env`, or a failure when it does not throw. */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("DELIVERY_LADDER", () => {
  it("defaults to every push channel at once, email after a minute and SMS after SMS_DELAY_SECONDS", () => {
    expect(loadConfig({}).delivery.ladder).toEqual([
      { channel: "push", delayMs: 0 },
      { channel: "fcm", delayMs: 0 },
      { channel: "apns", delayMs: 0 },
      { channel: "email", delayMs: 60_000 },
      { channel: "sms", delayMs: 120_000 },
    ]);
    expect(loadConfig({ SMS_DELAY_SECONDS: "30" }).delivery.ladder.at(-1)).toEqual({ channel: "sms", delayMs: 30_000 });
  });

  it("keeps the configured order and delays, and leaves out the channels it does not name", () => {
    expect(loadConfig({ DELIVERY_LADDER: "sms:0s, push:1500ms,email:2h" }).delivery.ladder).toEqual([
      { channel: "sms", delayMs: 0 },
      { channel: "push", delayMs: 1500 },
      { channel: "email", delayMs: 7_200_000 },
    ]);
    // The ladder wins over SMS_DELAY_SECONDS, which only shapes the default ladder.
    expect(loadConfig({ DELIVERY_LADDER: "push:0s,fcm:0s,apns:0s,email:60s,sms:2m", SMS_DELAY_SECONDS: "5" }).delivery.ladder.at(-1)).toEqual({ channel: "sms", delayMs: 120_000 });
  });

  it("refuses an unknown channel, a bad duration, a duplicate and an empty ladder, naming each", () => {
    expect(configError({ DELIVERY_LADDER: "push:0s,pager:1m" })).toMatch(/DELIVERY_LADDER: unknown channel "pager"; known channels: push, fcm, apns, email, sms/);
    expect(configError({ DELIVERY_LADDER: "push:soon" })).toMatch(/DELIVERY_LADDER: step "push:soon" must be channel:duration such as sms:2m/);
    expect(configError({ DELIVERY_LADDER: "sms" })).toMatch(/DELIVERY_LADDER: step "sms" must be channel:duration/);
    expect(configError({ DELIVERY_LADDER: "sms:10d" })).toMatch(/must be channel:duration/);
    expect(configError({ DELIVERY_LADDER: "sms:200h" })).toMatch(/DELIVERY_LADDER: sms: delay 200h is longer than 168h/);
    expect(configError({ DELIVERY_LADDER: "push:0s,sms:1m,push:5s" })).toMatch(/DELIVERY_LADDER: channel push appears twice/);
    expect(configError({ DELIVERY_LADDER: " , " })).toMatch(/DELIVERY_LADDER/);
    // Every bad step at once, so one restart is enough to fix them.
    const both = configError({ DELIVERY_LADDER: "pager:1m,sms:later" });
    expect(both).toMatch(/unknown channel "pager"/);
    expect(both).toMatch(/step "sms:later"/);
  });

  it("stops the server at start with status 78 and the ladder's problem", () => {
    const data = tempDir();
    try {
      const result = spawnSync(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: data.dir, PORT: "0", MONGODB_URI: "", REDIS_URL: "", DELIVERY_LADDER: "push:0s,telegram:1m" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toMatch(/DELIVERY_LADDER: unknown channel "telegram"/);
    } finally {
      data.remove();
    }
  });
});
