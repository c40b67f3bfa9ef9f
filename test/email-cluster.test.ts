import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, spawnServer, tempDir, waitFor } from "./support/harness.js";
import { startRedis } from "./support/redis-server.js";
import { startSmtpSink } from "./support/smtp-sink.js";

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
    const nodes = [await spawnServer(data.dir, { ...env, NODE_ID: "node-a" }), await spawnServer(data.dir, { ...env, NODE_ID: "node-b" })];
    for (const node of nodes) cleanups.push(() => node.kill("SIGTERM"));
    const [a, b] = nodes;

    const ok = (res: { status: number; body: any }, what: string) => {
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    ok(await api(a.url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
    ok(await api(b.url, "POST", "/v1/users", { id: "bob", name: "Bob", email: "bob@example.com" }), "bob");
    for (let i = 0; i < CONVERSATIONS; i++) {
      ok(await api(a.url, "POST", "/v1/conversations", { id: `em-${i}`, type: "group", title: `Room ${i}`, memberIds: ["alice", "bob"] }), "conversation");
    }
    const messages: Message[] = [];
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, i) => {
        const send = { senderId: "alice", text: `message ${i} for bob`, clientMessageId: `email-cluster-${i}` };
        const [first, second] = await Promise.all([
          api(nodes[i % 2].url, "POST", `/v1/conversations/em-${i}/messages`, send),
          api(nodes[(i + 1) % 2].url, "POST", `/v1/conversations/em-${i}/messages`, send),
        ]);
        expect(ok(second, "retry").id).toBe(ok(first, "send").id);
        messages.push(first.body as Message);
      }),
    );

    const deliveriesOf = async (message: Message): Promise<Delivery[]> => ok(await api(b.url, "GET", `/v1/messages/${message.id}/deliveries`), "deliveries").deliveries;
    await waitFor(
      async () => {
        for (const message of messages) {
          if (!(await deliveriesOf(message)).some((d) => d.status === "sent")) return false;
        }
        return true;
      },
      "every email to be sent",
      30_000,
      100,
    );
    // Several polls of both workers past the delay: nothing more may arrive.
    const settled = Date.now() + 1500;
    await waitFor(() => Date.now() > settled, "the workers to settle", 5000, 100);

    for (const message of messages) {
      expect((await deliveriesOf(message)).map((d) => [d.userId, d.channel, d.status])).toEqual([["bob", "email", "sent"]]);
    }
    expect(sink.received).toHaveLength(CONVERSATIONS);
    const mailed = sink.received.map((e) => /message (\d+) for bob/.exec(e.parsed.text ?? "")?.[1]);
    expect(new Set(mailed).size).toBe(CONVERSATIONS);
    expect(sink.received.every((e) => e.rcptTo.join() === "bob@example.com")).toBe(true);
    // One thread per conversation, whichever node created it: every email has its own reply address.
    expect(new Set(sink.received.map((e) => e.parsed.replyTo?.text)).size).toBe(CONVERSATIONS);
  }, 90_000);
});
