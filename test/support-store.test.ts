import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe } from "vitest";
import { MongoSupportStore } from "../server/src/support/mongo-support-store.js";
import { SqliteSupportStore } from "../server/src/support/sqlite-support-store.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { runSupportStoreContract } from "./support-store-contract.js";

describe("SqliteSupportStore", () => {
  runSupportStoreContract("SqliteSupportStore", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-support-"));
    // As in the app: the main store's file and connection, the main schema migrated first.
    const db = openSqliteDatabase(path.join(dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 });
    await new SqliteStore(db).init();
    const store = new SqliteSupportStore(db);
    await store.init();
    await store.init();
    return {
      store,
      cleanup: async () => {
        db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

const uri = process.env.MONGODB_URI;
if (!uri) console.warn("MongoDB support store contract SKIPPED: MONGODB_URI is not set");

describe.skipIf(!uri)("MongoSupportStore", () => {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    client = await new MongoClient(uri ?? "", { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  runSupportStoreContract("MongoSupportStore", async () => {
    const name = `switchboard_support_${process.pid}_${randomUUID().slice(0, 8)}`;
    const store = new MongoSupportStore(client!.db(name));
    await store.init();
    return { store, cleanup: async () => void (await client?.db(name).dropDatabase()) };
  });
});
