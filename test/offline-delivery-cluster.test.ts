import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { api, mintToken, tempDir } from "./support/harness.js";
import { createPushSubscriber, startPushService } from "./support/push-service.js";
import { startRedis } from "./support/redis-server.js";
import { startTwilioFake } from "./support/twilio-fake.js";
import { ok, sendOnBothNodes, settledDeliveries, startTwoNodes } from "./support/two-node-delivery.js";

/**
 * Two node processes share one store and one Redis, and both run a delivery worker: each
 * (message, user, channel) must still be notified exactly once, also when the same send is
 * retried on the other node (both nodes then announce the message).
 */

const BOB_PHONE = "+15550003333";
const CONVERSATIONS = 12;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("offline fallback on two nodes", () => {
  it("sends exactly one push and one SMS per message and offline member, whichever node stored it", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const data = tempDir("switchboard-offline-cluster-");
    cleanups.push(data.remove);
    const push = await startPushService();
    cleanups.push(() => push.close());
    const twilio = await startTwilioFake();
    cleanups.push(() => twilio.close());

    const env = {
      REDIS_URL: redis.url,
      // A spawned process trusts the local push service's certificate the standard Node way.
      NODE_EXTRA_CA_CERTS: push.writeCaCert(data.dir),
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      SMS_FROM: "+15550001000,+15550001001",
      SMS_DELAY_SECONDS: "1",
      SMS_PER_NUMBER_PER_SECOND: "100",
      PUSH_ALLOW_PRIVATE: "1",
      DELIVERY_POLL_INTERVAL_MS: "20",
    };
    const nodes = await startTwoNodes(data.dir, env, (fn) => cleanups.push(fn));
    const [a, b] = nodes;

    ok(await api(a.url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
    ok(await api(a.url, "POST", "/v1/users", { id: "bob", name: "Bob", phone: BOB_PHONE }), "bob");
    ok(await api(b.url, "POST", "/v1/users/bob/sms-consent", { granted: true }), "consent");
    const subscriber = createPushSubscriber(push);
    const subscribed = await fetch(`${b.url}/v1/push/subscriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${await mintToken("bob")}`, "content-type": "application/json" },
      body: JSON.stringify(subscriber.toJSON()),
    });
    expect(subscribed.status).toBe(201);

    const messages = await sendOnBothNodes(nodes, "cl", CONVERSATIONS);
    for (const deliveries of await settledDeliveries(b, messages, 2, "every push and SMS to be sent")) {
      expect(deliveries).toEqual([
        ["bob", "push", "sent"],
        ["bob", "sms", "sent"],
      ]);
    }
    const pushed = subscriber.received().map((p) => (p.payload as { messageId: string }).messageId);
    expect(pushed).toHaveLength(CONVERSATIONS);
    expect(new Set(pushed)).toEqual(new Set(messages.map((m) => m.id)));
    const texted = twilio.sends.map((s) => s.body.match(/message (\d+) for bob/)?.[1]);
    expect(texted).toHaveLength(CONVERSATIONS);
    expect(new Set(texted).size).toBe(CONVERSATIONS);
    expect(twilio.sends.every((s) => s.to === BOB_PHONE)).toBe(true);
  }, 90_000);
});
