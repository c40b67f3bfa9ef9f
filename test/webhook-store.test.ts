import { randomUUID } from "node:crypto";
import path from "node:path";
import Database from "better-sqlite3";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardError } from "../server/src/core/errors.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { MongoWebhookStore } from "../server/src/webhooks/mongo-webhook-store.js";
import { SqliteWebhookStore } from "../server/src/webhooks/sqlite-webhook-store.js";
import { tempDir } from "./support/harness.js";
import { runWebhookStoreContract } from "./webhook-store-contract.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

/** The main store and the webhook store over one connection, as the composition root opens them. */
async function openBoth(file: string) {
  const db = openSqliteDatabase(file, OPTIONS);
  const store = new SqliteStore(db);
  await store.init();
  const webhooks = new SqliteWebhookStore(db);
  await webhooks.init();
  return { db, store, webhooks };
}

describe("SqliteWebhookStore", () => {
  runWebhookStoreContract("SqliteWebhookStore", async () => {
    const dir = tempDir("switchboard-webhooks-");
    const file = path.join(dir.dir, "store.db");
    const opened: SqliteStore[] = [];
    const open = async () => {
      const { store, webhooks } = await openBoth(file);
      opened.push(store);
      return webhooks;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const store of opened) await store.close();
        dir.remove();
      },
    };
  });

  describe("on the main store's file", () => {
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it("records its schema version in schema_versions and leaves PRAGMA user_version to the main store", async () => {
      const dir = tempDir("switchboard-webhooks-");
      cleanups.push(dir.remove);
      const file = path.join(dir.dir, "store.db");
      const shared = openSqliteDatabase(file, OPTIONS);
      const store = new SqliteStore(shared);
      cleanups.push(() => store.close());
      await store.init();
      const mainVersion = shared.pragma("user_version", { simple: true });
      const webhooks = new SqliteWebhookStore(shared);
      await webhooks.init();
      await webhooks.init(); // idempotent

      const db = new Database(file, { readonly: true });
      cleanups.push(() => db.close());
      expect(db.pragma("user_version", { simple: true })).toBe(mainVersion);
      expect(db.prepare("SELECT component, version FROM schema_versions WHERE component = 'webhooks'").all()).toEqual([{ component: "webhooks", version: 1 }]);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'webhook_%' ORDER BY name").all();
      expect(tables).toEqual([{ name: "webhook_deliveries" }, { name: "webhook_endpoints" }, { name: "webhook_events" }]);
    });

    it("refuses a webhook schema newer than this code, as unavailable", async () => {
      const dir = tempDir("switchboard-webhooks-");
      cleanups.push(dir.remove);
      const { db, store } = await openBoth(path.join(dir.dir, "store.db"));
      cleanups.push(() => store.close());
      db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'webhooks'").run();
      const err = await new SqliteWebhookStore(db).init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("unavailable");
      expect((err as SwitchboardError).message).toMatch(/webhooks schema version 99/);
    });
  });
});

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn("MongoDB webhook store contract SKIPPED: MONGODB_URI is not set (it runs in GitHub Actions with a mongo service)");
}

describe.skipIf(!uri)("MongoWebhookStore", () => {
  const url = uri ?? "";
  let admin: MongoClient | undefined;
  beforeAll(async () => {
    admin = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await admin?.close();
  });

  runWebhookStoreContract("MongoWebhookStore", async () => {
    // A fresh database per test, unique across parallel runs sharing one server.
    const name = `switchboard_webhooks_test_${process.pid}_${randomUUID().slice(0, 8)}`;
    const clients: MongoClient[] = [];
    const open = async () => {
      const client = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
      clients.push(client);
      const store = new MongoWebhookStore(client.db(name));
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const client of clients) await client.close();
        await admin?.db(name).dropDatabase();
      },
    };
  });
});
