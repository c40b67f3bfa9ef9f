import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteDatabase, SqliteStore, type SqliteStoreOptions } from "../server/src/store/sqlite-store.js";
import { waitFor } from "./support/harness.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openStore(options: SqliteStoreOptions, shareWith?: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-checkpointer-"));
  const file = shareWith ?? path.join(dir, "store.db");
  const db = openSqliteDatabase(file, { synchronous: "FULL", busyTimeoutMs: 5000 });
  const store = new SqliteStore(db, options);
  await store.init();
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const createdAt = new Date().toISOString();
  if (shareWith) return { store, db, file };
  for (let i = 0; i < 5; i++) {
    await store.createConversation({ id: `c${i}`, type: "group", members: [{ userId: "alice", role: "member" }, { userId: "bob", role: "member" }], createdAt });
  }
  return { store, db, file };
}

/** Closed-loop appends in batches of 30, as concurrent senders make them. */
async function appendMany(store: SqliteStore, count: number, prefix: string) {
  for (let n = 0; n < count; ) {
    const batch = [];
    for (let j = 0; j < 30 && n < count; j++, n++) {
      batch.push(store.appendMessage({ id: `${prefix}-${n}`, conversationId: `c${n % 5}`, senderId: "alice", type: "text", text: `message ${n} `.repeat(10), createdAt: new Date().toISOString() }));
    }
    await Promise.all(batch);
  }
}

describe("WAL checkpoints on a worker thread (SQLite)", () => {
  it("copies the WAL into the database file off the event loop and keeps the WAL bounded under continuous appends", async () => {
    const { store, db, file } = await openStore({ backgroundCheckpoints: { synchronous: "FULL", busyTimeoutMs: 5000, commitsPerPass: 2, resetFrames: 300 } });
    // The commits themselves never checkpoint: the worker does.
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    const fileBefore = statSync(file).size;
    await appendMany(store, 6000, "m");
    // The WAL was restarted (writes held back for a moment each time) instead of growing: 6,000
    // appends wrote about 26 MB of WAL without it (measured), and the file is reused from its start.
    expect(store.checkpointer!.pauses).toBeGreaterThan(0);
    const walBytes = statSync(`${file}-wal`).size;
    expect(walBytes).toBeLessThan(8 * 1024 * 1024);
    await waitFor(() => statSync(file).size > fileBefore, "the worker to copy pages into the database file");
    await waitFor(() => store.checkpointer!.walFrames < 300, "a pass after the last reset");
    const page = await store.getMessages("c0", { limit: 50 });
    expect(page.messages.at(-1)?.seq).toBe(1200);
  });

  it("leaves every acknowledged message in the file after close, and the WAL gone", async () => {
    const { store, file } = await openStore({ backgroundCheckpoints: { synchronous: "FULL", busyTimeoutMs: 5000, commitsPerPass: 2, resetFrames: 300 } });
    await appendMany(store, 1500, "k");
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = new SqliteStore(openSqliteDatabase(file, { synchronous: "FULL", busyTimeoutMs: 5000 }));
    await reopened.init();
    try {
      for (let i = 0; i < 5; i++) expect((await reopened.getConversation(`c${i}`))?.lastSeq).toBe(300);
    } finally {
      await reopened.close();
    }
  });

  it("puts checkpoints back into commits, and says so, when the worker dies", async () => {
    const errors: Error[] = [];
    const { store, db } = await openStore({ backgroundCheckpoints: { synchronous: "FULL", busyTimeoutMs: 5000, onError: (err) => errors.push(err) } });
    await appendMany(store, 60, "w");
    await (store.checkpointer as unknown as { worker: Worker }).worker.terminate();
    await waitFor(() => errors.length > 0, "the checkpointer to report its worker gone");
    expect(errors[0]!.message).toMatch(/checkpoint worker exited/);
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    await appendMany(store, 60, "x");
    expect((await store.getConversation("c0"))?.lastSeq).toBe(24);
  });

  it("leaves checkpoints in the commits, without pauses, while another process writes the same file", async () => {
    const options = { synchronous: "FULL", busyTimeoutMs: 5000, commitsPerPass: 2, resetFrames: 300, soloAfterMs: 200 } as const;
    const a = await openStore({ backgroundCheckpoints: options });
    // A second connection to the same file stands for another node on the same host.
    const b = await openStore({}, a.file);
    // The other writes before this one's first pass, so that pass already sees it.
    await appendMany(b.store, 30, "b0");
    await Promise.all([appendMany(a.store, 3000, "a"), appendMany(b.store, 3000, "b")]);
    expect(a.store.checkpointer!.shared).toBe(true);
    expect(a.db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    expect(a.store.checkpointer!.pauses).toBe(0);
    expect((await a.store.getConversation("c0"))?.lastSeq).toBe(1206);
    // Alone again: after soloAfterMs without the other's writes, the worker takes over again.
    const deadline = Date.now() + 10_000;
    while (a.store.checkpointer!.shared && Date.now() < deadline) await appendMany(a.store, 60, `solo-${Date.now()}`);
    expect(a.store.checkpointer!.shared).toBe(false);
    expect(a.db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
  });
});
