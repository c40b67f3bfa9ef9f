import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LIMITS, type ErrorCode, type Message } from "../client-sdk/src/protocol.js";
import { SwitchboardError } from "../server/src/core/errors.js";
import type { ApiKeyRecord, NewMessage, Store } from "../server/src/store/store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface StoreHarness {
  store: Store;
  /** Closes every store this harness opened (closing twice must be harmless) and deletes the data. */
  cleanup: () => Promise<void>;
  /**
   * Opens another initialised store over the same data, alongside or after `store` (the durability
   * and multi-instance tests use it; they are reported as skipped when a driver leaves it out).
   */
  reopen?: () => Promise<Store>;
}

/** A fixed clock: `at(n)` is n seconds after 2025-01-01T00:00:00Z, in `toISOString()` form. */
const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();

let messageCounter = 0;
/** A NewMessage with a unique id; `extra` overrides any field. */
function newMessage(conversationId: string, senderId: string, extra: Partial<NewMessage> = {}): NewMessage {
  messageCounter += 1;
  return {
    id: `msg-${randomUUID()}`,
    conversationId,
    senderId,
    type: "text",
    text: `hello ${messageCounter}`,
    createdAt: at(1000 + messageCounter),
    ...extra,
  };
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a SwitchboardError "${code}"`).toBeInstanceOf(SwitchboardError);
  expect((err as SwitchboardError).code).toBe(code);
}

/** Every seq of a conversation, read page by page with `afterSeq` as a client catching up would. */
async function allMessages(store: Store, conversationId: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const page = await store.getMessages(conversationId, { afterSeq: out.at(-1)?.seq ?? 0, limit: 100 });
    out.push(...page.messages);
    if (!page.hasMore) return out;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * The behaviour every {@link Store} driver must show, declared as vitest suites. Each driver's test
 * file calls it with a factory that builds a fresh, initialised store per test.
 */
export function runStoreContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`${name} store contract`, () => {
    let harness: StoreHarness | undefined;
    let store: Store;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    /** A conversation with the given members, created at `at(seconds)`. */
    const conversation = (id: string, memberIds: string[], seconds = 0, title?: string) =>
      store.createConversation({
        id,
        type: memberIds.length === 2 ? "direct" : "group",
        ...(title === undefined ? {} : { title }),
        members: memberIds.map((userId, i) => ({ userId, role: i === 0 ? "owner" : "member" })),
        createdAt: at(seconds),
      });

    describe("users", () => {
      it("creates a user with the default role and leaves absent optional fields out", async () => {
        const user = await store.upsertUser({ id: "u1" }, at(1));
        expect(user).toStrictEqual({ id: "u1", role: "user", createdAt: at(1) });
        expect(await store.getUser("u1")).toStrictEqual(user);
      });

      it("updates only the fields given and keeps the others, createdAt included", async () => {
        await store.upsertUser({ id: "u1", name: "Ada", phone: "+14155550100", role: "agent" }, at(1));
        const renamed = await store.upsertUser({ id: "u1", name: "Ada L." }, at(2));
        expect(renamed).toStrictEqual({ id: "u1", name: "Ada L.", phone: "+14155550100", role: "agent", createdAt: at(1) });
        const demoted = await store.upsertUser({ id: "u1", role: "user" }, at(3));
        expect(demoted).toStrictEqual({ ...renamed, role: "user" });
        expect(await store.getUser("u1")).toStrictEqual(demoted);
      });

      it("returns null for a user that does not exist", async () => {
        expect(await store.getUser("nobody")).toBeNull();
      });
    });

    describe("conversations", () => {
      it("creates a conversation whose members start unread at 0 and reads it back identically", async () => {
        const created = await conversation("c1", ["alice", "bob", "carol"], 5, "Team");
        expect(created).toStrictEqual({
          id: "c1",
          type: "group",
          title: "Team",
          members: [
            { userId: "alice", role: "owner", lastReadSeq: 0, joinedAt: at(5) },
            { userId: "bob", role: "member", lastReadSeq: 0, joinedAt: at(5) },
            { userId: "carol", role: "member", lastReadSeq: 0, joinedAt: at(5) },
          ],
          memberCount: 3,
          lastSeq: 0,
          createdAt: at(5),
          lastRev: 0,
        });
        expect(await store.getConversation("c1")).toStrictEqual(created);
      });

      it("leaves the title out of a conversation created without one", async () => {
        const created = await conversation("c1", ["alice", "bob"]);
        expect(created).not.toHaveProperty("title");
        expect(await store.getConversation("c1")).not.toHaveProperty("title");
      });

      it("rejects a second conversation with the same id as a conflict and keeps the first", async () => {
        const first = await conversation("c1", ["alice", "bob"]);
        await expectCode(conversation("c1", ["carol", "dave"]), "conflict");
        expect(await store.getConversation("c1")).toStrictEqual(first);
      });

      it("returns null for a conversation that does not exist", async () => {
        expect(await store.getConversation("missing")).toBeNull();
      });

      it("returns a member, and null for a non-member or a missing conversation", async () => {
        await conversation("c1", ["alice", "bob"], 1);
        expect(await store.getMember("c1", "bob")).toStrictEqual({
          userId: "bob",
          role: "member",
          lastReadSeq: 0,
          joinedAt: at(1),
        });
        expect(await store.getMember("c1", "mallory")).toBeNull();
        expect(await store.getMember("missing", "bob")).toBeNull();
      });

      it("adds a member at the end, and adding it again keeps its role and read position", async () => {
        await conversation("c1", ["alice", "bob"], 1);
        const added = await store.addMember("c1", "carol", "member", at(2));
        expect(added.members.map((m) => m.userId)).toEqual(["alice", "bob", "carol"]);
        expect(added.members[2]).toStrictEqual({ userId: "carol", role: "member", lastReadSeq: 0, joinedAt: at(2) });

        await store.appendMessage(newMessage("c1", "alice"));
        await store.markRead("c1", "carol", 1);
        const again = await store.addMember("c1", "carol", "admin", at(3));
        expect(again.members).toHaveLength(3);
        expect(again.members[2]).toStrictEqual({ userId: "carol", role: "member", lastReadSeq: 1, joinedAt: at(2) });
      });

      it("lists who has not read a message yet: the other members below its seq, in join order", async () => {
        await conversation("c1", ["alice", "bob", "carol", "dave"], 1);
        for (let i = 0; i < 3; i++) await store.appendMessage(newMessage("c1", "alice"));
        await store.markRead("c1", "bob", 2);
        await store.markRead("c1", "dave", 3);
        // alice sent all three, so she has read them; bob read up to 2, dave all.
        expect(await store.listUnreadMembers("c1", 3, "alice")).toEqual(["bob", "carol"]);
        expect(await store.listUnreadMembers("c1", 2, "alice")).toEqual(["carol"]);
        expect(await store.listUnreadMembers("c1", 4, "carol")).toEqual(["alice", "bob", "dave"]);
        await store.removeMember("c1", "carol");
        expect(await store.listUnreadMembers("c1", 3, "alice")).toEqual(["bob"]);
        expect(await store.listUnreadMembers("missing", 1, "alice")).toEqual([]);
      });

      it("removes a member, and removing it again changes nothing", async () => {
        await conversation("c1", ["alice", "bob", "carol"]);
        const removed = await store.removeMember("c1", "bob");
        expect(removed.members.map((m) => m.userId)).toEqual(["alice", "carol"]);
        expect(await store.removeMember("c1", "bob")).toStrictEqual(removed);
        expect(await store.getMember("c1", "bob")).toBeNull();
      });

      it("reads a conversation above the member-list limit with only the viewer's membership and its true size", async () => {
        await conversation("big", ["alice", "bob", "carol", "dave"], 1);
        await conversation("small", ["alice", "bob"], 2);
        await store.appendMessage(newMessage("big", "alice"));
        await store.markRead("big", "carol", 1);

        const big = await store.getConversation("big", { viewerId: "carol", memberListLimit: 3 });
        expect(big).toMatchObject({ id: "big", memberCount: 4, membersPartial: true, lastSeq: 1 });
        expect(big?.members).toStrictEqual([{ userId: "carol", role: "member", lastReadSeq: 1, joinedAt: at(1) }]);
        // A non-member viewer (a backend reading on nobody's behalf) sees no one, but the size.
        expect((await store.getConversation("big", { viewerId: "mallory", memberListLimit: 3 }))?.members).toStrictEqual([]);
        // At or below the limit, and without a view, everyone.
        const atLimit = await store.getConversation("big", { viewerId: "carol", memberListLimit: 4 });
        expect(atLimit?.members.map((m) => m.userId)).toEqual(["alice", "bob", "carol", "dave"]);
        expect(atLimit).not.toHaveProperty("membersPartial");
        expect((await store.getConversation("big"))?.members).toHaveLength(4);

        const listed = await store.listConversations("carol", { limit: 10, memberListLimit: 3 });
        const listedBig = listed.find((s) => s.conversation.id === "big");
        expect(listedBig?.conversation).toMatchObject({ memberCount: 4, membersPartial: true });
        expect(listedBig?.conversation.members.map((m) => m.userId)).toEqual(["carol"]);
        expect(listedBig?.unreadCount).toBe(0);
        const bobs = await store.listConversations("bob", { limit: 10, memberListLimit: 3 });
        expect(bobs.find((s) => s.conversation.id === "small")?.conversation).toMatchObject({ memberCount: 2, members: [{ userId: "alice" }, { userId: "bob" }] });
        expect(bobs.find((s) => s.conversation.id === "big")?.unreadCount).toBe(1);
      });

      it("reports not_found when adding or removing a member of a missing conversation", async () => {
        await expectCode(store.addMember("missing", "alice", "member", at(1)), "not_found");
        await expectCode(store.removeMember("missing", "alice"), "not_found");
        expect(await store.getConversation("missing")).toBeNull();
      });
    });

    describe("messages", () => {
      it("assigns seq 1, 2, 3 in order and advances the conversation's lastSeq", async () => {
        await conversation("c1", ["alice", "bob"]);
        const results = [];
        for (let i = 0; i < 3; i++) results.push(await store.appendMessage(newMessage("c1", "alice")));
        expect(results.map((r) => r.kind)).toEqual(["created", "created", "created"]);
        expect(results.map((r) => r.message.seq)).toEqual([1, 2, 3]);
        expect((await store.getConversation("c1"))?.lastSeq).toBe(3);
      });

      it("numbers each conversation independently", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        await store.appendMessage(newMessage("c1", "alice"));
        await store.appendMessage(newMessage("c1", "alice"));
        const other = await store.appendMessage(newMessage("c2", "alice"));
        expect(other.message.seq).toBe(1);
      });

      it("returns a message exactly as stored, attachments included and absent optional fields left out", async () => {
        await conversation("c1", ["alice", "bob"]);
        const input = newMessage("c1", "alice", {
          clientMessageId: "cm-1",
          attachments: [{ url: "https://cdn.example.com/a.png", name: "a.png", mimeType: "image/png", size: 1234 }],
        });
        const { message } = await store.appendMessage(input);
        const { id, conversationId, senderId, clientMessageId, type, text, attachments, createdAt } = input;
        expect(message).toStrictEqual({ id, conversationId, seq: 1, senderId, clientMessageId, type, text, attachments, createdAt });

        const plain = await store.appendMessage(newMessage("c1", "bob", { type: "system" }));
        expect(plain.message).not.toHaveProperty("clientMessageId");
        expect(plain.message).not.toHaveProperty("attachments");

        const page = await store.getMessages("c1", { limit: 10 });
        expect(page.messages).toStrictEqual([message, plain.message]);
      });

      it("returns the original message for a repeated (senderId, clientMessageId) and writes nothing", async () => {
        await conversation("c1", ["alice", "bob"]);
        const first = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1", text: "first" }));
        const retry = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1", text: "retry" }));
        expect(first.kind).toBe("created");
        expect(retry).toStrictEqual({ kind: "duplicate", message: first.message });
        expect((await store.getConversation("c1"))?.lastSeq).toBe(1);
        const next = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-2" }));
        expect(next.message.seq).toBe(2);
        expect((await store.getMessages("c1", { limit: 10 })).messages.map((m) => m.text)).toEqual(["first", next.message.text]);
      });

      it("treats the same clientMessageId from two senders as two messages", async () => {
        await conversation("c1", ["alice", "bob"]);
        const a = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "same" }));
        const b = await store.appendMessage(newMessage("c1", "bob", { clientMessageId: "same" }));
        expect([a.kind, b.kind]).toEqual(["created", "created"]);
        expect(b.message.seq).toBe(2);
      });

      it("returns the original even when a retry names another conversation", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const first = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1" }));
        const retry = await store.appendMessage(newMessage("c2", "alice", { clientMessageId: "cm-1" }));
        expect(retry).toStrictEqual({ kind: "duplicate", message: first.message });
        expect((await store.getConversation("c2"))?.lastSeq).toBe(0);
      });

      it("always creates a new message when clientMessageId is absent", async () => {
        await conversation("c1", ["alice", "bob"]);
        const a = await store.appendMessage(newMessage("c1", "alice", { text: "same" }));
        const b = await store.appendMessage(newMessage("c1", "alice", { text: "same" }));
        expect([a.kind, b.kind]).toEqual(["created", "created"]);
        expect([a.message.seq, b.message.seq]).toEqual([1, 2]);
      });

      it("reports not_found when appending to a missing conversation", async () => {
        await expectCode(store.appendMessage(newMessage("missing", "alice", { clientMessageId: "cm-1" })), "not_found");
        expect((await store.getMessages("missing", { limit: 10 })).messages).toEqual([]);
      });

      it("refuses an append from someone who is not a member as forbidden, a former member's retry included, and stores nothing", async () => {
        await conversation("c1", ["alice", "bob"]);
        const first = await store.appendMessage(newMessage("c1", "bob", { clientMessageId: "cm-bob" }));
        await expectCode(store.appendMessage(newMessage("c1", "mallory")), "forbidden");
        await store.removeMember("c1", "bob");
        await expectCode(store.appendMessage(newMessage("c1", "bob", { clientMessageId: "cm-bob" })), "forbidden");
        const next = await store.appendMessage(newMessage("c1", "alice"));
        expect(next.message.seq).toBe(first.message.seq + 1);
        expect((await store.getMessages("c1", { afterSeq: 0, limit: 10 })).messages.map((m) => m.senderId)).toEqual(["bob", "alice"]);
      });
    });

    describe("edits and deletes", () => {
      const image = { url: "https://cdn.example.com/a.png", name: "a.png", mimeType: "image/png", size: 1234 };

      it("finds a message by id within its conversation, and null elsewhere", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1" }));
        expect(await store.getMessage("c1", message.id)).toStrictEqual(message);
        expect(await store.getMessage("c2", message.id)).toBeNull();
        expect(await store.getMessage("c1", "no-such-message")).toBeNull();
        expect(await store.getMessage("missing", message.id)).toBeNull();
      });

      it("edits the text and keeps id, seq, sender, attachments and createdAt; history shows the edited version", async () => {
        await conversation("c1", ["alice", "bob"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1", attachments: [image] }));
        await store.appendMessage(newMessage("c1", "bob"));
        const edited = await store.updateMessage("c1", message.id, { text: "fixed typo", editedAt: at(50) });
        expect(edited).toStrictEqual({ ...message, text: "fixed typo", editedAt: at(50), rev: 1 });
        expect(await store.getMessage("c1", message.id)).toStrictEqual(edited);
        expect((await store.getMessages("c1", { limit: 10 })).messages[0]).toStrictEqual(edited);
        expect((await store.getConversation("c1"))?.lastSeq).toBe(2);
        // A retried send still resolves to the message, now in its edited version.
        expect(await store.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1" }))).toStrictEqual({ kind: "duplicate", message: edited });
      });

      it("replaces attachments when given and removes them with an empty list or null", async () => {
        await conversation("c1", ["alice", "bob"]);
        const first = (await store.appendMessage(newMessage("c1", "alice", { attachments: [image] }))).message;
        const second = (await store.appendMessage(newMessage("c1", "alice", { attachments: [image] }))).message;
        const other = { url: "https://cdn.example.com/b.pdf" };
        expect((await store.updateMessage("c1", first.id, { attachments: [other], editedAt: at(60) }))?.attachments).toStrictEqual([other]);
        const emptied = await store.updateMessage("c1", first.id, { attachments: [], editedAt: at(61) });
        expect(emptied).not.toHaveProperty("attachments");
        const nulled = await store.updateMessage("c1", second.id, { attachments: null, editedAt: at(62) });
        expect(nulled).not.toHaveProperty("attachments");
        expect(await store.getMessage("c1", second.id)).toStrictEqual(nulled);
      });

      it("marks a message deleted without renumbering anything, and refuses any later change as a conflict", async () => {
        await conversation("c1", ["alice", "bob"]);
        for (let i = 0; i < 3; i++) await store.appendMessage(newMessage("c1", "alice", { attachments: [image] }));
        const [, middle] = (await store.getMessages("c1", { limit: 10 })).messages;
        const deleted = await store.updateMessage("c1", middle.id, { text: "", attachments: null, deletedAt: at(70) });
        const { attachments: _removed, ...rest } = middle;
        expect(deleted).toStrictEqual({ ...rest, text: "", deletedAt: at(70), deleted: true, rev: 1 });
        const page = await store.getMessages("c1", { limit: 10 });
        expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
        expect(page.messages[1]).toStrictEqual(deleted);
        await expectCode(store.updateMessage("c1", middle.id, { text: "back from the dead", editedAt: at(71) }), "conflict");
        await expectCode(store.updateMessage("c1", middle.id, { deletedAt: at(72) }), "conflict");
        expect(await store.getMessage("c1", middle.id)).toStrictEqual(deleted);
        expect((await store.appendMessage(newMessage("c1", "bob"))).message.seq).toBe(4);
      });

      it("returns null when updating a message that is not in the conversation", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        expect(await store.updateMessage("c2", message.id, { text: "nope", editedAt: at(80) })).toBeNull();
        expect(await store.updateMessage("c1", "no-such-message", { text: "nope", editedAt: at(80) })).toBeNull();
        expect(await store.getMessage("c1", message.id)).toStrictEqual(message);
      });

      it("shows the current version as a conversation's last message", async () => {
        await conversation("c1", ["u1", "u2"], 1);
        const { message } = await store.appendMessage(newMessage("c1", "u2"));
        const deleted = await store.updateMessage("c1", message.id, { text: "", attachments: null, deletedAt: at(90) });
        const [summary] = await store.listConversations("u1", { limit: 10 });
        expect(summary.lastMessage).toStrictEqual(deleted);
      });
    });

    describe("replies", () => {
      const image = { url: "https://cdn.example.com/a.png", mimeType: "image/png" };

      it("quotes the parent of a reply when read, and shows the parent's later edit and deletion everywhere", async () => {
        await conversation("c1", ["alice", "bob"]);
        const parent = (await store.appendMessage(newMessage("c1", "alice", { text: "lunch at noon?", attachments: [image, image] }))).message;
        const created = await store.appendMessage(newMessage("c1", "bob", { text: "yes", replyToId: parent.id, clientMessageId: "re-1" }));
        const quote = { messageId: parent.id, seq: 1, senderId: "alice", excerpt: "lunch at noon?", attachmentCount: 2 };
        expect(created.message.replyTo).toStrictEqual(quote);
        expect(created.message).not.toHaveProperty("rev");
        expect(await store.getMessage("c1", created.message.id)).toStrictEqual(created.message);

        await store.updateMessage("c1", parent.id, { text: "lunch at one?", attachments: null, editedAt: at(50) });
        const afterEdit = { messageId: parent.id, seq: 1, senderId: "alice", excerpt: "lunch at one?" };
        expect((await store.getMessage("c1", created.message.id))?.replyTo).toStrictEqual(afterEdit);

        await store.updateMessage("c1", parent.id, { text: "", attachments: null, deletedAt: at(51) });
        const gone = { messageId: parent.id, seq: 1, senderId: "alice", excerpt: "", deleted: true };
        expect((await store.getMessage("c1", created.message.id))?.replyTo).toStrictEqual(gone);
        expect((await store.getMessages("c1", { limit: 10 })).messages[1]?.replyTo).toStrictEqual(gone);
        expect((await store.getMessages("c1", { afterSeq: 0, limit: 10 })).messages[1]?.replyTo).toStrictEqual(gone);
        expect((await store.listConversations("alice", { limit: 10 }))[0]?.lastMessage?.replyTo).toStrictEqual(gone);
        expect((await store.getMessageByClientId("bob", "re-1"))?.replyTo).toStrictEqual(gone);
        const retry = await store.appendMessage(newMessage("c1", "bob", { text: "yes", replyToId: parent.id, clientMessageId: "re-1" }));
        expect(retry).toMatchObject({ kind: "duplicate", message: { replyTo: gone } });
      });

      it("cuts the quoted excerpt at LIMITS.replyExcerptLength without splitting an emoji", async () => {
        await conversation("c1", ["alice", "bob"]);
        const long = `${"a".repeat(LIMITS.replyExcerptLength - 1)}😀 and more`;
        const parent = (await store.appendMessage(newMessage("c1", "alice", { text: long }))).message;
        const exact = (await store.appendMessage(newMessage("c1", "alice", { text: "b".repeat(LIMITS.replyExcerptLength + 5) }))).message;
        const a = await store.appendMessage(newMessage("c1", "bob", { replyToId: parent.id }));
        const b = await store.appendMessage(newMessage("c1", "bob", { replyToId: exact.id }));
        expect(a.message.replyTo?.excerpt).toBe("a".repeat(LIMITS.replyExcerptLength - 1));
        expect(b.message.replyTo?.excerpt).toBe("b".repeat(LIMITS.replyExcerptLength));
      });

      it("refuses a reply to a message of another conversation or to none as invalid_argument, and to a deleted one as conflict, storing nothing", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const elsewhere = (await store.appendMessage(newMessage("c2", "alice"))).message;
        const doomed = (await store.appendMessage(newMessage("c1", "alice"))).message;
        await store.updateMessage("c1", doomed.id, { text: "", deletedAt: at(60) });
        await expectCode(store.appendMessage(newMessage("c1", "bob", { replyToId: elsewhere.id })), "invalid_argument");
        await expectCode(store.appendMessage(newMessage("c1", "bob", { replyToId: "no-such-message" })), "invalid_argument");
        await expectCode(store.appendMessage(newMessage("c1", "bob", { replyToId: doomed.id })), "conflict");
        expect((await store.getConversation("c1"))?.lastSeq).toBe(1);
        expect((await store.appendMessage(newMessage("c1", "bob"))).message.seq).toBe(2);
      });
    });

    describe("threads", () => {
      it("numbers thread replies 1, 2, 3 in their thread while they take the conversation's next seq, and moves the parent's counters and rev with each", async () => {
        await conversation("c1", ["alice", "bob"]);
        const parent = (await store.appendMessage(newMessage("c1", "alice"))).message;
        const first = await store.appendMessage(newMessage("c1", "bob", { threadId: parent.id, createdAt: at(2001) }));
        const main = await store.appendMessage(newMessage("c1", "alice"));
        const second = await store.appendMessage(newMessage("c1", "alice", { threadId: parent.id, replyToId: first.message.id, createdAt: at(2002) }));
        expect([first, main, second].map((r) => [r.message.seq, r.message.threadId, r.message.threadSeq])).toEqual([
          [2, parent.id, 1],
          [3, undefined, undefined],
          [4, parent.id, 2],
        ]);
        expect(second.message.replyTo).toMatchObject({ messageId: first.message.id, seq: 2 });
        expect(main).not.toHaveProperty("parent");
        expect(first.kind === "created" && first.parent).toStrictEqual({ ...parent, replyCount: 1, lastReplyAt: at(2001), rev: 1 });
        const latest = second.kind === "created" ? second.parent : undefined;
        expect(latest).toStrictEqual({ ...parent, replyCount: 2, lastReplyAt: at(2002), rev: 2 });
        expect(await store.getMessage("c1", parent.id)).toStrictEqual(latest);
        expect((await store.getMessages("c1", { limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
        const c1 = await store.getConversation("c1");
        expect([c1?.lastSeq, c1?.lastRev]).toEqual([4, 2]);
        // Thread replies count as unread like any other message.
        expect((await store.listConversations("bob", { limit: 10 }))[0]?.unreadCount).toBe(2);
      });

      it("pages one thread's replies by seq in both directions, leaving the rest of the conversation out", async () => {
        await conversation("c1", ["alice", "bob"]);
        const parent = (await store.appendMessage(newMessage("c1", "alice"))).message;
        const other = (await store.appendMessage(newMessage("c1", "alice"))).message;
        for (let i = 0; i < 6; i++) {
          await store.appendMessage(newMessage("c1", "bob", { threadId: parent.id }));
          await store.appendMessage(newMessage("c1", "bob", { threadId: other.id }));
          await store.appendMessage(newMessage("c1", "alice"));
        }
        const seqs = (page: { messages: Message[] }) => page.messages.map((m) => m.seq);
        const thread = { threadId: parent.id };
        // Replies of `parent` have seq 3, 6, 9, 12, 15, 18.
        expect(seqs(await store.getMessages("c1", { ...thread, limit: 10 }))).toEqual([3, 6, 9, 12, 15, 18]);
        const newest = await store.getMessages("c1", { ...thread, limit: 4 });
        expect([seqs(newest), newest.hasMore]).toEqual([[9, 12, 15, 18], true]);
        const older = await store.getMessages("c1", { ...thread, beforeSeq: 9, limit: 4 });
        expect([seqs(older), older.hasMore]).toEqual([[3, 6], false]);
        const forward = await store.getMessages("c1", { ...thread, afterSeq: 6, limit: 2 });
        expect([seqs(forward), forward.hasMore]).toEqual([[9, 12], true]);
        const between = await store.getMessages("c1", { ...thread, afterSeq: 3, beforeSeq: 15, limit: 10 });
        expect([seqs(between), between.hasMore]).toEqual([[6, 9, 12], false]);
        expect((await store.getMessages("c1", { ...thread, limit: 10 })).messages.map((m) => m.threadSeq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.getMessages("c1", { threadId: "no-such-thread", limit: 10 })).messages).toEqual([]);
      });

      it("refuses a thread under a thread reply or under a message of another conversation, and keeps a deleted parent's thread open", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const parent = (await store.appendMessage(newMessage("c1", "alice"))).message;
        const elsewhere = (await store.appendMessage(newMessage("c2", "alice"))).message;
        const reply = (await store.appendMessage(newMessage("c1", "bob", { threadId: parent.id }))).message;
        await expectCode(store.appendMessage(newMessage("c1", "bob", { threadId: reply.id })), "invalid_argument");
        await expectCode(store.appendMessage(newMessage("c1", "bob", { threadId: elsewhere.id })), "invalid_argument");
        await expectCode(store.appendMessage(newMessage("c1", "bob", { threadId: "no-such-message" })), "invalid_argument");
        expect((await store.getConversation("c1"))?.lastSeq).toBe(2);

        const deleted = await store.updateMessage("c1", parent.id, { text: "", deletedAt: at(70) });
        expect(deleted).toMatchObject({ deleted: true, replyCount: 1 });
        const later = await store.appendMessage(newMessage("c1", "bob", { threadId: parent.id, createdAt: at(2100) }));
        expect(later.message).toMatchObject({ seq: 3, threadSeq: 2 });
        expect(later.kind === "created" && later.parent).toMatchObject({ deleted: true, text: "", replyCount: 2, lastReplyAt: at(2100) });
      });

      it("gives 60 concurrent replies into one thread threadSeq 1..60 without gap, and the parent a replyCount of 60", async () => {
        await conversation("c1", ["u0", "u1", "u2"]);
        const parent = (await store.appendMessage(newMessage("c1", "u0"))).message;
        const results = await Promise.all(
          range(1, 60).map((i) => store.appendMessage(newMessage("c1", `u${i % 3}`, { threadId: parent.id, clientMessageId: `t-${i}` }))),
        );
        expect(results.map((r) => r.message.threadSeq).sort((a, b) => a! - b!)).toEqual(range(1, 60));
        // threadSeq follows seq: commit order is the same in the thread and in the conversation.
        const bySeq = [...results].sort((a, b) => a.message.seq - b.message.seq);
        expect(bySeq.map((r) => r.message.threadSeq)).toEqual(range(1, 60));
        expect((await store.getMessage("c1", parent.id))?.replyCount).toBe(60);
      });

      it("keeps threadSeq gapless when two store instances reply into one thread at once", async (ctx) => {
        if (!harness?.reopen) return ctx.skip();
        const second = await harness.reopen();
        await conversation("c1", ["alice", "bob"]);
        const parent = (await store.appendMessage(newMessage("c1", "alice"))).message;
        const results = await Promise.all(
          range(1, 30).flatMap((i) => [
            store.appendMessage(newMessage("c1", "alice", { threadId: parent.id, clientMessageId: `a-${i}` })),
            second.appendMessage(newMessage("c1", "bob", { threadId: parent.id, clientMessageId: `b-${i}` })),
          ]),
        );
        expect(results.map((r) => r.message.threadSeq).sort((a, b) => a! - b!)).toEqual(range(1, 60));
        expect((await allMessages(second, "c1")).map((m) => m.seq)).toEqual(range(1, 61));
        expect((await second.getMessage("c1", parent.id))?.replyCount).toBe(60);
      });
    });

    describe("reactions", () => {
      const react = (messageId: string, userId: string, emoji: string, seconds = 3000) =>
        store.addReaction({ conversationId: "c1", messageId, userId, emoji, at: at(seconds) });
      const unreact = (messageId: string, userId: string, emoji: string, seconds = 3000) =>
        store.removeReaction({ conversationId: "c1", messageId, userId, emoji, at: at(seconds) });

      it("summarises reactions per emoji in order of first use, with exact counts and users oldest first; reacting twice counts once and changes nothing", async () => {
        await conversation("c1", ["alice", "bob", "carol"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        expect((await react(message.id, "bob", "👍", 3001))?.changed).toBe(true);
        await react(message.id, "carol", "🎉", 3002);
        const third = await react(message.id, "alice", "👍", 3003);
        const expected = [
          { emoji: "👍", count: 2, userIds: ["bob", "alice"] },
          { emoji: "🎉", count: 1, userIds: ["carol"] },
        ];
        expect(third).toStrictEqual({ changed: true, message: { ...message, reactions: expected, rev: 3 } });
        const twice = await react(message.id, "bob", "👍", 3004);
        expect(twice).toStrictEqual({ changed: false, message: third?.message });
        expect(await store.getMessage("c1", message.id)).toStrictEqual(third?.message);
        expect((await store.getMessages("c1", { limit: 10 })).messages[0]).toStrictEqual(third?.message);
        expect((await store.getConversation("c1"))?.lastRev).toBe(3);
      });

      it("takes a reaction back, drops an emoji nobody uses any more, and treats removing one that is not there as no change", async () => {
        await conversation("c1", ["alice", "bob", "carol"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        await react(message.id, "bob", "👍", 3001);
        await react(message.id, "carol", "👍", 3002);
        await react(message.id, "carol", ":party_parrot:", 3003);
        const removed = await unreact(message.id, "bob", "👍");
        expect(removed?.changed).toBe(true);
        expect(removed?.message.reactions).toStrictEqual([
          { emoji: "👍", count: 1, userIds: ["carol"] },
          { emoji: ":party_parrot:", count: 1, userIds: ["carol"] },
        ]);
        expect(await unreact(message.id, "bob", "👍")).toStrictEqual({ changed: false, message: removed?.message });
        await unreact(message.id, "carol", "👍");
        const last = await unreact(message.id, "carol", ":party_parrot:");
        expect(last?.message).not.toHaveProperty("reactions");
        expect(last?.message.rev).toBe(6);
      });

      it("refuses a new emoji beyond LIMITS.reactionsDistinctMax distinct ones as invalid_argument, but always takes one already there", async () => {
        await conversation("c1", ["alice", "bob"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        const emoji = range(1, LIMITS.reactionsDistinctMax).map((i) => `:e${i}:`);
        for (const [i, e] of emoji.entries()) await react(message.id, "alice", e, 3000 + i);
        await expectCode(react(message.id, "bob", ":one_too_many:"), "invalid_argument");
        const again = await react(message.id, "bob", emoji[0]!);
        expect(again?.message.reactions?.[0]).toStrictEqual({ emoji: emoji[0], count: 2, userIds: ["alice", "bob"] });
        expect(again?.message.reactions).toHaveLength(LIMITS.reactionsDistinctMax);
      });

      it("lists at most LIMITS.reactionUsersListed users per emoji while the count stays exact, and lists the next one when a listed user leaves", async () => {
        await conversation("c1", ["alice"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        const users = range(1, LIMITS.reactionUsersListed + 2).map((i) => `u${String(i).padStart(3, "0")}`);
        for (const [i, u] of users.entries()) await react(message.id, u, "❤️", 3000 + i);
        const [full] = (await store.getMessage("c1", message.id))?.reactions ?? [];
        expect(full?.count).toBe(users.length);
        expect(full?.userIds).toStrictEqual(users.slice(0, LIMITS.reactionUsersListed));
        const after = await unreact(message.id, users[0]!, "❤️");
        expect(after?.message.reactions?.[0]?.count).toBe(users.length - 1);
        expect(after?.message.reactions?.[0]?.userIds).toStrictEqual(users.slice(1, LIMITS.reactionUsersListed + 1));
      });

      it("refuses reactions on a deleted message as a conflict, clears its reactions when it is deleted, and answers null for a message elsewhere", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        await react(message.id, "bob", "👍");
        const deleted = await store.updateMessage("c1", message.id, { text: "", deletedAt: at(80) });
        expect(deleted).not.toHaveProperty("reactions");
        expect(await store.getMessage("c1", message.id)).not.toHaveProperty("reactions");
        await expectCode(react(message.id, "bob", "🎉"), "conflict");
        await expectCode(unreact(message.id, "bob", "👍"), "conflict");
        const other = (await store.appendMessage(newMessage("c2", "alice"))).message;
        expect(await react(other.id, "bob", "👍")).toBeNull();
        expect(await react("no-such-message", "bob", "👍")).toBeNull();
        expect(await unreact("no-such-message", "bob", "👍")).toBeNull();
      });

      it("counts 40 concurrent reactions on one message exactly, each once, with one revision per change", async () => {
        await conversation("c1", ["alice"]);
        const { message } = await store.appendMessage(newMessage("c1", "alice"));
        const results = await Promise.all(
          range(1, 40).flatMap((i) => [react(message.id, `u${i}`, i % 2 ? "👍" : "🎉", 3000 + i), react(message.id, `u${i}`, i % 2 ? "👍" : "🎉", 3000 + i)]),
        );
        expect(results.filter((r) => r?.changed)).toHaveLength(40);
        const current = await store.getMessage("c1", message.id);
        expect(current?.reactions?.map((r) => [r.emoji, r.count]).sort()).toEqual([["🎉", 20], ["👍", 20]]);
        expect(current?.rev).toBe(40);
        expect((await store.getConversation("c1"))?.lastRev).toBe(40);
      });
    });

    describe("revisions and changes", () => {
      it("answers the current versions of the messages changed after a revision, in revision order, paging with lastRev", async () => {
        await conversation("c1", ["alice", "bob"]);
        const [m1, m2, m3] = [
          (await store.appendMessage(newMessage("c1", "alice"))).message,
          (await store.appendMessage(newMessage("c1", "alice"))).message,
          (await store.appendMessage(newMessage("c1", "alice"))).message,
        ];
        expect(await store.getChanges("c1", { afterRev: 0, limit: 10 })).toStrictEqual({ messages: [], lastRev: 0, hasMore: false });
        await store.updateMessage("c1", m1.id, { text: "edited once", editedAt: at(90) });
        await store.addReaction({ conversationId: "c1", messageId: m2.id, userId: "bob", emoji: "👍", at: at(91) });
        const reply = await store.appendMessage(newMessage("c1", "bob", { threadId: m3.id }));
        await store.updateMessage("c1", m1.id, { text: "edited twice", editedAt: at(92) });

        const all = await store.getChanges("c1", { afterRev: 0, limit: 10 });
        expect(all.messages.map((m) => [m.id, m.rev])).toEqual([
          [m2.id, 2],
          [m3.id, 3],
          [m1.id, 4],
        ]);
        expect([all.lastRev, all.hasMore]).toEqual([4, false]);
        expect(all.messages[2]).toStrictEqual(await store.getMessage("c1", m1.id));
        expect(all.messages[1]).toMatchObject({ replyCount: 1 });
        // The reply itself is new, not changed: catching up by seq finds it.
        expect(all.messages.map((m) => m.id)).not.toContain(reply.message.id);

        const first = await store.getChanges("c1", { afterRev: 0, limit: 2 });
        expect([first.messages.map((m) => m.rev), first.lastRev, first.hasMore]).toEqual([[2, 3], 3, true]);
        const rest = await store.getChanges("c1", { afterRev: first.lastRev, limit: 2 });
        expect([rest.messages.map((m) => m.rev), rest.lastRev, rest.hasMore]).toEqual([[4], 4, false]);
        expect(await store.getChanges("c1", { afterRev: 4, limit: 2 })).toStrictEqual({ messages: [], lastRev: 4, hasMore: false });
        expect((await store.getConversation("c1"))?.lastRev).toBe(4);
        expect(await store.getChanges("missing", { afterRev: 3, limit: 2 })).toStrictEqual({ messages: [], lastRev: 3, hasMore: false });
      });

      it("numbers the changes of each conversation independently, and never renumbers a new message", async () => {
        await conversation("c1", ["alice", "bob"]);
        await conversation("c2", ["alice", "bob"]);
        const a = (await store.appendMessage(newMessage("c1", "alice"))).message;
        const b = (await store.appendMessage(newMessage("c2", "alice"))).message;
        await store.updateMessage("c1", a.id, { text: "x", editedAt: at(93) });
        const edited = await store.updateMessage("c2", b.id, { text: "y", editedAt: at(94) });
        expect(edited?.rev).toBe(1);
        expect((await store.getChanges("c2", { afterRev: 0, limit: 10 })).messages.map((m) => m.id)).toEqual([b.id]);
        const fresh = (await store.appendMessage(newMessage("c1", "alice"))).message;
        expect(fresh).not.toHaveProperty("rev");
      });
    });

    describe("history", () => {
      /** A conversation "c1" with messages seq 1..10. */
      async function tenMessages(): Promise<void> {
        await conversation("c1", ["alice", "bob"]);
        for (let i = 0; i < 10; i++) await store.appendMessage(newMessage("c1", i % 2 ? "bob" : "alice"));
      }
      const seqs = (page: { messages: Message[] }) => page.messages.map((m) => m.seq);

      it("returns the newest page, oldest first, when no cursor is given", async () => {
        await tenMessages();
        const newest = await store.getMessages("c1", { limit: 3 });
        expect(seqs(newest)).toEqual([8, 9, 10]);
        expect(newest.hasMore).toBe(true);
        const exact = await store.getMessages("c1", { limit: 10 });
        expect(seqs(exact)).toEqual(range(1, 10));
        expect(exact.hasMore).toBe(false);
        const larger = await store.getMessages("c1", { limit: 50 });
        expect(seqs(larger)).toEqual(range(1, 10));
        expect(larger.hasMore).toBe(false);
      });

      it("pages forward from afterSeq and says whether newer messages remain", async () => {
        await tenMessages();
        const fromStart = await store.getMessages("c1", { afterSeq: 2, limit: 3 });
        expect(seqs(fromStart)).toEqual([3, 4, 5]);
        expect(fromStart.hasMore).toBe(true);
        const upToEnd = await store.getMessages("c1", { afterSeq: 7, limit: 3 });
        expect(seqs(upToEnd)).toEqual([8, 9, 10]);
        expect(upToEnd.hasMore).toBe(false);
        const oneShort = await store.getMessages("c1", { afterSeq: 6, limit: 3 });
        expect(seqs(oneShort)).toEqual([7, 8, 9]);
        expect(oneShort.hasMore).toBe(true);
        expect(await store.getMessages("c1", { afterSeq: 10, limit: 3 })).toStrictEqual({ messages: [], hasMore: false });
        expect(seqs(await store.getMessages("c1", { afterSeq: 0, limit: 2 }))).toEqual([1, 2]);
      });

      it("pages backward from beforeSeq and says whether older messages remain", async () => {
        await tenMessages();
        const middle = await store.getMessages("c1", { beforeSeq: 5, limit: 3 });
        expect(seqs(middle)).toEqual([2, 3, 4]);
        expect(middle.hasMore).toBe(true);
        const toStart = await store.getMessages("c1", { beforeSeq: 4, limit: 3 });
        expect(seqs(toStart)).toEqual([1, 2, 3]);
        expect(toStart.hasMore).toBe(false);
        expect(await store.getMessages("c1", { beforeSeq: 1, limit: 3 })).toStrictEqual({ messages: [], hasMore: false });
        const pastEnd = await store.getMessages("c1", { beforeSeq: 99, limit: 2 });
        expect(seqs(pastEnd)).toEqual([9, 10]);
        expect(pastEnd.hasMore).toBe(true);
      });

      it("returns the oldest messages above afterSeq and below beforeSeq when both are given", async () => {
        await tenMessages();
        const partial = await store.getMessages("c1", { afterSeq: 2, beforeSeq: 8, limit: 3 });
        expect(seqs(partial)).toEqual([3, 4, 5]);
        expect(partial.hasMore).toBe(true);
        const whole = await store.getMessages("c1", { afterSeq: 2, beforeSeq: 8, limit: 5 });
        expect(seqs(whole)).toEqual([3, 4, 5, 6, 7]);
        expect(whole.hasMore).toBe(false);
        expect(await store.getMessages("c1", { afterSeq: 4, beforeSeq: 5, limit: 3 })).toStrictEqual({
          messages: [],
          hasMore: false,
        });
      });

      it("returns an empty page without hasMore for a conversation with no messages", async () => {
        await conversation("c1", ["alice", "bob"]);
        expect(await store.getMessages("c1", { limit: 10 })).toStrictEqual({ messages: [], hasMore: false });
        expect(await store.getMessages("c1", { afterSeq: 0, limit: 10 })).toStrictEqual({ messages: [], hasMore: false });
      });

      it("walks the whole history with afterSeq paging and sees every seq exactly once", async () => {
        await conversation("c1", ["alice", "bob"]);
        for (let i = 0; i < 250; i++) await store.appendMessage(newMessage("c1", "alice"));
        expect((await allMessages(store, "c1")).map((m) => m.seq)).toEqual(range(1, 250));
      });
    });

    describe("read positions", () => {
      beforeEach(async () => {
        await conversation("c1", ["alice", "bob"]);
        for (let i = 0; i < 5; i++) await store.appendMessage(newMessage("c1", "alice"));
      });

      it("moves lastReadSeq forward and reports that it moved", async () => {
        expect(await store.markRead("c1", "bob", 3)).toStrictEqual({ lastReadSeq: 3, moved: true });
        expect((await store.getMember("c1", "bob"))?.lastReadSeq).toBe(3);
        expect(await store.markRead("c1", "bob", 3)).toStrictEqual({ lastReadSeq: 3, moved: false });
      });

      it("never moves lastReadSeq backwards", async () => {
        await store.markRead("c1", "bob", 4);
        expect(await store.markRead("c1", "bob", 2)).toStrictEqual({ lastReadSeq: 4, moved: false });
        expect((await store.getMember("c1", "bob"))?.lastReadSeq).toBe(4);
      });

      it("caps lastReadSeq at the conversation's lastSeq", async () => {
        expect(await store.markRead("c1", "bob", 99)).toStrictEqual({ lastReadSeq: 5, moved: true });
        expect(await store.markRead("c1", "bob", 100)).toStrictEqual({ lastReadSeq: 5, moved: false });
        await store.appendMessage(newMessage("c1", "alice"));
        expect(await store.markRead("c1", "bob", 100)).toStrictEqual({ lastReadSeq: 6, moved: true });
      });

      it("reports not_found for a non-member or a missing conversation", async () => {
        await expectCode(store.markRead("c1", "mallory", 1), "not_found");
        await expectCode(store.markRead("missing", "bob", 1), "not_found");
      });
    });

    describe("conversation lists", () => {
      it("lists only the user's conversations, most recent activity first", async () => {
        await conversation("a", ["u1", "u2"], 1);
        await conversation("b", ["u1", "u3"], 2);
        await conversation("c", ["u1", "u2", "u3"], 3);
        await conversation("d", ["u2", "u3"], 4);
        const ids = async () => (await store.listConversations("u1", { limit: 10 })).map((s) => s.conversation.id);
        expect(await ids()).toEqual(["c", "b", "a"]);
        await store.appendMessage(newMessage("a", "u2", { createdAt: at(5) }));
        expect(await ids()).toEqual(["a", "c", "b"]);
        await store.appendMessage(newMessage("b", "u3", { createdAt: at(6) }));
        expect(await ids()).toEqual(["b", "a", "c"]);
        expect(await store.listConversations("stranger", { limit: 10 })).toEqual([]);
      });

      it("pages with before and returns only strictly older activity", async () => {
        for (let i = 1; i <= 5; i++) await conversation(`c${i}`, ["u1", "u2"], i * 10);
        await store.appendMessage(newMessage("c1", "u2", { createdAt: at(60) }));
        const first = await store.listConversations("u1", { limit: 2 });
        expect(first.map((s) => s.conversation.id)).toEqual(["c1", "c5"]);
        const cursor = (s: (typeof first)[number]) => s.lastMessage?.createdAt ?? s.conversation.createdAt;
        const second = await store.listConversations("u1", { limit: 2, before: cursor(first[1]) });
        expect(second.map((s) => s.conversation.id)).toEqual(["c4", "c3"]);
        const third = await store.listConversations("u1", { limit: 2, before: cursor(second[1]) });
        expect(third.map((s) => s.conversation.id)).toEqual(["c2"]);
        // A cursor without milliseconds means the same instant.
        const bySeconds = await store.listConversations("u1", { limit: 10, before: at(40).replace(".000Z", "Z") });
        expect(bySeconds.map((s) => s.conversation.id)).toEqual(["c3", "c2"]);
      });

      it("counts unread messages from the member's read position and includes the last message", async () => {
        await conversation("c1", ["u1", "u2"], 1);
        for (let i = 0; i < 3; i++) await store.appendMessage(newMessage("c1", "u2"));
        let [summary] = await store.listConversations("u1", { limit: 10 });
        expect(summary.unreadCount).toBe(3);
        expect(summary.lastMessage?.seq).toBe(3);
        expect(summary.conversation.lastSeq).toBe(3);
        expect(summary.lastMessage).toStrictEqual((await store.getMessages("c1", { afterSeq: 2, limit: 1 })).messages[0]);

        await store.markRead("c1", "u1", 2);
        [summary] = await store.listConversations("u1", { limit: 10 });
        expect(summary.unreadCount).toBe(1);
        await store.markRead("c1", "u1", 3);
        [summary] = await store.listConversations("u1", { limit: 10 });
        expect(summary.unreadCount).toBe(0);
        expect(summary.conversation.members.find((m) => m.userId === "u1")?.lastReadSeq).toBe(3);
      });

      it("does not count a member's own messages as unread, and moves their read position with them", async () => {
        await conversation("c1", ["u1", "u2"], 1);
        await store.appendMessage(newMessage("c1", "u2"));
        await store.appendMessage(newMessage("c1", "u1"));
        await store.appendMessage(newMessage("c1", "u2"));
        const [mine] = await store.listConversations("u1", { limit: 10 });
        expect(mine.unreadCount).toBe(1);
        expect(mine.conversation.members.find((m) => m.userId === "u1")?.lastReadSeq).toBe(2);
        const [theirs] = await store.listConversations("u2", { limit: 10 });
        expect(theirs.unreadCount).toBe(0);
      });

      it("omits lastMessage for a conversation without messages", async () => {
        await conversation("c1", ["u1", "u2"], 1);
        const [summary] = await store.listConversations("u1", { limit: 10 });
        expect(summary.unreadCount).toBe(0);
        expect(summary).not.toHaveProperty("lastMessage");
        expect(summary.conversation).toStrictEqual(await store.getConversation("c1"));
      });
    });

    describe("contacts", () => {
      it("lists every other member of the user's conversations once, up to the limit", async () => {
        await conversation("a", ["u1", "u2", "u3"]);
        await conversation("b", ["u1", "u3", "u4"]);
        await conversation("c", ["u5", "u6"]);
        const contacts = await store.listContacts("u1", 10);
        expect([...contacts].sort()).toEqual(["u2", "u3", "u4"]);
        const limited = await store.listContacts("u1", 2);
        expect(limited).toHaveLength(2);
        expect(new Set(limited).size).toBe(2);
        expect(limited.every((id) => ["u2", "u3", "u4"].includes(id))).toBe(true);
      });

      it("splits a user's presence audience into contacts of small conversations and the ids of large ones", async () => {
        await conversation("small", ["u1", "u2", "u3"]);
        await conversation("also-small", ["u1", "u4"]);
        await conversation("big", ["u1", "u5", "u6", "u7", "u8"]);
        await conversation("elsewhere", ["u9", "u2"]);
        const audience = await store.listPresenceAudience("u1", 4, 10);
        expect([...audience.contacts].sort()).toEqual(["u2", "u3", "u4"]);
        expect(audience.largeConversationIds).toEqual(["big"]);
        // A room of exactly the limit is still small; the contact limit still applies.
        const atLimit = await store.listPresenceAudience("u1", 5, 2);
        expect(atLimit.largeConversationIds).toEqual([]);
        expect(atLimit.contacts).toHaveLength(2);
        expect(await store.listPresenceAudience("stranger", 4, 10)).toEqual({ contacts: [], largeConversationIds: [] });
      });

      it("returns no contacts for a user without conversations", async () => {
        await conversation("a", ["u1", "u2"]);
        expect(await store.listContacts("stranger", 10)).toEqual([]);
      });
    });

    describe("api keys", () => {
      const key = (id: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        name: `key ${id}`,
        prefix: `sb_${id}`,
        hash: `hash-${id}`,
        scopes: ["admin"],
        createdAt: at(1),
        ...extra,
      });

      it("finds a created key by its hash and lists it without extra fields", async () => {
        await store.createApiKey(key("k1"));
        await store.createApiKey(key("k2", { scopes: ["messages:write", "users:read"], createdAt: at(2) }));
        expect(await store.findApiKeyByHash("hash-k1")).toStrictEqual(key("k1"));
        expect(await store.listApiKeys()).toStrictEqual([
          key("k1"),
          key("k2", { scopes: ["messages:write", "users:read"], createdAt: at(2) }),
        ]);
      });

      it("returns null for an unknown hash", async () => {
        await store.createApiKey(key("k1"));
        expect(await store.findApiKeyByHash("hash-unknown")).toBeNull();
      });

      it("revokes a key once and reports false for a second revoke or an unknown id", async () => {
        await store.createApiKey(key("k1"));
        expect(await store.revokeApiKey("k1", at(5))).toBe(true);
        expect(await store.revokeApiKey("k1", at(6))).toBe(false);
        expect(await store.revokeApiKey("unknown", at(6))).toBe(false);
        expect(await store.findApiKeyByHash("hash-k1")).toStrictEqual(key("k1", { revokedAt: at(5) }));
      });

      it("rotates a key: the new hash finds it, the old one too until the caller says it expired", async () => {
        await store.createApiKey(key("k1", { scopes: ["read"] }));
        const rotated = await store.rotateApiKey("k1", { hash: "hash-k1-v2", prefix: "sb_k1v2", previousKeyExpiresAt: at(100) });
        const expected = key("k1", { scopes: ["read"], hash: "hash-k1-v2", prefix: "sb_k1v2", previousHash: "hash-k1", previousKeyExpiresAt: at(100) });
        expect(rotated).toStrictEqual(expected);
        expect(await store.findApiKeyByHash("hash-k1-v2")).toStrictEqual(expected);
        expect(await store.findApiKeyByHash("hash-k1")).toStrictEqual(expected);
        expect(await store.listApiKeys()).toStrictEqual([expected]);

        // A second rotation replaces the previous hash: the first secret is no longer found.
        const again = await store.rotateApiKey("k1", { hash: "hash-k1-v3", prefix: "sb_k1v3", previousKeyExpiresAt: at(200) });
        expect(again).toMatchObject({ hash: "hash-k1-v3", previousHash: "hash-k1-v2", previousKeyExpiresAt: at(200) });
        expect(await store.findApiKeyByHash("hash-k1")).toBeNull();
        expect((await store.findApiKeyByHash("hash-k1-v2"))?.id).toBe("k1");
      });

      it("refuses to rotate a revoked or unknown key with null", async () => {
        await store.createApiKey(key("k1"));
        await store.revokeApiKey("k1", at(5));
        expect(await store.rotateApiKey("k1", { hash: "hash-new", prefix: "sb_new", previousKeyExpiresAt: at(100) })).toBeNull();
        expect(await store.rotateApiKey("unknown", { hash: "hash-new2", prefix: "sb_new", previousKeyExpiresAt: at(100) })).toBeNull();
        expect(await store.findApiKeyByHash("hash-k1")).toStrictEqual(key("k1", { revokedAt: at(5) }));
        expect(await store.findApiKeyByHash("hash-new")).toBeNull();
      });

      it("records the last use of a key and never moves it back", async () => {
        await store.createApiKey(key("k1"));
        await store.touchApiKey("k1", at(7));
        expect((await store.findApiKeyByHash("hash-k1"))?.lastUsedAt).toBe(at(7));
        await store.touchApiKey("k1", at(6));
        expect((await store.listApiKeys())[0].lastUsedAt).toBe(at(7));
        await store.touchApiKey("unknown", at(8));
      });
    });

    describe("concurrency and durability", () => {
      it("gives 200 concurrent appends with repeated clientMessageIds exactly one seq each, 1..N without gap", async () => {
        await conversation("c1", ["u0", "u1", "u2"]);
        const distinct = 150;
        // Keys 0..149 once each, then 50 repeats of earlier keys, all in flight together.
        const keys = [...range(0, distinct - 1), ...range(0, 49).map((i) => (i * 7) % distinct)];
        const results = await Promise.all(
          keys.map((k) => store.appendMessage(newMessage("c1", `u${k % 3}`, { clientMessageId: `cm-${k}` }))),
        );
        const created = results.filter((r) => r.kind === "created");
        expect(created).toHaveLength(distinct);
        expect(created.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(range(1, distinct));
        // Every send of one key resolved to the same stored message.
        const byKey = new Map<number, string>();
        keys.forEach((k, i) => {
          const id = results[i].message.id;
          expect(byKey.get(k) ?? id).toBe(id);
          byKey.set(k, id);
        });
        const stored = await allMessages(store, "c1");
        expect(stored.map((m) => m.seq)).toEqual(range(1, distinct));
        expect(new Set(stored.map((m) => m.clientMessageId)).size).toBe(distinct);
        expect((await store.getConversation("c1"))?.lastSeq).toBe(distinct);
      });

      it("gives two store instances over the same data appending at once one gapless sequence", async (ctx) => {
        if (!harness?.reopen) return ctx.skip();
        const second = await harness.reopen();
        await conversation("c1", ["alice", "bob"]);
        const sends = range(1, 60).flatMap((i) => [
          store.appendMessage(newMessage("c1", "alice", { clientMessageId: `a-${i}` })),
          second.appendMessage(newMessage("c1", "bob", { clientMessageId: `b-${i}` })),
          // The same send retried through the other instance.
          second.appendMessage(newMessage("c1", "alice", { clientMessageId: `a-${i}` })),
        ]);
        const results = await Promise.all(sends);
        expect(results.filter((r) => r.kind === "created")).toHaveLength(120);
        expect((await allMessages(second, "c1")).map((m) => m.seq)).toEqual(range(1, 120));
        expect((await store.getConversation("c1"))?.lastSeq).toBe(120);
      });

      it("keeps users, conversations, messages, read positions and keys after the store is closed and opened again", async (ctx) => {
        if (!harness?.reopen) return ctx.skip();
        const user = await store.upsertUser({ id: "alice", name: "Alice" }, at(1));
        await conversation("c1", ["alice", "bob"], 2, "Pair");
        for (let i = 0; i < 3; i++) await store.appendMessage(newMessage("c1", "alice", { clientMessageId: `cm-${i}` }));
        await store.markRead("c1", "bob", 2);
        await store.createApiKey({ id: "k1", name: "ci", prefix: "sb_k1", hash: "hash-k1", scopes: [], createdAt: at(3) });
        const conversationBefore = await store.getConversation("c1");
        const messagesBefore = await store.getMessages("c1", { limit: 10 });
        await store.close();

        const reopened = await harness.reopen();
        expect(await reopened.getUser("alice")).toStrictEqual(user);
        expect(await reopened.getConversation("c1")).toStrictEqual(conversationBefore);
        expect(await reopened.getMessages("c1", { limit: 10 })).toStrictEqual(messagesBefore);
        expect((await reopened.findApiKeyByHash("hash-k1"))?.id).toBe("k1");
        // Idempotency and numbering continue where they were.
        expect((await reopened.appendMessage(newMessage("c1", "alice", { clientMessageId: "cm-1" }))).kind).toBe("duplicate");
        expect((await reopened.appendMessage(newMessage("c1", "alice"))).message.seq).toBe(4);
      });

      it("answers ping while open", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });
  });
}
