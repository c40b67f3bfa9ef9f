import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore } from "../server/src/blobs/blob-store.js";
import { tempDir } from "./support/harness.js";

/** What a driver's test file hands the contract for each test: a fresh, empty store. */
export interface BlobStoreHarness {
  store: BlobStore;
  /** Removes what the harness made. */
  cleanup: () => Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The behaviour every {@link BlobStore} driver must show. */
export function runBlobStoreContract(name: string, factory: () => Promise<BlobStoreHarness>): void {
  describe(`${name} blob store contract`, () => {
    let harness: BlobStoreHarness | undefined;
    let store: BlobStore;
    const temp = tempDir("switchboard-blob-contract-");

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it("gives back the bytes it stored, with their size and content type", async () => {
      const bytes = Buffer.from("hello, blob store");
      expect(await store.put("uploads/up_1/original", { kind: "bytes", bytes }, "text/plain")).toEqual({ size: bytes.length });
      const object = await store.get("uploads/up_1/original");
      expect(object).not.toBeNull();
      expect(object!.size).toBe(bytes.length);
      expect(object!.totalSize).toBe(bytes.length);
      expect(object!.contentType).toBe("text/plain");
      expect(await readAll(object!.stream)).toEqual(bytes);
    });

    it("streams a stored file of several megabytes back byte for byte", async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const file = path.join(temp.dir, `big-${randomBytes(4).toString("hex")}.bin`);
      fs.writeFileSync(file, bytes);
      expect(await store.put("big/file", { kind: "file", path: file }, "application/octet-stream")).toEqual({ size: bytes.length });
      const object = await store.get("big/file");
      expect(object!.size).toBe(bytes.length);
      expect(sha256(await readAll(object!.stream))).toBe(sha256(bytes));
      fs.rmSync(file);
    });

    it("replaces an object stored again under the same key", async () => {
      await store.put("k/replaced", { kind: "bytes", bytes: Buffer.from("first version, longer") }, "text/plain");
      await store.put("k/replaced", { kind: "bytes", bytes: Buffer.from("second") }, "image/png");
      const object = await store.get("k/replaced");
      expect(object!.contentType).toBe("image/png");
      expect((await readAll(object!.stream)).toString()).toBe("second");
    });

    it("reads a byte range: only those bytes, with the whole object's size", async () => {
      const bytes = Buffer.from("0123456789abcdefghij");
      await store.put("ranged", { kind: "bytes", bytes }, "audio/mpeg");
      const object = await store.get("ranged", { start: 5, end: 9 });
      expect(object!.size).toBe(5);
      expect(object!.totalSize).toBe(bytes.length);
      expect((await readAll(object!.stream)).toString()).toBe("56789");
      const last = await store.get("ranged", { start: 19, end: 19 });
      expect((await readAll(last!.stream)).toString()).toBe("j");
    });

    it("refuses a byte range beyond the end of the object with invalid_argument", async () => {
      await store.put("short", { kind: "bytes", bytes: Buffer.from("abc") }, "text/plain");
      await expect(store.get("short", { start: 2, end: 3 })).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(store.get("short", { start: 3, end: 5 })).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("keeps an empty object", async () => {
      await store.put("empty", { kind: "bytes", bytes: new Uint8Array(0) }, "text/plain");
      const object = await store.get("empty");
      expect(object!.size).toBe(0);
      expect((await readAll(object!.stream)).length).toBe(0);
    });

    it("answers null and false for a key that was never stored", async () => {
      expect(await store.get("never/stored")).toBeNull();
      expect(await store.exists("never/stored")).toBe(false);
    });

    it("deletes an object, and deleting it again or deleting a missing key succeeds", async () => {
      await store.put("doomed/one", { kind: "bytes", bytes: Buffer.from("x") }, "text/plain");
      expect(await store.exists("doomed/one")).toBe(true);
      await store.delete("doomed/one");
      expect(await store.exists("doomed/one")).toBe(false);
      expect(await store.get("doomed/one")).toBeNull();
      await store.delete("doomed/one");
      await store.delete("never/there");
    });

    it("lists the keys under a prefix", async () => {
      for (const key of ["uploads/up_a/original", "uploads/up_a/thumbnail", "uploads/up_b/original", "other/x"]) {
        await store.put(key, { kind: "bytes", bytes: Buffer.from(key) }, "text/plain");
      }
      expect((await store.list("uploads/up_a/")).sort()).toEqual(["uploads/up_a/original", "uploads/up_a/thumbnail"]);
      expect((await store.list("uploads/")).length).toBe(3);
      expect(await store.list("nothing/")).toEqual([]);
    });

    it("refuses keys that could name something outside the store, with invalid_argument", async () => {
      const bad = ["", "../escape", "a/../../escape", "/absolute", "a//b", "a/./b", "a\\b", "trailing/", "naïve", "a b", "x".repeat(600)];
      for (const key of bad) {
        await expect(store.put(key, { kind: "bytes", bytes: Buffer.from("x") }, "text/plain"), JSON.stringify(key)).rejects.toMatchObject({
          code: "invalid_argument",
        });
        await expect(store.get(key), JSON.stringify(key)).rejects.toMatchObject({ code: "invalid_argument" });
        await expect(store.delete(key), JSON.stringify(key)).rejects.toMatchObject({ code: "invalid_argument" });
      }
      expect(await store.list("")).toEqual([]);
    });
  });
}
