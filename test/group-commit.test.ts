import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Message } from "../client-sdk/src/protocol.js";
import { SwitchboardError } from "../server/src/core/errors.js";
import { APPEND_BATCH_MAX, openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import type { AppendResult, NewMessage } from "../server/src/store/store.js";
import { call, connectUser, request, spawnServer, tempDir, waitFor, type ClientSocket, type SpawnedServer } from "./support/harness.js";

/** A store on a fresh file that records the size of every group commit. */
async function openRecordingStore(cleanups: (() => unknown)[]) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-group-commit-"));
  const commits: { size: number; committed: boolean }[] = [];
  const store = new SqliteStore(openSqliteDatabase(path.join(dir, "store.db"), { synchronous: "FULL", busyTimeoutMs: 5000 }), {
    onGroupCommit: ({ size, committed }) => commits.push({ size, committed }),
  });
  await store.init();
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const now = new Date().toISOString();
  for (const id of ["c1", "c2", "c3"]) {
    await store.createConversation({ id, type: "group", members: [{ userId: "alice", role: "member" }, { userId: "bob", role: "member" }], createdAt: now });
  }
  return { store, commits };
}

let counter = 0;
function message(conversationId: string, senderId: string, extra: Partial<NewMessage> = {}): NewMessage {
  counter += 1;
  return { id: `gc-${counter}`, conversationId, senderId, type: "text", text: `message ${counter}`, createdAt: new Date().toISOString(), ...extra };
}

async function settled(promises: Promise<AppendResult>[]) {
  return Promise.allSettled(promises);
}

describe("group commit of appends (SQLite)", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("commits appends made in one event-loop turn as one transaction, with gapless seq per conversation in call order", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const inputs = Array.from({ length: 150 }, (_, i) => message(`c${(i % 3) + 1}`, i % 2 ? "alice" : "bob"));
    const results = await Promise.all(inputs.map((m) => store.appendMessage(m)));
    expect(commits).toEqual([{ size: 150, committed: true }]);
    for (const c of ["c1", "c2", "c3"]) {
      const seqs = results.filter((r) => r.message.conversationId === c).map((r) => r.message.seq);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
    const page = await store.getMessages("c2", { afterSeq: 0, limit: 100 });
    expect(page.messages.map((m) => m.id)).toEqual(inputs.filter((m) => m.conversationId === "c2").map((m) => m.id));
    expect((await store.getConversation("c1"))?.lastSeq).toBe(50);
  });

  it(`splits a larger burst into commits of at most ${APPEND_BATCH_MAX} and keeps seq gapless across them`, async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const total = APPEND_BATCH_MAX * 2 + 10;
    const results = await Promise.all(Array.from({ length: total }, () => store.appendMessage(message("c1", "alice"))));
    expect(commits.map((c) => c.size)).toEqual([APPEND_BATCH_MAX, APPEND_BATCH_MAX, 10]);
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it("answers a retry inside the same batch with the original message and stores it once", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const first = message("c1", "alice", { clientMessageId: "retry-me" });
    const results = await Promise.all([
      store.appendMessage(message("c1", "bob")),
      store.appendMessage(first),
      store.appendMessage({ ...first, id: "gc-retry-second-attempt" }),
      store.appendMessage(message("c1", "bob")),
      store.appendMessage({ ...first, id: "gc-retry-third-attempt" }),
    ]);
    expect(commits).toEqual([{ size: 5, committed: true }]);
    expect(results.map((r) => r.kind)).toEqual(["created", "created", "duplicate", "created", "duplicate"]);
    expect(results[2]!.message).toEqual(results[1]!.message);
    expect(results[4]!.message).toEqual(results[1]!.message);
    const all = (await store.getMessages("c1", { afterSeq: 0, limit: 100 })).messages;
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(all.filter((m) => m.clientMessageId === "retry-me")).toHaveLength(1);
  });

  it("fails only the bad sends of a batch and commits the others without a seq gap", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const parent = await store.appendMessage(message("c1", "alice"));
    const outcomes = await settled([
      store.appendMessage(message("c1", "alice")),
      store.appendMessage(message("missing-conversation", "alice")),
      store.appendMessage(message("c1", "bob", { replyToId: "no-such-message" })),
      store.appendMessage(message("c1", "bob", { replyToId: parent.message.id })),
      // The same id twice: the second insert breaks the primary key inside its own savepoint.
      store.appendMessage(message("c1", "bob", { id: "gc-duplicate-id" })),
      store.appendMessage(message("c1", "bob", { id: "gc-duplicate-id" })),
      store.appendMessage(message("c1", "alice", { threadId: parent.message.id })),
    ]);
    expect(commits.at(-1)).toEqual({ size: 7, committed: true });
    const codes = outcomes.map((o) => (o.status === "fulfilled" ? "ok" : o.reason instanceof SwitchboardError ? o.reason.code : String(o.reason)));
    expect(codes).toEqual(["ok", "not_found", "invalid_argument", "ok", "ok", "conflict", "ok"]);
    const ok = outcomes.filter((o): o is PromiseFulfilledResult<AppendResult> => o.status === "fulfilled").map((o) => o.value.message);
    expect(ok.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    expect(ok[1]!.replyTo?.messageId).toBe(parent.message.id);
    expect(ok[3]!.threadSeq).toBe(1);
    const all = (await store.getMessages("c1", { afterSeq: 0, limit: 100 })).messages;
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.getMessage("c1", parent.message.id))?.replyCount).toBe(1);
  });

  it("rolls back alone a send that fails after it began writing, and commits the rest of its batch", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    // The insert into c2 succeeds, then moving c2's last_seq fails: the batch is rolled back and run
    // again with a savepoint per write, so only that send fails and nothing of it stays behind.
    const db = (store as unknown as { db: import("better-sqlite3").Database }).db;
    db.exec(`CREATE TRIGGER gc_poison BEFORE UPDATE OF last_seq ON conversations WHEN NEW.id = 'c2' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
    const outcomes = await settled([
      store.appendMessage(message("c1", "alice")),
      store.appendMessage(message("c2", "alice")),
      store.appendMessage(message("c1", "bob")),
      store.appendMessage(message("c3", "bob")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(commits).toEqual([{ size: 4, committed: true }]);
    expect((await store.getMessages("c1", { afterSeq: 0, limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2]);
    expect((await store.getMessages("c2", { afterSeq: 0, limit: 10 })).messages).toEqual([]);
    expect((await store.getMessages("c3", { afterSeq: 0, limit: 10 })).messages.map((m) => m.seq)).toEqual([1]);
    db.exec("DROP TRIGGER gc_poison");
    expect((await store.appendMessage(message("c2", "alice"))).message.seq).toBe(1);
  });

  it("returns from an append exactly the message a later read gives", async () => {
    const { store } = await openRecordingStore(cleanups);
    const parent = (await store.appendMessage(message("c1", "alice", { clientMessageId: "k-1" }))).message;
    const results = await Promise.all([
      store.appendMessage(message("c1", "bob", { attachments: [{ url: "https://cdn.example/a.png", name: "a.png", size: 10, mimeType: "image/png" }] })),
      store.appendMessage(message("c1", "bob", { threadId: parent.id, clientMessageId: "k-2" })),
      store.appendMessage(message("c1", "alice", { replyToId: parent.id })),
    ]);
    // The parent as the thread reply's append returned it: its reply count moved in the same commit.
    const thread = results[1]!;
    if (thread.kind !== "created" || !thread.parent) throw new Error("the thread reply returned no parent");
    const returned = [...results.map((r) => r.message), thread.parent];
    for (const m of returned) expect(m).toEqual(await store.getMessage("c1", m.id));
    expect(results[1]).toMatchObject({ message: { threadId: parent.id, threadSeq: 1 }, parent: { id: parent.id, replyCount: 1 } });
  });

  it("commits the appends still waiting when the store is closed, then reports later calls as unavailable", async () => {
    const { store } = await openRecordingStore(cleanups);
    const pending = [store.appendMessage(message("c1", "alice")), store.appendMessage(message("c1", "bob"))];
    await store.close();
    expect((await Promise.all(pending)).map((r) => r.message.seq)).toEqual([1, 2]);
    const err = await store.appendMessage(message("c1", "alice")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe("unavailable");
  });

  it("stores the user upserts of one turn (a burst of first connections) in the same commit as that turn's appends", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const now = new Date().toISOString();
    const users = Array.from({ length: 300 }, (_, i) => store.upsertUser({ id: `burst-${i}`, name: `Burst ${i}`, ...(i === 7 ? { role: "agent" } : {}) }, now));
    const sent = store.appendMessage(message("c1", "alice"));
    const stored = await Promise.all(users);
    expect(commits).toEqual([
      { size: APPEND_BATCH_MAX, committed: true },
      { size: 301 - APPEND_BATCH_MAX, committed: true },
    ]);
    expect(stored[7]).toMatchObject({ id: "burst-7", name: "Burst 7", role: "agent" });
    expect((await sent).message.seq).toBe(1);
    // Awaited, an upsert is read back at once; an update keeps the fields it does not name.
    expect(await store.getUser("burst-299")).toMatchObject({ name: "Burst 299", role: "user" });
    expect(await store.upsertUser({ id: "burst-7", name: "Renamed" }, now)).toMatchObject({ name: "Renamed", role: "agent" });
  });
});

describe("group commit and durability", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("keeps every message acknowledged before a SIGKILL that lands while concurrent sends are in flight, with seq gapless", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const env = { SQLITE_SYNCHRONOUS: "FULL" };
    let server: SpawnedServer = await spawnServer(data.dir, env);
    cleanups.push(() => server.kill("SIGKILL"));

    const senders: ClientSocket[] = [];
    for (let i = 0; i < 10; i++) {
      const socket = await connectUser(server.url, `sender-${i}`);
      senders.push(socket);
      cleanups.push(() => socket.close());
    }
    const { conversation } = await call<{ conversation: Conversation }>(senders[0]!, "conversation:create", {
      type: "group",
      memberIds: senders.map((_, i) => `sender-${i}`),
    });
    const acked = new Map<string, Message>();
    let stop = false;
    // Closed-loop senders, ten at a time, so appends keep sharing commits until the kill.
    const loops = senders.map(async (socket, i) => {
      for (let n = 0; !stop && n < 1000; n++) {
        const ack = await request<{ message: Message }>(socket, "message:send", { conversationId: conversation.id, clientMessageId: `s${i}-${n}`, text: `s${i} ${n}` }, 3000).catch(() => null);
        if (!ack?.ok) return;
        acked.set(ack.message.clientMessageId!, ack.message);
      }
    });
    await waitFor(() => acked.size >= 200, "200 acknowledged sends", 20_000);
    expect(await server.kill("SIGKILL")).toBe(null);
    stop = true;
    const ackedBeforeKill = new Map(acked);
    for (const s of senders) s.close();
    await Promise.all(loops);

    server = await spawnServer(data.dir, env);
    const reader = await connectUser(server.url, "sender-0");
    cleanups.push(() => reader.close());
    const stored: Message[] = [];
    for (let afterSeq = 0; ; ) {
      const page = await call<{ messages: Message[]; hasMore: boolean }>(reader, "message:history", { conversationId: conversation.id, afterSeq, limit: 100 });
      stored.push(...page.messages);
      if (!page.hasMore) break;
      afterSeq = page.messages.at(-1)!.seq;
    }
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    const byClientId = new Map(stored.map((m) => [m.clientMessageId!, m]));
    for (const [clientMessageId, m] of ackedBeforeKill) expect(byClientId.get(clientMessageId)).toEqual(m);
    expect(stored.length).toBeGreaterThanOrEqual(ackedBeforeKill.size);
  }, 60_000);
});

describe("group commit under SQLITE_SYNCHRONOUS=FULL: the WAL's fsync off the event loop", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Holds every fdatasync until released, counting them. */
  function holdSyncs() {
    const held: (() => void)[] = [];
    const original = fs.fdatasync;
    const calls = { count: 0, fail: null as NodeJS.ErrnoException | null };
    vi.spyOn(fs, "fdatasync").mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls.count += 1;
      held.push(() => (calls.fail ? cb(calls.fail) : original(fd, cb)));
    }) as typeof fs.fdatasync);
    return { calls, releaseAll: () => held.splice(0).forEach((release) => release()) };
  }

  it("acknowledges an append only after the fdatasync of the WAL has returned, and commits what arrives meanwhile as one batch", async () => {
    const { store, commits } = await openRecordingStore(cleanups);
    const syncs = holdSyncs();
    const settledFlags: boolean[] = [];
    const first = store.appendMessage(message("c1", "alice")).then(() => settledFlags.push(true));
    await waitFor(() => syncs.calls.count === 1, "the first batch's fdatasync");
    // Committed (a read sees it) but not acknowledged while its fsync is out.
    expect((await store.getConversation("c1"))?.lastSeq).toBe(1);
    const committedBefore = commits.length;
    // Sends arriving in two later turns wait for the fsync instead of committing on their own.
    const second = store.appendMessage(message("c1", "alice"));
    await new Promise((resolve) => setImmediate(resolve));
    const third = store.appendMessage(message("c2", "bob"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits.length).toBe(committedBefore);
    expect(settledFlags).toEqual([]);
    syncs.releaseAll();
    await first;
    // Both commit together when it returns, under one more fdatasync.
    await waitFor(() => syncs.calls.count === 2, "one fdatasync for the two sends that waited");
    expect(commits.slice(committedBefore)).toEqual([{ size: 2, committed: true }]);
    syncs.releaseAll();
    expect((await Promise.all([second, third])).map((r) => r.message.seq)).toEqual([2, 1]);
    expect(syncs.calls.count).toBe(2);
  });

  it("fails the batch's sends with unavailable when the fsync fails, and a retry then gets the stored message", async () => {
    const { store } = await openRecordingStore(cleanups);
    const syncs = holdSyncs();
    syncs.calls.fail = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    const sent = message("c3", "alice", { clientMessageId: "retry-after-eio" });
    const attempt = store.appendMessage(sent);
    await waitFor(() => syncs.calls.count === 1, "the fdatasync");
    syncs.releaseAll();
    const error = await attempt.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ code: "unavailable" });
    expect((error as Error).message).toMatch(/could not be flushed to disk.*same clientMessageId/);
    syncs.calls.fail = null;
    const retry = store.appendMessage({ ...sent, id: "another-id" });
    await waitFor(() => syncs.calls.count === 2, "the retry's fdatasync");
    syncs.releaseAll();
    expect(await retry).toMatchObject({ kind: "duplicate", message: { id: sent.id, seq: 1 } });
  });

  it("commits, syncs and acknowledges the sends still waiting when the store closes during an fsync", async () => {
    const dir = tempDir("switchboard-group-commit-close-");
    cleanups.push(() => dir.remove());
    const file = path.join(dir.dir, "store.db");
    const store = new SqliteStore(openSqliteDatabase(file, { synchronous: "FULL", busyTimeoutMs: 5000 }));
    await store.init();
    await store.createConversation({ id: "k1", type: "group", members: [{ userId: "alice", role: "member" }], createdAt: new Date().toISOString() });
    const syncs = holdSyncs();
    const first = store.appendMessage(message("k1", "alice"));
    await waitFor(() => syncs.calls.count === 1, "the first fdatasync");
    const waiting = [store.appendMessage(message("k1", "alice")), store.appendMessage(message("k1", "alice"))];
    const closed = store.close();
    syncs.releaseAll();
    await waitFor(() => syncs.calls.count === 2, "the fdatasync of the sends that waited");
    syncs.releaseAll();
    await closed;
    expect((await Promise.all([first, ...waiting])).map((r) => r.message.seq)).toEqual([1, 2, 3]);
    const reopened = new SqliteStore(openSqliteDatabase(file, { synchronous: "FULL", busyTimeoutMs: 5000 }));
    await reopened.init();
    expect((await reopened.getConversation("k1"))?.lastSeq).toBe(3);
    await reopened.close();
  });

  it("does not fsync by itself under NORMAL (SQLite's setting says what a commit must survive)", async () => {
    const dir = tempDir("switchboard-group-commit-normal-");
    const store = new SqliteStore(openSqliteDatabase(path.join(dir.dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 }));
    cleanups.push(async () => {
      await store.close();
      dir.remove();
    });
    await store.init();
    const spy = vi.spyOn(fs, "fdatasync");
    await store.createConversation({ id: "n1", type: "group", members: [{ userId: "alice", role: "member" }], createdAt: new Date().toISOString() });
    await store.appendMessage(message("n1", "alice"));
    expect(spy).not.toHaveBeenCalled();
  });
});
