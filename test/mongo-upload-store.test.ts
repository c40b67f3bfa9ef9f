import { randomUUID } from "node:crypto";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe } from "vitest";
import { MongoUploadStore } from "../server/src/uploads/mongo-upload-store.js";
import { runUploadStoreContract } from "./upload-store-contract.js";

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn("MongoDB upload store contract SKIPPED: MONGODB_URI is not set (it runs in GitHub Actions with a mongo service)");
}

describe.skipIf(!uri)("MongoUploadStore", () => {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    client = await new MongoClient(uri ?? "", { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  runUploadStoreContract("MongoUploadStore", async () => {
    // A fresh database per test, unique across parallel runs sharing one server.
    const name = `switchboard_uploads_${process.pid}_${randomUUID().slice(0, 8)}`;
    const open = async () => {
      const store = new MongoUploadStore(client!.db(name));
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
