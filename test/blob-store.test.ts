import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "../server/src/blobs/fs-blob-store.js";
import { S3BlobStore } from "../server/src/blobs/s3-blob-store.js";
import { runBlobStoreContract } from "./blob-store-contract.js";
import { tempDir } from "./support/harness.js";
import { startS3Server, type TestS3Server } from "./support/s3-server.js";

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe("FsBlobStore", () => {
  runBlobStoreContract("FsBlobStore", async () => {
    const temp = tempDir("switchboard-blobs-");
    return { store: new FsBlobStore(path.join(temp.dir, "blobs")), cleanup: async () => temp.remove() };
  });

  it("writes through a temp file and leaves none behind, nor empty directories after a delete", async () => {
    const temp = tempDir("switchboard-blobs-");
    try {
      const root = path.join(temp.dir, "blobs");
      const store = new FsBlobStore(root);
      await store.put("uploads/up_1/original", { kind: "bytes", bytes: Buffer.from("abc") }, "text/plain");
      expect(filesUnder(root).sort()).toEqual([path.join("objects", "uploads", "up_1", "original"), path.join("types", "uploads", "up_1", "original")]);
      await store.delete("uploads/up_1/original");
      expect(filesUnder(root)).toEqual([]);
      expect(fs.readdirSync(path.join(root, "objects"))).toEqual([]);
    } finally {
      temp.remove();
    }
  });

  it("writes nothing outside its directory whatever key it is given", async () => {
    const temp = tempDir("switchboard-blobs-");
    try {
      const store = new FsBlobStore(path.join(temp.dir, "blobs"));
      for (const key of ["../outside", "../../outside", "objects/../../outside", "%2e%2e/outside"]) {
        await store.put(key, { kind: "bytes", bytes: Buffer.from("x") }, "text/plain").catch(() => undefined);
      }
      expect(fs.readdirSync(temp.dir)).toEqual(["blobs"]);
      // "%2e%2e" is a plain (odd) name, not a parent reference: it stays inside.
      expect(filesUnder(path.join(temp.dir, "blobs")).every((f) => !f.startsWith(".."))).toBe(true);
    } finally {
      temp.remove();
    }
  });
});

describe("S3BlobStore against a local S3-protocol server (s3rver)", () => {
  let s3: TestS3Server | undefined;
  let run = 0;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.close();
  });

  // Each test gets its own prefix in the one bucket: a fresh, empty store.
  runBlobStoreContract("S3BlobStore", async () => {
    const client = s3!.client();
    run += 1;
    return { store: new S3BlobStore({ client, bucket: s3!.bucket, prefix: `run-${run}/` }), cleanup: async () => client.destroy() };
  });

  it("keeps objects under its prefix in the bucket", async () => {
    const client = s3!.client();
    const store = new S3BlobStore({ client, bucket: s3!.bucket, prefix: "prefixed/" });
    await store.put("uploads/up_9/original", { kind: "bytes", bytes: Buffer.from("x") }, "text/plain");
    const bare = new S3BlobStore({ client, bucket: s3!.bucket, prefix: "" });
    expect(await bare.exists("prefixed/uploads/up_9/original")).toBe(true);
    expect(await store.list("")).toEqual(["uploads/up_9/original"]);
  });

  it("answers unavailable naming S3_BUCKET when the bucket does not exist", async () => {
    const store = new S3BlobStore({ client: s3!.client(), bucket: "no-such-bucket", prefix: "" });
    await expect(store.put("k", { kind: "bytes", bytes: Buffer.from("x") }, "text/plain")).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("S3_BUCKET"),
    });
  });
});
