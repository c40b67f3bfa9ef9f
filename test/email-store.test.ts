import { randomUUID } from "node:crypto";
import path from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe } from "vitest";
import { MongoEmailStore } from "../server/src/delivery/email/mongo-email-store.js";
import { SqliteEmailStore } from "../server/src/delivery/email/sqlite-email-store.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { runEmailStoreContract } from "./email-store-contract.js";
import { tempDir } from "./support/harness.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

describe("SqliteEmailStore", () => {
  runEmailStoreContract("SqliteEmailStore", async () => {
    const dir = tempDir("switchboard-email-");
    const file = path.join(dir.dir, "store.db");
    const opened: SqliteStore[] = [];
    // Each handle is its own connection on the file, as another process or node would have.
    const open = async () => {
      const db = openSqliteDatabase(file, OPTIONS);
      const main = new SqliteStore(db);
      await main.init();
      opened.push(main);
      const store = new SqliteEmailStore(db);
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const main of opened.splice(0)) await main.close();
        dir.remove();
      },
    };
  });
});

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn("MongoDB email store contract SKIPPED: MONGODB_URI is not set (it runs in GitHub Actions with a mongo service)");
}

describe.skipIf(!uri)("MongoEmailStore", () => {
  const url = uri ?? "";
  let admin: MongoClient | undefined;
  beforeAll(async () => {
    admin = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await admin?.close();
  });

  runEmailStoreContract("MongoEmailStore", async () => {
    const name = `switchboard_email_test_${process.pid}_${randomUUID().slice(0, 8)}`;
    const clients: MongoClient[] = [];
    const open = async () => {
      const client = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
      clients.push(client);
      const store = new MongoEmailStore(client.db(name));
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const client of clients.splice(0)) await client.close();
        await admin?.db(name).dropDatabase();
      },
    };
  });
});
