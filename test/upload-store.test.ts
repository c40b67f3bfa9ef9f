import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteDatabase, SqliteStore, type SqliteDatabase } from "../server/src/store/sqlite-store.js";
import { SqliteUploadStore } from "../server/src/uploads/sqlite-upload-store.js";
import { runUploadStoreContract } from "./upload-store-contract.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

describe("SqliteUploadStore", () => {
  runUploadStoreContract("SqliteUploadStore", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-uploads-"));
    const file = path.join(dir, "store.db");
    const databases: SqliteDatabase[] = [];
    // As in the app: the main store's file and connection, the main schema migrated first.
    const open = async () => {
      const db = openSqliteDatabase(file, OPTIONS);
      databases.push(db);
      await new SqliteStore(db).init();
      const store = new SqliteUploadStore(db);
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const db of databases) db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });

  it("records its schema under its own name in schema_versions", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-uploads-"));
    const db = openSqliteDatabase(path.join(dir, "store.db"), OPTIONS);
    try {
      await new SqliteStore(db).init();
      const userVersion = db.pragma("user_version", { simple: true });
      const store = new SqliteUploadStore(db);
      await store.init();
      await store.init();
      expect(db.pragma("user_version", { simple: true })).toBe(userVersion);
      expect(db.prepare("SELECT version FROM schema_versions WHERE component = 'uploads'").get()).toEqual({ version: 1 });
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
