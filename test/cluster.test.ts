import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation, Message, PresenceUpdateEvent, ReceiptReadEvent, TypingEvent } from "../client-sdk/src/protocol.js";
import { call, connectUser, startServer, tempDir, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

describe("cluster mode: two nodes on one Redis and one SQLite file", () => {
  let redis: TestRedis;
  let data: { dir: string; remove: () => void };
  let nodeA: TestServer;
  let nodeB: TestServer;
  const sockets: ClientSocket[] = [];
  const on = async (node: TestServer, userId: string) => {
    const s = await connectUser(node.url, userId);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir();
    const env = { REDIS_URL: redis.url, TYPING_TTL_SECONDS: "2" };
    nodeA = await startServer({ dataDir: data.dir, env: { ...env, NODE_ID: "node-a" } });
    nodeB = await startServer({ dataDir: data.dir, env: { ...env, NODE_ID: "node-b" } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await nodeA?.close();
    await nodeB?.close();
    await redis?.close();
    data?.remove();
  });

  it("delivers a message sent on node A to a member connected to node B, and typing and receipts back", async () => {
    const alice = await on(nodeA, "alice");
    const bob = await on(nodeB, "bob");
    const { conversation } = await call<{ conversation: Conversation }>(alice, "conversation:create", { type: "group", memberIds: ["bob"] });
    await call(alice, "conversation:join", { conversationId: conversation.id });
    await call(bob, "conversation:join", { conversationId: conversation.id });

    const bobGot: Message[] = [];
    bob.on("message:new", (m) => bobGot.push(m));
    await call(alice, "message:send", { conversationId: conversation.id, clientMessageId: "x-1", text: "across nodes" });
    await waitFor(() => bobGot.length === 1, "bob on node B to receive alice's message");
    expect(bobGot[0]).toMatchObject({ seq: 1, text: "across nodes", senderId: "alice" });

    const aliceTyping: TypingEvent[] = [];
    alice.on("typing", (e) => aliceTyping.push(e));
    bob.emit("typing:start", { conversationId: conversation.id });
    await waitFor(() => aliceTyping.some((e) => e.userId === "bob" && e.isTyping), "alice to see bob typing");

    const receipts: ReceiptReadEvent[] = [];
    alice.on("receipt:read", (r) => receipts.push(r));
    await call(bob, "message:read", { conversationId: conversation.id, seq: 1 });
    await waitFor(() => receipts.length === 1, "alice to get bob's read receipt");
    expect(receipts[0]).toEqual({ conversationId: conversation.id, userId: "bob", seq: 1 });
  });

  it("tells a contact on the other node when a user comes online and goes offline", async () => {
    const carol = await on(nodeA, "carol");
    await call(carol, "conversation:create", { type: "group", memberIds: ["dave"] });
    const updates: PresenceUpdateEvent[] = [];
    carol.on("presence:update", (u) => updates.push(u));
    const dave = await on(nodeB, "dave");
    await waitFor(() => updates.some((u) => u.userId === "dave" && u.status === "online"), "carol to see dave online");
    dave.close();
    await waitFor(() => updates.some((u) => u.userId === "dave" && u.status === "offline"), "carol to see dave offline", 15_000);
  });

  it("explains a long-polling request that reached a node without its session, instead of a bare 'Session ID unknown'", async () => {
    const handshake = await fetch(`${nodeA.url}/socket.io/?EIO=4&transport=polling`);
    const body = await handshake.text();
    const sid = (JSON.parse(body.slice(body.indexOf("{"))) as { sid: string }).sid;
    const stray = await fetch(`${nodeB.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    expect(stray.status).toBe(400);
    const answer = (await stray.json()) as { message: string; explanation: string };
    expect(answer.message).toBe("Session ID unknown");
    expect(answer.explanation).toMatch(/sticky sessions/);
    expect(answer.explanation).toMatch(/node-b/);
    // The node that owns the session still serves it (a POST answers at once; a GET would long-poll).
    const sameNode = await fetch(`${nodeA.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "6" });
    expect(sameNode.status).toBe(200);
    expect(await sameNode.text()).toBe("ok");
  });

  it("reports Redis in readiness, degrades while it is down, and asks clients to resync when it is back", async () => {
    expect((await fetch(`${nodeA.url}/readyz`)).status).toBe(200);
    const erin = await on(nodeA, "erin");
    const resyncs: unknown[] = [];
    erin.on("resync", (e) => resyncs.push(e));
    await redis.kill();
    await waitFor(async () => (await fetch(`${nodeA.url}/readyz`)).status === 503, "readiness to report Redis down");
    const body = await (await fetch(`${nodeA.url}/readyz`)).json();
    expect(JSON.stringify(body)).toMatch(/redis/);
    await redis.start();
    await waitFor(() => resyncs.length > 0, "erin to be asked to resync", 15_000);
    await waitFor(async () => (await fetch(`${nodeA.url}/readyz`)).status === 200, "readiness to recover", 15_000);
    expect(erin.connected).toBe(true);
  });
});
