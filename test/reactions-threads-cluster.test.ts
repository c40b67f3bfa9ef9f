import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangesResult, Conversation, HistoryResult, Message, MessageResult } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, startServer, tempDir, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

/** Two nodes on one SQLite file and a Redis started by the test, as in `test/cluster.test.ts`. */
describe("reactions, replies and threads across two nodes", () => {
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
    nodeA = await startServer({ dataDir: data.dir, env: { REDIS_URL: redis.url, NODE_ID: "node-a" } });
    nodeB = await startServer({ dataDir: data.dir, env: { REDIS_URL: redis.url, NODE_ID: "node-b" } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await nodeA?.close();
    await nodeB?.close();
    await redis?.close();
    data?.remove();
  });

  it("delivers reactions, replies and thread replies made on node A live to a member on node B, and both nodes serve the same history and changes", async () => {
    const alice = await on(nodeA, "alice-x");
    const bob = await on(nodeB, "bob-x");
    const { conversation } = await call<{ conversation: Conversation }>(alice, "conversation:create", { type: "group", memberIds: ["bob-x"] });
    await call(alice, "conversation:join", { conversationId: conversation.id });
    await call(bob, "conversation:join", { conversationId: conversation.id });
    const bobNew: Message[] = [];
    const bobUpdated: Message[] = [];
    bob.on("message:new", (m) => bobNew.push(m));
    bob.on("message:updated", (m) => bobUpdated.push(m));
    const send = async (payload: object) =>
      (await call<MessageResult>(alice, "message:send", { conversationId: conversation.id, clientMessageId: `cm-${Math.random()}`, ...payload })).message;

    const parent = await send({ text: "Plan for Friday?" });
    const reacted = (await call<MessageResult>(alice, "reaction:add", { conversationId: conversation.id, messageId: parent.id, emoji: "🙌" })).message;
    const reply = await send({ text: "Pizza", replyTo: parent.id });
    const threaded = await send({ text: "Details here", threadId: parent.id });

    await waitFor(() => bobNew.length === 3 && bobUpdated.length === 2, "bob on node B to receive the messages and the parent's changes");
    expect(bobNew).toEqual([parent, reply, threaded]);
    expect(bobNew[1]?.replyTo).toMatchObject({ messageId: parent.id, excerpt: "Plan for Friday?" });
    expect(bobNew[2]).toMatchObject({ threadId: parent.id, threadSeq: 1, seq: 3 });
    expect(bobUpdated[0]).toEqual(reacted);
    expect(bobUpdated[1]).toMatchObject({ id: parent.id, replyCount: 1, rev: 2, reactions: [{ emoji: "🙌", count: 1, userIds: ["alice-x"] }] });

    // And back: bob reacts on node B, alice on node A sees it.
    const aliceUpdated: Message[] = [];
    alice.on("message:updated", (m) => aliceUpdated.push(m));
    const bobs = (await call<MessageResult>(bob, "reaction:add", { conversationId: conversation.id, messageId: threaded.id, emoji: "👍" })).message;
    await waitFor(() => aliceUpdated.length === 1, "alice on node A to receive bob's reaction");
    expect(aliceUpdated[0]).toEqual(bobs);

    const historyA = await call<HistoryResult>(alice, "message:history", { conversationId: conversation.id });
    const historyB = await call<HistoryResult>(bob, "message:history", { conversationId: conversation.id });
    expect(historyB.messages).toEqual(historyA.messages);
    expect(historyA.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    const threadB = await api(nodeB.url, "GET", `/v1/conversations/${conversation.id}/messages?threadId=${parent.id}`);
    expect(threadB.body.messages).toEqual([bobs]);
    const changesA = await call<ChangesResult>(alice, "message:changes", { conversationId: conversation.id, afterRev: 0 });
    const changesB = await call<ChangesResult>(bob, "message:changes", { conversationId: conversation.id, afterRev: 0 });
    expect(changesB.messages).toEqual(changesA.messages);
    expect(changesA).toMatchObject({ lastRev: 3, hasMore: false });
  });

  it("keeps threadSeq and revisions gapless in commit order when both nodes reply into one thread and react to it at once", async () => {
    const users = Array.from({ length: 10 }, (_, i) => `racer-${i}`);
    const conversation = (await api(nodeA.url, "POST", "/v1/conversations", { type: "group", memberIds: users })).body as Conversation;
    const parent = (await api(nodeA.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: users[0], text: "race" })).body as Message;
    const nodes = [nodeA, nodeB];
    const writes = users.flatMap((userId, i) => [
      ...[0, 1].map((k) =>
        api(nodes[(i + k) % 2]!.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: userId, text: `reply ${k}`, threadId: parent.id }),
      ),
      api(nodes[i % 2]!.url, "POST", `/v1/conversations/${conversation.id}/messages/${parent.id}/reactions`, { userId, emoji: i % 2 ? "👍" : "🎉" }),
    ]);
    const results = await Promise.all(writes);
    for (const r of results) expect([200, 201], JSON.stringify(r.body)).toContain(r.status);

    const replies = (await api(nodeB.url, "GET", `/v1/conversations/${conversation.id}/messages?threadId=${parent.id}&afterSeq=0&limit=100`)).body.messages as Message[];
    expect(replies.map((m) => m.threadSeq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(replies.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const current = (await api(nodeA.url, "GET", `/v1/conversations/${conversation.id}/messages?limit=1&beforeSeq=2`)).body.messages[0] as Message;
    expect(current.replyCount).toBe(20);
    expect(current.reactions?.map((r) => [r.emoji, r.count]).sort()).toEqual([
      ["🎉", 5],
      ["👍", 5],
    ]);
    // 20 replies and 10 reactions changed the parent 30 times: revisions 1..30, the last one its own.
    expect(current.rev).toBe(30);
    expect((await api(nodeB.url, "GET", `/v1/conversations/${conversation.id}`)).body.lastRev).toBe(30);
  });
});
