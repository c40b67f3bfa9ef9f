import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MongoIdempotencyStore } from "../server/src/idempotency/mongo-idempotency-store.js";
import { SqliteIdempotencyStore } from "../server/src/idempotency/sqlite-idempotency-store.js";
import { openSqliteDatabase, SqliteStore, type SqliteDatabase } from "../server/src/store/sqlite-store.js";
import { runIdempotencyStoreContract } from "./idempotency-store-contract.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

describe("SqliteIdempotencyStore", () => {
  runIdempotencyStoreContract("SqliteIdempotencyStore", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-idem-"));
    const file = path.join(dir, "store.db");
    const databases: SqliteDatabase[] = [];
    // As in the app: the main store's file and connection, the main schema migrated first.
    const open = async () => {
      const db = openSqliteDatabase(file, OPTIONS);
      databases.push(db);
      await new SqliteStore(db).init();
      const store = new SqliteIdempotencyStore(db);
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

  it("records its schema under its own name in schema_versions and leaves user_version to the main store", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-idem-"));
    const db = openSqliteDatabase(path.join(dir, "store.db"), OPTIONS);
    try {
      await new SqliteStore(db).init();
      const userVersion = db.pragma("user_version", { simple: true });
      const store = new SqliteIdempotencyStore(db);
      await store.init();
      await store.init();
      expect(db.pragma("user_version", { simple: true })).toBe(userVersion);
      expect(db.prepare("SELECT version FROM schema_versions WHERE component = 'idempotency'").get()).toEqual({ version: 1 });
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const uri = process.env.MONGODB_URI;
if (!uri) console.warn("MongoDB idempotency store contract SKIPPED: MONGODB_URI is not set");

describe.skipIf(!uri)("MongoIdempotencyStore", () => {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    client = await new MongoClient(uri ?? "", { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  runIdempotencyStoreContract("MongoIdempotencyStore", async () => {
    const name = `switchboard_idem_${process.pid}_${randomUUID().slice(0, 8)}`;
    const open = async () => {
      const store = new MongoIdempotencyStore(client!.db(name));
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        await client?.db(name).dropDatabase();
      },
    };
  });
});
