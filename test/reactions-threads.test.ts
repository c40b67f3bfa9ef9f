import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LIMITS, type ChangesResult, type Conversation, type HistoryResult, type JoinResult, type Message, type MessageResult } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, request, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";
import { startReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

/**
 * Reactions, replies, threads and the change feed against one real server: raw socket.io-client
 * sockets and the HTTP API, webhooks to a local receiver verified with the standardwebhooks package.
 */
describe("reactions, replies, threads and the change feed", () => {
  let server: TestServer;
  const cleanups: (() => unknown)[] = [];
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    server = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "20" } });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await server?.close();
  });

  interface Member {
    userId: string;
    socket: ClientSocket;
    /** Every `message:new` and `message:updated` this member's socket received, in order. */
    created: Message[];
    updated: Message[];
  }

  /** A group of fresh users, each connected and joined, recording what they receive. */
  async function room(...names: string[]): Promise<{ conversation: Conversation; members: Member[]; join: JoinResult[] }> {
    const ids = names.map(uid);
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ids });
    expect(created.status).toBe(201);
    const conversation = created.body as Conversation;
    const join: JoinResult[] = [];
    const members = await Promise.all(
      ids.map(async (userId, i) => {
        const socket = await connectUser(server.url, userId);
        cleanups.push(() => socket.close());
        const member: Member = { userId, socket, created: [], updated: [] };
        socket.on("message:new", (m) => member.created.push(m));
        socket.on("message:updated", (m) => member.updated.push(m));
        join[i] = await call<JoinResult>(socket, "conversation:join", { conversationId: conversation.id });
        return member;
      }),
    );
    return { conversation, members, join };
  }

  const send = async (member: Member, conversationId: string, text: string, extra: object = {}) =>
    (await call<MessageResult>(member.socket, "message:send", { conversationId, clientMessageId: uid("cm"), text, ...extra })).message;
  const react = async (member: Member, conversationId: string, messageId: string, emoji: string, event = "reaction:add") =>
    (await call<MessageResult>(member.socket, event, { conversationId, messageId, emoji })).message;
  const history = async (member: Member, payload: object) => call<HistoryResult>(member.socket, "message:history", payload);
  /** Waits until `member` has received `message:new` for `message`: everything announced before it has arrived too. */
  const received = (member: Member, message: Message) => waitFor(() => member.created.some((m) => m.id === message.id), `${member.userId} to receive seq ${message.seq}`);

  describe("reactions", () => {
    it("announces reactions live as message:updated with exact counts, serves them in history and joins, and counts a repeated reaction once without an event", async () => {
      const { conversation, members } = await room("alice", "bob", "carol");
      const [alice, bob, carol] = members;
      const message = await send(alice, conversation.id, "ship it?");

      const first = await react(bob, conversation.id, message.id, "👍");
      expect(first.reactions).toEqual([{ emoji: "👍", count: 1, userIds: [bob.userId] }]);
      const second = await react(carol, conversation.id, message.id, "👍");
      const third = await react(carol, conversation.id, message.id, "🎉");
      const expected = [
        { emoji: "👍", count: 2, userIds: [bob.userId, carol.userId] },
        { emoji: "🎉", count: 1, userIds: [carol.userId] },
      ];
      expect(third.reactions).toEqual(expected);
      expect([first.rev, second.rev, third.rev]).toEqual([1, 2, 3]);
      const again = await react(bob, conversation.id, message.id, "👍");
      expect(again).toEqual(third);

      const marker = await send(bob, conversation.id, "marker");
      await received(alice, marker);
      expect(alice.updated).toEqual([first, second, third]);
      expect(bob.updated).toEqual([first, second, third]);

      expect((await history(alice, { conversationId: conversation.id })).messages[0]).toEqual(third);
      expect((await call<JoinResult>(carol.socket, "conversation:join", { conversationId: conversation.id, afterSeq: 0 })).messages[0]).toEqual(third);
      expect((await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages`)).body.messages[0]).toEqual(third);

      const removed = await react(carol, conversation.id, message.id, "🎉", "reaction:remove");
      expect(removed.reactions).toEqual([expected[0]]);
      // Taking back a reaction that is not there succeeds and changes nothing.
      expect(await react(carol, conversation.id, message.id, "🎉", "reaction:remove")).toEqual(removed);
      const marker2 = await send(bob, conversation.id, "marker 2");
      await received(alice, marker2);
      expect(alice.updated).toEqual([first, second, third, removed]);
    });

    it("refuses a new emoji beyond the distinct limit, reactions on a deleted message, non-members and bad emoji, each with a coded error that says what is wrong", async () => {
      const { conversation, members } = await room("alice", "bob");
      const [alice, bob] = members;
      const message = await send(alice, conversation.id, "so many feelings");
      for (let i = 0; i < LIMITS.reactionsDistinctMax; i++) {
        const res = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages/${message.id}/reactions`, { userId: alice.userId, emoji: `:e${i}:` });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
      const tooMany = await request(bob.socket, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: "👍" });
      expect(tooMany).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringMatching(/emoji: .*already has 20 different reactions/) } });
      // An emoji already there is always fine.
      expect((await react(bob, conversation.id, message.id, ":e0:")).reactions?.[0]).toEqual({ emoji: ":e0:", count: 2, userIds: [alice.userId, bob.userId] });

      const bad = await request(bob.socket, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: "not an emoji" });
      expect(bad).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringMatching(/^emoji: must be one emoji/) } });
      const missing = await request(bob.socket, "reaction:add", { conversationId: conversation.id, messageId: "m_missing", emoji: "👍" });
      expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });
      const outsider = await connectUser(server.url, uid("mallory"));
      cleanups.push(() => outsider.close());
      expect(await request(outsider, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: "👍" })).toMatchObject({
        ok: false,
        error: { code: "forbidden" },
      });
      const viaHttp = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages/${message.id}/reactions`, { userId: uid("stranger"), emoji: "👍" });
      expect(viaHttp.status).toBe(403);

      const deleted = (await call<MessageResult>(alice.socket, "message:delete", { conversationId: conversation.id, messageId: message.id })).message;
      expect(deleted).not.toHaveProperty("reactions");
      expect(await request(bob.socket, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: ":e0:" })).toMatchObject({
        ok: false,
        error: { code: "conflict", message: expect.stringMatching(/deleted/) },
      });
    });

    it("reacts and takes reactions back over HTTP for a member, live to the room, with reaction.added and reaction.removed webhooks signed per Standard Webhooks", async () => {
      const receiver: WebhookReceiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const endpoint = await api(server.url, "POST", "/v1/webhooks", { url: receiver.url, eventTypes: ["reaction.added", "reaction.removed"] });
      expect(endpoint.status).toBe(201);
      cleanups.push(() => api(server.url, "DELETE", `/v1/webhooks/${endpoint.body.id}`));
      const { conversation, members } = await room("alice", "bob");
      const [alice, bob] = members;
      const message = await send(alice, conversation.id, "webhook me");
      const path = `/v1/conversations/${conversation.id}/messages/${message.id}/reactions`;

      const added = await api(server.url, "POST", path, { userId: bob.userId, emoji: "🔥" });
      expect(added.status).toBe(200);
      expect(added.body).toMatchObject({ id: message.id, rev: 1, reactions: [{ emoji: "🔥", count: 1, userIds: [bob.userId] }] });
      expect((await api(server.url, "POST", path, { userId: bob.userId, emoji: "🔥" })).body).toEqual(added.body);
      const removed = await api(server.url, "DELETE", `${path}?userId=${bob.userId}&emoji=${encodeURIComponent("🔥")}`);
      expect(removed.status).toBe(200);
      expect(removed.body).not.toHaveProperty("reactions");
      const readded = await api(server.url, "POST", path, { userId: bob.userId, emoji: "🔥" });
      expect(readded.body.rev).toBe(3);
      await waitFor(() => alice.updated.length === 3, "alice to receive the three changes live");
      expect(alice.updated).toEqual([added.body, removed.body, readded.body]);

      expect((await api(server.url, "DELETE", `${path}?userId=${bob.userId}&emoji=nope`)).status).toBe(400);
      expect((await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages/m_missing/reactions`, { userId: bob.userId, emoji: "🔥" })).status).toBe(404);

      await waitFor(() => receiver.receipts.length >= 3, "three webhooks");
      const payloads = receiver.receipts.map((r) => new Webhook(endpoint.body.secret).verify(r.body, r.headers) as { type: string; data: any });
      expect(payloads.map((p) => p.type)).toEqual(["reaction.added", "reaction.removed", "reaction.added"]);
      expect(payloads[0]?.data).toEqual({
        conversationId: conversation.id,
        messageId: message.id,
        seq: message.seq,
        userId: bob.userId,
        emoji: "🔥",
        reactions: [{ emoji: "🔥", count: 1, userIds: [bob.userId] }],
      });
      expect(payloads[1]?.data.reactions).toEqual([]);
      // Adding, removing and adding again are three events; the repeated add was none.
      expect(new Set(receiver.receipts.map((r) => r.headers["webhook-id"])).size).toBe(3);
    });

    it("counts reactions against the member's message rate limit, as edits are", async () => {
      const limited = await startServer({ env: { RATE_LIMIT_MESSAGES: "3" } });
      cleanups.push(() => limited.close());
      const alice = uid("alice");
      const conversation = (await api(limited.url, "POST", "/v1/conversations", { type: "group", memberIds: [alice] })).body as Conversation;
      const socket = await connectUser(limited.url, alice);
      cleanups.push(() => socket.close());
      const { message } = await call<MessageResult>(socket, "message:send", { conversationId: conversation.id, clientMessageId: "x", text: "hi" });
      await call(socket, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: "👍" });
      await call(socket, "reaction:remove", { conversationId: conversation.id, messageId: message.id, emoji: "👍" });
      const refused = await request(socket, "reaction:add", { conversationId: conversation.id, messageId: message.id, emoji: "👍" });
      expect(refused).toMatchObject({ ok: false, error: { code: "rate_limited", retryAfterMs: expect.any(Number) } });
      const http = await api(limited.url, "POST", `/v1/conversations/${conversation.id}/messages/${message.id}/reactions`, { userId: alice, emoji: "👍" });
      expect(http.status).toBe(429);
      expect(http.headers.get("retry-after")).toMatch(/^\d+$/);
    });
  });

  describe("replies", () => {
    it("quotes the parent in a reply, live and in history, and shows the parent's later edit and deletion when read", async () => {
      const { conversation, members } = await room("alice", "bob");
      const [alice, bob] = members;
      const parent = await send(alice, conversation.id, "Who brings the cake?", { attachments: [{ url: "https://cdn.example.com/cake.png" }] });
      const reply = await send(bob, conversation.id, "I do", { replyTo: parent.id });
      const quote = { messageId: parent.id, seq: parent.seq, senderId: alice.userId, excerpt: "Who brings the cake?", attachmentCount: 1 };
      expect(reply.replyTo).toEqual(quote);
      await received(alice, reply);
      expect(alice.created.at(-1)).toEqual(reply);
      const viaHttp = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, text: "thanks", replyTo: reply.id });
      expect(viaHttp.status).toBe(201);
      expect(viaHttp.body.replyTo).toEqual({ messageId: reply.id, seq: reply.seq, senderId: bob.userId, excerpt: "I do" });

      await call(alice.socket, "message:edit", { conversationId: conversation.id, messageId: parent.id, text: "Who brings the pie?" });
      expect((await history(bob, { conversationId: conversation.id })).messages[1]?.replyTo).toEqual({ ...quote, excerpt: "Who brings the pie?" });
      await call(alice.socket, "message:delete", { conversationId: conversation.id, messageId: parent.id });
      const gone = { messageId: parent.id, seq: parent.seq, senderId: alice.userId, excerpt: "", deleted: true };
      expect((await history(bob, { conversationId: conversation.id, afterSeq: 0 })).messages[1]?.replyTo).toEqual(gone);
      expect((await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages`)).body.messages[1].replyTo).toEqual(gone);
      expect((await call<JoinResult>(bob.socket, "conversation:join", { conversationId: conversation.id, afterSeq: 1 })).messages[0]?.replyTo).toEqual(gone);
    });

    it("refuses a reply to a message of another conversation or to a deleted one, naming replyTo", async () => {
      const { conversation, members } = await room("alice", "bob");
      const [alice] = members;
      const other = await room("carol");
      const elsewhere = await send(other.members[0]!, other.conversation.id, "elsewhere");
      const refused = await request(alice.socket, "message:send", { conversationId: conversation.id, clientMessageId: uid("cm"), text: "re", replyTo: elsewhere.id });
      expect(refused).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringMatching(/^replyTo: message .* does not exist in conversation/) } });
      const doomed = await send(alice, conversation.id, "soon gone");
      await call(alice.socket, "message:delete", { conversationId: conversation.id, messageId: doomed.id });
      const late = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, text: "re", replyTo: doomed.id });
      expect(late.status).toBe(409);
      expect(late.body.error.message).toMatch(/^replyTo: .*deleted/);
      expect((await history(alice, { conversationId: conversation.id })).messages).toHaveLength(1);
    });
  });

  describe("threads", () => {
    it("keeps seq gapless across thread and main messages, moves the parent's replyCount and lastReplyAt live and in history, and counts replies as unread", async () => {
      const { conversation, members } = await room("alice", "bob", "carol");
      const [alice, bob, carol] = members;
      const parent = await send(alice, conversation.id, "Retro notes in the thread, please");
      const t1 = await send(bob, conversation.id, "went well: the launch", { threadId: parent.id });
      const main = await send(alice, conversation.id, "meanwhile, in the main channel");
      const t2Http = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, text: "to improve: tests", threadId: parent.id, replyTo: t1.id });
      expect(t2Http.status).toBe(201);
      const t2 = t2Http.body as Message;
      expect([parent.seq, t1.seq, main.seq, t2.seq]).toEqual([1, 2, 3, 4]);
      expect([t1.threadId, t1.threadSeq, t2.threadId, t2.threadSeq]).toEqual([parent.id, 1, parent.id, 2]);
      expect(t2.replyTo).toMatchObject({ messageId: t1.id, seq: 2, excerpt: "went well: the launch" });
      expect(main).not.toHaveProperty("threadId");

      await received(carol, t2);
      // Every member sees each reply as a message of the conversation and the parent's new count.
      expect(carol.created.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
      const parentUpdates = carol.updated.filter((m) => m.id === parent.id);
      expect(parentUpdates.map((m) => [m.replyCount, m.lastReplyAt, m.rev])).toEqual([
        [1, t1.createdAt, 1],
        [2, t2.createdAt, 2],
      ]);
      const all = await history(carol, { conversationId: conversation.id });
      expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
      expect(all.messages[0]).toEqual(parentUpdates[1]);
      expect(all.messages[0]).toMatchObject({ replyCount: 2, lastReplyAt: t2.createdAt });

      const thread = await history(carol, { conversationId: conversation.id, threadId: parent.id });
      expect(thread.messages.map((m) => m.id)).toEqual([t1.id, t2.id]);
      const threadHttp = await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages?threadId=${parent.id}`);
      expect(threadHttp.body).toEqual({ messages: thread.messages, hasMore: false });

      const list = await call<{ conversations: { conversation: Conversation; unreadCount: number }[] }>(carol.socket, "conversation:list", {});
      expect(list.conversations.find((c) => c.conversation.id === conversation.id)?.unreadCount).toBe(4);
      const bobsView = await call<{ conversations: { conversation: Conversation; unreadCount: number }[] }>(bob.socket, "conversation:list", {});
      // Bob's own reply is read by him; the others are not.
      expect(bobsView.conversations.find((c) => c.conversation.id === conversation.id)?.unreadCount).toBe(2);
    });

    it("pages a thread's history by key over the socket and HTTP, and refuses threads under thread replies or missing parents", async () => {
      const { conversation, members } = await room("alice", "bob");
      const [alice, bob] = members;
      const parent = await send(alice, conversation.id, "thread");
      const replies: Message[] = [];
      for (let i = 1; i <= 7; i++) {
        replies.push(await send(bob, conversation.id, `reply ${i}`, { threadId: parent.id }));
        await send(alice, conversation.id, `main ${i}`);
      }
      const seqs = (page: HistoryResult) => page.messages.map((m) => m.seq);
      const newest = await history(alice, { conversationId: conversation.id, threadId: parent.id, limit: 3 });
      expect([seqs(newest), newest.hasMore]).toEqual([replies.slice(4).map((m) => m.seq), true]);
      const older = await history(alice, { conversationId: conversation.id, threadId: parent.id, beforeSeq: newest.messages[0]!.seq, limit: 3 });
      expect([seqs(older), older.hasMore]).toEqual([replies.slice(1, 4).map((m) => m.seq), true]);
      const forward = await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages?threadId=${parent.id}&afterSeq=${replies[1]!.seq}&limit=2`);
      expect(forward.body.messages.map((m: Message) => m.threadSeq)).toEqual([3, 4]);
      expect(forward.body.hasMore).toBe(true);

      const nested = await request(alice.socket, "message:send", { conversationId: conversation.id, clientMessageId: uid("cm"), text: "deeper", threadId: replies[0]!.id });
      expect(nested).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringMatching(/^threadId: .*threads do not nest/) } });
      expect(await request(alice.socket, "message:history", { conversationId: conversation.id, threadId: "m_missing" })).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(await request(alice.socket, "message:history", { conversationId: conversation.id, threadId: replies[0]!.id })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    });

    it("keeps a deleted parent's thread, its reply count and new replies", async () => {
      const { conversation, members } = await room("alice", "bob");
      const [alice, bob] = members;
      const parent = await send(alice, conversation.id, "to be deleted");
      await send(bob, conversation.id, "first", { threadId: parent.id });
      const deleted = (await call<MessageResult>(alice.socket, "message:delete", { conversationId: conversation.id, messageId: parent.id })).message;
      expect(deleted).toMatchObject({ deleted: true, text: "", replyCount: 1 });
      const later = await send(bob, conversation.id, "still talking", { threadId: parent.id });
      expect(later.threadSeq).toBe(2);
      await received(alice, later);
      await waitFor(() => alice.updated.some((m) => m.id === parent.id && m.replyCount === 2), "the deleted parent's new count");
      expect((await history(alice, { conversationId: conversation.id })).messages[0]).toMatchObject({ deleted: true, replyCount: 2 });
    });
  });

  describe("the change feed", () => {
    it("answers message:changes and GET …/changes with the current versions changed after a revision, in revision order, for members only", async () => {
      const { conversation, members, join } = await room("alice", "bob");
      const [alice, bob] = members;
      expect(join[0]?.conversation.lastRev).toBe(0);
      const [m1, m2, m3] = [await send(alice, conversation.id, "one"), await send(alice, conversation.id, "two"), await send(alice, conversation.id, "three")];
      await call(alice.socket, "message:edit", { conversationId: conversation.id, messageId: m1.id, text: "one!" });
      const rejoined = await call<JoinResult>(bob.socket, "conversation:join", { conversationId: conversation.id, afterSeq: 3 });
      expect(rejoined.conversation.lastRev).toBe(1);
      await react(bob, conversation.id, m2.id, "👀");
      await send(bob, conversation.id, "in a thread", { threadId: m3.id });
      await call(alice.socket, "message:delete", { conversationId: conversation.id, messageId: m1.id });

      const changes = await call<ChangesResult>(bob.socket, "message:changes", { conversationId: conversation.id, afterRev: rejoined.conversation.lastRev! });
      expect(changes.messages.map((m) => [m.id, m.rev])).toEqual([
        [m2.id, 2],
        [m3.id, 3],
        [m1.id, 4],
      ]);
      expect(changes).toMatchObject({ lastRev: 4, hasMore: false });
      expect(changes.messages[2]).toMatchObject({ deleted: true });
      const firstPage = await api(server.url, "GET", `/v1/conversations/${conversation.id}/changes?afterRev=1&limit=2`);
      expect(firstPage.status).toBe(200);
      expect(firstPage.body).toEqual({ messages: changes.messages.slice(0, 2), lastRev: 3, hasMore: true });
      const rest = await api(server.url, "GET", `/v1/conversations/${conversation.id}/changes?afterRev=3`);
      expect(rest.body).toEqual({ messages: changes.messages.slice(2), lastRev: 4, hasMore: false });
      expect((await api(server.url, "GET", `/v1/conversations/${conversation.id}/changes`)).status).toBe(400);

      const outsider = await connectUser(server.url, uid("mallory"));
      cleanups.push(() => outsider.close());
      expect(await request(outsider, "message:changes", { conversationId: conversation.id, afterRev: 0 })).toMatchObject({ ok: false, error: { code: "forbidden" } });
      expect(await request(bob.socket, "message:changes", { conversationId: conversation.id, afterRev: -1 })).toMatchObject({
        ok: false,
        error: { code: "invalid_argument", message: expect.stringMatching(/^afterRev/) },
      });
    });
  });
});
