import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EMAIL_THREAD_MAX_REFERENCES, type EmailStore } from "../server/src/delivery/email/email-store.js";

/** What a driver's test hands the contract: a fresh store, another handle on the same data, and cleanup. */
export interface EmailStoreFixture {
  store: EmailStore;
  /** A second store over the same data (another node). */
  reopen: () => Promise<EmailStore>;
  cleanup: () => Promise<void>;
}

const iso = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** The {@link EmailStore} contract, run against every driver. */
export function runEmailStoreContract(name: string, open: () => Promise<EmailStoreFixture>): void {
  describe(`${name} (email store contract)`, () => {
    let fixture: EmailStoreFixture;
    let store: EmailStore;
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("answers bounced only for an address with a hard bounce in its ledger", async () => {
      expect(await store.isBounced("ada@example.com")).toBe(false);
      await store.appendLedger({ address: "ada@example.com", action: "hard_bounce", source: "dsn", userId: "usr_1", note: "5.1.1 user unknown", at: iso(1) });
      await store.appendLedger({ address: "ada@example.com", action: "unsubscribe", source: "one_click", userId: "usr_1", conversationId: "cnv_a", at: iso(1) });
      expect(await store.isBounced("ada@example.com")).toBe(true);
      expect(await store.isBounced("bob@example.com")).toBe(false);
      expect(await store.listLedger("ada@example.com")).toEqual([
        { address: "ada@example.com", action: "hard_bounce", source: "dsn", userId: "usr_1", note: "5.1.1 user unknown", at: iso(1) },
        { address: "ada@example.com", action: "unsubscribe", source: "one_click", userId: "usr_1", conversationId: "cnv_a", at: iso(1) },
      ]);
    });

    it("answers unsubscribed per user and conversation", async () => {
      await store.appendLedger({ address: "ada@example.com", action: "unsubscribe", source: "link", userId: "usr_1", conversationId: "cnv_a", at: iso(2) });
      expect(await store.isUnsubscribed("usr_1", "cnv_a")).toBe(true);
      expect(await store.isUnsubscribed("usr_1", "cnv_b")).toBe(false);
      expect(await store.isUnsubscribed("usr_2", "cnv_a")).toBe(false);
      expect(await store.isBounced("ada@example.com")).toBe(false);
    });

    it("keeps one thread per user and conversation: the first id wins, on every node", async () => {
      const other = await fixture.reopen();
      const [a, b] = await Promise.all([store.ensureThread("usr_1", "cnv_a", "aaaaaaaaaaaa", iso(1)), other.ensureThread("usr_1", "cnv_a", "bbbbbbbbbbbb", iso(1))]);
      expect(a.id).toBe(b.id);
      expect(a).toEqual({ id: a.id, userId: "usr_1", conversationId: "cnv_a", references: [], createdAt: iso(1), updatedAt: iso(1) });
      expect((await store.ensureThread("usr_1", "cnv_a", "cccccccccccc", iso(5))).id).toBe(a.id);
      expect((await store.ensureThread("usr_1", "cnv_b", "dddddddddddd", iso(5))).id).toBe("dddddddddddd");
      expect(await other.getThread(a.id)).toEqual(a);
      expect(await store.getThread("eeeeeeeeeeee")).toBeNull();
    });

    it("records sent Message-IDs oldest first, keeping the first and the newest ones", async () => {
      const thread = await store.ensureThread("usr_1", "cnv_a", "aaaaaaaaaaaa", iso(1));
      const first = await store.recordSent(thread.id, "<m0@x>", iso(2));
      expect(first).toMatchObject({ references: ["<m0@x>"], updatedAt: iso(2) });
      for (let i = 1; i < EMAIL_THREAD_MAX_REFERENCES + 5; i++) await store.recordSent(thread.id, `<m${i}@x>`, iso(3));
      const after = (await store.getThread(thread.id))!;
      expect(after.references).toHaveLength(EMAIL_THREAD_MAX_REFERENCES);
      expect(after.references[0]).toBe("<m0@x>");
      expect(after.references.at(-1)).toBe(`<m${EMAIL_THREAD_MAX_REFERENCES + 4}@x>`);
      expect(after.references[1]).toBe("<m6@x>");
      expect(await store.recordSent("ffffffffffff", "<m@x>", iso(4))).toBeNull();
    });
  });
}
