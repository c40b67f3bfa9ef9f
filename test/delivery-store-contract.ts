import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  ConsentEntry,
  Delivery,
  DeliveryEvent,
  DeliveryStore,
  PlanInput,
  PushSubscriptionRecord,
  SandboxSms,
} from "../server/src/delivery/delivery-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface DeliveryStoreHarness {
  store: DeliveryStore;
  /** A second store over the same data (another connection or client), as a second node has. */
  reopen: () => Promise<DeliveryStore>;
  /** Closes every connection the harness opened, then opens a fresh store over the same data. */
  restart: () => Promise<DeliveryStore>;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
}

/** A fixed clock: `at(n)` is n seconds after 2025-01-01T00:00:00Z, in epoch ms. */
const at = (seconds: number) => Date.UTC(2025, 0, 1) + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();
const LEASE_MS = 60_000;

let idCounter = 0;
/** Ids that sort by creation, like the planner's. */
function newId(): string {
  idCounter += 1;
  return `dlv_${idCounter.toString(36).padStart(9, "0")}${randomBytes(4).toString("hex")}`;
}

/**
 * A plan for `usr_1` over push at `now` = 10 s, due at once, of message `msg_<seq>` in `cnv_a`
 * (`msg_<conversation>_<seq>` in another conversation, so message ids stay unique).
 */
function planInput(extra: Partial<PlanInput> = {}): PlanInput {
  const seq = extra.seq ?? 1;
  const conversationId = extra.conversationId ?? "cnv_a";
  return {
    id: newId(),
    messageId: conversationId === "cnv_a" ? `msg_${seq}` : `msg_${conversationId.slice(4)}_${seq}`,
    conversationId,
    seq,
    userId: "usr_1",
    channel: "push",
    dueAt: at(10),
    collapseSince: at(0),
    now: at(10),
    ...extra,
  };
}

function subscription(extra: Partial<PushSubscriptionRecord> = {}): PushSubscriptionRecord {
  return {
    id: `psub_${randomBytes(8).toString("hex")}`,
    userId: "usr_1",
    endpoint: `https://push.example/send/${randomBytes(6).toString("hex")}`,
    p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    auth: "tBHItJI5svbpez7KI4CCXg",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    createdAt: iso(1),
    ...extra,
  };
}

/**
 * The behaviour every {@link DeliveryStore} driver must show, declared as vitest suites. Each
 * driver's test file calls it with a factory that builds a fresh, initialised store per test.
 */
export function runDeliveryStoreContract(name: string, factory: () => Promise<DeliveryStoreHarness>): void {
  describe(`${name} delivery store contract`, () => {
    let harness: DeliveryStoreHarness | undefined;
    let store: DeliveryStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    /** Plans and expects a new scheduled delivery. */
    async function schedule(extra: Partial<PlanInput> = {}): Promise<Delivery> {
      const result = await store.plan(planInput(extra));
      expect(result.kind).toBe("scheduled");
      return result.delivery;
    }

    /** Leases what is due at `seconds`, completes `id` with `sent` (at that time) and frees the rest. */
    async function markSent(id: string, seconds: number): Promise<Delivery> {
      const leased = await store.lease(at(seconds), LEASE_MS, 100);
      const mine = leased.find((l) => l.delivery.id === id);
      for (const other of leased) if (other !== mine) await store.releaseLease(other.delivery.id, other.leaseToken);
      expect(mine).toBeDefined();
      const done = await store.complete(id, mine!.leaseToken, { status: "sent" }, { at: iso(seconds), status: "sent", attempt: 1, statusCode: 201 });
      expect(done?.status).toBe("sent");
      return done!;
    }

    describe("plan", () => {
      it("creates a scheduled delivery with its first timeline entry", async () => {
        const input = planInput({ seq: 4, messageId: "msg_x", dueAt: at(130), now: at(10) });
        const result = await store.plan(input);
        const expected: Delivery = {
          id: input.id,
          messageId: "msg_x",
          conversationId: "cnv_a",
          seq: 4,
          userId: "usr_1",
          channel: "push",
          status: "scheduled",
          lastSeq: 4,
          lastMessageId: "msg_x",
          messageCount: 1,
          dueAt: iso(130),
          attempts: 0,
          events: [{ at: iso(10), status: "scheduled", detail: expect.any(String) }],
          createdAt: iso(10),
          updatedAt: iso(10),
        };
        expect(result).toEqual({ kind: "scheduled", delivery: expected });
        expect(await store.getDelivery(input.id)).toEqual(expected);
        expect(await store.getDelivery("dlv_missing")).toBeNull();
      });

      it("answers exists and changes nothing when the same message, user and channel is planned again", async () => {
        const first = await schedule({ seq: 1 });
        const again = await store.plan(planInput({ seq: 1, dueAt: at(99), now: at(20) }));
        expect(again).toEqual({ kind: "exists", delivery: first });
        expect(await store.getDelivery(first.id)).toEqual(first);
        // Another user or another channel of the same message is another delivery.
        expect((await store.plan(planInput({ seq: 1, userId: "usr_2" }))).kind).toBe("scheduled");
        expect((await store.plan(planInput({ seq: 1, channel: "sms" }))).kind).toBe("scheduled");
        expect(await store.listForMessage("msg_1")).toHaveLength(3);
      });

      it("plans a batch in order with the same results as one plan at a time", async () => {
        const results = await store.planBatch([
          planInput({ seq: 1, userId: "usr_1" }),
          planInput({ seq: 1, userId: "usr_2" }),
          planInput({ seq: 1, userId: "usr_1" }),
          planInput({ seq: 2, userId: "usr_1", messageId: "msg_2" }),
          planInput({ seq: 1, userId: "usr_1", channel: "sms" }),
        ]);
        expect(results.map((r) => r.kind)).toEqual(["scheduled", "scheduled", "exists", "collapsed", "scheduled"]);
        const [first, , repeat, folded] = results;
        expect(repeat.delivery).toEqual(first.delivery);
        expect(folded.kind === "collapsed" && folded.into.id).toBe(first.delivery.id);
        expect((await store.getDelivery(first.delivery.id))?.messageCount).toBe(2);
        expect(await store.planBatch([])).toEqual([]);
      });

      it("creates one row when two stores plan the same message at once", async () => {
        const other = await harness!.reopen();
        const inputs = [planInput({ seq: 1 }), planInput({ seq: 1 }), planInput({ seq: 1 }), planInput({ seq: 1 })];
        const results = await Promise.all(inputs.map((input, i) => (i % 2 === 0 ? store : other).plan(input)));
        expect(results.filter((r) => r.kind === "scheduled")).toHaveLength(1);
        expect(results.filter((r) => r.kind === "exists")).toHaveLength(3);
        const winner = results.find((r) => r.kind === "scheduled")!.delivery;
        expect(new Set(results.map((r) => r.delivery.id))).toEqual(new Set([winner.id]));
        expect(await store.listForMessage("msg_1")).toEqual([winner]);
      });

      it("folds later messages into the recipient's scheduled delivery, moving lastSeq forward only", async () => {
        const first = await schedule({ seq: 1, dueAt: at(130) });

        const third = planInput({ seq: 3, now: at(12), dueAt: at(142) });
        const folded = await store.plan(third);
        expect(folded.kind).toBe("collapsed");
        if (folded.kind !== "collapsed") return;
        expect(folded.into).toMatchObject({ id: first.id, status: "scheduled", seq: 1, lastSeq: 3, lastMessageId: "msg_3", messageCount: 2, dueAt: iso(130), updatedAt: iso(12) });
        expect(folded.delivery).toEqual({
          id: third.id,
          messageId: "msg_3",
          conversationId: "cnv_a",
          seq: 3,
          userId: "usr_1",
          channel: "push",
          status: "collapsed",
          lastSeq: 3,
          lastMessageId: "msg_3",
          messageCount: 1,
          collapsedInto: first.id,
          attempts: 0,
          events: [{ at: iso(12), status: "collapsed", detail: expect.stringContaining(first.id) }],
          createdAt: iso(12),
          updatedAt: iso(12),
        });

        // A message announced late (seq 2 after seq 3) is counted but never moves lastSeq back.
        const late = await store.plan(planInput({ seq: 2, now: at(13) }));
        expect(late.kind).toBe("collapsed");
        if (late.kind !== "collapsed") return;
        expect(late.into).toMatchObject({ id: first.id, lastSeq: 3, lastMessageId: "msg_3", messageCount: 3, dueAt: iso(130) });
        expect(late.delivery.collapsedInto).toBe(first.id);

        const covering = await store.getDelivery(first.id);
        expect(covering).toEqual(late.into);
        expect(covering!.events.map((e) => [e.at, e.status])).toEqual([
          [iso(10), "scheduled"],
          [iso(12), "scheduled"],
          [iso(13), "scheduled"],
        ]);
        expect(covering!.events[2].detail).toContain("msg_2");

        // Other conversations, users and channels have their own notifications.
        expect((await store.plan(planInput({ seq: 4, conversationId: "cnv_b" }))).kind).toBe("scheduled");
        expect((await store.plan(planInput({ seq: 4, userId: "usr_2" }))).kind).toBe("scheduled");
        expect((await store.plan(planInput({ seq: 4, channel: "sms" }))).kind).toBe("scheduled");
        // A repeat of a folded message is still just "exists".
        expect(await store.plan(planInput({ seq: 3, now: at(20) }))).toEqual({ kind: "exists", delivery: folded.delivery });
        expect((await store.getDelivery(first.id))!.messageCount).toBe(3);
      });

      it("folds a message into a recently sent delivery whose burst is open, without sending it again", async () => {
        const first = await schedule({ seq: 1 });
        await markSent(first.id, 20);

        const next = planInput({ seq: 2, now: at(30), collapseSince: at(19) });
        const folded = await store.plan(next);
        expect(folded.kind).toBe("collapsed");
        if (folded.kind !== "collapsed") return;
        // The text already sent stays what it was: only the count grows.
        expect(folded.into).toMatchObject({ id: first.id, status: "sent", sentAt: iso(20), lastSeq: 1, lastMessageId: "msg_1", messageCount: 2, attempts: 1 });
        expect(folded.into.events.map((e) => e.status)).toEqual(["scheduled", "sent", "sent"]);
        expect(folded.delivery).toMatchObject({ id: next.id, status: "collapsed", collapsedInto: first.id, messageCount: 1 });
        expect(folded.delivery).not.toHaveProperty("dueAt");
        expect(await store.lease(at(1000), LEASE_MS, 10)).toEqual([]);
      });

      it("starts a new notification when the sent one is not after collapseSince", async () => {
        const first = await schedule({ seq: 1 });
        await markSent(first.id, 20);
        // collapseSince equal to sentAt: the burst window has just ended.
        const next = await store.plan(planInput({ seq: 2, now: at(30), collapseSince: at(20) }));
        expect(next.kind).toBe("scheduled");
        expect((await store.getDelivery(first.id))!.messageCount).toBe(1);
      });

      it("starts a new notification after the burst was closed, in that conversation or in all of them", async () => {
        const a = await schedule({ seq: 1 });
        const b = await schedule({ seq: 1, conversationId: "cnv_b", messageId: "msg_b1" });
        await markSent(a.id, 20);
        await markSent(b.id, 20);

        await store.closeBursts("cnv_a", "usr_1", at(25));
        expect((await store.plan(planInput({ seq: 2, now: at(30) }))).kind).toBe("scheduled");
        // cnv_b's burst is still open.
        expect((await store.plan(planInput({ seq: 2, conversationId: "cnv_b", messageId: "msg_b2", now: at(30) }))).kind).toBe("collapsed");

        await store.closeBursts(null, "usr_1", at(31));
        expect((await store.plan(planInput({ seq: 3, conversationId: "cnv_b", messageId: "msg_b3", now: at(32) }))).kind).toBe("scheduled");
      });

      it("folds into a delivered text but never into a failed one", async () => {
        const sms = await schedule({ seq: 1, channel: "sms" });
        const [leased] = await store.lease(at(20), LEASE_MS, 1);
        await store.complete(sms.id, leased.leaseToken, { status: "sent" }, { at: iso(20), status: "sent" }, { providerMessageId: "SM1" });
        await store.recordProviderStatus("SM1", "delivered", { at: iso(21), status: "delivered" });
        expect((await store.plan(planInput({ seq: 2, channel: "sms", now: at(30) }))).kind).toBe("collapsed");

        const push = await schedule({ seq: 1, conversationId: "cnv_b", messageId: "msg_b1" });
        const [pushLease] = await store.lease(at(40), LEASE_MS, 1);
        expect(pushLease.delivery.id).toBe(push.id);
        await store.complete(push.id, pushLease.leaseToken, { status: "failed" }, { at: iso(40), status: "failed", statusCode: 400 });
        expect((await store.plan(planInput({ seq: 2, conversationId: "cnv_b", messageId: "msg_b2", now: at(41) }))).kind).toBe("scheduled");
      });
    });

    describe("leases", () => {
      it("leases due deliveries earliest due first, up to the limit, not again while leased, and again once the lease ran out", async () => {
        const late = await schedule({ seq: 1, conversationId: "cnv_1", dueAt: at(30) });
        const early = await schedule({ seq: 1, conversationId: "cnv_2", dueAt: at(10) });
        const middle = await schedule({ seq: 1, conversationId: "cnv_3", dueAt: at(20) });
        await schedule({ seq: 1, conversationId: "cnv_4", dueAt: at(500) }); // not due yet

        const first = await store.lease(at(40), LEASE_MS, 2);
        expect(first.map((l) => l.delivery.id)).toEqual([early.id, middle.id]);
        expect(first[0].leaseToken).toEqual(expect.any(String));
        expect(first[0].delivery).toEqual(early);

        expect((await store.lease(at(40), LEASE_MS, 10)).map((l) => l.delivery.id)).toEqual([late.id]);
        expect(await store.lease(at(41), LEASE_MS, 10)).toEqual([]);
        expect(await store.lease(at(40) + LEASE_MS, LEASE_MS, 10)).toEqual([]);
        // The holders died: once their leases ran out the deliveries can be taken again.
        expect((await store.lease(at(40) + LEASE_MS + 1, LEASE_MS, 10)).map((l) => l.delivery.id)).toEqual([early.id, middle.id, late.id]);
      });

      it("never leases one delivery to two stores at once, however they interleave", async () => {
        const other = await harness!.reopen();
        const count = 40;
        for (let i = 0; i < count; i++) await schedule({ seq: 1, conversationId: `cnv_${i}`, dueAt: at(10 + (i % 5)) });
        const stores = [store, other, store, other];
        const rounds = await Promise.all(
          stores.map(async (s) => {
            const got: string[] = [];
            for (;;) {
              const batch = await s.lease(at(20), LEASE_MS, 3);
              if (batch.length === 0) return got;
              got.push(...batch.map((l) => l.delivery.id));
            }
          }),
        );
        const all = rounds.flat();
        expect(all).toHaveLength(count);
        expect(new Set(all).size).toBe(count);
      });

      it("records an outcome only for the current lease holder and counts attempts", async () => {
        const sms = await schedule({ seq: 1, channel: "sms" });
        const [stale] = await store.lease(at(10), 1000, 1);
        // The lease ran out and another worker took over: the first holder's outcome is refused.
        const [current] = await store.lease(at(12), 1000, 1);
        expect(current.delivery.id).toBe(sms.id);
        expect(current.leaseToken).not.toBe(stale.leaseToken);
        expect(await store.complete(sms.id, stale.leaseToken, { status: "sent" }, { at: iso(12), status: "sent" })).toBeNull();
        expect(await store.getDelivery(sms.id)).toMatchObject({ status: "scheduled", attempts: 0, events: sms.events });

        // A transient failure: counted, rescheduled.
        const retry: DeliveryEvent = { at: iso(13), status: "retrying", attempt: 1, statusCode: 503, detail: "HTTP 503" };
        const afterRetry = await store.complete(sms.id, current.leaseToken, { status: "scheduled", dueAt: at(60), countsAsAttempt: true }, retry);
        expect(afterRetry).toMatchObject({ status: "scheduled", attempts: 1, dueAt: iso(60), updatedAt: iso(13) });
        expect(afterRetry!.events.at(-1)).toEqual(retry);
        expect(await store.lease(at(59), 1000, 10)).toEqual([]);
        // The lease is free again: its old token no longer completes anything.
        expect(await store.complete(sms.id, current.leaseToken, { status: "sent" }, { at: iso(14), status: "sent" })).toBeNull();

        // Our own rate limit: a wait, not an attempt.
        const [second] = await store.lease(at(60), 1000, 1);
        const wait: DeliveryEvent = { at: iso(60), status: "queued", detail: "Waiting for the number's send rate." };
        expect(await store.complete(sms.id, second.leaseToken, { status: "scheduled", dueAt: at(61), countsAsAttempt: false }, wait)).toMatchObject({ attempts: 1, dueAt: iso(61) });

        const [third] = await store.lease(at(61), 1000, 1);
        expect(third.delivery.attempts).toBe(1);
        const sent: DeliveryEvent = { at: iso(62), status: "sent", attempt: 2, statusCode: 201, detail: "Queued by the provider." };
        const done = await store.complete(sms.id, third.leaseToken, { status: "sent" }, sent, {
          providerMessageId: "SMaaaa",
          to: "+15551230001",
          from: "+15005550006",
          encoding: "UCS-2",
          segments: 2,
          mediaCount: 3,
        });
        expect(done).toMatchObject({
          status: "sent",
          attempts: 2,
          sentAt: iso(62),
          updatedAt: iso(62),
          providerMessageId: "SMaaaa",
          to: "+15551230001",
          from: "+15005550006",
          encoding: "UCS-2",
          segments: 2,
          mediaCount: 3,
        });
        expect(done).not.toHaveProperty("dueAt");
        expect(done!.events).toEqual([...sms.events, retry, wait, sent]);
        expect(await store.getDelivery(sms.id)).toEqual(done);
        // Final: never leased again, and a repeated completion is refused.
        expect(await store.lease(at(10_000), 1000, 10)).toEqual([]);
        expect(await store.complete(sms.id, third.leaseToken, { status: "failed" }, { at: iso(63), status: "failed" })).toBeNull();
      });

      it("records failed and cancelled outcomes with their reason", async () => {
        const a = await schedule({ seq: 1, conversationId: "cnv_1" });
        const b = await schedule({ seq: 1, conversationId: "cnv_2" });
        const [la, lb] = await store.lease(at(10), LEASE_MS, 2);
        expect([la.delivery.id, lb.delivery.id]).toEqual([a.id, b.id]);
        const failed = await store.complete(a.id, la.leaseToken, { status: "failed" }, { at: iso(11), status: "failed", attempt: 1, statusCode: 400, detail: "HTTP 400" });
        expect(failed).toMatchObject({ status: "failed", attempts: 1 });
        expect(failed).not.toHaveProperty("sentAt");
        const cancelled = await store.complete(b.id, lb.leaseToken, { status: "cancelled" }, { at: iso(11), status: "cancelled" }, { cancelReason: "no_destination" });
        expect(cancelled).toMatchObject({ status: "cancelled", cancelReason: "no_destination" });
        expect(cancelled).not.toHaveProperty("dueAt");
      });

      it("frees a released lease at once, and only for its holder", async () => {
        const d = await schedule();
        const [leased] = await store.lease(at(10), LEASE_MS, 1);
        await store.releaseLease(d.id, "not-the-token");
        expect(await store.lease(at(11), LEASE_MS, 1)).toEqual([]);
        await store.releaseLease(d.id, leased.leaseToken);
        const [again] = await store.lease(at(11), LEASE_MS, 1);
        expect(again.delivery).toEqual(d);
      });
    });

    describe("cancelling", () => {
      it("cancels the recipient's scheduled deliveries up to seq on the given channels, leased ones too", async () => {
        const push = await schedule({ seq: 2 });
        const sms = await schedule({ seq: 2, channel: "sms", dueAt: at(130) });
        const otherConversation = await schedule({ seq: 1, conversationId: "cnv_b", messageId: "msg_b1" });
        const otherUser = await schedule({ seq: 2, userId: "usr_2" });
        const [leased] = await store.lease(at(10), LEASE_MS, 1);
        expect(leased.delivery.id).toBe(push.id);

        expect(await store.cancelScheduled("cnv_a", "usr_1", 1, "read", ["push", "sms"], at(11))).toEqual([]);
        const cancelled = await store.cancelScheduled("cnv_a", "usr_1", 2, "read", ["push"], at(12));
        expect(cancelled).toHaveLength(1);
        expect(cancelled[0]).toMatchObject({ id: push.id, status: "cancelled", cancelReason: "read", updatedAt: iso(12) });
        expect(cancelled[0]).not.toHaveProperty("dueAt");
        expect(cancelled[0].events.at(-1)).toMatchObject({ at: iso(12), status: "cancelled" });
        expect(await store.getDelivery(push.id)).toEqual(cancelled[0]);

        // The worker holding the lease learns it lost the delivery.
        expect(await store.complete(push.id, leased.leaseToken, { status: "sent" }, { at: iso(13), status: "sent" })).toBeNull();
        expect(await store.getDelivery(push.id)).toEqual(cancelled[0]);

        for (const untouched of [sms, otherConversation, otherUser]) expect((await store.getDelivery(untouched.id))!.status).toBe("scheduled");
        const smsCancelled = await store.cancelScheduled("cnv_a", "usr_1", 5, "opted_out", ["sms"], at(14));
        expect(smsCancelled.map((d) => [d.id, d.cancelReason])).toEqual([[sms.id, "opted_out"]]);
        // Nothing left to lease but the untouched ones.
        expect((await store.lease(at(200), LEASE_MS, 10)).map((l) => l.delivery.id).sort()).toEqual([otherConversation.id, otherUser.id].sort());
      });

      it("keeps a scheduled delivery that folded in a message after seq", async () => {
        const first = await schedule({ seq: 1 });
        await store.plan(planInput({ seq: 3, now: at(11) }));
        expect(await store.cancelScheduled("cnv_a", "usr_1", 2, "read", ["push"], at(12))).toEqual([]);
        expect((await store.getDelivery(first.id))!.status).toBe("scheduled");
        expect(await store.cancelScheduled("cnv_a", "usr_1", 3, "read", ["push"], at(13))).toHaveLength(1);
      });

      it("closes the bursts of sent deliveries, so the next message starts a new notification", async () => {
        const first = await schedule({ seq: 1 });
        await markSent(first.id, 20);
        expect(await store.cancelScheduled("cnv_a", "usr_1", 1, "read", ["push", "sms"], at(25))).toEqual([]);
        expect((await store.plan(planInput({ seq: 2, now: at(30) }))).kind).toBe("scheduled");
      });

      it("cancels a user's scheduled deliveries in every conversation, whatever their seq, on the given channels", async () => {
        const a = await schedule({ seq: 7 });
        const b = await schedule({ seq: 900, conversationId: "cnv_b", messageId: "msg_b900" });
        const sms = await schedule({ seq: 7, channel: "sms" });
        const otherUser = await schedule({ seq: 7, userId: "usr_2" });
        const sent = await schedule({ seq: 1, conversationId: "cnv_c", messageId: "msg_c1", dueAt: at(5) });
        await markSent(sent.id, 20);

        const cancelled = await store.cancelScheduledForUser("usr_1", "online", ["push"], at(30));
        expect(cancelled.map((d) => d.id)).toEqual([a.id, b.id]);
        expect(cancelled.every((d) => d.status === "cancelled" && d.cancelReason === "online")).toBe(true);
        expect((await store.getDelivery(sms.id))!.status).toBe("scheduled");
        expect((await store.getDelivery(otherUser.id))!.status).toBe("scheduled");
        expect((await store.getDelivery(sent.id))!.status).toBe("sent");
        // The sent burst was closed too.
        expect((await store.plan(planInput({ seq: 2, conversationId: "cnv_c", messageId: "msg_c2", now: at(31) }))).kind).toBe("scheduled");
        expect(await store.cancelScheduledForUser("usr_1", "muted", [], at(32))).toEqual([]);
      });
    });

    describe("provider receipts", () => {
      it("moves a sent text forward only, appends every report, and answers null for an unknown provider id", async () => {
        const d = await schedule({ seq: 1, channel: "sms" });
        const [leased] = await store.lease(at(10), LEASE_MS, 1);
        await store.complete(d.id, leased.leaseToken, { status: "sent" }, { at: iso(11), status: "queued" }, { providerMessageId: "SM1" });

        const sentReport: DeliveryEvent = { at: iso(12), status: "sent" };
        expect(await store.recordProviderStatus("SM1", "sent", sentReport)).toMatchObject({ status: "sent", updatedAt: iso(12) });
        const delivered: DeliveryEvent = { at: iso(13), status: "delivered" };
        expect(await store.recordProviderStatus("SM1", "delivered", delivered)).toMatchObject({ status: "delivered" });
        // Late or contradicting reports are written down but never undo a final status.
        const late: DeliveryEvent = { at: iso(14), status: "sent", detail: "late callback" };
        const failed: DeliveryEvent = { at: iso(15), status: "failed", errorCode: "30003", detail: "Unreachable handset" };
        await store.recordProviderStatus("SM1", "sent", late);
        const after = await store.recordProviderStatus("SM1", "failed", failed);
        expect(after).toMatchObject({ status: "delivered", sentAt: iso(11), providerMessageId: "SM1" });
        expect(after!.events.slice(-5)).toEqual([{ at: iso(11), status: "queued" }, sentReport, delivered, late, failed]);
        expect(await store.getDelivery(d.id)).toEqual(after);

        expect(await store.recordProviderStatus("SM_unknown", "delivered", delivered)).toBeNull();
      });

      it("records undelivered and failed receipts of a sent text", async () => {
        for (const [i, status] of (["undelivered", "failed"] as const).entries()) {
          const d = await schedule({ seq: 1, conversationId: `cnv_${i}`, channel: "sms" });
          const [leased] = await store.lease(at(10), LEASE_MS, 1);
          await store.complete(d.id, leased.leaseToken, { status: "sent" }, { at: iso(11), status: "sent" }, { providerMessageId: `SM${i}` });
          expect(await store.recordProviderStatus(`SM${i}`, status, { at: iso(12), status })).toMatchObject({ id: d.id, status });
        }
      });

      it("keeps the provider id of the first accepted text", async () => {
        const d = await schedule({ seq: 1, channel: "sms" });
        const [leased] = await store.lease(at(10), LEASE_MS, 1);
        await store.complete(d.id, leased.leaseToken, { status: "scheduled", dueAt: at(20), countsAsAttempt: true }, { at: iso(11), status: "retrying" }, { providerMessageId: "SMfirst" });
        const [again] = await store.lease(at(20), LEASE_MS, 1);
        const done = await store.complete(d.id, again.leaseToken, { status: "sent" }, { at: iso(21), status: "sent" }, { providerMessageId: "SMsecond" });
        expect(done?.providerMessageId).toBe("SMfirst");
      });
    });

    it("lists every delivery of a message oldest first", async () => {
      const second = await store.plan(planInput({ seq: 1, userId: "usr_b", now: at(11) }));
      const first = await store.plan(planInput({ seq: 1, userId: "usr_a", now: at(10) }));
      const third = await store.plan(planInput({ seq: 1, userId: "usr_a", channel: "sms", now: at(12) }));
      await store.plan(planInput({ seq: 2, userId: "usr_a", channel: "sms", now: at(13) })); // another message
      expect((await store.listForMessage("msg_1")).map((d) => d.id)).toEqual([first.delivery.id, second.delivery.id, third.delivery.id]);
      expect(await store.listForMessage("msg_missing")).toEqual([]);
    });

    describe("push subscriptions", () => {
      it("adds subscriptions and lists a user's oldest first", async () => {
        const newer = subscription({ createdAt: iso(5) });
        const older = subscription({ createdAt: iso(2), userAgent: undefined });
        delete older.userAgent;
        expect(await store.savePushSubscription(newer)).toEqual(newer);
        expect(await store.savePushSubscription(older)).toEqual(older);
        await store.savePushSubscription(subscription({ userId: "usr_2" }));
        expect(await store.listPushSubscriptions("usr_1")).toEqual([older, newer]);
        expect(await store.listPushSubscriptions("usr_none")).toEqual([]);
      });

      it("moves a known endpoint to its new owner with the new keys", async () => {
        const original = subscription();
        await store.savePushSubscription(original);
        const moved = await store.savePushSubscription(
          subscription({ endpoint: original.endpoint, userId: "usr_2", p256dh: "BOther", auth: "otherAuth", userAgent: "Chrome", createdAt: iso(9) }),
        );
        expect(moved).toMatchObject({ endpoint: original.endpoint, userId: "usr_2", p256dh: "BOther", auth: "otherAuth", userAgent: "Chrome" });
        expect(await store.listPushSubscriptions("usr_1")).toEqual([]);
        expect(await store.listPushSubscriptions("usr_2")).toEqual([moved]);
      });

      it("deletes a subscription by user and endpoint, or by endpoint alone", async () => {
        const a = subscription();
        const b = subscription({ createdAt: iso(2) });
        await store.savePushSubscription(a);
        await store.savePushSubscription(b);
        expect(await store.deletePushSubscription("usr_2", a.endpoint)).toBe(false);
        expect(await store.deletePushSubscription("usr_1", a.endpoint)).toBe(true);
        expect(await store.deletePushSubscription("usr_1", a.endpoint)).toBe(false);
        expect(await store.deletePushSubscriptionByEndpoint(b.endpoint)).toBe(true);
        expect(await store.deletePushSubscriptionByEndpoint(b.endpoint)).toBe(false);
        expect(await store.listPushSubscriptions("usr_1")).toEqual([]);
      });
    });

    it("returns no preferences until saved, then the latest saved ones", async () => {
      expect(await store.getPreferences("usr_1")).toBeNull();
      await store.savePreferences({ userId: "usr_1", push: false, sms: true, smsDelayMs: 30_000, email: false, emailDelayMs: 90_000, updatedAt: iso(1) });
      expect(await store.getPreferences("usr_1")).toEqual({ userId: "usr_1", push: false, sms: true, smsDelayMs: 30_000, email: false, emailDelayMs: 90_000, updatedAt: iso(1) });
      await store.savePreferences({ userId: "usr_1", push: true, sms: false, email: true, updatedAt: iso(2) });
      const saved = await store.getPreferences("usr_1");
      expect(saved).toEqual({ userId: "usr_1", push: true, sms: false, email: true, updatedAt: iso(2) });
      expect(saved).not.toHaveProperty("smsDelayMs");
      expect(saved).not.toHaveProperty("emailDelayMs");
      expect(await store.getPreferences("usr_2")).toBeNull();
    });

    it("keeps a user's quiet hours with their preferences, and drops them when saved without", async () => {
      const quietHours = { start: "22:00", end: "07:00", timeZone: "Europe/Berlin" };
      await store.savePreferences({ userId: "usr_1", push: true, sms: true, email: true, quietHours, updatedAt: iso(1) });
      expect(await store.getPreferences("usr_1")).toEqual({ userId: "usr_1", push: true, sms: true, email: true, quietHours, updatedAt: iso(1) });
      await store.savePreferences({ userId: "usr_1", push: true, sms: true, email: true, smsDelayMs: 1000, updatedAt: iso(2) });
      const saved = await store.getPreferences("usr_1");
      expect(saved).toEqual({ userId: "usr_1", push: true, sms: true, email: true, smsDelayMs: 1000, updatedAt: iso(2) });
      expect(saved).not.toHaveProperty("quietHours");
    });

    it("says in a delivery's first timeline entry when it was deferred to the end of quiet hours", async () => {
      const input = planInput({ dueAt: at(600), now: at(10), deferred: { reason: "quiet_hours", detail: "Deferred: quiet hours (22:00–07:00 UTC) until then." } });
      const result = await store.plan(input);
      expect(result.kind).toBe("scheduled");
      expect(result.delivery.dueAt).toBe(iso(600));
      expect(result.delivery.events).toEqual([{ at: iso(10), status: "scheduled", detail: expect.stringContaining("Deferred: quiet hours (22:00–07:00 UTC) until then.") }]);
    });

    it("reports a mute until its end, for ever without one, and none after unmuting", async () => {
      await store.setMute({ userId: "usr_1", conversationId: "cnv_a", until: iso(100) }, true);
      await store.setMute({ userId: "usr_1", conversationId: "cnv_b" }, true);
      expect(await store.getMute("usr_1", "cnv_a", at(99))).toEqual({ userId: "usr_1", conversationId: "cnv_a", until: iso(100) });
      expect(await store.getMute("usr_1", "cnv_a", at(100))).toBeNull();
      const forever = await store.getMute("usr_1", "cnv_b", at(1_000_000));
      expect(forever).toEqual({ userId: "usr_1", conversationId: "cnv_b" });
      expect(forever).not.toHaveProperty("until");
      expect(await store.getMute("usr_2", "cnv_a", at(0))).toBeNull();

      // Muting again replaces the end; unmuting removes the mute.
      await store.setMute({ userId: "usr_1", conversationId: "cnv_a" }, true);
      expect(await store.getMute("usr_1", "cnv_a", at(500))).toEqual({ userId: "usr_1", conversationId: "cnv_a" });
      await store.setMute({ userId: "usr_1", conversationId: "cnv_a" }, false);
      expect(await store.getMute("usr_1", "cnv_a", at(0))).toBeNull();
      await store.setMute({ userId: "usr_1", conversationId: "cnv_a" }, false); // idempotent
    });

    it("keeps the consent ledger in order and derives the state from the last opt-in or opt-out", async () => {
      const phone = "+15551230001";
      expect(await store.consentState(phone)).toBe("unknown");
      const entries: ConsentEntry[] = [
        { phone, action: "help", source: "keyword", keyword: "HELP", at: iso(1) },
        { phone, action: "opt_in", source: "api", note: "signup form, checkbox ticked", at: iso(2) },
        { phone, action: "opt_out", source: "keyword", keyword: "STOP", at: iso(3) },
        { phone, action: "help", source: "keyword", keyword: "INFO", at: iso(4) },
      ];
      await store.appendConsent(entries[0]);
      expect(await store.consentState(phone)).toBe("unknown");
      await store.appendConsent(entries[1]);
      expect(await store.consentState(phone)).toBe("opted_in");
      await store.appendConsent(entries[2]);
      await store.appendConsent(entries[3]);
      expect(await store.consentState(phone)).toBe("opted_out");
      const restart: ConsentEntry = { phone, action: "opt_in", source: "keyword", keyword: "START", at: iso(5) };
      await store.appendConsent(restart);
      expect(await store.consentState(phone)).toBe("opted_in");
      const unsubscribed: ConsentEntry = { phone, action: "opt_out", source: "provider", note: "Twilio 21610", at: iso(6) };
      await store.appendConsent(unsubscribed);
      expect(await store.consentState(phone)).toBe("opted_out");
      expect(await store.listConsent(phone)).toEqual([...entries, restart, unsubscribed]);
      expect(await store.consentState("+15559999999")).toBe("unknown");
      expect(await store.listConsent("+15559999999")).toEqual([]);
    });

    it("saves, moves, finds and lists a phone's SMS threads, most recently used first", async () => {
      const phone = "+15551230001";
      await store.saveSmsThread({ phone, ourNumber: "+15005550001", userId: "usr_1", conversationId: "cnv_a", lastUsedAt: iso(10) });
      await store.saveSmsThread({ phone, ourNumber: "+15005550002", userId: "usr_1", conversationId: "cnv_b", lastUsedAt: iso(20) });
      await store.saveSmsThread({ phone: "+15551230002", ourNumber: "+15005550001", userId: "usr_2", conversationId: "cnv_c", lastUsedAt: iso(30) });
      expect((await store.listSmsThreads(phone)).map((t) => t.conversationId)).toEqual(["cnv_b", "cnv_a"]);

      // The pool number reused for another conversation moves the thread, and it is now the newest.
      const moved = { phone, ourNumber: "+15005550001", userId: "usr_1", conversationId: "cnv_d", lastUsedAt: iso(40) };
      await store.saveSmsThread(moved);
      expect(await store.findSmsThread(phone, "+15005550001")).toEqual(moved);
      expect((await store.listSmsThreads(phone)).map((t) => t.conversationId)).toEqual(["cnv_d", "cnv_b"]);
      expect(await store.findSmsThread(phone, "+15005550009")).toBeNull();
      expect(await store.listSmsThreads("+15550000000")).toEqual([]);
    });

    it("records sandbox texts, updates their status and lists them newest first, optionally for one phone", async () => {
      const sms = (n: number, extra: Partial<SandboxSms>): SandboxSms => ({
        sid: `SM${n.toString(16).padStart(32, "0")}`,
        direction: "outbound",
        from: "+15005550006",
        to: "+15551230001",
        body: `text ${n} ✓`,
        status: "queued",
        at: iso(n),
        ...extra,
      });
      const texts = [
        sms(1, {}),
        sms(2, { direction: "inbound", from: "+15551230001", to: "+15005550006", status: "received" }),
        sms(3, { to: "+15551230002" }),
        // An MMS: its pictures' URLs come back as given, in order.
        sms(4, { mediaUrls: ["https://chat.example.com/v1/uploads/up_b/mms?sig=1", "https://chat.example.com/v1/uploads/up_a/mms?sig=2"] }),
      ];
      for (const t of texts) await store.recordSandboxSms(t);
      await store.updateSandboxSmsStatus(texts[0].sid, "delivered");
      await store.updateSandboxSmsStatus("SM_missing", "sent"); // no effect

      const all = await store.listSandboxSms(10);
      expect(all.map((t) => t.sid)).toEqual([texts[3].sid, texts[2].sid, texts[1].sid, texts[0].sid]);
      expect(all[3]).toEqual({ ...texts[0], status: "delivered" });
      expect(all[3]).not.toHaveProperty("mediaUrls");
      expect(all[0]).toEqual(texts[3]);
      expect((await store.listSandboxSms(2)).map((t) => t.sid)).toEqual([texts[3].sid, texts[2].sid]);
      expect((await store.listSandboxSms(10, "+15551230001")).map((t) => t.sid)).toEqual([texts[3].sid, texts[1].sid, texts[0].sid]);
      expect((await store.listSandboxSms(10, "+15551230002")).map((t) => t.sid)).toEqual([texts[2].sid]);
      expect(await store.listSandboxSms(10, "+15550000000")).toEqual([]);
    });

    it("keeps the first value written for a setting, also when two stores write at once", async () => {
      expect(await store.getSetting("vapid")).toBeNull();
      expect(await store.putSettingIfAbsent("vapid", "first")).toBe("first");
      expect(await store.putSettingIfAbsent("vapid", "second")).toBe("first");
      expect(await store.getSetting("vapid")).toBe("first");

      const other = await harness!.reopen();
      const raced = await Promise.all([store.putSettingIfAbsent("raced", "a"), other.putSettingIfAbsent("raced", "b")]);
      expect(raced[0]).toBe(raced[1]);
      expect(await other.getSetting("raced")).toBe(raced[0]);
    });

    it("prunes finished deliveries and sandbox texts older than the cutoff, never scheduled ones", async () => {
      const oldSent = await schedule({ seq: 1, conversationId: "cnv_1", now: at(10) });
      const oldCollapsed = await store.plan(planInput({ seq: 2, conversationId: "cnv_1", now: at(11) }));
      await markSent(oldSent.id, 12);
      const oldScheduled = await schedule({ seq: 1, conversationId: "cnv_2", now: at(13), dueAt: at(10_000) });
      const recent = await schedule({ seq: 1, conversationId: "cnv_3", now: at(500) });
      await markSent(recent.id, 501);
      await store.recordSandboxSms({ sid: "SMold", direction: "outbound", from: "+1500", to: "+1555", body: "old", status: "sent", at: iso(10) });
      await store.recordSandboxSms({ sid: "SMnew", direction: "outbound", from: "+1500", to: "+1555", body: "new", status: "sent", at: iso(500) });

      expect(await store.prune(at(100))).toBe(2);
      expect(await store.getDelivery(oldSent.id)).toBeNull();
      expect(await store.getDelivery(oldCollapsed.delivery.id)).toBeNull();
      expect(await store.getDelivery(oldScheduled.id)).not.toBeNull();
      expect(await store.getDelivery(recent.id)).not.toBeNull();
      expect((await store.listSandboxSms(10)).map((t) => t.sid)).toEqual(["SMnew"]);
      expect(await store.prune(at(100))).toBe(0);
    });

    it("keeps everything after the store is closed and opened again", async () => {
      const scheduled = await schedule({ seq: 1, dueAt: at(300) });
      const folded = await store.plan(planInput({ seq: 2, now: at(11) }));
      const sub = subscription();
      await store.savePushSubscription(sub);
      await store.savePreferences({ userId: "usr_1", push: true, sms: false, smsDelayMs: 5000, email: true, updatedAt: iso(1) });
      await store.setMute({ userId: "usr_1", conversationId: "cnv_z" }, true);
      const consent: ConsentEntry = { phone: "+15551230001", action: "opt_in", source: "api", at: iso(1) };
      await store.appendConsent(consent);
      const thread = { phone: "+15551230001", ourNumber: "+15005550006", userId: "usr_1", conversationId: "cnv_a", lastUsedAt: iso(2) };
      await store.saveSmsThread(thread);
      const text: SandboxSms = { sid: "SMkept", direction: "inbound", from: "+15551230001", to: "+15005550006", body: "yes", status: "received", at: iso(3) };
      await store.recordSandboxSms(text);
      await store.putSettingIfAbsent("vapid", "keys");
      const before = await store.getDelivery(scheduled.id);

      const reopened = await harness!.restart();
      expect(await reopened.getDelivery(scheduled.id)).toEqual(before);
      expect(await reopened.getDelivery(folded.delivery.id)).toEqual(folded.delivery);
      expect(await reopened.listPushSubscriptions("usr_1")).toEqual([sub]);
      expect(await reopened.getPreferences("usr_1")).toEqual({ userId: "usr_1", push: true, sms: false, smsDelayMs: 5000, email: true, updatedAt: iso(1) });
      expect(await reopened.getMute("usr_1", "cnv_z", at(0))).toEqual({ userId: "usr_1", conversationId: "cnv_z" });
      expect(await reopened.listConsent(consent.phone)).toEqual([consent]);
      expect(await reopened.consentState(consent.phone)).toBe("opted_in");
      expect(await reopened.findSmsThread(thread.phone, thread.ourNumber)).toEqual(thread);
      expect(await reopened.listSandboxSms(10)).toEqual([text]);
      expect(await reopened.getSetting("vapid")).toBe("keys");
      // The outbox goes on where it stopped.
      expect((await reopened.lease(at(300), LEASE_MS, 10)).map((l) => l.delivery.id)).toEqual([scheduled.id]);
    });
  });
}
