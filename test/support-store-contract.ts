import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SupportStore, SupportTicketRecord, WidgetKeyRecord } from "../server/src/support/support-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface SupportStoreHarness {
  store: SupportStore;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
}

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString();

function ticket(conversationId: string, extra: Partial<SupportTicketRecord> = {}): SupportTicketRecord {
  return { conversationId, visitorId: `visitor:${conversationId}`, widgetKeyId: "wk_1", identified: false, status: "open", createdAt: at(0), updatedAt: at(0), ...extra };
}

/** The behaviour every {@link SupportStore} driver must show. */
export function runSupportStoreContract(name: string, factory: () => Promise<SupportStoreHarness>): void {
  describe(`${name} support store contract`, () => {
    let h: SupportStoreHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("creates a ticket once: a second create returns the stored one unchanged", async () => {
      const first = await h.store.createTicket(ticket("sup_a"));
      expect(first).toStrictEqual(ticket("sup_a"));
      await h.store.updateTicket("sup_a", { status: "resolved", updatedAt: at(1) });
      const again = await h.store.createTicket(ticket("sup_a", { identified: true }));
      expect(again).toStrictEqual(ticket("sup_a", { status: "resolved", updatedAt: at(1) }));
      expect(await h.store.getTicket("sup_a")).toStrictEqual(again);
      expect(await h.store.getTicket("sup_missing")).toBeNull();
    });

    it("patches status and assignee, keeps times monotonic, and unassigns with null", async () => {
      await h.store.createTicket(ticket("sup_b"));
      expect(await h.store.updateTicket("sup_b", { assigneeId: "agent-1", lastMessageAt: at(5), updatedAt: at(5) })).toStrictEqual(
        ticket("sup_b", { assigneeId: "agent-1", lastMessageAt: at(5), updatedAt: at(5) }),
      );
      // An older message time (a late, concurrent update) never moves the ticket back.
      const late = await h.store.updateTicket("sup_b", { lastMessageAt: at(3), updatedAt: at(3) });
      expect(late).toMatchObject({ lastMessageAt: at(5), updatedAt: at(5), assigneeId: "agent-1" });
      const unassigned = await h.store.updateTicket("sup_b", { assigneeId: null, status: "resolved", updatedAt: at(6) });
      expect(unassigned).toStrictEqual(ticket("sup_b", { status: "resolved", lastMessageAt: at(5), updatedAt: at(6) }));
      expect(await h.store.updateTicket("sup_missing", { status: "open", updatedAt: at(7) })).toBeNull();
    });

    it("lists tickets with a message, latest first, by status, paged with before", async () => {
      await h.store.createTicket(ticket("sup_silent"));
      for (const [id, minute] of [["sup_1", 1], ["sup_2", 2], ["sup_3", 3]] as const) {
        await h.store.createTicket(ticket(id));
        await h.store.updateTicket(id, { lastMessageAt: at(minute), updatedAt: at(minute) });
      }
      await h.store.updateTicket("sup_2", { status: "resolved", updatedAt: at(4) });
      const ids = (list: SupportTicketRecord[]) => list.map((t) => t.conversationId);
      expect(ids(await h.store.listTickets({ limit: 10 }))).toEqual(["sup_3", "sup_2", "sup_1"]);
      expect(ids(await h.store.listTickets({ limit: 10, status: "open" }))).toEqual(["sup_3", "sup_1"]);
      expect(ids(await h.store.listTickets({ limit: 10, status: "resolved" }))).toEqual(["sup_2"]);
      expect(ids(await h.store.listTickets({ limit: 2 }))).toEqual(["sup_3", "sup_2"]);
      expect(ids(await h.store.listTickets({ limit: 2, before: at(2) }))).toEqual(["sup_1"]);
    });

    it("records agents once, oldest first", async () => {
      expect(await h.store.isAgent("ada")).toBe(false);
      await h.store.addAgent("ada", at(1));
      await h.store.addAgent("bob", at(2));
      await h.store.addAgent("ada", at(3));
      expect(await h.store.isAgent("ada")).toBe(true);
      expect(await h.store.listAgents(10)).toEqual(["ada", "bob"]);
      expect(await h.store.listAgents(1)).toEqual(["ada"]);
    });

    it("stores widget keys with their secret, refuses a taken id, and revokes once", async () => {
      const key: WidgetKeyRecord = { id: "wk_1", name: "shop", allowedOrigins: ["https://shop.example.com", "*"], identitySecret: "s3cret", createdAt: at(0) };
      await h.store.createWidgetKey(key);
      await expect(h.store.createWidgetKey({ ...key, name: "other" })).rejects.toMatchObject({ code: "conflict" });
      expect(await h.store.getWidgetKey("wk_1")).toStrictEqual(key);
      expect(await h.store.getWidgetKey("wk_none")).toBeNull();
      expect(await h.store.revokeWidgetKey("wk_1", at(1))).toBe(true);
      expect(await h.store.revokeWidgetKey("wk_1", at(2))).toBe(false);
      expect(await h.store.listWidgetKeys()).toStrictEqual([{ ...key, revokedAt: at(1) }]);
    });
  });
}
