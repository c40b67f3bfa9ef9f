import { afterEach, describe, expect, it } from "vitest";
import { api, tempDir } from "./support/harness.js";
import { startRedis } from "./support/redis-server.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { ok, sendOnBothNodes, settledDeliveries, startTwoNodes } from "./support/two-node-delivery.js";

/**
 * Two node processes on one SQLite file and one Redis, both running a delivery worker with email
 * on: each (message, user, channel) is emailed exactly once, also when the same send is retried
 * on the other node (both nodes then announce the message).
 */

const CONVERSATIONS = 8;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the email channel on two nodes", () => {
  it("sends exactly one email per message and offline member, whichever node stored it", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const data = tempDir("switchboard-email-cluster-");
    cleanups.push(data.remove);
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());

    const env = {
      REDIS_URL: redis.url,
      SMTP_URL: sink.url,
      EMAIL_FROM: "notify@example.com",
      EMAIL_REPLY_DOMAIN: "reply.example.com",
      EMAIL_DELAY_SECONDS: "1",
      DELIVERY_POLL_INTERVAL_MS: "20",
    };
    const nodes = await startTwoNodes(data.dir, env, (fn) => cleanups.push(fn));
    const [a, b] = nodes;

    ok(await api(a.url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
    ok(await api(b.url, "POST", "/v1/users", { id: "bob", name: "Bob", email: "bob@example.com" }), "bob");
    const messages = await sendOnBothNodes(nodes, "em", CONVERSATIONS);
    for (const deliveries of await settledDeliveries(b, messages, 1, "every email to be sent")) {
      expect(deliveries).toEqual([["bob", "email", "sent"]]);
    }
    expect(sink.received).toHaveLength(CONVERSATIONS);
    const mailed = sink.received.map((e) => /message (\d+) for bob/.exec(e.parsed.text ?? "")?.[1]);
    expect(new Set(mailed).size).toBe(CONVERSATIONS);
    expect(sink.received.every((e) => e.rcptTo.join() === "bob@example.com")).toBe(true);
    // One thread per conversation, whichever node created it: every email has its own reply address.
    expect(new Set(sink.received.map((e) => e.parsed.replyTo?.text)).size).toBe(CONVERSATIONS);
  }, 90_000);
});
