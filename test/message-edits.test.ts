import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatClient, SwitchboardClientError } from "../client-sdk/src/index.js";
import type { Conversation, JoinResult, Message, MessageResult } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, mintToken, request, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";

const IMAGE = { url: "https://cdn.example.com/cat.png", mimeType: "image/png" };

describe("message edits and deletes", () => {
  let server: TestServer;
  const sockets: ClientSocket[] = [];
  const clients: ChatClient[] = [];
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const client of clients) client.disconnect();
    await server?.close();
  });

  /** A group of `names` (fresh ids), each connected and joined, with the `message:updated` events each receives. */
  async function room(...names: string[]) {
    const ids = names.map(uid);
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ids });
    expect(created.status).toBe(201);
    const conversation = created.body as Conversation;
    const members = await Promise.all(
      ids.map(async (userId) => {
        const socket = await connectUser(server.url, userId);
        sockets.push(socket);
        const updates: Message[] = [];
        socket.on("message:updated", (m) => updates.push(m));
        await call(socket, "conversation:join", { conversationId: conversation.id });
        return { userId, socket, updates };
      }),
    );
    return { conversation, members };
  }

  const send = async (socket: ClientSocket, conversationId: string, text: string, extra: object = {}) =>
    (await call<MessageResult>(socket, "message:send", { conversationId, clientMessageId: `cm-${++n}`, text, ...extra })).message;

  it("lets the sender edit their message over the socket, tells every joined member, and serves the edit in history and joins", async () => {
    const { conversation, members } = await room("alice", "bob");
    const [alice, bob] = members;
    const original = await send(alice.socket, conversation.id, "helo", { attachments: [IMAGE] });

    const { message: edited } = await call<MessageResult>(alice.socket, "message:edit", {
      conversationId: conversation.id,
      messageId: original.id,
      text: "hello",
    });
    expect(edited).toEqual({ ...original, text: "hello", editedAt: expect.any(String), rev: expect.any(Number) });
    expect(Date.parse(edited.editedAt!)).toBeGreaterThanOrEqual(Date.parse(original.createdAt));

    await waitFor(() => bob.updates.length === 1 && alice.updates.length === 1, "both members to receive message:updated");
    expect(bob.updates[0]).toEqual(edited);

    const history = await call<{ messages: Message[] }>(bob.socket, "message:history", { conversationId: conversation.id });
    expect(history.messages).toEqual([edited]);
    const rejoined = await call<JoinResult>(bob.socket, "conversation:join", { conversationId: conversation.id, afterSeq: 0 });
    expect(rejoined.messages).toEqual([edited]);
    const http = await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages`);
    expect(http.body.messages).toEqual([edited]);
  });

  it("replaces attachments on an edit that names them and removes them with an empty list", async () => {
    const { conversation, members } = await room("alice");
    const [alice] = members;
    const original = await send(alice.socket, conversation.id, "see attached", { attachments: [IMAGE] });
    const other = { url: "https://cdn.example.com/dog.png" };
    const replaced = await call<MessageResult>(alice.socket, "message:edit", { conversationId: conversation.id, messageId: original.id, text: "see attached", attachments: [other] });
    expect(replaced.message.attachments).toEqual([other]);
    const removed = await call<MessageResult>(alice.socket, "message:edit", { conversationId: conversation.id, messageId: original.id, text: "no attachment", attachments: [] });
    expect(removed.message).not.toHaveProperty("attachments");
  });

  it("deletes a message without a gap in seq: empty text, no attachments, deleted: true, and a later edit is a conflict", async () => {
    const { conversation, members } = await room("alice", "bob");
    const [alice, bob] = members;
    await send(alice.socket, conversation.id, "one");
    const doomed = await send(alice.socket, conversation.id, "two", { attachments: [IMAGE] });
    await send(bob.socket, conversation.id, "three");

    const { message: deleted } = await call<MessageResult>(alice.socket, "message:delete", { conversationId: conversation.id, messageId: doomed.id });
    const { attachments: _gone, ...kept } = doomed;
    expect(deleted).toEqual({ ...kept, text: "", deleted: true, deletedAt: expect.any(String), rev: expect.any(Number) });
    await waitFor(() => bob.updates.some((m) => m.id === doomed.id), "bob to receive the deletion");
    expect(bob.updates.at(-1)).toEqual(deleted);

    const history = await call<{ messages: Message[] }>(bob.socket, "message:history", { conversationId: conversation.id });
    expect(history.messages.map((m) => [m.seq, m.text])).toEqual([
      [1, "one"],
      [2, ""],
      [3, "three"],
    ]);
    expect((await send(bob.socket, conversation.id, "four")).seq).toBe(4);

    const edit = await request(alice.socket, "message:edit", { conversationId: conversation.id, messageId: doomed.id, text: "undo" });
    expect(edit).toMatchObject({ ok: false, error: { code: "conflict" } });
    // A retried delete succeeds with the same result.
    const again = await call<MessageResult>(alice.socket, "message:delete", { conversationId: conversation.id, messageId: doomed.id });
    expect(again.message).toEqual(deleted);
  });

  it("refuses edits and deletes by anyone but the sender, and names what is wrong with bad input", async () => {
    const { conversation, members } = await room("alice", "bob");
    const [alice, bob] = members;
    const message = await send(alice.socket, conversation.id, "mine");
    const outsider = await connectUser(server.url, uid("mallory"));
    sockets.push(outsider);
    const target = { conversationId: conversation.id, messageId: message.id };

    expect(await request(bob.socket, "message:edit", { ...target, text: "yours now" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(bob.socket, "message:delete", target)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(outsider, "message:edit", { ...target, text: "hi" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await request(alice.socket, "message:edit", { ...target, messageId: "m_missing", text: "x" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await request(alice.socket, "message:delete", { ...target, conversationId: "no-such-conversation" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await request(alice.socket, "message:edit", { ...target, text: "   " })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await request(alice.socket, "message:edit", { ...target, text: "x".repeat(4001) })).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    expect(await request(alice.socket, "message:edit", { ...target, text: "x", extra: 1 })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });

    const unchanged = await call<{ messages: Message[] }>(alice.socket, "message:history", { conversationId: conversation.id });
    expect(unchanged.messages).toEqual([message]);
    expect(bob.updates).toEqual([]);
  });

  it("keeps system messages for backends: their named sender cannot edit them over the socket", async () => {
    const { conversation, members } = await room("alice");
    const [alice] = members;
    const system = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, type: "system", text: "Agent joined" });
    expect(system.status).toBe(201);
    const refused = await request(alice.socket, "message:edit", { conversationId: conversation.id, messageId: system.body.id, text: "Agent left" });
    expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("lets a backend edit and delete any message over HTTP, delivered live as message:updated", async () => {
    const { conversation, members } = await room("alice", "bob");
    const [alice, bob] = members;
    const message = await send(alice.socket, conversation.id, "needs moderation");
    const route = `/v1/conversations/${conversation.id}/messages/${message.id}`;

    const patched = await api(server.url, "PATCH", route, { text: "[edited by a moderator]" });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...message, text: "[edited by a moderator]", editedAt: expect.any(String), rev: expect.any(Number) });
    await waitFor(() => bob.updates.length === 1, "bob to receive the edit");
    expect(bob.updates[0]).toEqual(patched.body);

    const removed = await api(server.url, "DELETE", route);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ id: message.id, seq: message.seq, text: "", deleted: true, editedAt: patched.body.editedAt });
    await waitFor(() => alice.updates.length === 2, "alice to receive both updates");

    expect((await api(server.url, "PATCH", route, { text: "again" })).status).toBe(409);
    expect((await api(server.url, "DELETE", route)).status).toBe(200);
    expect((await api(server.url, "PATCH", `/v1/conversations/${conversation.id}/messages/m_missing`, { text: "x" })).status).toBe(404);
    expect((await api(server.url, "DELETE", `/v1/conversations/missing/messages/${message.id}`)).status).toBe(404);
    const bad = await api(server.url, "PATCH", route, { text: "" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^text: /);
  });

  it("sends message:updated only to connections that joined the conversation", async () => {
    const { conversation, members } = await room("alice", "bob");
    const [alice, bob] = members;
    await call(bob.socket, "conversation:leave", { conversationId: conversation.id });
    const message = await send(alice.socket, conversation.id, "quiet");
    await call(alice.socket, "message:edit", { conversationId: conversation.id, messageId: message.id, text: "quieter" });
    await waitFor(() => alice.updates.length === 1, "alice to receive her own edit");
    // A round trip on bob's socket: anything emitted to him before it would have arrived.
    await call(bob.socket, "conversation:list", {});
    expect(bob.updates).toEqual([]);
  });

  it("lets the SDK edit and delete through a handle, replacing the message in every joined handle's list", async () => {
    const conversation = (await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["sdk-alice", "sdk-bob"] })).body as Conversation;
    const connect = (userId: string) => {
      const client = new ChatClient({ url: server.url, getToken: () => mintToken(userId) });
      clients.push(client);
      client.connect();
      return client;
    };
    const alice = connect("sdk-alice").conversation(conversation.id);
    const bobClient = connect("sdk-bob");
    const bob = bobClient.conversation(conversation.id);
    const bobUpdates: Message[] = [];
    const clientUpdates: Message[] = [];
    bob.on("message:updated", (m) => bobUpdates.push(m));
    bobClient.on("message:updated", (m) => clientUpdates.push(m));
    await Promise.all([alice.join(), bob.join()]);

    const sent = await alice.send("draft");
    await waitFor(() => bob.messages.length === 1, "bob to receive the message");
    const edited = await alice.edit(sent.id, "final");
    expect(edited).toMatchObject({ id: sent.id, seq: sent.seq, text: "final", editedAt: expect.any(String), rev: expect.any(Number) });
    expect(alice.messages).toEqual([edited]);
    await waitFor(() => bobUpdates.length === 1, "bob's handle to report the edit");
    expect(bobUpdates[0]).toEqual(edited);
    expect(bob.messages).toEqual([edited]);
    expect(clientUpdates).toEqual([edited]);

    const deleted = await alice.delete(sent.id);
    expect(deleted).toMatchObject({ id: sent.id, text: "", deleted: true });
    await waitFor(() => bob.messages[0]?.deleted === true, "bob's list to show the deletion");
    expect(bob.messages).toEqual([deleted]);
    expect(bobUpdates).toEqual([edited, deleted]);

    const refused = await alice.edit(sent.id, "resurrect").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SwitchboardClientError);
    expect((refused as SwitchboardClientError).code).toBe("conflict");
    const notHers = await bob.delete(sent.id).catch((e: unknown) => e);
    expect((notHers as SwitchboardClientError).code).toBe("forbidden");
  });
});
