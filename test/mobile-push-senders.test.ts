import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ApnsSender } from "../server/src/delivery/mobile/apns-sender.js";
import type { DeviceRecord } from "../server/src/delivery/mobile/device-store.js";
import { FcmSender } from "../server/src/delivery/mobile/fcm-sender.js";
import type { MobilePush } from "../server/src/delivery/mobile/mobile-push-sender.js";
import { tempDir } from "./support/harness.js";
import { startApnsServer, startFcmServer } from "./support/mobile-push-servers.js";

/** The drivers alone against the local APNs and FCM servers, with a clock the test moves. */

const IPHONE = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad";
const device = (platform: "ios" | "android", token: string): DeviceRecord => ({ id: "dev_1", userId: "bob", platform, token, createdAt: "", updatedAt: "" });
const alert: MobilePush = {
  kind: "alert",
  title: "Ada",
  body: "hi",
  badge: 2,
  collapseId: "c1",
  data: { type: "message", conversationId: "c1", messageId: "m1", seq: "1", messageCount: "1" },
};

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("ApnsSender", () => {
  it("reuses one provider token for 50 minutes and one HTTP/2 session, then signs a new token", async () => {
    const dir = tempDir("switchboard-apns-");
    cleanups.push(dir.remove);
    const apns = await startApnsServer(dir.dir);
    cleanups.push(() => apns.close());
    let now = Date.now();
    const sender = new ApnsSender({
      keyPem: fs.readFileSync(apns.keyFile, "utf8"),
      keyId: apns.keyId,
      teamId: apns.teamId,
      topic: apns.topic,
      baseUrl: apns.url,
      timeoutMs: 5000,
      ttlSeconds: 3600,
      ca: apns.ca,
      now: () => now,
    });
    cleanups.push(() => sender.close());
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "sent", statusCode: 200 });
    now += 49 * 60_000;
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "sent" });
    now += 2 * 60_000;
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "sent" });
    const [a, b, c] = apns.requests;
    expect(b.iat).toBe(a.iat);
    expect(c.iat).toBeGreaterThan(a.iat);
    expect(apns.sessions()).toBe(1);
  });

  it("maps Apple's answers: BadDeviceToken is an invalid token, ExpiredProviderToken a retry with a fresh token, an unknown key a failure", async () => {
    const dir = tempDir("switchboard-apns-");
    cleanups.push(dir.remove);
    const apns = await startApnsServer(dir.dir);
    cleanups.push(() => apns.close());
    const options = { keyPem: fs.readFileSync(apns.keyFile, "utf8"), keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, baseUrl: apns.url, timeoutMs: 5000, ttlSeconds: 60, ca: apns.ca };
    const sender = new ApnsSender(options);
    cleanups.push(() => sender.close());
    apns.script(IPHONE, { status: 400, reason: "BadDeviceToken" }, { status: 403, reason: "ExpiredProviderToken" });
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "invalid_token", statusCode: 400, reason: "BadDeviceToken" });
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "retry", statusCode: 403, reason: "ExpiredProviderToken" });
    expect(await sender.send(device("ios", IPHONE), { kind: "badge", badge: 0, conversationId: "c1" })).toMatchObject({ kind: "sent" });
    expect(apns.requests.at(-1)?.headers).toMatchObject({ "apns-push-type": "background", "apns-priority": "5" });
    // A device of another app than the key's topic: Apple refuses, and the server reports it.
    const other = { ...device("ios", IPHONE), appId: "com.example.other" };
    expect(await sender.send(other, alert)).toMatchObject({ kind: "invalid_token", reason: "DeviceTokenNotForTopic" });
    // A key Apple does not know: every push is refused, never retried.
    const stranger = new ApnsSender({ ...options, keyId: "OTHERKEY00" });
    cleanups.push(() => stranger.close());
    expect(await stranger.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "failed", statusCode: 403, reason: "InvalidProviderToken" });
  });

  it("answers retry, not an exception, when APNs cannot be reached", async () => {
    const dir = tempDir("switchboard-apns-");
    cleanups.push(dir.remove);
    const apns = await startApnsServer(dir.dir);
    const keyPem = fs.readFileSync(apns.keyFile, "utf8");
    const url = apns.url;
    await apns.close();
    const sender = new ApnsSender({ keyPem, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, baseUrl: url, timeoutMs: 2000, ttlSeconds: 60, ca: apns.ca });
    cleanups.push(() => sender.close());
    expect(await sender.send(device("ios", IPHONE), alert)).toMatchObject({ kind: "retry", detail: expect.stringMatching(/APNs unreachable/) });
  });
});

describe("FcmSender", () => {
  it("exchanges the service-account assertion once and reuses the access token until shortly before it expires", async () => {
    const dir = tempDir("switchboard-fcm-");
    cleanups.push(dir.remove);
    const fcm = await startFcmServer(dir.dir);
    cleanups.push(() => fcm.close());
    const key = JSON.parse(fs.readFileSync(fcm.keyFile, "utf8"));
    let now = Date.now();
    const sender = new FcmSender({
      serviceAccount: { projectId: key.project_id, clientEmail: key.client_email, privateKey: key.private_key, tokenUri: key.token_uri },
      baseUrl: fcm.url,
      timeoutMs: 5000,
      ttlSeconds: 60,
      now: () => now,
    });
    const results = await Promise.all([1, 2, 3].map(() => sender.send(device("android", "tok-a"), alert)));
    expect(results.map((r) => r.kind)).toEqual(["sent", "sent", "sent"]);
    expect(fcm.tokensIssued()).toBe(1);
    now += 50 * 60_000;
    await sender.send(device("android", "tok-a"), alert);
    expect(fcm.tokensIssued()).toBe(1);
    // expires_in 3599 s, renewed 5 minutes early.
    now += 5 * 60_000;
    await sender.send(device("android", "tok-a"), alert);
    expect(fcm.tokensIssued()).toBe(2);
    expect(fcm.tokenRefusals()).toBe(0);
  });

  it("fails without retrying when the token endpoint refuses the assertion, and maps UNREGISTERED to an invalid token", async () => {
    const dir = tempDir("switchboard-fcm-");
    cleanups.push(dir.remove);
    const fcm = await startFcmServer(dir.dir);
    cleanups.push(() => fcm.close());
    const key = JSON.parse(fs.readFileSync(fcm.keyFile, "utf8"));
    const impostor = new FcmSender({
      serviceAccount: { projectId: key.project_id, clientEmail: "someone-else@example.com", privateKey: key.private_key, tokenUri: key.token_uri },
      baseUrl: fcm.url,
      timeoutMs: 5000,
      ttlSeconds: 60,
    });
    expect(await impostor.send(device("android", "tok-a"), alert)).toMatchObject({ kind: "failed", statusCode: 400, detail: expect.stringMatching(/FCM_SERVICE_ACCOUNT_FILE/) });
    expect(fcm.tokenRefusals()).toBe(1);
    const sender = new FcmSender({ serviceAccount: { projectId: key.project_id, clientEmail: key.client_email, privateKey: key.private_key, tokenUri: key.token_uri }, baseUrl: fcm.url, timeoutMs: 5000, ttlSeconds: 60 });
    fcm.script("tok-gone", { status: 404, reason: "UNREGISTERED" });
    fcm.script("tok-bad", { status: 400, reason: "INVALID_ARGUMENT" });
    expect(await sender.send(device("android", "tok-gone"), alert)).toMatchObject({ kind: "invalid_token", statusCode: 404, reason: "UNREGISTERED" });
    // INVALID_ARGUMENT that does not name the token is a payload problem: not pruned.
    expect(await sender.send(device("android", "tok-bad"), alert)).toMatchObject({ kind: "failed", statusCode: 400 });
  });
});
