import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UploadRecord, UploadStore } from "../server/src/uploads/upload-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface UploadStoreHarness {
  store: UploadStore;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
  /** Another initialised store over the same data (a second node or process). */
  reopen: () => Promise<UploadStore>;
}

/** A clock a day ahead of the real one, in whole seconds: the rules only compare the times they are given. */
const BASE = Math.ceil((Date.now() + 86_400_000) / 1000) * 1000;
const at = (seconds: number) => new Date(BASE + seconds * 1000);

const newId = () => `up_${randomBytes(16).toString("hex")}`;

/** An unattached record created at `at(0)`, expiring at `at(60)`; `extra` overrides any field. */
function record(extra: Partial<UploadRecord> = {}): UploadRecord {
  const id = extra.id ?? newId();
  return {
    id,
    owner: { kind: "user", userId: "alice" },
    name: "photo.jpg",
    mimeType: "image/jpeg",
    size: 12345,
    sha256: "a".repeat(64),
    width: 640,
    height: 480,
    thumbnail: { width: 320, height: 240, mimeType: "image/webp", size: 2345 },
    blobs: { original: `uploads/${id}/original`, thumbnail: `uploads/${id}/thumbnail` },
    createdAt: at(0).toISOString(),
    expiresAt: at(60).toISOString(),
    ...extra,
  };
}

const HOLDER = { conversationId: "c1", messageId: "m1" };

/** The behaviour every {@link UploadStore} driver must show. */
export function runUploadStoreContract(name: string, factory: () => Promise<UploadStoreHarness>): void {
  describe(`${name} upload store contract`, () => {
    let harness: UploadStoreHarness | undefined;
    let store: UploadStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it("gives back a record exactly as it was created, and null for an unknown id", async () => {
      const full = record();
      await store.create(full);
      expect(await store.get(full.id)).toStrictEqual(full);
      const minimal = record({ owner: { kind: "backend", keyId: "key_1" }, mimeType: "application/pdf", name: "a.pdf" });
      delete minimal.width;
      delete minimal.height;
      delete minimal.thumbnail;
      minimal.blobs = { original: `uploads/${minimal.id}/original` };
      await store.create(minimal);
      expect(await store.get(minimal.id)).toStrictEqual(minimal);
      expect(await store.get(newId())).toBeNull();
    });

    it("refuses a second record with the same id with conflict", async () => {
      const first = record();
      await store.create(first);
      await expect(store.create(record({ id: first.id }))).rejects.toMatchObject({ code: "conflict" });
    });

    it("attaches an upload to one message: it stops expiring, and attaching it again to that message succeeds", async () => {
      const r = record();
      await store.create(r);
      expect(await store.attach(r.id, HOLDER, at(10))).toStrictEqual({ kind: "attached" });
      const attached = await store.get(r.id);
      expect(attached?.attachedTo).toStrictEqual(HOLDER);
      expect(attached?.expiresAt).toBeUndefined();
      expect(await store.attach(r.id, HOLDER, at(11))).toStrictEqual({ kind: "attached" });
      // Past the old expiry it is not due: a message holds it.
      expect(await store.listDue(at(1000), 10)).toEqual([]);
    });

    it("answers held, naming the holder, to a second message attaching the same upload", async () => {
      const r = record();
      await store.create(r);
      await store.attach(r.id, HOLDER, at(10));
      expect(await store.attach(r.id, { conversationId: "c2", messageId: "m2" }, at(11))).toStrictEqual({ kind: "held", holder: HOLDER });
    });

    it("lets exactly one of many concurrent attaches to different messages win, across two connections", async () => {
      const r = record();
      await store.create(r);
      const other = await harness!.reopen();
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? other : store).attach(r.id, { conversationId: "c1", messageId: `m${i}` }, at(10))),
      );
      expect(outcomes.filter((o) => o.kind === "attached")).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === "held")).toHaveLength(11);
      const winner = (await store.get(r.id))!.attachedTo!.messageId;
      expect(outcomes.every((o) => o.kind === "attached" || (o.kind === "held" && o.holder.messageId === winner))).toBe(true);
    });

    it("refuses to attach a missing upload, or one past its unattached expiry even before it is swept", async () => {
      expect(await store.attach(newId(), HOLDER, at(10))).toStrictEqual({ kind: "gone", reason: "missing" });
      const r = record();
      await store.create(r);
      expect(await store.attach(r.id, HOLDER, at(60))).toStrictEqual({ kind: "gone", reason: "expired" });
      expect((await store.get(r.id))?.attachedTo).toBeUndefined();
    });

    it("releases an upload only for the message that holds it, once, and then refuses to attach it anywhere", async () => {
      const r = record();
      await store.create(r);
      await store.attach(r.id, HOLDER, at(10));
      expect(await store.release(r.id, "m-other", at(100))).toBe(false);
      expect(await store.release(r.id, "m1", at(100))).toBe(true);
      // A second release keeps the first deadline.
      expect(await store.release(r.id, "m1", at(500))).toBe(false);
      expect((await store.get(r.id))?.deleteAfter).toBe(at(100).toISOString());
      expect(await store.attach(r.id, HOLDER, at(20))).toStrictEqual({ kind: "gone", reason: "released" });
      expect(await store.attach(r.id, { conversationId: "c1", messageId: "m2" }, at(20))).toStrictEqual({ kind: "gone", reason: "released" });
    });

    it("lists as due the unattached uploads past their expiry and the released ones past their retention, and nothing else", async () => {
      const expired = record({ expiresAt: at(30).toISOString() });
      const fresh = record({ expiresAt: at(300).toISOString() });
      const held = record();
      const released = record();
      const releasedLater = record();
      for (const r of [expired, fresh, held, released, releasedLater]) await store.create(r);
      await store.attach(held.id, { conversationId: "c", messageId: "held" }, at(1));
      await store.attach(released.id, { conversationId: "c", messageId: "rel" }, at(1));
      await store.attach(releasedLater.id, { conversationId: "c", messageId: "rel2" }, at(1));
      await store.release(released.id, "rel", at(40));
      await store.release(releasedLater.id, "rel2", at(400));
      const due = await store.listDue(at(100), 10);
      expect(due.map((r) => r.id).sort()).toEqual([expired.id, released.id].sort());
      expect((await store.listDue(at(100), 1)).length).toBe(1);
      expect(await store.listDue(at(29), 10)).toEqual([]);
    });

    it("removes a record only while it is due, once", async () => {
      const r = record({ expiresAt: at(30).toISOString() });
      await store.create(r);
      expect(await store.remove(r.id, at(29))).toBe(false);
      expect(await store.remove(r.id, at(31))).toBe(true);
      expect(await store.get(r.id)).toBeNull();
      expect(await store.remove(r.id, at(32))).toBe(false);
      // An upload attached just before the sweeper's remove is kept.
      const raced = record({ expiresAt: at(30).toISOString() });
      await store.create(raced);
      await store.attach(raced.id, HOLDER, at(29));
      expect(await store.remove(raced.id, at(31))).toBe(false);
      expect(await store.get(raced.id)).not.toBeNull();
    });

    it("records the MMS variant on an upload", async () => {
      const r = record();
      await store.create(r);
      const variant = { mimeType: "image/jpeg" as const, size: 4000, width: 300, height: 200, maxBytes: 5000 };
      const updated = await store.setMmsVariant(r.id, `uploads/${r.id}/mms`, variant);
      expect(updated?.mms).toStrictEqual(variant);
      expect(updated?.blobs.mms).toBe(`uploads/${r.id}/mms`);
      expect((await store.get(r.id))?.mms).toStrictEqual(variant);
      expect(await store.setMmsVariant(newId(), "x", variant)).toBeNull();
    });

    it("keeps the first link key stored: later candidates, from any connection, get that one", async () => {
      expect(await store.linkKey("key-one")).toBe("key-one");
      expect(await store.linkKey("key-two")).toBe("key-one");
      const other = await harness!.reopen();
      expect(await other.linkKey("key-three")).toBe("key-one");
    });
  });
}
