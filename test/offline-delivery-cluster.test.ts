import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, mintToken, spawnServer, tempDir, waitFor } from "./support/harness.js";
import { createPushSubscriber, startPushService } from "./support/push-service.js";
import { startRedis } from "./support/redis-server.js";
import { startTwilioFake } from "./support/twilio-fake.js";

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
    const nodes = [await spawnServer(data.dir, { ...env, NODE_ID: "node-a" }), await spawnServer(data.dir, { ...env, NODE_ID: "node-b" })];
    for (const node of nodes) cleanups.push(() => node.kill("SIGTERM"));
    const [a, b] = nodes;

    const ok = (res: { status: number; body: any }, what: string) => {
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
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

    const messages: Message[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      ok(await api(a.url, "POST", "/v1/conversations", { id: `cl-${i}`, type: "group", title: `Room ${i}`, memberIds: ["alice", "bob"] }), "conversation");
    }
    // Each message is sent on one node and retried at once on the other: both announce it.
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, i) => {
        const send = { senderId: "alice", text: `message ${i} for bob`, clientMessageId: `cluster-${i}` };
        const [first, second] = await Promise.all([
          api(nodes[i % 2].url, "POST", `/v1/conversations/cl-${i}/messages`, send),
          api(nodes[(i + 1) % 2].url, "POST", `/v1/conversations/cl-${i}/messages`, send),
        ]);
        expect(ok(second, "retry").id).toBe(ok(first, "send").id);
        messages.push(first.body as Message);
      }),
    );

    const deliveriesOf = async (message: Message): Promise<Delivery[]> => ok(await api(b.url, "GET", `/v1/messages/${message.id}/deliveries`), "deliveries").deliveries;
    await waitFor(
      async () => {
        for (const message of messages) {
          const deliveries = await deliveriesOf(message);
          if (deliveries.filter((d) => d.status === "sent").length !== 2) return false;
        }
        return true;
      },
      "every push and SMS to be sent",
      30_000,
      100,
    );
    // Past the SMS delay and several polls of both workers: nothing more may arrive.
    const settled = Date.now() + 1500;
    await waitFor(() => Date.now() > settled, "the workers to settle", 5000, 100);

    for (const message of messages) {
      const deliveries = await deliveriesOf(message);
      expect(deliveries.map((d) => [d.userId, d.channel, d.status]).sort()).toEqual([
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
