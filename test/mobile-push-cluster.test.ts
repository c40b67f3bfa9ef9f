import { afterEach, describe, expect, it } from "vitest";
import { api, mintToken, tempDir } from "./support/harness.js";
import { startApnsServer, startFcmServer } from "./support/mobile-push-servers.js";
import { startRedis } from "./support/redis-server.js";
import { ok, sendOnBothNodes, settledDeliveries, startTwoNodes } from "./support/two-node-delivery.js";

/**
 * Two node processes share one SQLite file and one Redis, and both run a delivery worker: each
 * (message, user, channel) must still reach the phone once, also when the same send is retried
 * on the other node (both nodes then announce the message).
 */

const IPHONE = "5f0e7c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b";
const ANDROID = "cluster-android:APA91bExampleRegistrationToken";
const CONVERSATIONS = 10;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("native mobile push on two nodes", () => {
  it("sends exactly one APNs and one FCM push per message and offline member, whichever node stored it", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const data = tempDir("switchboard-mobile-cluster-");
    cleanups.push(data.remove);
    const apns = await startApnsServer(data.dir);
    cleanups.push(() => apns.close());
    const fcm = await startFcmServer(data.dir);
    cleanups.push(() => fcm.close());

    const env = {
      REDIS_URL: redis.url,
      // A spawned process trusts the local APNs certificate the standard Node way.
      NODE_EXTRA_CA_CERTS: apns.writeCaCert(data.dir),
      FCM_SERVICE_ACCOUNT_FILE: fcm.keyFile,
      FCM_BASE_URL: fcm.url,
      APNS_KEY_FILE: apns.keyFile,
      APNS_KEY_ID: apns.keyId,
      APNS_TEAM_ID: apns.teamId,
      APNS_TOPIC: apns.topic,
      APNS_BASE_URL: apns.url,
      DELIVERY_POLL_INTERVAL_MS: "20",
    };
    const nodes = await startTwoNodes(data.dir, env, (fn) => cleanups.push(fn));
    const [a, b] = nodes;

    ok(await api(a.url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
    ok(await api(a.url, "POST", "/v1/users", { id: "bob", name: "Bob" }), "bob");
    const token = await mintToken("bob");
    for (const [node, platform, device] of [[a, "ios", IPHONE], [b, "android", ANDROID]] as const) {
      const res = await fetch(`${node.url}/v1/push/devices`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ platform, token: device }),
      });
      expect(res.status).toBe(201);
    }

    const messages = await sendOnBothNodes(nodes, "mc", CONVERSATIONS);
    for (const deliveries of await settledDeliveries(b, messages, 2, "every APNs and FCM push to be sent")) {
      expect(deliveries).toEqual([
        ["bob", "apns", "sent"],
        ["bob", "fcm", "sent"],
      ]);
    }
    const apple = apns.requests.map((r) => r.payload.messageId);
    expect(apple).toHaveLength(CONVERSATIONS);
    expect(new Set(apple)).toEqual(new Set(messages.map((m) => m.id)));
    expect(apns.requests.every((r) => r.status === 200 && r.token === IPHONE)).toBe(true);
    const google = fcm.requests.map((r) => r.message.data.messageId);
    expect(google).toHaveLength(CONVERSATIONS);
    expect(new Set(google)).toEqual(new Set(messages.map((m) => m.id)));
  }, 90_000);
});
