import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newDeliveryId } from "../server/src/webhooks/webhook-events.js";
import type { WebhookAttempt, WebhookEndpoint, WebhookEvent, WebhookStore } from "../server/src/webhooks/webhook-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface WebhookStoreHarness {
  store: WebhookStore;
  /** A second store over the same data (another connection or client), as a second node has. */
  reopen: () => Promise<WebhookStore>;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
}

/** A fixed clock: `at(n)` is n seconds after 2025-01-01T00:00:00Z, in epoch ms. */
const at = (seconds: number) => Date.UTC(2025, 0, 1) + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();

function endpoint(extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: `whe_${randomUUID().replaceAll("-", "")}`,
    url: "https://receiver.example/hooks",
    eventTypes: ["*"],
    enabled: true,
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    consecutiveFailures: 0,
    createdAt: iso(0),
    updatedAt: iso(0),
    ...extra,
  };
}

let eventCounter = 0;
function event(type: WebhookEvent["type"] = "message.created", seconds = 10): WebhookEvent {
  eventCounter += 1;
  return { id: `evt_${randomUUID().replaceAll("-", "")}`, type, timestamp: iso(seconds), data: { n: eventCounter, text: "hé ✓" } };
}

const attempt = (extra: Partial<WebhookAttempt> = {}): WebhookAttempt => ({ at: iso(20), durationMs: 12, statusCode: 500, error: "HTTP 500", ...extra });

/**
 * The behaviour every {@link WebhookStore} driver must show, declared as vitest suites. Each
 * driver's test file calls it with a factory that builds a fresh, initialised store per test.
 */
export function runWebhookStoreContract(name: string, factory: () => Promise<WebhookStoreHarness>): void {
  describe(`${name} webhook store contract`, () => {
    let harness: WebhookStoreHarness | undefined;
    let store: WebhookStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    describe("endpoints", () => {
      it("creates, reads, lists oldest first, patches and deletes endpoints", async () => {
        const first = endpoint({ description: "billing", createdAt: iso(1), updatedAt: iso(1) });
        const second = endpoint({ eventTypes: ["message.created", "member.added"], createdAt: iso(2), updatedAt: iso(2) });
        await store.createEndpoint(second);
        await store.createEndpoint(first);
        expect(await store.getEndpoint(first.id)).toEqual(first);
        expect((await store.listEndpoints()).map((e) => e.id)).toEqual([first.id, second.id]);

        const patched = await store.updateEndpoint(
          first.id,
          { url: "https://other.example/x", description: null, enabled: false, disabledReason: "manual", previousSecret: "whsec_b2xk", previousSecretExpiresAt: iso(99) },
          iso(5),
        );
        expect(patched).toEqual({
          ...first,
          url: "https://other.example/x",
          description: undefined,
          enabled: false,
          disabledReason: "manual",
          previousSecret: "whsec_b2xk",
          previousSecretExpiresAt: iso(99),
          updatedAt: iso(5),
        });
        expect(await store.getEndpoint(first.id)).toEqual(patched);
        expect(await store.getEndpoint(first.id)).not.toHaveProperty("description");

        expect(await store.updateEndpoint("whe_missing", { enabled: true }, iso(6))).toBeNull();
        expect(await store.deleteEndpoint(first.id)).toBe(true);
        expect(await store.deleteEndpoint(first.id)).toBe(false);
        expect(await store.getEndpoint(first.id)).toBeNull();
      });

      it("counts consecutive failures from the first one's time and resets them on a success", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        expect(await store.recordEndpointResult(e.id, false, iso(10))).toMatchObject({ consecutiveFailures: 1, failingSince: iso(10) });
        expect(await store.recordEndpointResult(e.id, false, iso(20))).toMatchObject({ consecutiveFailures: 2, failingSince: iso(10) });
        const ok = await store.recordEndpointResult(e.id, true, iso(30));
        expect(ok?.consecutiveFailures).toBe(0);
        expect(ok).not.toHaveProperty("failingSince");
        expect(await store.recordEndpointResult("whe_missing", false, iso(40))).toBeNull();
      });
    });

    describe("enqueue", () => {
      it("creates one due delivery per enabled subscriber, records the event once, and nothing for a repeat", async () => {
        const all = endpoint();
        const messagesOnly = endpoint({ eventTypes: ["message.created"] });
        const membersOnly = endpoint({ eventTypes: ["member.added"] });
        const disabled = endpoint({ enabled: false, disabledReason: "gone" });
        for (const e of [all, messagesOnly, membersOnly, disabled]) await store.createEndpoint(e);

        const e1 = event("message.created");
        expect(await store.enqueue(e1, newDeliveryId, at(10))).toBe(2);
        expect(await store.enqueue(e1, newDeliveryId, at(11))).toBe(0);

        for (const target of [all, messagesOnly]) {
          const { deliveries } = await store.listDeliveries(target.id, { limit: 10 });
          expect(deliveries).toEqual([
            {
              id: expect.stringMatching(/^whd_/),
              endpointId: target.id,
              eventId: e1.id,
              eventType: "message.created",
              status: "pending",
              attempts: [],
              nextAttemptAt: iso(10),
              createdAt: iso(10),
            },
          ]);
        }
        expect((await store.listDeliveries(membersOnly.id, { limit: 10 })).deliveries).toEqual([]);
        expect((await store.listDeliveries(disabled.id, { limit: 10 })).deliveries).toEqual([]);
      });

      it("keeps an event only a disabled endpoint subscribes to, so that endpoint can replay it", async () => {
        const disabled = endpoint({ enabled: false, disabledReason: "failing" });
        await store.createEndpoint(disabled);
        const e1 = event("message.created", 10);
        expect(await store.enqueue(e1, newDeliveryId, at(10))).toBe(0);
        await store.updateEndpoint(disabled.id, { enabled: true, disabledReason: null }, iso(11));
        expect(await store.replayRange(disabled.id, ["*"], at(0), at(100), newDeliveryId, at(12))).toBe(1);
      });

      it("records nothing when no endpoint subscribes", async () => {
        await store.createEndpoint(endpoint({ eventTypes: ["member.removed"] }));
        expect(await store.enqueue(event("message.created", 10), newDeliveryId, at(10))).toBe(0);
        const late = endpoint();
        await store.createEndpoint(late);
        expect(await store.replayRange(late.id, ["*"], at(0), at(100), newDeliveryId, at(12))).toBe(0);
      });
    });

    describe("leases", () => {
      it("leases due deliveries oldest first with their events, up to the limit, and not again while leased", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        const events = [event("message.created", 1), event("member.added", 2), event("message.read", 3)];
        for (const [i, ev] of events.entries()) await store.enqueue(ev, newDeliveryId, at(10 + i));
        await store.enqueue(event("message.created", 4), newDeliveryId, at(100)); // not due yet

        const first = await store.lease(at(50), 30_000, 2);
        expect(first.map((l) => l.event)).toEqual(events.slice(0, 2));
        expect(first.map((l) => l.delivery.eventType)).toEqual(["message.created", "member.added"]);
        expect(first[0].leaseToken).toEqual(expect.any(String));

        const second = await store.lease(at(50), 30_000, 10);
        expect(second.map((l) => l.event.id)).toEqual([events[2].id]);
        expect(await store.lease(at(51), 30_000, 10)).toEqual([]);
        // Once the leases run out (their holder died), the deliveries can be taken again.
        expect((await store.lease(at(50) + 30_001, 30_000, 10)).map((l) => l.event.id)).toEqual(events.map((ev) => ev.id));
      });

      it("never leases one delivery to two stores at once, however they interleave", async () => {
        const other = await harness!.reopen();
        const e = endpoint();
        await store.createEndpoint(e);
        const count = 60;
        for (let i = 0; i < count; i++) await store.enqueue(event("message.created", i), newDeliveryId, at(10));
        const stores = [store, other, store, other];
        const rounds = await Promise.all(
          stores.map(async (s) => {
            const got: string[] = [];
            for (;;) {
              const batch = await s.lease(at(20), 60_000, 7);
              if (batch.length === 0) return got;
              got.push(...batch.map((l) => l.delivery.id));
            }
          }),
        );
        const all = rounds.flat();
        expect(all).toHaveLength(count);
        expect(new Set(all).size).toBe(count);
      });

      it("records an attempt only for the current lease holder, then follows the outcome", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        await store.enqueue(event(), newDeliveryId, at(10));
        const [leased] = await store.lease(at(10), 1000, 1);
        const id = leased.delivery.id;

        // The lease ran out and another dispatcher took over: the first holder's record is refused.
        const [retaken] = await store.lease(at(12), 1000, 1);
        expect(retaken.delivery.id).toBe(id);
        expect(await store.completeAttempt(id, leased.leaseToken, attempt(), { status: "succeeded" })).toBe(false);

        const first = attempt({ nextAttemptAt: iso(60) });
        expect(await store.completeAttempt(id, retaken.leaseToken, first, { status: "pending", nextAttemptAt: at(60) })).toBe(true);
        expect(await store.getDelivery(e.id, id)).toMatchObject({ status: "pending", attempts: [first], nextAttemptAt: iso(60) });
        expect(await store.lease(at(59), 1000, 10)).toEqual([]);

        const [again] = await store.lease(at(60), 1000, 1);
        expect(again.delivery.attempts).toEqual([first]);
        const second = attempt({ statusCode: 200, error: undefined, at: iso(61) });
        delete second.error;
        expect(await store.completeAttempt(id, again.leaseToken, second, { status: "succeeded" })).toBe(true);
        const done = await store.getDelivery(e.id, id);
        expect(done).toMatchObject({ status: "succeeded", attempts: [first, second] });
        expect(done).not.toHaveProperty("nextAttemptAt");
        expect(await store.lease(at(1000), 1000, 10)).toEqual([]);
      });

      it("frees a released lease at once", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        await store.enqueue(event(), newDeliveryId, at(10));
        const [leased] = await store.lease(at(10), 60_000, 1);
        await store.releaseLease(leased.delivery.id, leased.leaseToken);
        expect((await store.lease(at(11), 60_000, 1)).map((l) => l.delivery.id)).toEqual([leased.delivery.id]);
      });
    });

    describe("delivery log and replays", () => {
      it("lists deliveries newest first, filtered by status, in pages", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        for (let i = 0; i < 5; i++) await store.enqueue(event("message.created", i), newDeliveryId, at(10 + i));
        const [done] = await store.lease(at(100), 1000, 1);
        await store.completeAttempt(done.delivery.id, done.leaseToken, attempt({ statusCode: 400, error: "HTTP 400" }), { status: "failed" });

        const page1 = await store.listDeliveries(e.id, { limit: 2 });
        expect(page1.hasMore).toBe(true);
        const page2 = await store.listDeliveries(e.id, { limit: 2, before: page1.deliveries.at(-1)!.id });
        const page3 = await store.listDeliveries(e.id, { limit: 2, before: page2.deliveries.at(-1)!.id });
        expect(page3.hasMore).toBe(false);
        const ids = [...page1.deliveries, ...page2.deliveries, ...page3.deliveries].map((d) => d.id);
        expect(ids).toHaveLength(5);
        expect(ids).toEqual([...ids].sort().reverse());

        expect((await store.listDeliveries(e.id, { limit: 10, status: "failed" })).deliveries.map((d) => d.id)).toEqual([done.delivery.id]);
        expect((await store.listDeliveries(e.id, { limit: 10, status: "pending" })).deliveries).toHaveLength(4);
        expect((await store.listDeliveries(e.id, { limit: 10, status: "succeeded" })).deliveries).toHaveLength(0);
        expect(await store.getDelivery("whe_other", done.delivery.id)).toBeNull();
      });

      it("replays one delivery as a new pending delivery of the same event", async () => {
        const e = endpoint();
        await store.createEndpoint(e);
        const ev = event();
        await store.enqueue(ev, newDeliveryId, at(10));
        const [leased] = await store.lease(at(10), 1000, 1);
        await store.completeAttempt(leased.delivery.id, leased.leaseToken, attempt({ statusCode: 200 }), { status: "succeeded" });

        const replay = await store.replayDelivery(e.id, leased.delivery.id, newDeliveryId(), at(50));
        expect(replay).toMatchObject({ eventId: ev.id, eventType: ev.type, status: "pending", attempts: [], replayOf: leased.delivery.id, nextAttemptAt: iso(50) });
        const [again] = await store.lease(at(50), 1000, 5);
        expect(again.event).toEqual(ev);
        expect(again.delivery.id).toBe(replay!.id);
        expect(await store.replayDelivery(e.id, "whd_missing", newDeliveryId(), at(50))).toBeNull();
        expect(await store.replayDelivery("whe_other", leased.delivery.id, newDeliveryId(), at(50))).toBeNull();
      });

      it("replays the events of a time range whose types the endpoint subscribes to", async () => {
        const e = endpoint({ eventTypes: ["message.created", "member.added"] });
        await store.createEndpoint(e);
        await store.createEndpoint(endpoint()); // keeps the other types recorded
        const events = [
          event("message.created", 5),
          event("message.created", 10),
          event("message.read", 15),
          event("member.added", 20),
          event("message.created", 30),
        ];
        for (const ev of events) await store.enqueue(ev, newDeliveryId, at(40));
        const before = new Set((await store.listDeliveries(e.id, { limit: 100 })).deliveries.map((d) => d.id));

        expect(await store.replayRange(e.id, e.eventTypes, at(10), at(30), newDeliveryId, at(50))).toBe(2);
        const { deliveries } = await store.listDeliveries(e.id, { limit: 100 });
        const added = deliveries.filter((d) => !before.has(d.id));
        expect(new Set(added.map((d) => d.eventId))).toEqual(new Set([events[1].id, events[3].id]));
        expect(added.map((d) => d.status)).toEqual(["pending", "pending"]);
        expect(await store.replayRange("whe_missing", ["*"], at(0), at(100), newDeliveryId, at(50))).toBe(0);
      });
    });

    it("deletes an endpoint's deliveries with it", async () => {
      const e = endpoint();
      await store.createEndpoint(e);
      await store.enqueue(event(), newDeliveryId, at(10));
      await store.deleteEndpoint(e.id);
      expect(await store.lease(at(20), 1000, 10)).toEqual([]);
    });

    it("prunes finished deliveries and unreferenced events older than the cutoff, never pending ones", async () => {
      const e = endpoint();
      await store.createEndpoint(e);
      const old = event("message.created", 10);
      const pendingOld = event("message.created", 11);
      const recent = event("message.created", 500);
      await store.enqueue(old, newDeliveryId, at(10));
      await store.enqueue(pendingOld, newDeliveryId, at(11));
      const [leased] = await store.lease(at(12), 1000, 1);
      expect(leased.event.id).toBe(old.id);
      await store.completeAttempt(leased.delivery.id, leased.leaseToken, attempt({ statusCode: 200 }), { status: "succeeded" });
      await store.enqueue(recent, newDeliveryId, at(500));

      expect(await store.prune(at(100))).toBe(1);
      const left = (await store.listDeliveries(e.id, { limit: 10 })).deliveries.map((d) => d.eventId);
      expect(new Set(left)).toEqual(new Set([pendingOld.id, recent.id]));
      // The pruned event is gone: a range replay over its time finds only the pending one's.
      expect(await store.replayRange(e.id, ["*"], at(0), at(100), newDeliveryId, at(600))).toBe(1);
    });
  });
}
