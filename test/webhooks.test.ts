import path from "node:path";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Conversation, Message } from "../client-sdk/src/protocol.js";
import { openSqliteDatabase } from "../server/src/store/sqlite-store.js";
import { DestinationPolicy, isPrivateAddress } from "../server/src/webhooks/destination-policy.js";
import { SqliteWebhookStore } from "../server/src/webhooks/sqlite-webhook-store.js";
import { WebhookDispatcher } from "../server/src/webhooks/webhook-dispatcher.js";
import { newDeliveryId } from "../server/src/webhooks/webhook-events.js";
import { api, call, connectUser, spawnServer, startServer, tempDir, waitFor, type SpawnedServer, type TestServer } from "./support/harness.js";
import { startReceiver, type Receipt, type WebhookReceiver } from "./support/webhook-receiver.js";

interface Endpoint {
  id: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason?: string;
  consecutiveFailures: number;
  description?: string;
  secret?: string;
}
interface Attempt {
  at: string;
  statusCode?: number;
  durationMs: number;
  error?: string;
  nextAttemptAt?: string;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: "pending" | "succeeded" | "failed";
  attempts: Attempt[];
  nextAttemptAt?: string;
  replayOf?: string;
}
interface Payload {
  type: string;
  timestamp: string;
  data: any;
}

/** The retry schedule of the shared server: small, so a test sees every retry. */
const SCHEDULE_MS = [100, 400, 1200];
/** How late an attempt may be beyond its scheduled time here: polling, a loaded CI machine. */
const SLACK_MS = 750;

/** Verifies a receipt with the official Standard Webhooks library and returns its payload. */
function verify(secret: string, receipt: Receipt): Payload {
  return new Webhook(secret).verify(receipt.body, receipt.headers) as Payload;
}

/** The wait the dispatcher scheduled after an attempt (its next time minus its end). */
const scheduledDelay = (a: Attempt) => Date.parse(a.nextAttemptAt!) - Date.parse(a.at) - a.durationMs;

describe("webhooks", () => {
  let server: TestServer;
  const cleanups: (() => unknown)[] = [];
  let seq = 0;
  const uid = (prefix: string) => `${prefix}-${++seq}`;

  beforeAll(async () => {
    server = await startServer({
      env: {
        WEBHOOK_ALLOW_PRIVATE: "1",
        WEBHOOK_POLL_INTERVAL_MS: "20",
        WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(","),
        WEBHOOK_DISABLE_AFTER_FAILURES: "4",
        WEBHOOK_DISABLE_AFTER_HOURS: "0",
        WEBHOOK_TIMEOUT_MS: "2000",
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function receiver(): Promise<WebhookReceiver> {
    const r = await startReceiver();
    cleanups.push(() => r.close());
    return r;
  }

  /** Registers an endpoint on `on` (default the shared server), deleted after the test. */
  async function createEndpoint(body: Record<string, unknown>, on: { url: string } = server): Promise<Endpoint & { secret: string }> {
    const res = await api(on.url, "POST", "/v1/webhooks", body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    cleanups.push(() => api(on.url, "DELETE", `/v1/webhooks/${res.body.id}`));
    return res.body;
  }

  async function group(memberIds: string[], on: { url: string } = server): Promise<Conversation> {
    const res = await api(on.url, "POST", "/v1/conversations", { type: "group", memberIds });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function send(conversationId: string, senderId: string, text: string, clientMessageId?: string, on: { url: string } = server): Promise<Message> {
    const res = await api(on.url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId, text, ...(clientMessageId ? { clientMessageId } : {}) });
    expect([200, 201]).toContain(res.status);
    return res.body;
  }

  async function log(endpointId: string, query = "", on: { url: string } = server): Promise<{ deliveries: Delivery[]; hasMore: boolean }> {
    const res = await api(on.url, "GET", `/v1/webhooks/${endpointId}/deliveries${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  async function getEndpoint(id: string): Promise<Endpoint> {
    return (await api(server.url, "GET", `/v1/webhooks/${id}`)).body;
  }

  describe("signing and payloads", () => {
    it("sends every event type signed per Standard Webhooks, verified by the standardwebhooks package", async () => {
      const r = await receiver();
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["*"], description: "everything" });
      expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const [alice, bob, carol] = [uid("alice"), uid("bob"), uid("carol")];

      const conversation = await group([alice, bob]);
      const message = await send(conversation.id, alice, "Hello, webhooks ✓", uid("cmid"));
      // A retried send (same clientMessageId) is announced again but is the same event.
      await send(conversation.id, alice, "Hello, webhooks ✓", message.clientMessageId);
      expect((await api(server.url, "POST", `/v1/conversations/${conversation.id}/members`, { userId: carol })).status).toBe(200);
      expect((await api(server.url, "POST", `/v1/conversations/${conversation.id}/members`, { userId: carol })).status).toBe(200);
      expect((await api(server.url, "DELETE", `/v1/conversations/${conversation.id}/members/${carol}`)).status).toBe(200);
      expect((await api(server.url, "DELETE", `/v1/conversations/${conversation.id}/members/${carol}`)).status).toBe(200);
      const socket = await connectUser(server.url, bob);
      cleanups.push(() => socket.close());
      await call(socket, "message:read", { conversationId: conversation.id, seq: message.seq });

      const types = ["conversation.created", "message.created", "member.added", "member.removed", "message.read"];
      await waitFor(() => r.receipts.length >= types.length, "five webhooks");
      const payloads = r.receipts.map((receipt) => verify(endpoint.secret, receipt));
      expect(payloads.map((p) => p.type).sort()).toEqual([...types].sort());
      // Repeats of the same event (the retried send, the idempotent member calls) made no delivery.
      expect((await log(endpoint.id)).deliveries).toHaveLength(types.length);
      expect(new Set(r.receipts.map((x) => x.headers["webhook-id"])).size).toBe(types.length);

      for (const receipt of r.receipts) {
        expect(receipt.headers["content-type"]).toBe("application/json");
        expect(receipt.headers["webhook-id"]).toMatch(/^evt_[0-9a-f]{32}$/);
        expect(Math.abs(Number(receipt.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
        expect(Object.keys(JSON.parse(receipt.body) as object)).toEqual(["type", "timestamp", "data"]);
      }
      const byType = Object.fromEntries(payloads.map((p) => [p.type, p]));
      expect(byType["message.created"].data).toEqual(message);
      expect(byType["message.created"].timestamp).toBe(message.createdAt);
      expect(byType["conversation.created"].data).toMatchObject({ id: conversation.id, members: [{ userId: alice }, { userId: bob }] });
      expect(byType["member.added"].data).toMatchObject({ conversationId: conversation.id, userId: carol, member: { userId: carol, role: "member" } });
      expect(byType["member.removed"].data).toMatchObject({ conversationId: conversation.id, userId: carol });
      expect(byType["member.removed"].data.conversation.members.map((m: { userId: string }) => m.userId)).toEqual([alice, bob]);
      expect(byType["message.read"].data).toEqual({ conversationId: conversation.id, userId: bob, seq: message.seq });

      // The signature is really checked: another secret, or a changed body, is refused.
      const other = await createEndpoint({ url: r.url, eventTypes: ["member.removed"] });
      expect(() => verify(other.secret, r.receipts[0])).toThrow(/No matching signature/);
      expect(() => verify(endpoint.secret, { ...r.receipts[0], body: r.receipts[0].body.replace("{", "{ ") })).toThrow(/No matching signature/);
    });

    it("signs with both the new and the old secret during a rotation's grace period", async () => {
      const r = await receiver();
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const rotated = await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(endpoint.secret);
      const graceEnds = Date.parse(rotated.body.previousSecretExpiresAt);
      expect(graceEnds - Date.now()).toBeGreaterThan(23.9 * 3600_000);
      expect(graceEnds - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
      expect((await api(server.url, "GET", `/v1/webhooks/${endpoint.id}/secret`)).body).toEqual(rotated.body);

      const alice = uid("alice");
      await send((await group([alice])).id, alice, "after the rotation");
      await waitFor(() => r.receipts.length === 1, "the webhook");
      const [receipt] = r.receipts;
      expect(receipt.headers["webhook-signature"].split(" ")).toHaveLength(2);
      expect(verify(rotated.body.secret, receipt).type).toBe("message.created");
      expect(verify(endpoint.secret, receipt).type).toBe("message.created");
    });

    it("signs with the new secret only once the grace period is over", async () => {
      const noGrace = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "20", WEBHOOK_SECRET_GRACE_HOURS: "0" } });
      cleanups.push(() => noGrace.close());
      const r = await receiver();
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] }, noGrace);
      const rotated = (await api(noGrace.url, "POST", `/v1/webhooks/${endpoint.id}/rotate-secret`)).body;
      expect(rotated).toEqual({ secret: expect.stringMatching(/^whsec_/) });

      const alice = uid("alice");
      await send((await group([alice], noGrace)).id, alice, "hi", undefined, noGrace);
      await waitFor(() => r.receipts.length === 1, "the webhook");
      expect(r.receipts[0].headers["webhook-signature"].split(" ")).toHaveLength(1);
      expect(verify(rotated.secret, r.receipts[0]).type).toBe("message.created");
      expect(() => verify(endpoint.secret, r.receipts[0])).toThrow(/No matching signature/);
    });
  });

  describe("retries", () => {
    it("retries failed attempts with growing, jittered delays from the schedule until the receiver accepts", async () => {
      const r = await receiver();
      r.answer((_, previous) => [500, 502, 503][previous] ?? 200);
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      const message = await send((await group([alice])).id, alice, "retry me");

      await waitFor(() => r.receipts.some((x) => x.status === 200), "the fourth attempt", 15_000);
      const [delivery] = await waitFor(async () => {
        const { deliveries } = await log(endpoint.id);
        return deliveries[0]?.status === "succeeded" ? deliveries : undefined;
      }, "the delivery to be recorded as succeeded");

      expect(r.receipts.map((x) => x.status)).toEqual([500, 502, 503, 200]);
      expect(new Set(r.receipts.map((x) => x.headers["webhook-id"]))).toEqual(new Set([delivery.eventId]));
      for (const receipt of r.receipts) expect(verify(endpoint.secret, receipt).data.id).toBe(message.id);

      // The log: every attempt with its time, status, duration, error and next attempt.
      expect(delivery).toMatchObject({ eventType: "message.created", status: "succeeded" });
      expect(delivery).not.toHaveProperty("nextAttemptAt");
      expect(delivery.attempts.map((a) => [a.statusCode, a.error])).toEqual([
        [500, "HTTP 500"],
        [502, "HTTP 502"],
        [503, "HTTP 503"],
        [200, undefined],
      ]);
      for (const a of delivery.attempts) expect(a.durationMs).toBeGreaterThanOrEqual(0);
      expect(delivery.attempts[3]).not.toHaveProperty("nextAttemptAt");

      // Retry n waits a random time within (step n-1, step n]: the delays grow every time.
      const delays = delivery.attempts.slice(0, 3).map(scheduledDelay);
      delays.forEach((delay, i) => {
        expect(delay, `retry ${i + 1}`).toBeGreaterThan(i === 0 ? 0 : SCHEDULE_MS[i - 1]);
        expect(delay, `retry ${i + 1}`).toBeLessThanOrEqual(SCHEDULE_MS[i]);
      });
      expect(delays[1]).toBeGreaterThan(delays[0]);
      expect(delays[2]).toBeGreaterThan(delays[1]);

      // And the receiver saw them so: never early, at most a poll interval (plus load) late.
      const gaps = r.receipts.slice(1).map((x, i) => x.receivedAt - r.receipts[i].receivedAt);
      gaps.forEach((gap, i) => {
        expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(delays[i] - 5);
        expect(gap, `gap ${i + 1}`).toBeLessThanOrEqual(delays[i] + SLACK_MS);
      });
      expect(gaps[2]).toBeGreaterThan(gaps[0]);
    });

    it("waits at least the Retry-After of a 429 answer", async () => {
      const r = await receiver();
      r.answer((_, previous) => (previous === 0 ? { status: 429, headers: { "retry-after": "1" } } : 204));
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      await send((await group([alice])).id, alice, "slow down");

      await waitFor(() => r.receipts.length === 2, "the retry", 10_000);
      expect(r.receipts[1].receivedAt - r.receipts[0].receivedAt).toBeGreaterThanOrEqual(995);
      const [delivery] = (await waitFor(async () => ((await log(endpoint.id)).deliveries[0]?.status === "succeeded" ? log(endpoint.id) : undefined), "success")).deliveries;
      expect(delivery.attempts[0].statusCode).toBe(429);
      expect(scheduledDelay(delivery.attempts[0])).toBeGreaterThanOrEqual(1000);
    });

    it("does not retry a 400 answer", async () => {
      const r = await receiver();
      r.answer(() => 400);
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      await send((await group([alice])).id, alice, "bad for them");

      const [delivery] = (await waitFor(async () => ((await log(endpoint.id)).deliveries[0]?.status === "failed" ? log(endpoint.id) : undefined), "failure")).deliveries;
      expect(delivery.attempts).toEqual([{ at: expect.any(String), statusCode: 400, durationMs: expect.any(Number), error: "HTTP 400" }]);
      // Proving that nothing more comes needs a wait: longer than the first retry could take.
      await new Promise((resolve) => setTimeout(resolve, SCHEDULE_MS[0] + SLACK_MS));
      expect(r.receipts).toHaveLength(1);
      expect(await getEndpoint(endpoint.id)).toMatchObject({ enabled: true, consecutiveFailures: 1 });
    });

    it("retries a receiver that does not answer within WEBHOOK_TIMEOUT_MS, and one that cannot be reached", async () => {
      const fast = await startServer({
        env: { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "20", WEBHOOK_TIMEOUT_MS: "200", WEBHOOK_RETRY_SCHEDULE: "50ms,100ms" },
      });
      cleanups.push(() => fast.close());
      const slow = await startSlowReceiver(1000);
      cleanups.push(() => slow.close());
      const closed = await startReceiver();
      await closed.close(); // a port nobody listens on any more: connection refused
      const hanging = await createEndpoint({ url: slow.url, eventTypes: ["message.created"] }, fast);
      const refused = await createEndpoint({ url: closed.url, eventTypes: ["message.created"] }, fast);
      const alice = uid("alice");
      await send((await group([alice], fast)).id, alice, "anyone there?", undefined, fast);

      const done = async (id: string) => {
        const { deliveries } = await log(id, "", fast);
        return deliveries[0] && deliveries[0].status !== "pending" ? deliveries[0] : undefined;
      };
      const timedOut = await waitFor(() => done(hanging.id), "the slow receiver's delivery", 10_000);
      expect(timedOut.status).toBe("failed");
      expect(timedOut.attempts).toHaveLength(3);
      for (const a of timedOut.attempts) {
        expect(a.error).toBe("no answer within 200 ms");
        expect(a.durationMs).toBeGreaterThanOrEqual(190);
        expect(a).not.toHaveProperty("statusCode");
      }
      const unreachable = await waitFor(() => done(refused.id), "the unreachable receiver's delivery", 10_000);
      expect(unreachable.status).toBe("failed");
      expect(unreachable.attempts).toHaveLength(3);
      expect(unreachable.attempts[0].error).toMatch(/ECONNREFUSED/);
      expect(unreachable.attempts[0]).not.toHaveProperty("statusCode");
      expect(unreachable.attempts[2]).not.toHaveProperty("nextAttemptAt");
    });
  });

  describe("disabling", () => {
    it("disables an endpoint that answers 410 at once; it gets no deliveries until re-enabled", async () => {
      const r = await receiver();
      r.answer(() => 410);
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      const conversation = await group([alice]);
      await send(conversation.id, alice, "are you there?");

      await waitFor(async () => !(await getEndpoint(endpoint.id)).enabled, "the endpoint to be disabled");
      expect(await getEndpoint(endpoint.id)).toMatchObject({ enabled: false, disabledReason: "gone" });
      expect((await log(endpoint.id)).deliveries.map((d) => d.status)).toEqual(["failed"]);

      const missedAt = new Date(Date.now() - 1).toISOString();
      const missed = await send(conversation.id, alice, "sent while disabled");
      expect((await log(endpoint.id)).deliveries).toHaveLength(1);
      expect((await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/replay`, { since: missedAt })).status).toBe(409);

      r.answer(() => 204);
      const enabled = await api(server.url, "PATCH", `/v1/webhooks/${endpoint.id}`, { enabled: true });
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
      expect(enabled.body).not.toHaveProperty("disabledReason");
      const after = await send(conversation.id, alice, "back again");
      await waitFor(() => r.receipts.some((x) => x.status === 204), "a delivery after re-enabling");
      expect(verify(endpoint.secret, r.receipts.at(-1)!).data.id).toBe(after.id);

      // What it missed while disabled is recorded, and a time-range replay sends it.
      const replay = await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/replay`, { since: missedAt, until: after.createdAt });
      expect(replay).toMatchObject({ status: 202, body: { enqueued: 1 } });
      await waitFor(() => r.receipts.length === 3, "the replayed message");
      expect(verify(endpoint.secret, r.receipts[2]).data.id).toBe(missed.id);
    });

    it("disables an endpoint once every attempt has failed WEBHOOK_DISABLE_AFTER_FAILURES times in a row", async () => {
      const r = await receiver();
      r.answer(() => 500);
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      await send((await group([alice])).id, alice, "never accepted");

      await waitFor(async () => !(await getEndpoint(endpoint.id)).enabled, "the endpoint to be disabled", 15_000);
      expect(await getEndpoint(endpoint.id)).toMatchObject({ enabled: false, disabledReason: "failing", consecutiveFailures: 4 });
      const [delivery] = (await log(endpoint.id)).deliveries;
      expect(delivery.status).toBe("failed");
      expect(delivery.attempts).toHaveLength(SCHEDULE_MS.length + 1);
      expect(r.receipts).toHaveLength(4);
    });
  });

  describe("replay and the delivery log", () => {
    it("replays one delivery and a time range with the original webhook-ids, and pages the log", async () => {
      const r = await receiver();
      const endpoint = await createEndpoint({ url: r.url, eventTypes: ["message.created"] });
      const alice = uid("alice");
      const conversation = await group([alice]);
      const since = new Date(Date.now() - 1).toISOString();
      const messages: Message[] = [];
      for (let i = 0; i < 3; i++) messages.push(await send(conversation.id, alice, `message ${i}`));
      await waitFor(() => r.receipts.length === 3, "three webhooks");
      const originalIds = r.receipts.map((x) => x.headers["webhook-id"]);
      const { deliveries } = await waitFor(async () => {
        const page = await log(endpoint.id, "?status=succeeded");
        return page.deliveries.length === 3 ? page : undefined;
      }, "three successes in the log");

      const target = deliveries.find((d) => verify(endpoint.secret, r.byId(d.eventId)[0]).data.id === messages[0].id)!;
      const one = await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/deliveries/${target.id}/replay`);
      expect(one.status).toBe(202);
      expect(one.body).toMatchObject({ eventId: target.eventId, status: "pending", replayOf: target.id, attempts: [] });
      await waitFor(() => r.receipts.length === 4, "the replayed delivery");
      expect(r.receipts[3].headers["webhook-id"]).toBe(target.eventId);
      expect(verify(endpoint.secret, r.receipts[3]).data).toEqual(messages[0]);

      const range = await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/replay`, { since, until: new Date(Date.now() + 1).toISOString() });
      expect(range).toMatchObject({ status: 202, body: { enqueued: 3 } });
      await waitFor(() => r.receipts.length === 7, "the replayed range");
      expect(r.receipts.slice(4).map((x) => x.headers["webhook-id"]).sort()).toEqual([...originalIds].sort());
      for (const receipt of r.receipts) verify(endpoint.secret, receipt);

      // The log: newest first, in pages, filtered by status.
      await waitFor(async () => (await log(endpoint.id, "?status=succeeded")).deliveries.length === 7, "seven successes");
      const page1 = await log(endpoint.id, "?limit=4");
      expect(page1.deliveries).toHaveLength(4);
      expect(page1.hasMore).toBe(true);
      const page2 = await log(endpoint.id, `?limit=4&before=${page1.deliveries.at(-1)!.id}`);
      expect(page2).toMatchObject({ hasMore: false });
      expect(page2.deliveries).toHaveLength(3);
      const ids = [...page1.deliveries, ...page2.deliveries].map((d) => d.id);
      expect(new Set(ids).size).toBe(7);
      expect(ids).toEqual([...ids].sort().reverse());
      expect((await log(endpoint.id, "?status=failed")).deliveries).toEqual([]);

      expect((await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/deliveries/whd_nope/replay`)).status).toBe(404);
      expect((await api(server.url, "GET", `/v1/webhooks/${endpoint.id}/deliveries?limit=0`)).status).toBe(400);
      expect((await api(server.url, "GET", `/v1/webhooks/${endpoint.id}/deliveries?status=lost`)).status).toBe(400);
      expect((await api(server.url, "GET", "/v1/webhooks/whe_nope/deliveries")).status).toBe(404);
      expect((await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/replay`, { since: "yesterday" })).status).toBe(400);
      expect((await api(server.url, "POST", `/v1/webhooks/${endpoint.id}/replay`, { since, until: since })).status).toBe(400);
    });
  });

  describe("management API", () => {
    it("creates, lists, reads, changes and deletes endpoints, never listing secrets", async () => {
      const created = await createEndpoint({ url: "http://127.0.0.1:9/a", eventTypes: ["message.created", "message.created"], description: "crm", enabled: false });
      expect(created).toMatchObject({ url: "http://127.0.0.1:9/a", eventTypes: ["message.created"], description: "crm", enabled: false, disabledReason: "manual" });
      const listed = (await api(server.url, "GET", "/v1/webhooks")).body.webhooks as Endpoint[];
      const mine = listed.find((e) => e.id === created.id)!;
      expect(mine).not.toHaveProperty("secret");
      expect(await getEndpoint(created.id)).toEqual(mine);
      expect((await api(server.url, "GET", `/v1/webhooks/${created.id}/secret`)).body).toEqual({ secret: created.secret });

      const patched = await api(server.url, "PATCH", `/v1/webhooks/${created.id}`, { url: "http://127.0.0.1:9/b", eventTypes: ["*"], description: null });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ url: "http://127.0.0.1:9/b", eventTypes: ["*"], enabled: false });
      expect(patched.body).not.toHaveProperty("description");

      for (const bad of [
        { url: "ftp://example.com/x", eventTypes: ["*"] },
        { url: "https://user:pass@example.com/x", eventTypes: ["*"] },
        { url: "not a url", eventTypes: ["*"] },
        { url: "https://example.com/x", eventTypes: [] },
        { url: "https://example.com/x", eventTypes: ["message.exploded"] },
        { url: "https://example.com/x", eventTypes: ["*"], secret: "mine" },
      ]) {
        const res = await api(server.url, "POST", "/v1/webhooks", bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.body.error.code).toBe("invalid_argument");
      }

      const key = (await api(server.url, "POST", "/v1/api-keys", { name: uid("writer"), scopes: ["read", "write"] })).body.key as string;
      expect((await api(server.url, "GET", "/v1/webhooks", undefined, key)).status).toBe(403);
      expect((await api(server.url, "GET", `/v1/webhooks/${created.id}/secret`, undefined, key)).status).toBe(403);

      expect((await api(server.url, "DELETE", `/v1/webhooks/${created.id}`)).status).toBe(204);
      expect((await api(server.url, "GET", `/v1/webhooks/${created.id}`)).status).toBe(404);
      expect((await api(server.url, "DELETE", `/v1/webhooks/${created.id}`)).status).toBe(404);
      expect((await api(server.url, "PATCH", `/v1/webhooks/${created.id}`, { enabled: true })).status).toBe(404);
    });
  });
});

describe("webhook destinations", () => {
  it("refuses private, loopback, link-local and unique-local destinations at create and update without WEBHOOK_ALLOW_PRIVATE", async () => {
    const server = await startServer({ env: { WEBHOOK_POLL_INTERVAL_MS: "20" } });
    try {
      for (const url of [
        "http://127.0.0.1:8080/hooks",
        "http://localhost:8080/hooks",
        "http://[::1]/hooks",
        "http://10.1.2.3/hooks",
        "http://172.20.0.5/hooks",
        "http://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/",
        "http://0.0.0.0:3000/",
        "http://[fd00::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[64:ff9b::a01:203]/hooks",
        "http://2130706433/hooks",
      ]) {
        const res = await api(server.url, "POST", "/v1/webhooks", { url, eventTypes: ["*"] });
        expect(res.status, url).toBe(400);
        expect(res.body.error.message, url).toMatch(/private or reserved address/);
      }
      // A public address is accepted (an IP literal, so the test needs no DNS), and cannot be
      // changed into a private one afterwards.
      const created = await api(server.url, "POST", "/v1/webhooks", { url: "https://93.184.215.14/hooks", eventTypes: ["*"] });
      expect(created.status).toBe(201);
      const patched = await api(server.url, "PATCH", `/v1/webhooks/${created.body.id}`, { url: "http://192.168.0.1/hooks" });
      expect(patched.status).toBe(400);
      expect((await api(server.url, "GET", `/v1/webhooks/${created.body.id}`)).body.url).toBe("https://93.184.215.14/hooks");
    } finally {
      await server.close();
    }
  });

  it("checks the destination again before every attempt and records a refused one without sending", async () => {
    const dir = tempDir("switchboard-webhooks-");
    const receiver = await startReceiver();
    const db = openSqliteDatabase(path.join(dir.dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 });
    const store = new SqliteWebhookStore(db);
    const dispatcher = new WebhookDispatcher({
      store,
      destinations: new DestinationPolicy({ allowPrivate: false }),
      logger: pino({ level: "silent" }),
      timeoutMs: 1000,
      retryScheduleMs: [50],
      disableAfterFailures: 100,
      disableAfterMs: 0,
      pollIntervalMs: 20,
      retentionMs: 86_400_000,
    });
    try {
      await store.init();
      // As if it had been created while private destinations were allowed, or its DNS changed since.
      const now = new Date().toISOString();
      await store.createEndpoint({
        id: "whe_private",
        url: receiver.url,
        eventTypes: ["*"],
        enabled: true,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        consecutiveFailures: 0,
        createdAt: now,
        updatedAt: now,
      });
      await store.enqueue({ id: "evt_private", type: "message.created", timestamp: now, data: {} }, newDeliveryId, Date.now());
      dispatcher.start();
      const delivery = await waitFor(async () => {
        const [d] = (await store.listDeliveries("whe_private", { limit: 1 })).deliveries;
        return d?.status === "failed" ? d : undefined;
      }, "the refused delivery");
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0].error).toMatch(/^destination refused: 127\.0\.0\.1 is a private or reserved address/);
      expect(receiver.receipts).toHaveLength(0);
    } finally {
      await dispatcher.stop(1000);
      db.close();
      await receiver.close();
      dir.remove();
    }
  });

  it("classifies IPv4 and IPv6 addresses, including IPv4 embedded in IPv6", () => {
    const privateOnes = ["127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.1.1", "100.100.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
      "::1", "::", "fe80::1", "fd12:3456::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:7f00:1", "64:ff9b::7f00:1", "2002:c0a8:0101::1", "fe80::1%eth0"];
    const publicOnes = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:0808:0808::1"];
    for (const ip of privateOnes) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of publicOnes) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});

describe("webhooks on several nodes", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(
    "sends each event exactly once when two processes drain one SQLite outbox, retries included",
    async () => {
      const data = tempDir("switchboard-webhooks-nodes-");
      cleanups.push(data.remove);
      const env = { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "10", WEBHOOK_RETRY_SCHEDULE: "30ms" };
      const nodes: SpawnedServer[] = [];
      for (let i = 0; i < 2; i++) {
        const node = await spawnServer(data.dir, env);
        cleanups.push(() => node.kill("SIGKILL"));
        nodes.push(node);
      }
      const r = await startReceiver();
      cleanups.push(() => r.close());
      // Every event's first attempt fails, so its retry is up for grabs by whichever node polls first.
      r.answer((_, previous) => (previous === 0 ? 503 : 200));
      const created = await api(nodes[0].url, "POST", "/v1/webhooks", { url: r.url, eventTypes: ["message.created"] });
      expect(created.status).toBe(201);
      const conversation = (await api(nodes[1].url, "POST", "/v1/conversations", { type: "group", memberIds: ["alice", "bob"] })).body as Conversation;

      const count = 50;
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const res = await api(nodes[i % 2].url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: i % 2 ? "bob" : "alice", text: `m${i}` });
          expect(res.status).toBe(201);
        }),
      );

      await waitFor(() => new Set(r.receipts.filter((x) => x.status === 200).map((x) => x.headers["webhook-id"])).size === count, `${count} delivered events`, 30_000);
      // Proving that no duplicate follows needs a wait: many poll intervals and retry delays.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ids = new Set(r.receipts.map((x) => x.headers["webhook-id"]));
      expect(ids.size).toBe(count);
      for (const id of ids) expect(r.byId(id).map((x) => x.status), id).toEqual([503, 200]);
      const texts = r.receipts.filter((x) => x.status === 200).map((x) => (JSON.parse(x.body) as Payload).data.text);
      expect(texts.sort()).toEqual(Array.from({ length: count }, (_, i) => `m${i}`).sort());

      const log = await api(nodes[1].url, "GET", `/v1/webhooks/${created.body.id}/deliveries?limit=100`);
      expect(log.body.deliveries).toHaveLength(count);
      for (const d of log.body.deliveries as Delivery[]) {
        expect(d.status).toBe("succeeded");
        expect(d.attempts.map((a) => a.statusCode)).toEqual([503, 200]);
      }
    },
    60_000,
  );
});

/** A receiver that answers only after `delayMs`, to make attempts time out. */
async function startSlowReceiver(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import("node:http");
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((_req, res) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(200).end();
    }, delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slow`,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
