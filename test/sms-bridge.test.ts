import http from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAPIHono } from "@hono/zod-openapi";
import { pino } from "pino";
import twilio from "twilio";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiKeyService } from "../server/src/auth/api-key-service.js";
import { ChatEvents } from "../server/src/core/chat-events.js";
import { ConversationService } from "../server/src/core/conversation-service.js";
import { HTTP_STATUS, toSwitchboardError } from "../server/src/core/errors.js";
import { MessageService } from "../server/src/core/message-service.js";
import { UserService } from "../server/src/core/user-service.js";
import type { Delivery, DeliveryStore } from "../server/src/delivery/delivery-store.js";
import { SandboxSmsGateway } from "../server/src/delivery/sms/sandbox-sms-gateway.js";
import { smsEncoding } from "../server/src/delivery/sms/sms-encoding.js";
import { classifySmsKeyword, OPT_IN_REPLY, OPT_OUT_REPLY } from "../server/src/delivery/sms/sms-keywords.js";
import { NOT_LINKED_REPLY, NOT_MEMBER_REPLY, SmsService } from "../server/src/delivery/sms/sms-service.js";
import { parseTwilioWebhook, TwilioSmsGateway } from "../server/src/delivery/sms/twilio-sms-gateway.js";
import { validateTwilioSignature } from "../server/src/delivery/sms/twilio-signature.js";
import { SqliteDeliveryStore } from "../server/src/delivery/sqlite-delivery-store.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { registerSmsRoutes } from "../server/src/transport/http-sms-routes.js";
import type { HttpEnv } from "../server/src/transport/http-routes.js";
import { waitFor } from "./support/harness.js";
import { startTwilioFake, type TwilioFake } from "./support/twilio-fake.js";

const PHONE = "+14155550100";
const OTHER_PHONE = "+14155550199";
const N1 = "+15005550006";
const N2 = "+15005550007";
const HELP_TEXT = "Switchboard alerts: replies reach the conversation. Reply STOP to unsubscribe. Msg&Data rates may apply.";
const PUBLIC_URL = "https://chat.example.com";
const INBOUND_URL = `${PUBLIC_URL}/v1/sms/inbound`;
const STATUS_URL = `${PUBLIC_URL}/v1/sms/status`;

/** The core services over an in-memory SQLite database, plus the delivery store and the bridge. */
async function openWorld(options: { fromNumbers?: string[]; keywordReplies?: boolean } = {}) {
  const db = openSqliteDatabase(":memory:", { synchronous: "NORMAL", busyTimeoutMs: 5000 });
  const store = new SqliteStore(db);
  await store.init();
  const deliveries = new SqliteDeliveryStore(db);
  await deliveries.init();
  const events = new ChatEvents(() => undefined);
  const users = new UserService(store);
  const conversations = new ConversationService(store, events);
  const messages = new MessageService(store, conversations, events);
  const changed: Delivery[] = [];
  const sms = new SmsService({
    store: deliveries,
    users,
    conversations,
    messages,
    chat: store,
    fromNumbers: options.fromNumbers ?? [N1, N2],
    keywordReplies: options.keywordReplies ?? true,
    helpText: HELP_TEXT,
    onDeliveryChanged: (d) => changed.push(d),
    logger: pino({ level: "silent" }),
  });
  await users.upsert({ id: "ana", name: "Ana", role: "agent" });
  await users.upsert({ id: "bob", name: "Bob", phone: PHONE, role: "user" });
  for (const id of ["c1", "c2", "c3"]) {
    await conversations.create({ kind: "backend" }, { id, type: "group", title: `Team ${id}`, memberIds: ["ana", "bob"] });
  }
  const history = async (conversationId: string) => (await messages.history({ kind: "backend" }, conversationId, {})).messages;
  return { db, store, deliveries, users, conversations, messages, sms, changed, history, close: () => store.close() };
}
type World = Awaited<ReturnType<typeof openWorld>>;

/** A delivery of message 1 of `conversationId` to bob that the provider accepted as `sid`. */
async function sentDelivery(world: World, conversationId: string, sid: string): Promise<Delivery> {
  const now = Date.now();
  const { message } = await world.messages.send({ kind: "user", userId: "ana" }, { conversationId, text: "are you there?", clientMessageId: `m-${sid}` });
  await world.deliveries.plan({ id: `dlv_${sid}`, messageId: message.id, conversationId, seq: message.seq, userId: "bob", channel: "sms", dueAt: now, collapseSince: now, now });
  const [leased] = await world.deliveries.lease(now + 1, 60_000, 10);
  const done = await world.deliveries.complete(
    leased.delivery.id,
    leased.leaseToken,
    { status: "sent" },
    { at: new Date().toISOString(), status: "sent", attempt: 1 },
    { providerMessageId: sid, to: PHONE, from: N1 },
  );
  if (!done) throw new Error("lease lost");
  return done;
}

/** A bare Hono app with the SMS routes and the API's error mapping, called through `app.request`. */
function smsApp(world: World, apiKeys: ApiKeyService, options: { provider: "twilio" | "sandbox"; authToken?: string; sandboxMediaMaxBytes?: number }) {
  const app = new OpenAPIHono<HttpEnv>();
  app.onError((err, c) => {
    const error = toSwitchboardError(err);
    return c.json({ error: error.toWire() }, HTTP_STATUS[error.code]);
  });
  registerSmsRoutes(app, {
    sms: world.sms,
    provider: options.provider,
    ...(options.authToken ? { authToken: options.authToken } : {}),
    publicUrl: `${PUBLIC_URL}/`,
    apiKeys,
    store: world.deliveries,
    ...(options.sandboxMediaMaxBytes ? { sandboxMediaMaxBytes: options.sandboxMediaMaxBytes } : {}),
  });
  return app;
}

describe("Twilio webhook signatures", () => {
  const token = "12345678901234567890123456789012";
  const params = { From: PHONE, To: N1, Body: "See you at 5 & bring 'the' <slides>", MessageSid: "SM0123456789abcdef0123456789abcdef", SmsStatus: "received" };

  it("accepts a signature made by the official twilio package for the same URL and form", () => {
    const signature = twilio.getExpectedTwilioSignature(token, INBOUND_URL, params);
    expect(validateTwilioSignature(token, INBOUND_URL, params, signature)).toBe(true);
  });

  it("refuses a forged signature, a changed field, another auth token and a missing header", () => {
    const signature = twilio.getExpectedTwilioSignature(token, INBOUND_URL, params);
    expect(validateTwilioSignature(token, INBOUND_URL, params, "bm90IGEgcmVhbCBzaWduYXR1cmU=")).toBe(false);
    expect(validateTwilioSignature(token, INBOUND_URL, { ...params, Body: "STOP" }, signature)).toBe(false);
    expect(validateTwilioSignature(token, INBOUND_URL, { ...params, Extra: "1" }, signature)).toBe(false);
    expect(validateTwilioSignature("another-token-0123456789012345678", INBOUND_URL, params, signature)).toBe(false);
    expect(validateTwilioSignature(token, INBOUND_URL, params, undefined)).toBe(false);
    expect(validateTwilioSignature(token, INBOUND_URL, params, "")).toBe(false);
  });

  it("refuses the same signed form replayed to another URL", () => {
    const signature = twilio.getExpectedTwilioSignature(token, INBOUND_URL, params);
    expect(validateTwilioSignature(token, STATUS_URL, params, signature)).toBe(false);
    expect(validateTwilioSignature(token, "https://other.example.com/v1/sms/inbound", params, signature)).toBe(false);
    expect(validateTwilioSignature(token, `${INBOUND_URL}?account=2`, params, signature)).toBe(false);
    expect(validateTwilioSignature(token, INBOUND_URL.replace("https:", "http:"), params, signature)).toBe(false);
  });

  it("accepts the URL with the default port added or removed, as Twilio's validator does", () => {
    const withoutPort = twilio.getExpectedTwilioSignature(token, INBOUND_URL, params);
    expect(validateTwilioSignature(token, "https://chat.example.com:443/v1/sms/inbound", params, withoutPort)).toBe(true);
    const withPort = twilio.getExpectedTwilioSignature(token, "https://chat.example.com:443/v1/sms/inbound", params);
    expect(validateTwilioSignature(token, INBOUND_URL, params, withPort)).toBe(true);
    const http80 = twilio.getExpectedTwilioSignature(token, "http://chat.example.com/v1/sms/inbound", params);
    expect(validateTwilioSignature(token, "http://chat.example.com:80/v1/sms/inbound", params, http80)).toBe(true);
  });

  it("signs repeated fields the way the official package does: values de-duplicated and sorted", () => {
    const repeated = { ...params, MediaUrl: ["https://m.example/b", "https://m.example/a", "https://m.example/b"] };
    const signature = twilio.getExpectedTwilioSignature(token, INBOUND_URL, repeated);
    expect(validateTwilioSignature(token, INBOUND_URL, repeated, signature)).toBe(true);
    expect(validateTwilioSignature(token, INBOUND_URL, { ...repeated, MediaUrl: ["https://m.example/a"] }, signature)).toBe(false);
  });

  it("agrees with twilio.validateRequest on URLs with queries and characters that normalisation changes", () => {
    const urls = [
      `${INBOUND_URL}?tenant=acme&x=1`,
      `${INBOUND_URL}?name=it's%20ok`,
      "https://chat.example.com:443/v1/sms/inbound?a=b",
      "https://user:pw@chat.example.com/v1/sms/inbound",
      "http://[::1]:3000/v1/sms/inbound",
    ];
    for (const signedUrl of urls) {
      for (const checkedUrl of urls) {
        const signature = twilio.getExpectedTwilioSignature(token, signedUrl, params);
        expect(validateTwilioSignature(token, checkedUrl, params, signature), `${signedUrl} checked as ${checkedUrl}`).toBe(
          twilio.validateRequest(token, signature, checkedUrl, params),
        );
      }
    }
  });
});

describe("parseTwilioWebhook", () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("reads Twilio's inbound-message webhook as an inbound text", () => {
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "hello" });
    expect(parseTwilioWebhook(params)).toEqual({ kind: "inbound", providerMessageId: params.MessageSid, from: PHONE, to: N1, body: "hello", media: [] });
  });

  it("reads status callbacks with their error code, and maps Twilio's other statuses", () => {
    const sid = "SM00000000000000000000000000000001";
    expect(parseTwilioWebhook(fake.statusParams(sid, "delivered"))).toEqual({ kind: "status", providerMessageId: sid, status: "delivered" });
    expect(parseTwilioWebhook(fake.statusParams(sid, "undelivered", "30003"))).toMatchObject({
      kind: "status",
      status: "undelivered",
      errorCode: "30003",
      detail: expect.stringContaining("unreachable"),
    });
    expect(parseTwilioWebhook(fake.statusParams(sid, "accepted"))).toMatchObject({ status: "queued" });
    expect(parseTwilioWebhook({ SmsSid: sid, SmsStatus: "sent" })).toEqual({ kind: "status", providerMessageId: sid, status: "sent" });
  });

  it("answers null for a form that is neither", () => {
    expect(parseTwilioWebhook({})).toBeNull();
    expect(parseTwilioWebhook({ MessageSid: "SM1", MessageStatus: "teleported" })).toBeNull();
    expect(parseTwilioWebhook({ MessageSid: "SM1", SmsStatus: "received", Body: "hi" })).toBeNull();
  });
});

describe("TwilioSmsGateway against a Twilio-compatible endpoint", () => {
  let fake: TwilioFake;
  let gateway: TwilioSmsGateway;
  const request = (to: string, body = "Ana: see you at 5\nReply to answer.") => ({ to, from: N1, body, statusCallbackUrl: STATUS_URL });

  beforeAll(async () => {
    fake = await startTwilioFake();
    gateway = new TwilioSmsGateway({ accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: `${fake.url}/`, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("sends To, From, Body and StatusCallback with Basic auth and reads the sid, status and segments of the 201", async () => {
    const body = "x".repeat(200);
    const result = await gateway.send(request("+14155550101", body));
    expect(result).toMatchObject({ kind: "accepted", status: "queued", statusCode: 201, segments: 2 });
    const send = fake.sends.at(-1);
    expect(send).toMatchObject({ to: "+14155550101", from: N1, body, statusCallback: STATUS_URL });
    expect(result.kind === "accepted" && result.providerMessageId).toBe(send?.sid);
    expect(send?.sid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it("retries a 503", async () => {
    fake.failNext("+14155550102", [503]);
    expect(await gateway.send(request("+14155550102"))).toMatchObject({ kind: "retry", statusCode: 503 });
    expect(await gateway.send(request("+14155550102"))).toMatchObject({ kind: "accepted" });
  });

  it("retries a 429 after the Retry-After it gives", async () => {
    fake.failNext("+14155550103", [{ status: 429, code: 20429, message: "Too Many Requests", retryAfter: "1" }]);
    expect(await gateway.send(request("+14155550103"))).toEqual({
      kind: "retry",
      statusCode: 429,
      errorCode: "20429",
      retryAfterMs: 1000,
      detail: expect.stringContaining("Too Many Requests"),
    });
  });

  it("fails for good on error 21211 (invalid number) and 21614 (not a mobile)", async () => {
    fake.failNext("+14155550104", [
      { status: 400, code: 21211, message: "Invalid 'To' Phone Number: +14155550104" },
      { status: 400, code: 21614, message: "'To' number is not a valid mobile number" },
    ]);
    expect(await gateway.send(request("+14155550104"))).toMatchObject({ kind: "failed", statusCode: 400, errorCode: "21211", detail: expect.stringContaining("Invalid 'To'") });
    expect(await gateway.send(request("+14155550104"))).toMatchObject({ kind: "failed", statusCode: 400, errorCode: "21614" });
  });

  it("reports error 21610 as an opted-out number", async () => {
    fake.failNext("+14155550105", [{ status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" }]);
    expect(await gateway.send(request("+14155550105"))).toMatchObject({ kind: "opted_out", statusCode: 400, errorCode: "21610" });
  });

  it("fails for good when the credentials are wrong (20003)", async () => {
    const wrong = new TwilioSmsGateway({ accountSid: fake.accountSid, authToken: "wrong", apiBaseUrl: fake.url, timeoutMs: 5000 });
    expect(await wrong.send(request("+14155550106"))).toMatchObject({ kind: "failed", statusCode: 401, errorCode: "20003" });
  });

  it("retries a request that times out", async () => {
    const impatient = new TwilioSmsGateway({ accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: fake.url, timeoutMs: 150 });
    fake.failNext("+14155550107", ["stall"]);
    const result = await impatient.send(request("+14155550107"));
    expect(result).toMatchObject({ kind: "retry", detail: expect.stringContaining("150 ms") });
    expect(result.kind === "retry" && result.statusCode).toBeFalsy();
  });

  it("retries when nothing listens at the base URL", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = new TwilioSmsGateway({ accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    expect(await unreachable.send(request("+14155550108"))).toMatchObject({ kind: "retry", detail: expect.stringContaining("Could not reach Twilio") });
  });
});

describe("classifySmsKeyword", () => {
  it("recognises Twilio's standard keywords as the whole text, whatever the case and surrounding spaces", () => {
    for (const k of ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "revoke", "OPTOUT"]) {
      expect(classifySmsKeyword(` ${k}\n`), k).toEqual({ kind: "opt_out", keyword: k.toUpperCase() });
    }
    for (const k of ["START", "yes", "Unstop"]) expect(classifySmsKeyword(k), k).toEqual({ kind: "opt_in", keyword: k.toUpperCase() });
    for (const k of ["HELP", "info"]) expect(classifySmsKeyword(k), k).toEqual({ kind: "help", keyword: k.toUpperCase() });
  });

  it("does not treat a text that merely contains a keyword as one", () => {
    for (const text of ["please stop", "STOP IT", "help me", "stop!", "", "st op"]) expect(classifySmsKeyword(text), text).toBeNull();
  });
});

describe("SmsService", () => {
  let world: World;
  beforeEach(async () => {
    world = await openWorld();
  });
  afterEach(async () => {
    await world?.close();
  });

  it("gives each conversation its own pool number while one is free, then re-points the least recently used thread", async () => {
    const t0 = Date.parse("2030-01-01T00:00:00Z");
    expect(await world.sms.chooseNumber(PHONE, "bob", "c1", t0)).toBe(N1);
    expect(await world.sms.chooseNumber(PHONE, "bob", "c2", t0 + 1000)).toBe(N2);
    // c1 again keeps its number, and is now the most recently used thread.
    expect(await world.sms.chooseNumber(PHONE, "bob", "c1", t0 + 2000)).toBe(N1);
    // c3: the pool is used up; c2's thread (N2) is the least recently used, so it moves to c3.
    expect(await world.sms.chooseNumber(PHONE, "bob", "c3", t0 + 3000)).toBe(N2);
    expect(await world.deliveries.findSmsThread(PHONE, N2)).toMatchObject({ conversationId: "c3", userId: "bob" });
    expect(await world.deliveries.findSmsThread(PHONE, N1)).toMatchObject({ conversationId: "c1" });
    // Another phone starts with the first number of the pool again.
    expect(await world.sms.chooseNumber(OTHER_PHONE, "carol", "c2", t0 + 4000)).toBe(N1);

    // Replies map back through the threads.
    await world.sms.handleInbound({ providerMessageId: "SMa1", from: PHONE, to: N2, body: "for c3" });
    await world.sms.handleInbound({ providerMessageId: "SMa2", from: PHONE, to: N1, body: "for c1" });
    expect((await world.history("c3")).map((m) => [m.senderId, m.text])).toEqual([["bob", "for c3"]]);
    expect((await world.history("c1")).map((m) => [m.senderId, m.text])).toEqual([["bob", "for c1"]]);
    expect(await world.history("c2")).toEqual([]);
  });

  it("chooses one number per conversation when several choices for one phone run at once", async () => {
    const now = Date.now();
    const numbers = await Promise.all([world.sms.chooseNumber(PHONE, "bob", "c1", now), world.sms.chooseNumber(PHONE, "bob", "c2", now)]);
    expect(new Set(numbers).size).toBe(2);
  });

  it("posts a reply as the phone user once, even when the provider delivers the webhook twice", async () => {
    await world.sms.chooseNumber(PHONE, "bob", "c2", Date.now());
    const inbound = { providerMessageId: "SMdup", from: PHONE, to: N1, body: "  on my way  " };
    const first = await world.sms.handleInbound(inbound);
    expect(first).toEqual({ message: expect.objectContaining({ text: "on my way" }) });
    // The repeat answers the original message.
    expect(await world.sms.handleInbound(inbound)).toEqual({ message: first.message });
    const messages = await world.history("c2");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ senderId: "bob", text: "on my way", clientMessageId: "sms:SMdup", type: "text" });
  });

  it("cuts an overlong text to the message limit instead of refusing it", async () => {
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    await world.sms.handleInbound({ providerMessageId: "SMlong", from: PHONE, to: N1, body: "a".repeat(3999) + "😀😀" });
    const [message] = await world.history("c1");
    expect(message.text).toHaveLength(3999);
  });

  it("answers a text to a number without a thread, and posts nothing", async () => {
    expect(await world.sms.handleInbound({ providerMessageId: "SMx", from: OTHER_PHONE, to: N2, body: "who is this?" })).toEqual({ reply: NOT_LINKED_REPLY });
    for (const id of ["c1", "c2", "c3"]) expect(await world.history(id)).toEqual([]);
  });

  it("does not post for a user whose number changed or who left the conversation", async () => {
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    await world.users.upsert({ id: "bob", name: "Bob", phone: OTHER_PHONE, role: "user" });
    expect(await world.sms.handleInbound({ providerMessageId: "SMp1", from: PHONE, to: N1, body: "hi" })).toEqual({ reply: NOT_LINKED_REPLY });
    await world.users.upsert({ id: "bob", name: "Bob", phone: PHONE, role: "user" });
    await world.conversations.removeMember("c1", "bob");
    expect(await world.sms.handleInbound({ providerMessageId: "SMp2", from: PHONE, to: N1, body: "hi" })).toEqual({ reply: NOT_MEMBER_REPLY });
    expect(await world.history("c1")).toEqual([]);
  });

  it("records STOP, START and HELP in the consent ledger and answers them with the standard replies", async () => {
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    expect(await world.sms.handleInbound({ providerMessageId: "SMk1", from: PHONE, to: N1, body: "Stop" })).toEqual({ reply: OPT_OUT_REPLY });
    expect(await world.deliveries.consentState(PHONE)).toBe("opted_out");
    // While opted out, texts are still posted but never answered.
    expect(await world.sms.handleInbound({ providerMessageId: "SMk2", from: PHONE, to: N2, body: "hello?" })).toEqual({});
    expect(await world.sms.handleInbound({ providerMessageId: "SMk3", from: PHONE, to: N1, body: "one more thing" })).not.toHaveProperty("reply");
    expect((await world.history("c1")).map((m) => m.text)).toEqual(["one more thing"]);
    expect(await world.sms.handleInbound({ providerMessageId: "SMk4", from: PHONE, to: N1, body: "help" })).toEqual({ reply: HELP_TEXT });
    expect(await world.sms.handleInbound({ providerMessageId: "SMk5", from: PHONE, to: N1, body: "YES" })).toEqual({ reply: OPT_IN_REPLY });
    expect(await world.deliveries.consentState(PHONE)).toBe("opted_in");
    const ledger = await world.deliveries.listConsent(PHONE);
    expect(ledger.map((e) => [e.action, e.source, e.keyword])).toEqual([
      ["opt_out", "keyword", "STOP"],
      ["help", "keyword", "HELP"],
      ["opt_in", "keyword", "YES"],
    ]);
    // Keywords are never posted.
    expect((await world.history("c1")).map((m) => m.text)).toEqual(["one more thing"]);
  });

  it("posts YES as an ordinary answer from a number that never opted out", async () => {
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    expect(await world.sms.handleInbound({ providerMessageId: "SMy", from: PHONE, to: N1, body: "Yes" })).not.toHaveProperty("reply");
    expect((await world.history("c1")).map((m) => m.text)).toEqual(["Yes"]);
    expect(await world.deliveries.listConsent(PHONE)).toEqual([]);
  });

  it("records keywords without answering them when keyword replies are off", async () => {
    const quiet = await openWorld({ keywordReplies: false });
    try {
      expect(await quiet.sms.handleInbound({ providerMessageId: "SMq", from: PHONE, to: N1, body: "STOP" })).toEqual({});
      expect(await quiet.deliveries.consentState(PHONE)).toBe("opted_out");
    } finally {
      await quiet.close();
    }
  });

  it("applies provider status reports to the delivery's timeline and status", async () => {
    const sid = "SM11111111111111111111111111111111";
    await sentDelivery(world, "c1", sid);
    const queued = await world.sms.handleStatus({ providerMessageId: sid, status: "queued" });
    expect(queued).toMatchObject({ status: "sent" });
    const delivered = await world.sms.handleStatus({ providerMessageId: sid, status: "delivered" });
    expect(delivered?.status).toBe("delivered");
    expect(delivered?.events.map((e) => e.status).slice(-2)).toEqual(["queued", "delivered"]);
    expect(world.changed.map((d) => d.status)).toEqual(["sent", "delivered"]);
    expect(await world.sms.handleStatus({ providerMessageId: "SMunknown", status: "sent" })).toBeNull();
  });

  it("records an opt-out when the provider reports error 21610 for a text", async () => {
    const sid = "SM22222222222222222222222222222222";
    await sentDelivery(world, "c1", sid);
    const failed = await world.sms.handleStatus({ providerMessageId: sid, status: "failed", errorCode: "21610", detail: "unsubscribed" });
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed?.events.at(-1)).toMatchObject({ status: "failed", errorCode: "21610" });
    expect(await world.deliveries.listConsent(PHONE)).toMatchObject([{ action: "opt_out", source: "provider" }]);
  });

  it("composes notification texts with sender, title, burst count and footer, within three segments", () => {
    expect(world.sms.composeBody({ senderName: "Ana", text: "see you at 5", messageCount: 1 })).toBe("Ana: see you at 5\nReply to answer.");
    expect(world.sms.composeBody({ senderName: "Ana", conversationTitle: "Ops", text: "deploy done", messageCount: 4 })).toBe(
      "Ana in Ops: deploy done (+3 more)\nReply to answer.",
    );
    const long = world.sms.composeBody({ senderName: "Ana", conversationTitle: "Ops", text: "word ".repeat(400), messageCount: 2 });
    expect(long.startsWith("Ana in Ops: word word")).toBe(true);
    expect(long.endsWith("... (+1 more)\nReply to answer.")).toBe(true);
    expect(smsEncoding(long)).toMatchObject({ encoding: "GSM-7", segments: 3 });
    const emoji = world.sms.composeBody({ senderName: "Ana", text: "🎉".repeat(300), messageCount: 1 });
    expect(emoji.endsWith("…\nReply to answer.")).toBe(true);
    expect(smsEncoding(emoji)).toMatchObject({ encoding: "UCS-2", segments: 3 });
  });
});

describe("SandboxSmsGateway", () => {
  let world: World;
  let sandbox: SandboxSmsGateway;
  beforeEach(async () => {
    world = await openWorld();
    sandbox = new SandboxSmsGateway({ store: world.deliveries, onStatus: (w) => (w.kind === "status" ? world.sms.handleStatus(w) : undefined) });
  });
  afterEach(async () => {
    sandbox?.close();
    await world?.close();
  });

  it("stores the text and reports sent then delivered through the status path once the delivery knows the sid", async () => {
    const result = await sandbox.send({ to: PHONE, from: N1, body: "Ana: hi\nReply to answer.", statusCallbackUrl: STATUS_URL });
    expect(result).toMatchObject({ kind: "accepted", status: "queued", statusCode: 201 });
    const sid = result.kind === "accepted" ? result.providerMessageId : "";
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(await world.deliveries.listSandboxSms(10, PHONE)).toMatchObject([{ sid, direction: "outbound", from: N1, to: PHONE, body: "Ana: hi\nReply to answer." }]);
    // The worker records the sid after the send returns; the reports wait for it.
    await sentDelivery(world, "c1", sid);
    const delivered = await waitFor(async () => (await world.deliveries.getDelivery(`dlv_${sid}`))?.status === "delivered", "the delivered report");
    expect(delivered).toBe(true);
    expect((await world.deliveries.listSandboxSms(10, PHONE))[0].status).toBe("delivered");
    expect(world.changed.map((d) => d.status)).toEqual(["sent", "delivered"]);
  });

  it("fails sends to Twilio's magic invalid and non-mobile test numbers", async () => {
    expect(await sandbox.send({ to: "+15005550001", from: N1, body: "x", statusCallbackUrl: STATUS_URL })).toMatchObject({ kind: "failed", errorCode: "21211" });
    expect(await sandbox.send({ to: "+15005550009", from: N1, body: "x", statusCallbackUrl: STATUS_URL })).toMatchObject({ kind: "failed", errorCode: "21614" });
    expect(await world.deliveries.listSandboxSms(10)).toEqual([]);
  });
});

describe("registerSmsRoutes", () => {
  let world: World;
  let fake: TwilioFake;
  let apiKeys: ApiKeyService;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    world = await openWorld();
    apiKeys = new ApiKeyService(world.store);
  });
  afterEach(async () => {
    await world?.close();
  });

  const post = (app: ReturnType<typeof smsApp>, path: string, signed: { body: string; headers: Record<string, string> }) =>
    app.request(path, { method: "POST", headers: signed.headers, body: signed.body });

  it("accepts a signed inbound text, posts it and answers with empty TwiML", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "on my way" });
    const res = await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, params));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await world.history("c1")).toMatchObject([{ senderId: "bob", text: "on my way", clientMessageId: `sms:${params.MessageSid}` }]);
  });

  it("answers keywords with an XML-escaped TwiML message", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    const res = await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, fake.inboundParams({ From: PHONE, To: N1, Body: "start" })));
    expect(await res.text()).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>${OPT_IN_REPLY.replace("&", "&amp;")}</Message></Response>`);
  });

  it("refuses a forged signature with 403 naming PUBLIC_URL, and posts nothing", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "real" });
    const signed = fake.signedRequest(INBOUND_URL, params);
    const tampered = { ...signed, body: new URLSearchParams({ ...params, Body: "forged" }).toString() };
    const res = await post(app, "/v1/sms/inbound", tampered);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toContain("PUBLIC_URL");
    const wrongToken = await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, params, { authToken: "not-the-token" }));
    expect(wrongToken.status).toBe(403);
    const unsigned = await app.request("/v1/sms/inbound", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: signed.body });
    expect(unsigned.status).toBe(403);
    expect(await world.history("c1")).toEqual([]);
  });

  it("refuses a signed request replayed to another URL with 403", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "replayed" });
    // Signed for the status callback URL, or for another server's inbound URL, posted here.
    expect((await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, params, { signUrl: STATUS_URL }))).status).toBe(403);
    expect((await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, params, { signUrl: "https://other.example.com/v1/sms/inbound" }))).status).toBe(403);
    expect((await post(app, "/v1/sms/inbound?tenant=2", fake.signedRequest(INBOUND_URL, params))).status).toBe(403);
    expect(await world.history("c1")).toEqual([]);
  });

  it("accepts a query string that Twilio signed as part of the configured URL", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "HELP" });
    const res = await post(app, "/v1/sms/inbound?tenant=acme", fake.signedRequest(`${INBOUND_URL}?tenant=acme`, params));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Msg&amp;Data rates may apply.");
  });

  it("applies a signed status callback to the delivery and answers 204", async () => {
    const app = smsApp(world, apiKeys, { provider: "twilio", authToken: fake.authToken });
    const sid = "SM33333333333333333333333333333333";
    await sentDelivery(world, "c1", sid);
    const res = await post(app, "/v1/sms/status", fake.signedRequest(STATUS_URL, fake.statusParams(sid, "undelivered", "30003")));
    expect(res.status).toBe(204);
    const delivery = await world.deliveries.getDelivery(`dlv_${sid}`);
    expect(delivery).toMatchObject({ status: "undelivered" });
    expect(delivery?.events.at(-1)).toMatchObject({ status: "undelivered", errorCode: "30003" });
    const forged = await post(app, "/v1/sms/status", fake.signedRequest(STATUS_URL, fake.statusParams(sid, "delivered"), { signUrl: INBOUND_URL }));
    expect(forged.status).toBe(403);
  });

  it("answers 404 on the Twilio webhooks and serves the sandbox when the provider is the sandbox", async () => {
    const app = smsApp(world, apiKeys, { provider: "sandbox" });
    const webhook = await post(app, "/v1/sms/inbound", fake.signedRequest(INBOUND_URL, fake.inboundParams({ From: PHONE, To: N1, Body: "hi" })));
    expect(webhook.status).toBe(404);
    expect(((await webhook.json()) as { error: { message: string } }).error.message).toContain("/sandbox/sms");

    const page = await app.request("/sandbox/sms");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/sandbox-sms.js" defer></script>');
    expect(html).not.toMatch(/<script>|<style>| style="/);
    expect(html).toContain(`<option value="${N1}">`);
  });

  it("runs a sandbox text through the bridge for an admin key only, and lists the conversation newest last", async () => {
    const app = smsApp(world, apiKeys, { provider: "sandbox" });
    const admin = (await apiKeys.create({ name: "admin", scopes: ["admin"] })).key;
    const reader = (await apiKeys.create({ name: "reader", scopes: ["read"] })).key;
    const send = (key: string | null, body: unknown) =>
      app.request("/v1/sandbox/sms/inbound", {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
    expect((await send(null, { from: PHONE, to: N1, body: "hi" })).status).toBe(401);
    expect((await send(reader, { from: PHONE, to: N1, body: "hi" })).status).toBe(403);
    expect((await send(admin, { from: PHONE, to: "+15550000000", body: "hi" })).status).toBe(400);

    await world.sms.chooseNumber(PHONE, "bob", "c2", Date.now());
    const answered = await send(admin, { from: PHONE, to: N1, body: "HELP" });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ sid: expect.stringMatching(/^SM/), reply: HELP_TEXT });
    const posted = await send(admin, { from: PHONE, to: N1, body: "running late" });
    expect(await posted.json()).not.toHaveProperty("reply");
    expect((await world.history("c2")).map((m) => m.text)).toEqual(["running late"]);

    const list = await app.request(`/v1/sandbox/sms?phone=${encodeURIComponent(PHONE)}`, { headers: { authorization: `Bearer ${admin}` } });
    const { ourNumbers, texts } = (await list.json()) as { ourNumbers: string[]; texts: { direction: string; body: string }[] };
    expect(ourNumbers).toEqual([N1, N2]);
    expect(texts.map((t) => [t.direction, t.body])).toEqual([
      ["inbound", "HELP"],
      ["outbound", HELP_TEXT],
      ["inbound", "running late"],
    ]);
    expect((await app.request("/v1/sandbox/sms", { headers: { authorization: `Bearer ${reader}` } })).status).toBe(403);
  });

  it("checks a sandbox MMS's pictures: base64, at most MMS_INBOUND_MAX_BYTES in all, and text or pictures required", async () => {
    const app = smsApp(world, apiKeys, { provider: "sandbox", sandboxMediaMaxBytes: 1000 });
    const admin = (await apiKeys.create({ name: "admin", scopes: ["admin"] })).key;
    const send = (body: unknown) =>
      app.request("/v1/sandbox/sms/inbound", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
    const picture = (bytes: number) => ({ contentType: "image/jpeg", data: Buffer.alloc(bytes, 7).toString("base64") });
    const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
    await world.sms.chooseNumber(PHONE, "bob", "c1", Date.now());

    const tooMuch = await send({ from: PHONE, to: N1, media: [picture(600), picture(600)] });
    expect(tooMuch.status).toBe(413);
    expect((await error(tooMuch)).message).toContain("MMS_INBOUND_MAX_BYTES (1000)");
    // A body past the route's own limit is refused before it is parsed.
    const huge = await send({ from: PHONE, to: N1, media: [picture(5000)] });
    expect(huge.status).toBe(413);
    const notBase64 = await send({ from: PHONE, to: N1, media: [{ data: "<img>" }] });
    expect(notBase64.status).toBe(400);
    expect((await error(notBase64)).message).toMatch(/media/);
    const empty = await send({ from: PHONE, to: N1, body: "  " });
    expect(empty.status).toBe(400);
    expect((await error(empty)).message).toContain("a picture (media), or both");
    expect(await world.history("c1")).toEqual([]);

    // Without uploads (this bare bridge has none) the picture is skipped and the words still post.
    const posted = await send({ from: PHONE, to: N1, body: "words and a picture", media: [picture(100)] });
    expect(posted.status).toBe(200);
    expect((await world.history("c1")).map((m) => [m.text, m.attachments?.length ?? 0])).toEqual([["words and a picture", 0]]);
  });
});
