import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, call, connectUser, mintToken, startServer, waitFor, type TestServer } from "./support/harness.js";
import { createPushSubscriber, startPushService, type PushService, type PushSubscriber } from "./support/push-service.js";
import { freePort } from "./support/redis-server.js";
import { startTwilioFake, type TwilioFake } from "./support/twilio-fake.js";
import { startReceiver } from "./support/webhook-receiver.js";
import { Webhook } from "standardwebhooks";

/**
 * The offline fallback end to end, on one node: a real push service over HTTPS that checks the
 * VAPID JWT and decrypts every push, a Twilio-compatible REST endpoint, and Twilio webhooks signed
 * with the official `twilio` package.
 */

const BOB_PHONE = "+15550002222";
const OUR_NUMBER = "+15550001000";
/** Short waits so a whole ladder runs in about a second. */
const SMS_DELAY_MS = 1000;
const RETRY_SCHEDULE = "150ms,300ms,450ms";

interface Stack {
  server: TestServer;
  url: string;
  push: PushService;
  twilio: TwilioFake;
  /** Sends as alice into `c1` over HTTP; resolves with the stored message. */
  send(text: string, conversationId?: string): Promise<Message>;
  deliveries(messageId: string): Promise<Delivery[]>;
  subscribe(userId: string): Promise<PushSubscriber>;
  consent(userId: string, granted: boolean): Promise<void>;
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
  // PUBLIC_URL is what Twilio signs webhooks for, so the port is chosen before the server starts.
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
      SMS_DELAY_SECONDS: String(SMS_DELAY_MS / 1000),
      SMS_PER_NUMBER_PER_SECOND: "50",
      PUSH_ALLOW_PRIVATE: "1",
      DELIVERY_RETRY_SCHEDULE: RETRY_SCHEDULE,
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

  let counter = 0;
  return {
    server,
    url,
    push,
    twilio,
    async send(text, conversationId = "c1") {
      return ok(await api(url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "alice", text, clientMessageId: `t-${++counter}` }), "send");
    },
    async deliveries(messageId) {
      return ok(await api(url, "GET", `/v1/messages/${messageId}/deliveries`), "deliveries").deliveries;
    },
    async subscribe(userId) {
      const subscriber = createPushSubscriber(push);
      const res = await fetch(`${url}/v1/push/subscriptions`, {
        method: "POST",
        headers: { authorization: `Bearer ${await mintToken(userId)}`, "content-type": "application/json", "user-agent": "test-browser/1.0" },
        body: JSON.stringify(subscriber.toJSON()),
      });
      if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
      return subscriber;
    },
    async consent(userId, granted) {
      ok(await api(url, "POST", `/v1/users/${userId}/sms-consent`, { granted, note: "test signup form" }), "consent");
    },
  };
}

/** The delivery of `channel` to `userId` once `check` holds for it. */
async function waitForDelivery(stack: Stack, messageId: string, channel: "push" | "sms", check: (d: Delivery) => boolean, what: string, timeoutMs = 10_000): Promise<Delivery> {
  return waitFor(
    async () => (await stack.deliveries(messageId)).find((d) => d.channel === channel && d.userId === "bob" && check(d)),
    what,
    timeoutMs,
    50,
  );
}

/** Waits until the worker has certainly looked at what was due at `dueAt`, for checks that something did NOT happen. */
async function pastDue(dueAt: number, marginMs = 600): Promise<void> {
  await waitFor(() => Date.now() > dueAt + marginMs, "the due time to pass", dueAt + marginMs - Date.now() + 5000, 50);
}

describe("offline fallback", () => {
  it("pushes exactly once to an offline member with a subscription, decrypted to the message, and folds a burst into it", async () => {
    const stack = await startStack();
    const subscriber = await stack.subscribe("bob");
    // Carol is connected, so she gets the message live and no notification.
    const carol = await connectUser(stack.url, "carol");
    cleanups.push(() => carol.close());

    const first = await stack.send("Deploy finished, can you check the dashboard? ✅");
    const push = await waitFor(() => subscriber.received()[0], "the push to arrive");
    expect(push.status).toBe(201);
    expect(push.payload).toMatchObject({ type: "message", conversationId: "c1", messageId: first.id, seq: first.seq, messageCount: 1 });
    expect((push.payload as { body: string }).body).toContain("Deploy finished, can you check the dashboard? ✅");
    expect((push.payload as { title: string }).title).toContain("Alice");
    // RFC 8292: the JWT was signed with the key browsers subscribe with, for the push service's origin.
    const { publicKey } = (await api(stack.url, "GET", "/v1/push/vapid-public-key")).body as { publicKey: string };
    expect(push.vapidPublicKey).toBe(publicKey);
    expect(push.vapidAudience).toBe(stack.push.origin);
    expect(push.urgency).toBe("high");
    expect(push.ttl).toBe(86400);
    expect(push.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(push.bodyBytes).toBeLessThan(4096);

    // A burst right after: folded into the push already sent, not one push per message.
    const second = await stack.send("Also the error rate went up");
    const third = await stack.send("Never mind, it is back down");
    const collapsed = await waitForDelivery(stack, third.id, "push", (d) => d.status === "collapsed", "the third message to collapse");
    const pushed = (await stack.deliveries(first.id)).find((d) => d.channel === "push")!;
    expect(collapsed.collapsedInto).toBe(pushed.id);
    expect((await stack.deliveries(second.id)).map((d) => [d.channel, d.status])).toEqual([["push", "collapsed"]]);
    await waitFor(async () => (await stack.deliveries(first.id)).find((d) => d.channel === "push")?.messageCount === 3, "the push to count the burst");
    expect(pushed).toMatchObject({ status: "sent", attempts: 1, userId: "bob" });
    // Nobody else was notified: alice sent it, carol is online.
    expect((await stack.deliveries(first.id)).map((d) => d.userId)).toEqual(["bob"]);
    await pastDue(Date.now());
    expect(subscriber.received()).toHaveLength(1);
    // Operators see it in /metrics too.
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_offline_attempts_total\{[^}]*channel="push"[^}]*outcome="sent"[^}]*\} 1$/m);
  }, 30_000);

  it("texts a member without a subscription once, after the delay, and records the encoding, segments and receipts", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    const message = await stack.send("The invoice is €120, due Friday {ref: A-17}");
    const sent = await waitFor(() => stack.twilio.sends[0], "the SMS to reach the provider");
    expect(Date.parse(sent.at) - Date.parse(message.createdAt)).toBeGreaterThanOrEqual(SMS_DELAY_MS - 50);
    expect(sent).toMatchObject({ to: BOB_PHONE, from: OUR_NUMBER });
    expect(sent.body).toContain("The invoice is €120, due Friday {ref: A-17}");
    expect(sent.form.StatusCallback).toBe(`${stack.url}/v1/sms/status`);

    const delivery = await waitForDelivery(stack, message.id, "sms", (d) => d.status === "sent", "the SMS delivery to be sent");
    expect(delivery).toMatchObject({ providerMessageId: sent.sid, to: BOB_PHONE, from: OUR_NUMBER, encoding: "GSM-7", attempts: 1 });
    expect(delivery.segments).toBe(sent.numSegments);

    // Twilio's status callbacks, signed by the official package, complete the timeline.
    for (const status of ["sent", "delivered"]) {
      const res = await stack.twilio.sendStatusCallback(sent.sid, status, `${stack.url}/v1/sms/status`);
      expect(res.status).toBeLessThan(300);
    }
    const delivered = await waitForDelivery(stack, message.id, "sms", (d) => d.status === "delivered", "the delivered receipt");
    expect(delivered.events.map((e) => e.status)).toEqual(expect.arrayContaining(["scheduled", "sent", "delivered"]));
    expect(stack.twilio.sends).toHaveLength(1);
  }, 30_000);

  it("tells webhooks about every step of a delivery as signed delivery.updated events", async () => {
    const stack = await startStack({ WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "50" });
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const endpoint = (await api(stack.url, "POST", "/v1/webhooks", { url: receiver.url, eventTypes: ["delivery.updated"] })).body as { secret: string };
    await stack.consent("bob", true);
    const message = await stack.send("webhook me");
    const sent = await waitFor(() => stack.twilio.sends[0], "the SMS");
    await stack.twilio.sendStatusCallback(sent.sid, "delivered", `${stack.url}/v1/sms/status`);
    const statuses = () =>
      receiver.receipts.map((r) => new Webhook(endpoint.secret).verify(r.body, r.headers) as { type: string; data: Delivery }).filter((e) => e.data.messageId === message.id);
    await waitFor(() => statuses().some((e) => e.data.status === "delivered"), "the delivered event");
    const events = statuses();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["delivery.updated"]));
    expect(events.map((e) => e.data.status)).toEqual(expect.arrayContaining(["scheduled", "sent", "delivered"]));
    expect(events.every((e) => e.data.channel === "sms" && e.data.userId === "bob")).toBe(true);
  }, 30_000);

  it("cancels the SMS when the member reads the message first", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    const message = await stack.send("Are you coming to the standup?");
    const scheduled = await waitForDelivery(stack, message.id, "sms", (d) => d.status === "scheduled", "the SMS to be scheduled");
    const read = await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: message.seq });
    expect(read.status).toBe(200);
    const cancelled = await waitForDelivery(stack, message.id, "sms", (d) => d.status === "cancelled", "the SMS to be cancelled");
    expect(cancelled.cancelReason).toBe("read");
    await pastDue(Date.parse(scheduled.dueAt!));
    expect(stack.twilio.requestCount()).toBe(0);
  }, 30_000);

  it("removes a subscription the push service says is gone (410) and pushes nothing more to it", async () => {
    const stack = await startStack();
    const subscriber = await stack.subscribe("bob");
    stack.push.respondWith(subscriber.id, [410]);
    const first = await stack.send("hello?");
    const gone = await waitForDelivery(stack, first.id, "push", (d) => d.status === "cancelled", "the push to be given up");
    expect(gone).toMatchObject({ cancelReason: "no_destination", attempts: 1 });
    expect(gone.events.at(-1)?.statusCode).toBe(410);

    // Read, so the next message starts a new notification rather than folding into the last one.
    await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: first.seq });
    const second = await stack.send("still there?");
    await pastDue(Date.now(), 300);
    expect(await stack.deliveries(second.id)).toEqual([]);
    expect(subscriber.received()).toHaveLength(1);
  }, 30_000);

  it("retries a push answered 503 until it is accepted, and never retries one answered 400", async () => {
    const stack = await startStack();
    const flaky = await stack.subscribe("bob");
    stack.push.respondWith(flaky.id, [503, { status: 429, headers: { "retry-after": "0" } }, 201]);
    const first = await stack.send("first try");
    const sent = await waitForDelivery(stack, first.id, "push", (d) => d.status === "sent", "the push to be accepted after retries");
    expect(sent.attempts).toBe(3);
    expect(sent.events.filter((e) => e.status === "retrying").map((e) => e.statusCode)).toEqual([503, 429]);
    expect(flaky.received().map((p) => p.status)).toEqual([503, 429, 201]);
    // Every retry carried the same message.
    expect(new Set(flaky.received().map((p) => (p.payload as { messageId: string }).messageId))).toEqual(new Set([first.id]));

    await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: first.seq });
    stack.push.respondWith(flaky.id, [400]);
    const second = await stack.send("second try");
    const failed = await waitForDelivery(stack, second.id, "push", (d) => d.status === "failed", "the push to fail");
    expect(failed.attempts).toBe(1);
    // Longer than the whole retry schedule: still one request.
    await pastDue(Date.now(), 1200);
    expect(flaky.received().filter((p) => p.status === 400)).toHaveLength(1);
    expect((await stack.deliveries(second.id)).find((d) => d.channel === "push")?.status).toBe("failed");
  }, 30_000);

  it("retries an SMS the provider answered 503, and never retries an invalid number (21211)", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    stack.twilio.failNext(BOB_PHONE, [503]);
    const first = await stack.send("retry me");
    const sent = await waitForDelivery(stack, first.id, "sms", (d) => d.status === "sent", "the SMS to be sent after a retry");
    expect(sent.attempts).toBe(2);
    expect(stack.twilio.sends).toHaveLength(1);

    await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: first.seq });
    stack.twilio.failNext(BOB_PHONE, [{ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." }]);
    const second = await stack.send("never mind");
    const failed = await waitForDelivery(stack, second.id, "sms", (d) => d.status === "failed", "the SMS to fail");
    expect(failed).toMatchObject({ attempts: 1 });
    expect(failed.events.at(-1)).toMatchObject({ statusCode: 400, errorCode: "21211" });
    const requests = stack.twilio.requestCount();
    await pastDue(Date.now(), 1200);
    expect(stack.twilio.requestCount()).toBe(requests);
  }, 30_000);

  it("paces texts to SMS_PER_NUMBER_PER_SECOND per number without spending attempts", async () => {
    const stack = await startStack({ SMS_PER_NUMBER_PER_SECOND: "1", SMS_DELAY_SECONDS: "0" });
    await stack.consent("bob", true);
    for (const id of ["c2", "c3"]) {
      await api(stack.url, "POST", "/v1/conversations", { id, type: "group", title: id, memberIds: ["alice", "bob"] });
    }
    const messages = await Promise.all(["c1", "c2", "c3"].map((id) => stack.send(`paced in ${id}`, id)));
    await waitFor(() => stack.twilio.sends.length === 3 || undefined, "three texts", 15_000);
    const times = stack.twilio.sends.map((s) => Date.parse(s.at)).sort((a, b) => a - b);
    // One text per second from the one number: three texts span at least one full second.
    expect(times[2] - times[0]).toBeGreaterThanOrEqual(1000);
    for (const message of messages) {
      const sms = await waitForDelivery(stack, message.id, "sms", (d) => d.status === "sent", "the SMS to be sent");
      expect(sms.attempts).toBe(1);
    }
    const waited = (await Promise.all(messages.map((m) => stack.deliveries(m.id)))).flat().filter((d) => d.events.some((e) => e.status === "retrying" && /send rate/.test(e.detail ?? "")));
    expect(waited.length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("posts an SMS reply into the conversation, live for a connected agent, and refuses forged webhooks", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    const alice = await connectUser(stack.url, "alice");
    cleanups.push(() => alice.close());
    await call(alice, "conversation:join", { conversationId: "c1" });
    const received: Message[] = [];
    alice.on("message:new", (m: Message) => received.push(m));

    await stack.send("Can you confirm the address?");
    const sms = await waitFor(() => stack.twilio.sends[0], "the SMS");
    const inboundUrl = `${stack.url}/v1/sms/inbound`;

    // Forged: signed with another token. Replayed: a genuine signature made for another URL.
    const params = stack.twilio.inboundParams({ From: BOB_PHONE, To: sms.from, Body: "forged" });
    for (const signed of [
      stack.twilio.signedRequest(inboundUrl, params, { authToken: "not-the-auth-token-0123456789" }),
      stack.twilio.signedRequest(inboundUrl, params, { signUrl: "https://other.example.com/v1/sms/inbound" }),
    ]) {
      const res = await fetch(inboundUrl, { method: "POST", headers: signed.headers, body: signed.body });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    }

    const reply = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: sms.from, Body: "Yes: 12 Harbour Street" });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toContain("xml");
    const live = await waitFor(() => received.find((m) => m.senderId === "bob"), "the reply to reach alice live");
    expect(live.text).toBe("Yes: 12 Harbour Street");
    const history = (await api(stack.url, "GET", "/v1/conversations/c1/messages")).body as { messages: Message[] };
    expect(history.messages.filter((m) => m.senderId === "bob").map((m) => m.text)).toEqual(["Yes: 12 Harbour Street"]);
  }, 30_000);

  it("sends no SMS after STOP, resumes after START, and answers HELP", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    const inboundUrl = `${stack.url}/v1/sms/inbound`;

    const stop = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: OUR_NUMBER, Body: "stop" });
    expect(stop.body).toContain("You have successfully been unsubscribed");
    const consent = (await api(stack.url, "GET", "/v1/users/bob/sms-consent")).body as { state: string; ledger: { action: string; source: string; keyword?: string }[] };
    expect(consent.state).toBe("opted_out");
    expect(consent.ledger.map((e) => [e.action, e.source])).toEqual([
      ["opt_in", "api"],
      ["opt_out", "keyword"],
    ]);

    const muted = await stack.send("Are you there?");
    await pastDue(Date.now() + SMS_DELAY_MS);
    expect((await stack.deliveries(muted.id)).filter((d) => d.channel === "sms")).toEqual([]);
    expect(stack.twilio.requestCount()).toBe(0);

    const start = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: OUR_NUMBER, Body: "START" });
    expect(start.body).toContain("You have successfully been re-subscribed");
    const help = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: OUR_NUMBER, Body: "help" });
    expect(help.body).toContain("Reply STOP to unsubscribe");

    const resumed = await stack.send("Back online?");
    await waitForDelivery(stack, resumed.id, "sms", (d) => d.status === "sent", "the SMS after START");
    expect(stack.twilio.sends.map((s) => s.to)).toEqual([BOB_PHONE]);
    // Keywords are never posted into a conversation.
    const history = (await api(stack.url, "GET", "/v1/conversations/c1/messages")).body as { messages: Message[] };
    expect(history.messages.filter((m) => m.senderId === "bob")).toEqual([]);
  }, 30_000);

  it("notifies nobody in a muted conversation, nor on a channel the user turned off", async () => {
    const stack = await startStack();
    await stack.consent("bob", true);
    const subscriber = await stack.subscribe("bob");
    const token = await mintToken("bob");
    const mute = await fetch(`${stack.url}/v1/me/mutes/c1`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    expect(mute.status).toBe(200);
    const quiet = await stack.send("muted message");
    await pastDue(Date.now(), 300);
    expect(await stack.deliveries(quiet.id)).toEqual([]);

    await fetch(`${stack.url}/v1/me/mutes/c1`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    const prefs = await fetch(`${stack.url}/v1/me/notification-preferences`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ sms: false }),
    });
    expect(await prefs.json()).toMatchObject({ push: true, sms: false });
    const loud = await stack.send("unmuted message");
    await waitForDelivery(stack, loud.id, "push", (d) => d.status === "sent", "the push");
    await pastDue(Date.now() + SMS_DELAY_MS);
    expect((await stack.deliveries(loud.id)).map((d) => d.channel)).toEqual(["push"]);
    expect(subscriber.received()).toHaveLength(1);
    expect(stack.twilio.requestCount()).toBe(0);
  }, 30_000);
});
