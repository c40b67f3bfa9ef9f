import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../server/src/core/errors.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import type { Store } from "../server/src/store/store.js";
import { runStoreContract } from "./store-contract.js";
import type { WorkerSend } from "./support/sqlite-append-worker.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKER = fileURLToPath(new URL("./support/sqlite-append-worker.ts", import.meta.url));
const OPEN_WORKER = fileURLToPath(new URL("./support/sqlite-open-worker.ts", import.meta.url));
const OPTIONS = { synchronous: "FULL", busyTimeoutMs: 5000 } as const;

/** Takes a database back from schema 3 to schema 2, as an earlier release wrote it. */
/** Takes a current database back to version 3 (before users had an email). */
const MIGRATION_4_UNDO = "ALTER TABLE users DROP COLUMN email;";

const MIGRATION_3_UNDO = `
  DROP TABLE reactions;
  DROP INDEX messages_by_rev;
  DROP INDEX messages_by_thread;
  DROP INDEX messages_thread_seq;
  ALTER TABLE messages DROP COLUMN reactions;
  ALTER TABLE messages DROP COLUMN last_reply_at;
  ALTER TABLE messages DROP COLUMN reply_count;
  ALTER TABLE messages DROP COLUMN thread_seq;
  ALTER TABLE messages DROP COLUMN thread_id;
  ALTER TABLE messages DROP COLUMN reply_to_id;
  ALTER TABLE messages DROP COLUMN rev;
  ALTER TABLE conversations DROP COLUMN last_rev;
`;

async function openStore(file: string, options: { synchronous: "FULL" | "NORMAL"; busyTimeoutMs: number } = OPTIONS) {
  const store = new SqliteStore(openSqliteDatabase(file, options));
  await store.init();
  return store;
}

/** A fresh temp dir per test, removed afterwards with everything in it. */
function useTempDir(): { path: () => string } {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-sqlite-"));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return {
    path: () => {
      if (!dir) throw new Error("no temp dir outside a test");
      return dir;
    },
  };
}

describe("SqliteStore", () => {
  runStoreContract("SqliteStore", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-sqlite-"));
    const file = path.join(dir, "store.db");
    const opened: Store[] = [];
    const open = async () => {
      const store = await openStore(file);
      opened.push(store);
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const store of opened) await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });

  describe("on its file", () => {
    const tmp = useTempDir();
    const opened: { close(): unknown }[] = [];
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close();
    });

    it("opens the file in WAL mode with the requested synchronous level, busy timeout and foreign keys", () => {
      const db = openSqliteDatabase(path.join(tmp.path(), "nested", "dir", "store.db"), {
        synchronous: "NORMAL",
        busyTimeoutMs: 1234,
      });
      opened.push(db);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("synchronous", { simple: true })).toBe(1); // NORMAL
      expect(db.pragma("busy_timeout", { simple: true })).toBe(1234);
      expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    });

    it("opens one fresh file from several processes starting at the same moment, every time", async () => {
      // SQLite answers the loser of the race for WAL mode on a new file SQLITE_BUSY at once,
      // without waiting for busy_timeout: nodes of a cluster starting together must not fail.
      const WORKERS = 4;
      const ROUNDS = 40;
      const startAt = Date.now() + 2500;
      const outputs = await Promise.all(
        Array.from({ length: WORKERS }, () => {
          const child = spawn(process.execPath, ["--import", "tsx", OPEN_WORKER, tmp.path(), String(ROUNDS), String(startAt), "60"], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
          return new Promise<{ opened: number; failures: { round: number; message: string }[] }>((resolve, reject) => {
            child.on("error", reject);
            child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`open worker exited ${code}`))));
          });
        }),
      );
      expect(outputs.flatMap((o) => o.failures)).toEqual([]);
      expect(outputs.map((o) => o.opened)).toEqual(Array(WORKERS).fill(ROUNDS));
    }, 30_000);

    it("creates the schema once, records its version and keeps data when init runs again", async () => {
      const file = path.join(tmp.path(), "store.db");
      const store = await openStore(file);
      opened.push(store);
      await store.upsertUser({ id: "alice" }, new Date(0).toISOString());
      await store.init();
      expect(await store.getUser("alice")).not.toBeNull();
      const db = new Database(file, { readonly: true });
      opened.push(db);
      expect(db.pragma("user_version", { simple: true })).toBe(4);
    });

    it("upgrades a version 1 database in place: old messages and keys keep working and can be edited and rotated", async () => {
      const file = path.join(tmp.path(), "store.db");
      const first = await openStore(file);
      await first.createConversation({ id: "c1", type: "direct", members: [{ userId: "alice", role: "member" }], createdAt: new Date(0).toISOString() });
      const { message } = await first.appendMessage({ id: "m1", conversationId: "c1", senderId: "alice", type: "text", text: "old", createdAt: new Date(1).toISOString() });
      await first.createApiKey({ id: "k1", name: "old key", prefix: "sb_old", hash: "hash-old", scopes: ["read"], createdAt: new Date(2).toISOString() });
      await first.close();
      // Back to the version 1 schema, as a database written by an earlier release.
      const raw = new Database(file);
      raw.exec(MIGRATION_4_UNDO);
      raw.exec(MIGRATION_3_UNDO);
      raw.exec(`
        DROP INDEX api_keys_previous_hash;
        ALTER TABLE api_keys DROP COLUMN previous_key_expires_at;
        ALTER TABLE api_keys DROP COLUMN previous_hash;
        ALTER TABLE messages DROP COLUMN deleted_at;
        ALTER TABLE messages DROP COLUMN edited_at;
      `);
      raw.pragma("user_version = 1");
      raw.close();

      const upgraded = await openStore(file);
      opened.push(upgraded);
      expect(await upgraded.getMessage("c1", "m1")).toStrictEqual(message);
      expect(await upgraded.updateMessage("c1", "m1", { text: "new", editedAt: new Date(3).toISOString() })).toStrictEqual({
        ...message,
        text: "new",
        editedAt: new Date(3).toISOString(),
        rev: 1,
      });
      expect(await upgraded.rotateApiKey("k1", { hash: "hash-new", prefix: "sb_new", previousKeyExpiresAt: new Date(4).toISOString() })).toMatchObject({
        previousHash: "hash-old",
      });
      const check = new Database(file, { readonly: true });
      opened.push(check);
      expect(check.pragma("user_version", { simple: true })).toBe(4);
    });

    it("upgrades a version 2 database in place: old messages can be quoted, threaded and reacted to, and revisions start at 0", async () => {
      const file = path.join(tmp.path(), "store.db");
      const first = await openStore(file);
      await first.createConversation({ id: "c1", type: "group", members: [{ userId: "alice", role: "member" }], createdAt: new Date(0).toISOString() });
      const { message } = await first.appendMessage({ id: "m1", conversationId: "c1", senderId: "alice", type: "text", text: "old", createdAt: new Date(1).toISOString() });
      await first.close();
      const raw = new Database(file);
      raw.exec(MIGRATION_4_UNDO);
      raw.exec(MIGRATION_3_UNDO);
      raw.pragma("user_version = 2");
      raw.close();

      const upgraded = await openStore(file);
      opened.push(upgraded);
      expect(await upgraded.getMessage("c1", "m1")).toStrictEqual(message);
      expect((await upgraded.getConversation("c1"))?.lastRev).toBe(0);
      const reply = await upgraded.appendMessage({ id: "m2", conversationId: "c1", senderId: "alice", type: "text", text: "re", replyToId: "m1", threadId: "m1", createdAt: new Date(2).toISOString() });
      expect(reply).toMatchObject({ kind: "created", message: { seq: 2, threadSeq: 1, replyTo: { messageId: "m1", excerpt: "old" } }, parent: { replyCount: 1, rev: 1 } });
      const reacted = await upgraded.addReaction({ conversationId: "c1", messageId: "m1", userId: "alice", emoji: "👍", at: new Date(3).toISOString() });
      expect(reacted?.message).toMatchObject({ rev: 2, reactions: [{ emoji: "👍", count: 1, userIds: ["alice"] }] });
    });

    it("upgrades a version 3 database in place: existing users keep their fields and can be given an email", async () => {
      const file = path.join(tmp.path(), "store.db");
      const first = await openStore(file);
      const before = await first.upsertUser({ id: "ada", name: "Ada", phone: "+15550001111" }, new Date(0).toISOString());
      await first.close();
      const raw = new Database(file);
      raw.exec(MIGRATION_4_UNDO);
      raw.pragma("user_version = 3");
      raw.close();

      const upgraded = await openStore(file);
      opened.push(upgraded);
      expect(await upgraded.getUser("ada")).toStrictEqual(before);
      expect(await upgraded.upsertUser({ id: "ada", email: "ada@example.com" }, new Date(1).toISOString())).toStrictEqual({ ...before, email: "ada@example.com" });
      // Absent fields keep their value.
      expect(await upgraded.upsertUser({ id: "ada", name: "Ada L." }, new Date(2).toISOString())).toMatchObject({ email: "ada@example.com", phone: "+15550001111" });
    });

    it("refuses a database whose schema is newer than this code, as unavailable", async () => {
      const file = path.join(tmp.path(), "store.db");
      const db = openSqliteDatabase(file, OPTIONS);
      db.pragma("user_version = 99");
      const store = new SqliteStore(db);
      opened.push(store);
      const err = await store.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("unavailable");
      expect((err as SwitchboardError).message).toMatch(/newer than this Switchboard/);
    });

    it("reports a write lock held past busy_timeout as unavailable, and works once it is released", async () => {
      const file = path.join(tmp.path(), "store.db");
      const store = await openStore(file, { synchronous: "FULL", busyTimeoutMs: 100 });
      opened.push(store);
      await store.createConversation({
        id: "c1",
        type: "direct",
        members: [{ userId: "alice", role: "member" }],
        createdAt: new Date(0).toISOString(),
      });
      const other = new Database(file);
      opened.push(other);
      other.exec("BEGIN IMMEDIATE");
      const message = {
        id: "m1",
        conversationId: "c1",
        senderId: "alice",
        type: "text" as const,
        text: "hi",
        createdAt: new Date(1).toISOString(),
      };
      const err = await store.appendMessage(message).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("unavailable");
      expect((err as SwitchboardError).message).toMatch(/busy_timeout \(100 ms\)/);
      other.exec("ROLLBACK");
      expect((await store.appendMessage(message)).message.seq).toBe(1);
    });

    it("reports calls after close as unavailable", async () => {
      const store = await openStore(path.join(tmp.path(), "store.db"));
      await store.close();
      const err = await store.getUser("alice").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("unavailable");
    });
  });

  describe("shared by several processes", () => {
    const tmp = useTempDir();
    const children: ChildProcess[] = [];
    afterEach(async () => {
      // Only the processes this test started, each by its own handle.
      await Promise.all(
        children.splice(0).map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGKILL");
          await exited;
        }),
      );
    });

    /** Starts a worker and collects its output; `ready` resolves on its first line, `done` at exit. */
    function startWorker(file: string, name: string, count: number) {
      const child = spawn(process.execPath, ["--import", "tsx", WORKER, file, "c1", name, String(count)], {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "pipe"],
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const ready = new Promise<void>((resolve, reject) => {
        const onData = () => {
          if (stdout.startsWith("ready\n")) {
            child.stdout.off("data", onData);
            resolve();
          }
        };
        child.stdout.on("data", onData);
        child.once("exit", (code) => reject(new Error(`worker ${name} exited (${code}) before ready: ${stderr}`)));
      });
      const done = new Promise<WorkerSend[]>((resolve, reject) => {
        child.once("exit", (code, signal) => {
          if (code !== 0) return reject(new Error(`worker ${name} failed (${code ?? signal}): ${stderr}`));
          resolve(JSON.parse(stdout.slice("ready\n".length)) as WorkerSend[]);
        });
      });
      // Marked handled here; the test awaits them in order and sees any rejection.
      ready.catch(() => undefined);
      done.catch(() => undefined);
      return { child, ready, done };
    }

    /** Rejects when `promise` has not settled by the deadline, instead of hanging the suite. */
    function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      });
      return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
    }

    it(
      "gives concurrent writers in three processes one gapless sequence, each process's own messages in send order",
      async () => {
        const file = path.join(tmp.path(), "store.db");
        const store = await openStore(file);
        try {
          await store.createConversation({
            id: "c1",
            type: "group",
            members: ["w0", "w1", "w2", "shared"].map((userId) => ({ userId, role: "member" })),
            createdAt: new Date(0).toISOString(),
          });
          const count = 300;
          const workers = ["w0", "w1", "w2"].map((name) => ({ name, ...startWorker(file, name, count) }));
          await within(Promise.all(workers.map((w) => w.ready)), 20_000, "the workers to open the database");
          for (const w of workers) w.child.stdin?.write("go\n");
          const sends = await within(Promise.all(workers.map((w) => w.done)), 50_000, "the workers to finish");

          const sharedIds = Array.from({ length: count }, (_, i) => i).filter((i) => i % 25 === 0).length;
          const expected = workers.length * count + sharedIds;
          const stored = [];
          for (;;) {
            const page = await store.getMessages("c1", { afterSeq: stored.at(-1)?.seq ?? 0, limit: 100 });
            stored.push(...page.messages);
            if (!page.hasMore) break;
          }
          expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
          expect(new Set(stored.map((m) => `${m.senderId}/${m.clientMessageId}`)).size).toBe(expected);
          expect((await store.getConversation("c1"))?.lastSeq).toBe(expected);

          const created = sends.flat().filter((s) => s.kind === "created");
          expect(created).toHaveLength(expected);
          const storedById = new Map(stored.map((m) => [m.id, m]));
          for (const s of sends.flat()) {
            // Every answer, duplicates included, names the message that is actually stored.
            expect(storedById.get(s.id)?.seq).toBe(s.seq);
            expect(storedById.get(s.id)?.clientMessageId).toBe(s.clientMessageId);
          }
          sends.forEach((perWorker, w) => {
            const own = perWorker.filter((s) => s.kind === "created").map((s) => s.seq);
            expect(own.length, `worker ${workers[w].name} created messages`).toBeGreaterThanOrEqual(count);
            expect(own, `worker ${workers[w].name} seqs in send order`).toEqual([...own].sort((a, b) => a - b));
            const duplicates = perWorker.filter((s) => s.kind === "duplicate" && s.senderId !== "shared");
            expect(duplicates).toHaveLength(count / 10);
          });
          // The writes really overlapped: some process's seqs were interrupted by another's.
          const interleavings = sends
            .map((perWorker) => perWorker.filter((s) => s.kind === "created").map((s) => s.seq))
            .reduce((n, seqs) => n + seqs.filter((seq, i) => i > 0 && seq !== seqs[i - 1] + 1).length, 0);
          expect(interleavings, "the workers ran one after another instead of concurrently").toBeGreaterThan(0);
          // Each shared id was created by exactly one process; the others got it back as a duplicate.
          const sharedCreated = created.filter((s) => s.senderId === "shared");
          expect(new Set(sharedCreated.map((s) => s.clientMessageId)).size).toBe(sharedIds);
          expect(sharedCreated).toHaveLength(sharedIds);
        } finally {
          await store.close();
        }
      },
      90_000,
    );
  });
});
