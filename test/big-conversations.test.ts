import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepOwnMembership } from "../client-sdk/src/conversation-handle.js";
import { LIMITS, type Conversation, type ConversationListResult, type JoinResult } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";

/** Conversations above this many members reach clients without their member list. */
const LIST_LIMIT = 3;

/**
 * Big conversations: up to LIMITS.membersMax (10,000) members, and above
 * CONVERSATION_MEMBER_LIST_LIMIT clients get their own membership and `memberCount` instead of
 * every member on each join, list and change.
 */
describe("big conversations", () => {
  let server: TestServer;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    server = await startServer({ env: { CONVERSATION_MEMBER_LIST_LIMIT: String(LIST_LIMIT), MAX_HTTP_BODY_BYTES: String(2 * 1024 * 1024) } });
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.close();
    await server?.close();
  });

  async function user(id: string): Promise<ClientSocket> {
    const socket = await connectUser(server.url, id);
    sockets.push(socket);
    return socket;
  }

  it("creates a conversation of 10,000 members and refuses 10,001 with an error naming the limit", async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `crowd-${i}`);
    const created = await api(server.url, "POST", "/v1/conversations", { id: "crowd", type: "group", memberIds: ids(LIMITS.membersMax) });
    expect(created.status).toBe(201);
    expect(created.body.memberCount).toBe(10_000);
    // The HTTP API (backends) always lists everyone.
    const read = await api(server.url, "GET", "/v1/conversations/crowd");
    expect(read.body.members).toHaveLength(10_000);

    const tooMany = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ids(LIMITS.membersMax + 1) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe("invalid_argument");
    expect(JSON.stringify(tooMany.body.error)).toContain("10000");

    // A member of the crowd joins and gets its own membership, not 10,000.
    const member = await user("crowd-7");
    const joined = await call<JoinResult>(member, "conversation:join", { conversationId: "crowd" });
    expect(joined.conversation.memberCount).toBe(10_000);
    expect(joined.conversation.membersPartial).toBe(true);
    expect(joined.conversation.members.map((m) => m.userId)).toEqual(["crowd-7"]);
    expect(JSON.stringify(joined).length).toBeLessThan(2_000);
  });

  it("lists a big conversation with the user's own membership and unread count, a small one with everyone", async () => {
    await api(server.url, "POST", "/v1/conversations", { id: "big", type: "group", memberIds: ["ann", "ben", "cat", "dan"] });
    await api(server.url, "POST", "/v1/conversations", { id: "small", type: "group", memberIds: ["ann", "ben"] });
    const ann = await user("ann");
    const ben = await user("ben");
    await call(ann, "message:send", { conversationId: "big", text: "hi all", clientMessageId: "m1" });

    const listed = await call<ConversationListResult>(ben, "conversation:list", {});
    const big = listed.conversations.find((s) => s.conversation.id === "big");
    expect(big?.conversation).toMatchObject({ memberCount: 4, membersPartial: true, members: [{ userId: "ben", lastReadSeq: 0 }] });
    expect(big?.unreadCount).toBe(1);
    const small = listed.conversations.find((s) => s.conversation.id === "small");
    expect(small?.conversation.members.map((m) => m.userId)).toEqual(["ann", "ben"]);
    expect(small?.conversation).not.toHaveProperty("membersPartial");
  });

  it("announces a new member of a big conversation with that member only, and the client keeps its own read position", async () => {
    await api(server.url, "POST", "/v1/conversations", { id: "hall", type: "group", memberIds: ["hal-1", "hal-2", "hal-3", "hal-4"] });
    const watcher = await user("hal-1");
    const joined = await call<JoinResult>(watcher, "conversation:join", { conversationId: "hall" });
    const updates: Conversation[] = [];
    watcher.on("conversation:updated", ({ conversation }) => updates.push(conversation));

    expect((await api(server.url, "POST", "/v1/conversations/hall/members", { userId: "hal-5" })).status).toBeLessThan(300);
    const update = await waitFor(() => updates[0], "hal-1 to hear that hal-5 joined");
    expect(update).toMatchObject({ memberCount: 5, membersPartial: true });
    expect(update.members.map((m) => m.userId)).toEqual(["hal-5"]);

    // What the SDK's handle and the React list store do with it: the own membership stays.
    const kept = keepOwnMembership(update, joined.conversation, "hal-1");
    expect(kept.members.map((m) => m.userId).sort()).toEqual(["hal-1", "hal-5"]);
    expect(keepOwnMembership(update, undefined, "hal-1")).toBe(update);
  });
});
