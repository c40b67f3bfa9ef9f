import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, mintToken, startServer, tempDir, waitFor } from "./support/harness.js";
import { Webhook } from "standardwebhooks";
import { startApnsServer, startFcmServer, type ApnsServer, type FcmServer } from "./support/mobile-push-servers.js";
import { startReceiver } from "./support/webhook-receiver.js";

/**
 * Native mobile push end to end on one node, against local servers that speak the real
 * protocols: an HTTP/2 APNs that verifies the ES256 provider token and Apple's headers, and an
 * FCM that issues OAuth2 access tokens for the service account's assertion and checks them.
 */

const IPHONE = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad";
const ANDROID = "dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN7U0a3AycjUf4O-byuxb_wJsKRaKvV";

interface Stack {
  url: string;
  apns: ApnsServer;
  fcm: FcmServer;
  send(text: string, conversationId?: string): Promise<Message>;
  deliveries(messageId: string): Promise<Delivery[]>;
  register(userId: string, platform: "ios" | "android", token: string): Promise<Response>;
  devices(userId: string): Promise<{ platform: string; token: string }[]>;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const keys = tempDir("switchboard-mobile-keys-");
  cleanups.push(keys.remove);
  const apns = await startApnsServer(keys.dir);
  cleanups.push(() => apns.close());
  const fcm = await startFcmServer(keys.dir);
  cleanups.push(() => fcm.close());
  const server = await startServer({
    env: {
      FCM_SERVICE_ACCOUNT_FILE: fcm.keyFile,
      FCM_BASE_URL: fcm.url,
      APNS_KEY_FILE: apns.keyFile,
      APNS_KEY_ID: apns.keyId,
      APNS_TEAM_ID: apns.teamId,
      APNS_TOPIC: apns.topic,
      APNS_ENV: "sandbox",
      APNS_BASE_URL: apns.url,
      DELIVERY_RETRY_SCHEDULE: "200ms,3s,3s",
      DELIVERY_POLL_INTERVAL_MS: "50",
      ...env,
    },
    // The client trusts the local server's certificate through this option only, not globally.
    appOptions: { apnsCa: apns.ca },
  });
  cleanups.push(() => server.close());
  const url = server.url;
  const ok = (res: { status: number; body: unknown }, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as any;
  };
  ok(await api(url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
  ok(await api(url, "POST", "/v1/users", { id: "bob", name: "Bob" }), "bob");
  ok(await api(url, "POST", "/v1/conversations", { id: "c1", type: "group", title: "Ops", memberIds: ["alice", "bob"] }), "c1");
  ok(await api(url, "POST", "/v1/conversations", { id: "c2", type: "direct", memberIds: ["alice", "bob"] }), "c2");
  let counter = 0;
  return {
    url,
    apns,
    fcm,
    async send(text, conversationId = "c1") {
      return ok(await api(url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "alice", text, clientMessageId: `m-${++counter}` }), "send");
    },
    async deliveries(messageId) {
      return ok(await api(url, "GET", `/v1/messages/${messageId}/deliveries`), "deliveries").deliveries;
    },
    async register(userId, platform, token) {
      return fetch(`${url}/v1/push/devices`, {
        method: "POST",
        headers: { authorization: `Bearer ${await mintToken(userId)}`, "content-type": "application/json" },
        body: JSON.stringify({ platform, token }),
      });
    },
    async devices(userId) {
      const res = await fetch(`${url}/v1/push/devices`, { headers: { authorization: `Bearer ${await mintToken(userId)}` } });
      return ((await res.json()) as { devices: { platform: string; token: string }[] }).devices;
    },
  };
}

async function withPhones(stack: Stack): Promise<void> {
  expect((await stack.register("bob", "ios", IPHONE.toUpperCase())).status).toBe(201);
  expect((await stack.register("bob", "android", ANDROID)).status).toBe(201);
}

const channelStatus = (deliveries: Delivery[]) => deliveries.map((d) => [d.channel, d.status]).sort();

describe("native mobile push", () => {
  it("sends an offline user exactly one push per phone, with title, body, badge and the conversation as collapse id", async () => {
    const stack = await startStack();
    await withPhones(stack);
    const message = await stack.send("Deploy is done <3");
    await waitFor(async () => channelStatus(await stack.deliveries(message.id)).join() === "apns,sent,fcm,sent", "both pushes to be sent");

    expect(stack.apns.requests).toHaveLength(1);
    const [apple] = stack.apns.requests;
    expect(apple.status).toBe(200);
    expect(apple.token).toBe(IPHONE);
    expect(apple.headers).toMatchObject({ "apns-topic": "com.example.chat", "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": "c1" });
    expect(Number(apple.headers["apns-expiration"])).toBeGreaterThan(Date.now() / 1000);
    expect(apple.payload.aps).toMatchObject({ alert: { title: "Alice in Ops", body: "Deploy is done <3" }, badge: 1, "thread-id": "c1" });
    expect(apple.payload).toMatchObject({ conversationId: "c1", messageId: message.id, seq: String(message.seq) });

    expect(stack.fcm.requests).toHaveLength(1);
    const [google] = stack.fcm.requests;
    expect(google.token).toBe(ANDROID);
    expect(google.message.notification).toEqual({ title: "Alice in Ops", body: "Deploy is done <3" });
    expect(google.message.android).toMatchObject({ priority: "high", collapse_key: "c1", notification: { tag: "c1", notification_count: 1 } });
    expect(google.message.data).toMatchObject({ type: "message", conversationId: "c1", messageId: message.id, badge: "1" });

    // A burst folds into the notification already shown: no second push, one HTTP/2 session, one access token.
    const second = await stack.send("and the rollback plan is ready");
    await waitFor(async () => channelStatus(await stack.deliveries(second.id)).join() === "apns,collapsed,fcm,collapsed", "the burst to collapse");
    const direct = await stack.send("ping", "c2");
    await waitFor(async () => channelStatus(await stack.deliveries(direct.id)).join() === "apns,sent,fcm,sent", "the direct message's pushes");
    const last = stack.apns.requests.at(-1)!;
    // Direct conversation: just the sender's name; three unread messages now.
    expect(last.payload.aps).toMatchObject({ alert: { title: "Alice", body: "ping" }, badge: 3 });
    expect(last.headers["apns-collapse-id"]).toBe("c2");
    expect(stack.fcm.requests.at(-1)!.message.android.notification.notification_count).toBe(3);
    expect(stack.apns.requests).toHaveLength(2);
    expect(stack.fcm.requests).toHaveLength(2);
    expect(stack.apns.sessions()).toBe(1);
    expect(stack.fcm.tokensIssued()).toBe(1);
    expect(stack.fcm.tokenRefusals()).toBe(0);
  }, 30_000);

  it("removes a device whose token the provider reports unregistered and stops pushing to it", async () => {
    const stack = await startStack();
    await withPhones(stack);
    stack.apns.script(IPHONE, { status: 410, reason: "Unregistered" });
    stack.fcm.script(ANDROID, { status: 404, reason: "UNREGISTERED" });
    const message = await stack.send("anyone there?");
    const deliveries = await waitFor(async () => {
      const all = await stack.deliveries(message.id);
      return all.every((d) => d.status === "cancelled") && all.length === 2 ? all : undefined;
    }, "both deliveries to end");
    for (const delivery of deliveries) {
      expect(delivery.cancelReason).toBe("no_destination");
      expect(delivery.events.at(-1)?.detail).toMatch(/invalid|removed/);
    }
    expect(await stack.devices("bob")).toEqual([]);
    // The next message plans nothing for the pruned phones.
    const next = await stack.send("hello?", "c2");
    await waitFor(async () => (await api(stack.url, "GET", `/v1/conversations/c2/messages`)).body.messages.length === 1, "the message to be stored");
    expect(await stack.deliveries(next.id)).toEqual([]);
  }, 30_000);

  it("sends no mobile push to a user who turned mobile push off, and resumes when they turn it on", async () => {
    const stack = await startStack();
    await withPhones(stack);
    const off = await api(stack.url, "PATCH", "/v1/users/bob/notification-preferences", { mobile: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ push: true, sms: true, mobile: false });
    const quiet = await stack.send("you will not hear this");
    await waitFor(async () => (await api(stack.url, "GET", "/v1/conversations/c1/messages")).body.messages.length === 1, "the message to be stored");
    expect(await stack.deliveries(quiet.id)).toEqual([]);
    expect((await api(stack.url, "PATCH", "/v1/users/bob/notification-preferences", { mobile: true })).body.mobile).toBe(true);
    const loud = await stack.send("but this one", "c2");
    await waitFor(async () => channelStatus(await stack.deliveries(loud.id)).join() === "apns,sent,fcm,sent", "the pushes after turning it on");
    expect(stack.apns.requests).toHaveLength(1);
  }, 30_000);

  it("tells webhooks about the APNs and FCM deliveries as signed delivery.updated events", async () => {
    const stack = await startStack({ WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "50" });
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const endpoint = (await api(stack.url, "POST", "/v1/webhooks", { url: receiver.url, eventTypes: ["delivery.updated"] })).body as { secret: string };
    await withPhones(stack);
    const message = await stack.send("webhook me");
    const events = () =>
      receiver.receipts.map((r) => new Webhook(endpoint.secret).verify(r.body, r.headers) as { type: string; data: Delivery }).filter((e) => e.data.messageId === message.id);
    await waitFor(() => ["apns", "fcm"].every((channel) => events().some((e) => e.data.channel === channel && e.data.status === "sent")), "both sent events");
    for (const channel of ["apns", "fcm"]) {
      expect(events().filter((e) => e.data.channel === channel).map((e) => e.data.status)).toEqual(expect.arrayContaining(["scheduled", "sent"]));
    }
    const sent = events().find((e) => e.data.channel === "apns" && e.data.status === "sent")!;
    expect(sent.data.events.at(-1)).toMatchObject({ status: "sent", attempt: 1, statusCode: 200, detail: expect.stringMatching(/accepted by APNs for 1 of 1 devices, badge 1/) });
  }, 30_000);

  it("refuses a device token of the wrong shape with a message naming the field", async () => {
    const stack = await startStack();
    const res = await stack.register("bob", "ios", "not-hex");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_argument");
    expect(body.error.message).toMatch(/token/);
    const anonymous = await fetch(`${stack.url}/v1/push/devices`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ platform: "ios", token: IPHONE }) });
    expect(anonymous.status).toBe(401);
    // Unregistering removes it; a second time is not_found.
    expect((await stack.register("bob", "ios", IPHONE)).status).toBe(201);
    const token = await mintToken("bob");
    expect((await fetch(`${stack.url}/v1/push/devices/${IPHONE}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    expect((await fetch(`${stack.url}/v1/push/devices/${IPHONE}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  }, 30_000);

  it("retries a 503 from APNs and a 429 from FCM after their Retry-After", async () => {
    const stack = await startStack();
    await withPhones(stack);
    stack.apns.script(IPHONE, { status: 503, reason: "ServiceUnavailable", headers: { "retry-after": "1" } });
    stack.fcm.script(ANDROID, { status: 429, reason: "QUOTA_EXCEEDED", headers: { "retry-after": "1" } });
    const message = await stack.send("third time lucky");
    const deliveries = await waitFor(async () => {
      const all = await stack.deliveries(message.id);
      return channelStatus(all).join() === "apns,sent,fcm,sent" ? all : undefined;
    }, "both pushes to be sent after the retry");
    for (const requests of [stack.apns.requests, stack.fcm.requests]) {
      expect(requests.map((r) => r.status)).toEqual([requests === stack.apns.requests ? 503 : 429, 200]);
      // Retry-After: 1 s, longer than the schedule's first step (200 ms), is honoured.
      expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(950);
    }
    for (const delivery of deliveries) {
      expect(delivery.attempts).toBe(2);
      expect(delivery.events.map((e) => e.status)).toContain("retrying");
    }
  }, 30_000);

  it("cancels pending pushes when the user reads elsewhere and clears the badge with a silent update", async () => {
    const stack = await startStack();
    await withPhones(stack);
    const first = await stack.send("first");
    await waitFor(async () => channelStatus(await stack.deliveries(first.id)).join() === "apns,sent,fcm,sent", "the first pushes");
    // The second conversation's pushes wait for a retry when the read comes.
    stack.apns.script(IPHONE, { status: 503, headers: { "retry-after": "2" } });
    stack.fcm.script(ANDROID, { status: 503, headers: { "retry-after": "2" } });
    const second = await stack.send("second", "c2");
    await waitFor(async () => (await stack.deliveries(second.id)).filter((d) => d.status === "scheduled" && d.attempts === 1).length === 2, "both pushes to wait for a retry");

    // Read on the laptop (the customer's backend reports it): nothing more is pushed, the badges go to 0.
    expect((await api(stack.url, "POST", "/v1/conversations/c2/read", { userId: "bob", seq: second.seq })).status).toBe(200);
    expect((await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: first.seq })).status).toBe(200);
    const cancelled = await waitFor(async () => {
      const all = await stack.deliveries(second.id);
      return all.every((d) => d.status === "cancelled") ? all : undefined;
    }, "the pending pushes to be cancelled");
    expect(cancelled.map((d) => d.cancelReason)).toEqual(["read", "read"]);
    const silentApple = await waitFor(() => stack.apns.requests.find((r) => r.headers["apns-push-type"] === "background" && r.payload.aps.badge === 0), "a silent APNs badge update to 0");
    expect(silentApple.status).toBe(200);
    expect(silentApple.headers["apns-priority"]).toBe("5");
    expect(silentApple.payload.aps).toEqual({ "content-available": 1, badge: 0 });
    expect(silentApple.payload.aps).not.toHaveProperty("alert");
    const silentGoogle = await waitFor(() => stack.fcm.requests.find((r) => r.message.data?.type === "read" && r.message.data.badge === "0"), "a silent FCM data message with badge 0");
    expect(silentGoogle.message).not.toHaveProperty("notification");
    // Past the Retry-After: the cancelled pushes never went out.
    const settled = Date.now() + 2500;
    await waitFor(() => Date.now() > settled, "the retry time to pass", 5000, 100);
    const alerts = stack.apns.requests.filter((r) => r.headers["apns-push-type"] === "alert");
    expect(alerts.map((r) => r.status)).toEqual([200, 503]);
    expect(stack.fcm.requests.filter((r) => r.message.notification).map((r) => r.status)).toEqual([200, 503]);
  }, 30_000);
});
