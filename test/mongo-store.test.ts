import { randomUUID } from "node:crypto";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe } from "vitest";
import { MongoStore } from "../server/src/store/mongo-store.js";
import type { Store } from "../server/src/store/store.js";
import { runStoreContract } from "./store-contract.js";

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn("MongoDB store contract SKIPPED: MONGODB_URI is not set (it runs in GitHub Actions with a mongo service)");
}

async function connect(url: string): Promise<MongoClient> {
  return new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
}

describe.skipIf(!uri)("MongoStore", () => {
  const url = uri ?? "";
  // Drops the per-test databases; each store has its own client because close() closes it.
  let admin: MongoClient | undefined;
  beforeAll(async () => {
    admin = await connect(url);
  });
  afterAll(async () => {
    await admin?.close();
  });

  runStoreContract("MongoStore", async () => {
    // A fresh database per test, unique across parallel runs sharing one server.
    const name = `switchboard_test_${process.pid}_${randomUUID().slice(0, 8)}`;
    const opened: Store[] = [];
    const open = async () => {
      const store = new MongoStore((await connect(url)).db(name));
      opened.push(store);
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const store of opened) await store.close();
        await admin?.db(name).dropDatabase();
      },
    };
  });
});
