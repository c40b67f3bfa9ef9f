import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, mintToken, startServer, waitFor, type TestServer } from "./support/harness.js";
import { createPushSubscriber, startPushService, type PushService, type PushSubscriber } from "./support/push-service.js";
import { freePort } from "./support/redis-server.js";
import { startTwilioFake, type TwilioFake } from "./support/twilio-fake.js";

/**
 * The ladder and quiet hours end to end, on one node with real SQLite: a real push service over
 * HTTPS that checks VAPID and decrypts every push, and a Twilio-compatible REST endpoint. Bob is
 * offline with a Web Push subscription and a phone number with consent.
 */

const BOB_PHONE = "+15550002222";
const OUR_NUMBER = "+15550001000";

interface Stack {
  server: TestServer;
  url: string;
  push: PushService;
  twilio: TwilioFake;
  send(text: string): Promise<Message>;
  deliveries(messageId: string): Promise<Delivery[]>;
  subscribe(userId: string): Promise<PushSubscriber>;
  preferences(userId: string, patch: unknown): Promise<{ status: number; body: any }>;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const push = await startPushService();
  cleanups.push(() => push.close());
  const twilio = await startTwilioFake();
  cleanups.push(() => twilio.close());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer({
    env: {
      PORT: String(port),
      PUBLIC_URL: url,
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      SMS_FROM: OUR_NUMBER,
      SMS_PER_NUMBER_PER_SECOND: "50",
      PUSH_ALLOW_PRIVATE: "1",
      DELIVERY_RETRY_SCHEDULE: "150ms,300ms",
      DELIVERY_POLL_INTERVAL_MS: "50",
      ...env,
    },
    appOptions: { pushAgent: push.agent },
  });
  cleanups.push(() => server.close());

  const ok = (res: { status: number; body: unknown }, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as any;
  };
  ok(await api(url, "POST", "/v1/users", { id: "alice", name: "Alice", role: "agent" }), "alice");
  ok(await api(url, "POST", "/v1/users", { id: "bob", name: "Bob", phone: BOB_PHONE }), "bob");
  ok(await api(url, "POST", "/v1/users", { id: "carol", name: "Carol" }), "carol");
  ok(await api(url, "POST", "/v1/conversations", { id: "c1", type: "group", title: "Ops", memberIds: ["alice", "bob", "carol"] }), "c1");
  ok(await api(url, "POST", "/v1/users/bob/sms-consent", { granted: true, note: "test signup form" }), "consent");

  let counter = 0;
  return {
    server,
    url,
    push,
    twilio,
    async send(text) {
      return ok(await api(url, "POST", "/v1/conversations/c1/messages", { senderId: "alice", text, clientMessageId: `t-${++counter}` }), "send");
    },
    async deliveries(messageId) {
      return ok(await api(url, "GET", `/v1/messages/${messageId}/deliveries`), "deliveries").deliveries;
    },
    async subscribe(userId) {
      const subscriber = createPushSubscriber(push);
      const res = await fetch(`${url}/v1/push/subscriptions`, {
        method: "POST",
        headers: { authorization: `Bearer ${await mintToken(userId)}`, "content-type": "application/json" },
        body: JSON.stringify(subscriber.toJSON()),
      });
      if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
      return subscriber;
    },
    preferences(userId, patch) {
      return api(url, "PATCH", `/v1/users/${userId}/notification-preferences`, patch);
    },
  };
}

/** Bob's delivery on `channel` once `check` holds for it. */
function bobs(stack: Stack, messageId: string, channel: Delivery["channel"], check: (d: Delivery) => boolean, what: string): Promise<Delivery> {
  return waitFor(async () => (await stack.deliveries(messageId)).find((d) => d.userId === "bob" && d.channel === channel && check(d)), what, 10_000, 50);
}

/** `HH:MM` of `at` (epoch ms) in `timeZone`. */
function clock(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit" }).format(at);
}

/**
 * Quiet hours from an hour ago to two hours ahead in Kolkata (UTC+5:30 all year, so the window
 * is exactly three hours long whatever the date), and the instant they end.
 */
function quietWindowAroundNow(): { quietHours: { start: string; end: string; timeZone: string }; endsAt: number } {
  const zone = "Asia/Kolkata";
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const endsAt = minute + 2 * 3_600_000;
  return { quietHours: { start: clock(minute - 3_600_000, zone), end: clock(endsAt, zone), timeZone: zone }, endsAt };
}

describe("the delivery ladder", () => {
  it("follows DELIVERY_LADDER's order and delays: SMS at once, then the push after its wait", async () => {
    const stack = await startStack({ DELIVERY_LADDER: "sms:0s,push:1500ms" });
    const subscriber = await stack.subscribe("bob");
    const message = await stack.send("The build is red again");

    const sms = await bobs(stack, message.id, "sms", (d) => d.status === "sent", "the SMS to be sent");
    const planned = await bobs(stack, message.id, "push", () => true, "the push to be planned");
    expect(Date.parse(planned.events[0].detail!.match(/due (\S+)\./)![1]) - Date.parse(planned.createdAt)).toBe(1500);
    const push = await bobs(stack, message.id, "push", (d) => d.status === "sent", "the push to be sent");
    expect(Date.parse(push.sentAt!)).toBeGreaterThan(Date.parse(sms.sentAt!));
    expect(Date.parse(push.sentAt!) - Date.parse(push.createdAt)).toBeGreaterThanOrEqual(1500);
    expect(stack.twilio.sends).toHaveLength(1);
    expect(subscriber.received()).toHaveLength(1);
  }, 30_000);

  it("never plans a channel the ladder leaves out, though the member could be reached on it", async () => {
    const stack = await startStack({ DELIVERY_LADDER: "push:0s" });
    const subscriber = await stack.subscribe("bob");
    const message = await stack.send("Only a push for this one");
    await waitFor(() => subscriber.received()[0], "the push to arrive");
    // The planner writes every channel of a message in one batch: what is not there now never will be.
    const deliveries = (await stack.deliveries(message.id)).filter((d) => d.userId === "bob");
    expect(deliveries.map((d) => d.channel)).toEqual(["push"]);
    expect(stack.twilio.requestCount()).toBe(0);
  }, 30_000);

  it("lets a member's own SMS delay override the ladder's step", async () => {
    const stack = await startStack({ DELIVERY_LADDER: "push:0s,sms:0s" });
    expect((await stack.preferences("bob", { smsDelayMs: 3_600_000 })).status).toBe(200);
    const message = await stack.send("Take your time");
    const sms = await bobs(stack, message.id, "sms", (d) => d.status === "scheduled", "the SMS to be planned");
    expect(Date.parse(sms.dueAt!) - Date.parse(sms.createdAt)).toBe(3_600_000);
  }, 30_000);
});

describe("quiet hours", () => {
  it("hold the push and the SMS until the window ends, say so in the timeline, and a read meanwhile cancels both", async () => {
    const stack = await startStack({ DELIVERY_LADDER: "push:0s,sms:0s" });
    const bobsBrowser = await stack.subscribe("bob");
    const carolsBrowser = await stack.subscribe("carol");
    const { quietHours, endsAt } = quietWindowAroundNow();
    const set = await stack.preferences("bob", { quietHours });
    expect(set.status).toBe(200);
    expect(set.body.quietHours).toEqual(quietHours);
    expect((await api(stack.url, "GET", "/v1/users/bob/notification-preferences")).body.quietHours).toEqual(quietHours);

    const message = await stack.send("Incident call at 9, please join");
    // Carol has no quiet hours: her push goes at once, so the worker has been through the due rows.
    await waitFor(() => carolsBrowser.received()[0], "Carol's push");
    for (const channel of ["push", "sms"] as const) {
      const held = await bobs(stack, message.id, channel, () => true, `Bob's ${channel}`);
      expect(held.status).toBe("scheduled");
      expect(held.dueAt).toBe(new Date(endsAt).toISOString());
      expect(held.events[0].detail).toContain(`Deferred: quiet hours (${quietHours.start}–${quietHours.end} Asia/Kolkata) until ${new Date(endsAt).toISOString()}.`);
    }
    expect(bobsBrowser.received()).toHaveLength(0);
    expect(stack.twilio.requestCount()).toBe(0);

    expect((await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: message.seq })).status).toBe(200);
    for (const channel of ["push", "sms"] as const) {
      const cancelled = await bobs(stack, message.id, channel, (d) => d.status === "cancelled", `Bob's ${channel} to be cancelled`);
      expect(cancelled.cancelReason).toBe("read");
    }
  }, 30_000);

  it("hold a notification planned before they were set: the worker defers it without spending an attempt", async () => {
    const stack = await startStack({ DELIVERY_LADDER: "push:1s" });
    const browser = await stack.subscribe("bob");
    const message = await stack.send("See you tomorrow");
    await bobs(stack, message.id, "push", (d) => d.status === "scheduled", "the push to be planned");
    const { quietHours, endsAt } = quietWindowAroundNow();
    expect((await stack.preferences("bob", { quietHours })).status).toBe(200);

    const deferred = await bobs(stack, message.id, "push", (d) => d.events.some((e) => e.status === "deferred"), "the worker to defer the push");
    expect(deferred).toMatchObject({ status: "scheduled", attempts: 0, dueAt: new Date(endsAt).toISOString() });
    expect(deferred.events.at(-1)?.detail).toBe(`Deferred: quiet hours (${quietHours.start}–${quietHours.end} Asia/Kolkata) until ${new Date(endsAt).toISOString()}.`);
    expect(browser.received()).toHaveLength(0);

    // Cleared again: the preferences no longer carry them.
    const cleared = await stack.preferences("bob", { quietHours: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty("quietHours");
  }, 30_000);

  it("refuse malformed quiet hours with invalid_argument naming the field, and keep the old ones", async () => {
    const stack = await startStack();
    const good = { start: "22:00", end: "07:00", timeZone: "Europe/Berlin" };
    expect((await stack.preferences("bob", { quietHours: good })).status).toBe(200);
    for (const [quietHours, pattern] of [
      [{ ...good, start: "25:00" }, /quietHours\.start.*HH:MM/],
      [{ ...good, end: "7am" }, /quietHours\.end.*HH:MM/],
      [{ ...good, timeZone: "Mars/Olympus_Mons" }, /quietHours\.timeZone.*IANA time zone/],
      [{ ...good, end: "22:00" }, /start and end must differ/],
      [{ start: "22:00", end: "07:00" }, /quietHours\.timeZone/],
      [{ ...good, days: ["mon"] }, /quietHours/],
      ["22:00-07:00", /quietHours/],
    ] as const) {
      const res = await stack.preferences("bob", { quietHours });
      expect(res.status, JSON.stringify(quietHours)).toBe(400);
      expect(res.body.error.code).toBe("invalid_argument");
      expect(res.body.error.message).toMatch(pattern);
    }
    // The user's own route answers the same.
    const mine = await fetch(`${stack.url}/v1/me/notification-preferences`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await mintToken("bob")}`, "content-type": "application/json" },
      body: JSON.stringify({ quietHours: { ...good, timeZone: "Berlin" } }),
    });
    expect(mine.status).toBe(400);
    expect(((await mine.json()) as { error: { code: string } }).error.code).toBe("invalid_argument");
    expect((await api(stack.url, "GET", "/v1/users/bob/notification-preferences")).body.quietHours).toEqual(good);
  }, 30_000);
});
