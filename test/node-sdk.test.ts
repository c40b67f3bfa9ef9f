import http from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Switchboard, SwitchboardApiError, type Message } from "../node-sdk/src/index.js";
import { connectUser, startServer, TEST_ADMIN_KEY, TEST_JWT_SECRET, waitFor, type TestServer } from "./support/harness.js";
import { startReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

/** The Node SDK against a live server on port 0: every wrapped route once, with its real answer. */
describe("the Node SDK against a live server", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let sb: Switchboard;

  beforeAll(async () => {
    server = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "20" } });
    receiver = await startReceiver();
    sb = new Switchboard({ baseUrl: server.url, apiKey: TEST_ADMIN_KEY, retry: { baseDelayMs: 10 } });
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it("reports health and readiness", async () => {
    expect(await sb.health()).toEqual({ status: "ok" });
    const ready = await sb.readiness();
    expect(ready.ready).toBe(true);
    expect(ready.body.checks).toMatchObject({ store: "ok" });
  });

  it("creates users and conversations, and adds and removes members", async () => {
    expect(await sb.users.upsert({ id: "alice", name: "Alice" })).toMatchObject({ id: "alice", name: "Alice" });
    await sb.users.upsert({ id: "bob", name: "Bob", phone: "+15005550006" });
    await sb.users.upsert({ id: "carol" });
    expect(await sb.users.get("bob")).toMatchObject({ id: "bob", name: "Bob" });
    const conv = await sb.conversations.create({ id: "sdk-room", type: "group", title: "SDK", memberIds: ["alice", "bob"] });
    expect(conv).toMatchObject({ id: "sdk-room", type: "group" });
    const added = await sb.conversations.addMember("sdk-room", { userId: "carol" });
    expect(added.members.map((m) => m.userId).sort()).toEqual(["alice", "bob", "carol"]);
    const removed = await sb.conversations.removeMember("sdk-room", "carol");
    expect(removed.members.map((m) => m.userId)).not.toContain("carol");
    expect((await sb.conversations.get("sdk-room")).title).toBe("SDK");
  });

  it("sends, lists, edits, reacts to, deletes and reads messages, and lists their deliveries and changes", async () => {
    const first = await sb.messages.send("sdk-room", { senderId: "alice", text: "hello", clientMessageId: "c-1" });
    expect(first).toMatchObject({ text: "hello", seq: 1, senderId: "alice" });
    // The same clientMessageId: the original, not a second message.
    expect((await sb.messages.send("sdk-room", { senderId: "alice", text: "hello", clientMessageId: "c-1" })).id).toBe(first.id);
    const second = await sb.messages.send("sdk-room", { senderId: "bob", text: "hi alice" });
    const page = await sb.messages.list("sdk-room", { limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(["hello", "hi alice"]);
    expect((await sb.messages.edit("sdk-room", second.id, { text: "hi Alice" })).text).toBe("hi Alice");
    const reacted = await sb.messages.react("sdk-room", first.id, { userId: "bob", emoji: "👍" });
    expect(JSON.stringify(reacted.reactions)).toContain("👍");
    const unreacted = await sb.messages.unreact("sdk-room", first.id, { userId: "bob", emoji: "👍" });
    expect(JSON.stringify(unreacted.reactions ?? [])).not.toContain("👍");
    expect((await sb.messages.delete("sdk-room", second.id)).deleted).toBe(true);
    // Alice's own send moved her to seq 1; Bob's message is seq 2.
    expect(await sb.conversations.markRead("sdk-room", { userId: "alice", seq: 2 })).toMatchObject({ lastReadSeq: 2 });
    const changes = await sb.conversations.changes("sdk-room", { afterRev: 0 });
    expect(changes.messages.map((m) => m.id)).toEqual(expect.arrayContaining([first.id, second.id]));
    const deliveries = await sb.messages.deliveries(first.id);
    expect(deliveries.messageId).toBe(first.id);
    expect(Array.isArray(deliveries.deliveries)).toBe(true);
  });

  it("iterates a long history oldest first by seq, across pages, without gaps or repeats", async () => {
    await sb.conversations.create({ id: "sdk-history", type: "group", memberIds: ["alice", "bob"] });
    for (let i = 1; i <= 23; i++) await sb.messages.send("sdk-history", { senderId: "alice", text: `m${i}` });
    const seen: Message[] = [];
    for await (const message of sb.messages.iterate("sdk-history", { pageSize: 5 })) seen.push(message);
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    const tail: number[] = [];
    for await (const message of sb.messages.iterate("sdk-history", { afterSeq: 20, pageSize: 2 })) tail.push(message.seq);
    expect(tail).toEqual([21, 22, 23]);
  });

  it("manages notification preferences, mutes and SMS consent", async () => {
    expect(await sb.users.updateNotificationPreferences("bob", { sms: false })).toMatchObject({ sms: false });
    expect(await sb.users.getNotificationPreferences("bob")).toMatchObject({ sms: false });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect(await sb.users.mute("bob", "sdk-room", { until })).toMatchObject({ conversationId: "sdk-room" });
    await sb.users.unmute("bob", "sdk-room");
    const consent = await sb.users.recordSmsConsent("bob", { granted: true, note: "signed up on the web form" });
    expect(JSON.stringify(consent)).toContain("signed up on the web form");
    expect(JSON.stringify(await sb.users.getSmsConsent("bob"))).toContain("signed up on the web form");
  });

  it("mints user tokens through the API and locally, both accepted by the socket handshake", async () => {
    const remote = await sb.tokens.create({ userId: "alice", ttlSeconds: 120 });
    expect(remote.token.split(".")).toHaveLength(3);
    const local = await new Switchboard({ baseUrl: server.url, apiKey: TEST_ADMIN_KEY, tokenSigner: { secret: TEST_JWT_SECRET } }).createUserToken({
      userId: "bob",
      name: "Bob",
      role: "agent",
    });
    const { payload } = await jwtVerify(local.token, new TextEncoder().encode(TEST_JWT_SECRET));
    expect(payload).toMatchObject({ sub: "bob", name: "Bob", role: "agent" });
    for (const token of [remote.token, local.token, (await sb.createUserToken({ userId: "carol" })).token]) {
      const socket = await connectUser(server.url, "ignored", { token });
      expect(socket.connected).toBe(true);
      socket.disconnect();
    }
  });

  it("creates, lists, rotates and revokes API keys, and a revoked key gets a typed unauthorized error", async () => {
    const created = await sb.apiKeys.create({ name: "reporting", scopes: ["read"] });
    expect(created.key).toMatch(/^sb_/);
    expect((await sb.apiKeys.list()).map((k) => k.id)).toContain(created.id);
    const reader = new Switchboard({ baseUrl: server.url, apiKey: created.key });
    expect((await reader.users.get("alice")).id).toBe("alice");
    const forbidden = await reader.users.upsert({ id: "mallory" }).catch((err: unknown) => err);
    expect(forbidden).toBeInstanceOf(SwitchboardApiError);
    expect(forbidden).toMatchObject({ code: "forbidden", status: 403 });
    const rotated = await sb.apiKeys.rotate(created.id);
    expect(rotated.key).not.toBe(created.key);
    expect(rotated.previousKeyExpiresAt).toBeTruthy();
    await sb.apiKeys.revoke(created.id);
    const refused = await new Switchboard({ baseUrl: server.url, apiKey: rotated.key }).users.get("alice").catch((err: unknown) => err);
    expect(refused).toMatchObject({ name: "SwitchboardApiError", code: "unauthorized", status: 401 });
    expect((refused as SwitchboardApiError).requestId).toBeTruthy();
  });

  it("manages webhook endpoints, verifies what they receive, and pages through and replays their deliveries", async () => {
    const endpoint = await sb.webhooks.create({ url: receiver.url, eventTypes: ["message.created"], description: "sdk" });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await sb.webhooks.list()).map((w) => w.id)).toContain(endpoint.id);
    expect((await sb.webhooks.update(endpoint.id, { description: "sdk test" })).description).toBe("sdk test");
    expect((await sb.webhooks.get(endpoint.id)).description).toBe("sdk test");
    expect((await sb.webhooks.getSecret(endpoint.id)).secret).toBe(endpoint.secret);

    for (let i = 0; i < 5; i++) await sb.messages.send("sdk-room", { senderId: "alice", text: `hook ${i}` });
    await waitFor(() => receiver.receipts.length >= 5, "five webhook deliveries");
    const receipt = receiver.receipts[0]!;
    const payload = sb.webhooks.verify<{ type: string }>(receipt.headers, receipt.body, { secret: endpoint.secret });
    expect(payload.type).toBe("message.created");

    const rotated = await sb.webhooks.rotateSecret(endpoint.id);
    expect(rotated.secret).not.toBe(endpoint.secret);

    await waitFor(async () => (await sb.webhooks.listDeliveries(endpoint.id, { status: "succeeded" })).deliveries.length >= 5, "five succeeded deliveries");
    const firstPage = await sb.webhooks.listDeliveries(endpoint.id, { limit: 2 });
    expect(firstPage.hasMore).toBe(true);
    const all: string[] = [];
    for await (const delivery of sb.webhooks.iterateDeliveries(endpoint.id, { pageSize: 2 })) all.push(delivery.id);
    expect(all).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
    expect(all.slice(0, 2)).toEqual(firstPage.deliveries.map((d) => d.id));

    const replayed = await sb.webhooks.replayDelivery(endpoint.id, all[0]!);
    expect(replayed.id).not.toBe(all[0]);
    const ranged = await sb.webhooks.replay(endpoint.id, { since: new Date(Date.now() - 60_000).toISOString() });
    expect(ranged.enqueued).toBeGreaterThanOrEqual(5);
    await sb.webhooks.delete(endpoint.id);
    await expect(sb.webhooks.get(endpoint.id)).rejects.toMatchObject({ code: "not_found", status: 404 });
  });

  it("uploads a file for a user and reads it back with signed links", async () => {
    const upload = await sb.uploads.create(new TextEncoder().encode("hello, file"), { name: "note.txt", userId: "alice", contentType: "text/plain" });
    expect(upload).toMatchObject({ name: "note.txt", mimeType: "text/plain", size: 11 });
    const again = await sb.uploads.get(upload.uploadId);
    expect(again.uploadId).toBe(upload.uploadId);
    // The link is on PUBLIC_URL's origin; the test server listens on its own port.
    const link = new URL(again.url);
    const bytes = await fetch(new URL(link.pathname + link.search, server.url)).then((r) => r.text());
    expect(bytes).toBe("hello, file");
  });

  it("creates, lists, reads and revokes widget keys", async () => {
    const key = await sb.widgetKeys.create({ name: "site", allowedOrigins: ["https://shop.example"] });
    expect(key.id).toMatch(/^wk_/);
    expect(key.identitySecret).toBeTruthy();
    expect((await sb.widgetKeys.list()).map((k) => k.id)).toContain(key.id);
    expect((await sb.widgetKeys.get(key.id)).identitySecret).toBe(key.identitySecret);
    await sb.widgetKeys.revoke(key.id);
  });

  it("turns a validation failure into a SwitchboardApiError with the server's code and message, without retrying", async () => {
    const err = await sb.conversations.create({ type: "group", memberIds: [] } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardApiError);
    expect(err).toMatchObject({ code: "invalid_argument", status: 400 });
    expect((err as Error).message).toMatch(/memberIds/);
  });

  it("retries a send whose answer was lost, and the server applies it once thanks to the Idempotency-Key", async () => {
    // A proxy that forwards every request to the live server but replaces the first answer with a 502,
    // as a balancer does when the connection to the node breaks after the node did the work.
    let requests = 0;
    const keys: (string | undefined)[] = [];
    const replayed: (string | null)[] = [];
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        requests++;
        keys.push(req.headers["idempotency-key"] as string | undefined);
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<string, string>;
        const upstream = await fetch(new URL(req.url!, server.url), { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
        const body = Buffer.from(await upstream.arrayBuffer());
        replayed.push(upstream.headers.get("idempotent-replayed"));
        if (requests === 1) {
          res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
          return;
        }
        const answer: Record<string, string> = {};
        upstream.headers.forEach((value, name) => (answer[name] = value));
        res.writeHead(upstream.status, answer).end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const viaProxy = new Switchboard({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, apiKey: TEST_ADMIN_KEY, retry: { baseDelayMs: 5 } });
      await sb.conversations.create({ id: "sdk-lost-answer", type: "group", memberIds: ["alice"] });
      const sent = await viaProxy.messages.send("sdk-lost-answer", { senderId: "alice", text: "only once" });
      expect(requests).toBe(2);
      expect(keys[0]).toBeTruthy();
      expect(keys[1]).toBe(keys[0]);
      // No clientMessageId: the key alone made the server answer the retry with the stored response.
      expect(replayed).toEqual([null, "true"]);
      const history = await sb.messages.list("sdk-lost-answer");
      expect(history.messages.map((m) => [m.id, m.text])).toEqual([[sent.id, "only once"]]);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
