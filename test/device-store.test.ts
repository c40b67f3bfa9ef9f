import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MongoDeviceStore } from "../server/src/delivery/mobile/mongo-device-store.js";
import { SqliteDeviceStore } from "../server/src/delivery/mobile/sqlite-device-store.js";
import { openSqliteDatabase, SqliteStore, type SqliteDatabase } from "../server/src/store/sqlite-store.js";
import { runDeviceStoreContract } from "./device-store-contract.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

describe("SqliteDeviceStore", () => {
  runDeviceStoreContract("SqliteDeviceStore", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-devices-"));
    const databases: SqliteDatabase[] = [];
    const db = openSqliteDatabase(path.join(dir, "store.db"), OPTIONS);
    databases.push(db);
    await new SqliteStore(db).init();
    const store = new SqliteDeviceStore(db);
    await store.init();
    return {
      store,
      cleanup: async () => {
        for (const open of databases) open.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });

  it("records its schema under its own name in schema_versions", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-devices-"));
    const db = openSqliteDatabase(path.join(dir, "store.db"), OPTIONS);
    try {
      await new SqliteStore(db).init();
      const store = new SqliteDeviceStore(db);
      await store.init();
      await store.init();
      expect(db.prepare("SELECT version FROM schema_versions WHERE component = 'mobile_devices'").get()).toEqual({ version: 1 });
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const uri = process.env.MONGODB_URI;
if (!uri) console.warn("MongoDB device store contract SKIPPED: MONGODB_URI is not set");

describe.skipIf(!uri)("MongoDeviceStore", () => {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    client = await new MongoClient(uri ?? "", { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  runDeviceStoreContract("MongoDeviceStore", async () => {
    const name = `switchboard_devices_${process.pid}_${randomUUID().slice(0, 8)}`;
    const store = new MongoDeviceStore(client!.db(name));
    await store.init();
    return {
      store,
      cleanup: async () => {
        await client?.db(name).dropDatabase();
      },
    };
  });
});
