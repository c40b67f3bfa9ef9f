import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IdempotencyClaim, IdempotencyStore } from "../server/src/idempotency/idempotency-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface IdempotencyStoreHarness {
  store: IdempotencyStore;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
  /** Another initialised store over the same data (a second node or process); optional. */
  reopen?: () => Promise<IdempotencyStore>;
}

/**
 * A clock a day ahead of the real one, in whole minutes: the rules only compare the times they are
 * given, and a real TTL monitor (MongoDB) never deletes a record whose `expiresAt` is still ahead.
 */
const BASE = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
const at = (seconds: number) => new Date(BASE + seconds * 1000);

let counter = 0;
/** A claim made at `at(seconds)`, locked for 60 s and kept for 24 h; `extra` overrides any field. */
function claimAt(seconds: number, extra: Partial<IdempotencyClaim> = {}): IdempotencyClaim {
  counter += 1;
  return {
    apiKeyId: "key_1",
    key: "idem-1",
    fingerprint: "fp-a",
    token: `token-${counter}`,
    now: at(seconds),
    lockedUntil: at(seconds + 60),
    expiresAt: at(seconds + 86_400),
    ...extra,
  };
}

const RESPONSE = { status: 201, body: '{"id":"m_1","seq":1}', contentType: "application/json" };

/** The behaviour every {@link IdempotencyStore} driver must show. */
export function runIdempotencyStoreContract(name: string, factory: () => Promise<IdempotencyStoreHarness>): void {
  describe(`${name} idempotency store contract`, () => {
    let harness: IdempotencyStoreHarness | undefined;
    let store: IdempotencyStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it("claims a free key, then reports it in progress with its fingerprint to any other claim", async () => {
      expect(await store.claim(claimAt(0))).toStrictEqual({ kind: "claimed" });
      expect(await store.claim(claimAt(1))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-a" });
      expect(await store.claim(claimAt(2, { fingerprint: "fp-b" }))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-a" });
    });

    it("answers the stored response to every claim after completion", async () => {
      const first = claimAt(0);
      await store.claim(first);
      await store.complete(first, first.token, RESPONSE);
      expect(await store.claim(claimAt(5))).toStrictEqual({ kind: "completed", fingerprint: "fp-a", response: RESPONSE });
      expect(await store.claim(claimAt(6, { fingerprint: "fp-b" }))).toStrictEqual({ kind: "completed", fingerprint: "fp-a", response: RESPONSE });
    });

    it("keeps a response without a content type or with an empty body exactly", async () => {
      const first = claimAt(0);
      await store.claim(first);
      await store.complete(first, first.token, { status: 204, body: "" });
      expect(await store.claim(claimAt(1))).toStrictEqual({ kind: "completed", fingerprint: "fp-a", response: { status: 204, body: "" } });
    });

    it("frees a released key for the next claim", async () => {
      const first = claimAt(0);
      await store.claim(first);
      await store.release(first, first.token);
      expect(await store.claim(claimAt(1, { fingerprint: "fp-b" }))).toStrictEqual({ kind: "claimed" });
    });

    it("keeps each API key's records apart, and each idempotency key's", async () => {
      expect(await store.claim(claimAt(0))).toStrictEqual({ kind: "claimed" });
      expect(await store.claim(claimAt(0, { apiKeyId: "key_2" }))).toStrictEqual({ kind: "claimed" });
      expect(await store.claim(claimAt(0, { key: "idem-2" }))).toStrictEqual({ kind: "claimed" });
    });

    it("gives exactly one of many concurrent claims of a free key", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(claimAt(0))));
      expect(results.filter((r) => r.kind === "claimed")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "in_progress")).toHaveLength(19);
    });

    it("treats an expired record as absent, completed or not", async () => {
      const first = claimAt(0, { expiresAt: at(100) });
      await store.claim(first);
      await store.complete(first, first.token, RESPONSE);
      expect((await store.claim(claimAt(99))).kind).toBe("completed");
      expect(await store.claim(claimAt(100, { fingerprint: "fp-b" }))).toStrictEqual({ kind: "claimed" });
      // The new claim starts over: in progress, bound to its own fingerprint.
      expect(await store.claim(claimAt(101))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-b" });
    });

    it("lets the same request take over a claim whose lock passed, and ignores the old claim's completion", async () => {
      const dead = claimAt(0);
      await store.claim(dead);
      expect(await store.claim(claimAt(30))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-a" });
      expect(await store.claim(claimAt(61, { fingerprint: "fp-b" }))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-a" });
      const retry = claimAt(61);
      expect(await store.claim(retry)).toStrictEqual({ kind: "claimed" });
      await store.complete(dead, dead.token, { status: 500, body: "stale" });
      await store.release(dead, dead.token);
      expect(await store.claim(claimAt(62))).toStrictEqual({ kind: "in_progress", fingerprint: "fp-a" });
      await store.complete(retry, retry.token, RESPONSE);
      expect(await store.claim(claimAt(63))).toStrictEqual({ kind: "completed", fingerprint: "fp-a", response: RESPONSE });
    });

    it("does not release a completed record", async () => {
      const first = claimAt(0);
      await store.claim(first);
      await store.complete(first, first.token, RESPONSE);
      await store.release(first, first.token);
      expect((await store.claim(claimAt(1))).kind).toBe("completed");
    });

    it("shares records between two store instances over the same data", async (ctx) => {
      if (!harness?.reopen) return ctx.skip();
      const second = await harness.reopen();
      const results = await Promise.all([store.claim(claimAt(0)), second.claim(claimAt(0)), store.claim(claimAt(0)), second.claim(claimAt(0))]);
      expect(results.filter((r) => r.kind === "claimed")).toHaveLength(1);
      const owner = claimAt(0, { key: "idem-shared" });
      await store.claim(owner);
      await store.complete(owner, owner.token, RESPONSE);
      expect(await second.claim(claimAt(1, { key: "idem-shared" }))).toStrictEqual({ kind: "completed", fingerprint: "fp-a", response: RESPONSE });
    });
  });
}
