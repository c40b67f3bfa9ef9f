import { execFile } from "node:child_process";
import https from "node:https";
import path from "node:path";
import { promisify } from "node:util";
import { OpenAPIHono } from "@hono/zod-openapi";
import webpush from "web-push";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TokenService } from "../server/src/auth/token-service.js";
import { SwitchboardError, toSwitchboardError, HTTP_STATUS } from "../server/src/core/errors.js";
import { validationError } from "../server/src/core/schemas.js";
import type { PushSubscriptionRecord } from "../server/src/delivery/delivery-store.js";
import { buildPushPayload, MAX_PUSH_PAYLOAD_BYTES, type PushPayload } from "../server/src/delivery/push/push-payload.js";
import type { PushOptions } from "../server/src/delivery/push/push-sender.js";
import { PushSubscriptionService } from "../server/src/delivery/push/push-subscriptions.js";
import { resolveVapidKeys, VAPID_SETTING_KEY } from "../server/src/delivery/push/vapid-keys.js";
import { pushTopic, WebPushSender } from "../server/src/delivery/push/web-push-sender.js";
import { parseRetryAfter } from "../server/src/webhooks/webhook-retry-policy.js";
import { SqliteDeliveryStore } from "../server/src/delivery/sqlite-delivery-store.js";
import type { DeliveryConfig } from "../server/src/config.js";
import { openSqliteDatabase } from "../server/src/store/sqlite-store.js";
import type { SqliteDatabase } from "../server/src/store/sqlite-component.js";
import { registerPushRoutes, PUSH_ROUTES } from "../server/src/transport/http-push-routes.js";
import type { HttpEnv } from "../server/src/transport/http-routes.js";
import { DestinationPolicy, type HostLookup } from "../server/src/webhooks/destination-policy.js";
import { mintToken, tempDir, TEST_JWT_SECRET } from "./support/harness.js";
import { createPushSubscriber, startPushService, type PushService, type PushSubscriber } from "./support/push-service.js";

const execFileAsync = promisify(execFile);
const SUBJECT = "mailto:ops@switchboard.example";
const OPTIONS: PushOptions = { ttlSeconds: 3600, urgency: "high" };

/** A stored subscription for a subscriber of the test push service. */
function record(subscriber: PushSubscriber, userId = "usr_1"): PushSubscriptionRecord {
  return { id: `psub_${subscriber.id}`, userId, endpoint: subscriber.endpoint, p256dh: subscriber.p256dh, auth: subscriber.auth, createdAt: new Date().toISOString() };
}

function payload(extra: Partial<Parameters<typeof buildPushPayload>[0]> = {}): string {
  return buildPushPayload({ conversationId: "cnv_1", messageId: "msg_1", seq: 1, senderName: "Ada", text: "Lunch at noon?", messageCount: 1, ...extra });
}

/** Sends one request to the push service with the headers web-push would send, Authorization replaced. */
async function postWithAuthorization(service: PushService, subscriber: PushSubscriber, authorization: string | undefined): Promise<number> {
  const details = webpush.generateRequestDetails(subscriber.toJSON(), "forged", { TTL: 60, contentEncoding: "aes128gcm" });
  const headers: Record<string, string | number> = { ...details.headers };
  if (authorization === undefined) delete headers.Authorization;
  else headers.Authorization = authorization;
  return new Promise((resolve, reject) => {
    const req = https.request(details.endpoint, { method: "POST", headers, agent: service.agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(details.body);
  });
}

let service: PushService;
const vapid = webpush.generateVAPIDKeys();

beforeAll(async () => {
  service = await startPushService();
});

afterAll(async () => {
  await service.close();
});

describe("WebPushSender against a real push service", () => {
  const sender = () => new WebPushSender({ vapid: { subject: SUBJECT, ...vapid }, timeoutMs: 5000, agent: service.agent });

  it("delivers a payload the browser decrypts to the exact bytes, with TTL, Urgency, Topic and a VAPID JWT for the service's origin", async () => {
    const subscriber = createPushSubscriber(service, { applicationServerKey: vapid.publicKey });
    const body = payload({ conversationId: "cnv_launch", conversationTitle: "Launch", messageCount: 3 });
    const topic = pushTopic("cnv_launch");

    const result = await sender().send(record(subscriber), body, { ttlSeconds: 3600, urgency: "high", topic });

    expect(result).toMatchObject({ kind: "sent", statusCode: 201 });
    expect(result.kind === "sent" && result.location).toMatch(new RegExp(`^${service.origin}/message/\\d+$`));
    const [push] = subscriber.received();
    expect(push.payloadText).toBe(body);
    expect(push.payload).toEqual({
      type: "message",
      conversationId: "cnv_launch",
      messageId: "msg_1",
      seq: 1,
      title: "Ada in Launch",
      body: "Lunch at noon? (+2 more)",
      messageCount: 3,
      tag: "switchboard:cnv_launch",
    } satisfies PushPayload);
    expect(push).toMatchObject({ ttl: 3600, urgency: "high", topic, vapidSubject: SUBJECT, vapidAudience: service.origin, vapidPublicKey: vapid.publicKey });
    const now = Math.floor(Date.now() / 1000);
    expect(push.vapidExpiresAt).toBeGreaterThan(now);
    expect(push.vapidExpiresAt).toBeLessThanOrEqual(now + 24 * 3600);
  });

  it("reports 410, 404 and an unsubscribed browser as gone", async () => {
    const subscriber = createPushSubscriber(service);
    service.respondWith(subscriber.id, [410, 404]);
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "gone", statusCode: 410 });
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "gone", statusCode: 404 });

    service.expire(subscriber.id);
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "gone", statusCode: 410 });
    const unknown = { ...record(subscriber), endpoint: `${service.origin}/push/never-registered` };
    expect(await sender().send(unknown, payload(), OPTIONS)).toMatchObject({ kind: "gone", statusCode: 404 });
  });

  it("asks for a retry on 503, and on 429 after the Retry-After the service gave in seconds or as a date", async () => {
    const subscriber = createPushSubscriber(service);
    const in30s = new Date(Date.now() + 30_000).toUTCString();
    service.respondWith(subscriber.id, [503, { status: 429, headers: { "retry-after": "7" } }, { status: 429, headers: { "retry-after": in30s } }, 201]);

    const unavailable = await sender().send(record(subscriber), payload(), OPTIONS);
    expect(unavailable).toMatchObject({ kind: "retry", statusCode: 503 });
    expect(unavailable).not.toHaveProperty("retryAfterMs");
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toEqual({ kind: "retry", statusCode: 429, retryAfterMs: 7000, detail: expect.stringContaining("429") });
    const dated = await sender().send(record(subscriber), payload(), OPTIONS);
    expect(dated).toMatchObject({ kind: "retry", statusCode: 429 });
    // An HTTP date has whole seconds: up to 1 s earlier than asked, less the time the request took.
    expect(dated.kind === "retry" && dated.retryAfterMs).toBeGreaterThan(20_000);
    expect(dated.kind === "retry" && dated.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "sent" });
    expect(subscriber.received().map((p) => p.status)).toEqual([503, 429, 429, 201]);
  });

  it("asks for a retry when the service does not answer in time or cannot be reached", async () => {
    const subscriber = createPushSubscriber(service);
    service.respondWith(subscriber.id, ["hang"]);
    const impatient = new WebPushSender({ vapid: { subject: SUBJECT, ...vapid }, timeoutMs: 300, agent: service.agent });
    const silent = await impatient.send(record(subscriber), payload(), OPTIONS);
    expect(silent).toMatchObject({ kind: "retry" });
    expect(silent).not.toHaveProperty("statusCode");

    // A port nothing listens on: the service's own, after it is closed.
    const gone = await startPushService();
    const orphan = createPushSubscriber(gone);
    await gone.close();
    const unreachable = await new WebPushSender({ vapid: { subject: SUBJECT, ...vapid }, timeoutMs: 5000, agent: gone.agent }).send(record(orphan), payload(), OPTIONS);
    expect(unreachable).toMatchObject({ kind: "retry", detail: expect.stringContaining("ECONNREFUSED") });
  });

  it("fails without retry on 400 and on subscription keys that cannot encrypt, sending nothing for the latter", async () => {
    const subscriber = createPushSubscriber(service);
    service.respondWith(subscriber.id, [400]);
    expect(await sender().send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "failed", statusCode: 400 });

    const before = service.received.length + service.rejected.length;
    const notAPoint = { ...record(subscriber), p256dh: Buffer.alloc(65, 4).toString("base64url") };
    expect(await sender().send(notAPoint, payload(), OPTIONS)).toMatchObject({ kind: "failed" });
    const shortAuth = { ...record(subscriber), auth: "AAAA" };
    expect(await sender().send(shortAuth, payload(), OPTIONS)).toMatchObject({ kind: "failed" });
    expect(service.received.length + service.rejected.length).toBe(before);
  });

  it("is refused (403) when the VAPID JWT is signed with a key other than the one it names", async () => {
    const subscriber = createPushSubscriber(service);
    const other = webpush.generateVAPIDKeys();
    const forged = new WebPushSender({ vapid: { subject: SUBJECT, publicKey: vapid.publicKey, privateKey: other.privateKey }, timeoutMs: 5000, agent: service.agent });
    expect(await forged.send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "failed", statusCode: 403 });
    expect(service.rejected.at(-1)).toMatchObject({ subscriptionId: subscriber.id, status: 403, reason: expect.stringContaining("signature") });
    expect(subscriber.received()).toEqual([]);
  });

  it("is refused when the JWT is for another audience, has expired, is missing, or comes from a key the subscription was not made with", async () => {
    const subscriber = createPushSubscriber(service);
    const now = Math.floor(Date.now() / 1000);
    const header = (audience: string, expiration?: number) =>
      webpush.getVapidHeaders(audience, SUBJECT, vapid.publicKey, vapid.privateKey, "aes128gcm", expiration).Authorization;

    expect(await postWithAuthorization(service, subscriber, header("https://push.other.example"))).toBe(403);
    expect(await postWithAuthorization(service, subscriber, header(service.origin, now - 60))).toBe(403);
    expect(await postWithAuthorization(service, subscriber, undefined)).toBe(401);
    expect(await postWithAuthorization(service, subscriber, header(service.origin))).toBe(201);

    const restricted = createPushSubscriber(service, { applicationServerKey: webpush.generateVAPIDKeys().publicKey });
    expect(await sender().send(record(restricted), payload(), OPTIONS)).toMatchObject({ kind: "failed", statusCode: 403 });
    expect(restricted.received()).toEqual([]);
  });

  it("sends a 10,000-emoji message as a payload under the limit, in a request body under 4096 bytes", async () => {
    const subscriber = createPushSubscriber(service);
    const body = payload({ text: "😀".repeat(10_000), messageCount: 4 });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_PUSH_PAYLOAD_BYTES);

    expect(await sender().send(record(subscriber), body, OPTIONS)).toMatchObject({ kind: "sent" });
    const [push] = subscriber.received();
    expect(push.payloadText).toBe(body);
    expect(push.bodyBytes).toBeLessThan(4096);
  });

  it("is trusted by a spawned process given its certificate in NODE_EXTRA_CA_CERTS", async () => {
    const dir = tempDir("switchboard-push-ca-");
    try {
      const script = `require("https").get(${JSON.stringify(`${service.origin}/push/x`)}, (r) => { console.log(r.statusCode); r.resume(); }).on("error", (e) => { console.log(e.code); });`;
      const { stdout } = await execFileAsync(process.execPath, ["-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: service.writeCaCert(dir.dir) } });
      expect(stdout.trim()).toBe("405");
      const untrusted = await execFileAsync(process.execPath, ["-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: "" } });
      expect(untrusted.stdout.trim()).not.toBe("405");
    } finally {
      dir.remove();
    }
  });

  it("does not send to an endpoint its destination policy refuses at send time", async () => {
    const subscriber = createPushSubscriber(service);
    const guarded = new WebPushSender({
      vapid: { subject: SUBJECT, ...vapid },
      timeoutMs: 5000,
      agent: service.agent,
      destinations: new DestinationPolicy({ allowPrivate: false }),
    });
    expect(await guarded.send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "failed", detail: expect.stringContaining("127.0.0.1") });
    expect(subscriber.received()).toEqual([]);
  });
});

describe("push payload", () => {
  it("cuts a long text on a code point boundary with an ellipsis and keeps the burst suffix", () => {
    const built = payload({ text: "😀".repeat(10_000), messageCount: 3 });
    const parsed = JSON.parse(built) as PushPayload;
    expect(Buffer.byteLength(built)).toBeLessThanOrEqual(MAX_PUSH_PAYLOAD_BYTES);
    // No half of a surrogate pair left behind.
    expect(parsed.body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(parsed.body).toMatch(/^(😀)+… \(\+2 more\)$/u);
    // Nearly the whole budget is used.
    expect(Buffer.byteLength(built)).toBeGreaterThan(MAX_PUSH_PAYLOAD_BYTES - 8);
  });

  it("stays under the limit when JSON escaping inflates the text, and for long names, titles and ids", () => {
    const escaped = payload({ text: "\u0001\"\\".repeat(5000) });
    expect(Buffer.byteLength(escaped)).toBeLessThanOrEqual(MAX_PUSH_PAYLOAD_BYTES);
    const long = payload({
      conversationId: "c".repeat(128),
      messageId: "m".repeat(128),
      senderName: "名".repeat(500),
      conversationTitle: "題".repeat(500),
      text: "字".repeat(5000),
      url: `https://chat.example/${"p".repeat(900)}`,
      messageCount: 99,
    });
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_PUSH_PAYLOAD_BYTES);
    const parsed = JSON.parse(long) as PushPayload;
    expect(Array.from(parsed.title).length).toBeLessThanOrEqual(80 + 4 + 80);
    expect(parsed.body).toMatch(/… \(\+98 more\)$/);
  });

  it("names the sender alone in a direct conversation and leaves a short text whole", () => {
    expect(JSON.parse(payload({ text: "  hi  ", url: "https://chat.example/c/cnv_1" }))).toEqual({
      type: "message",
      conversationId: "cnv_1",
      messageId: "msg_1",
      seq: 1,
      title: "Ada",
      body: "hi",
      messageCount: 1,
      url: "https://chat.example/c/cnv_1",
      tag: "switchboard:cnv_1",
    });
  });

  it("derives a stable Topic of at most 32 URL-safe characters per conversation", () => {
    const topic = pushTopic("cnv:with spaces/and/slashes");
    expect(topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(pushTopic("cnv:with spaces/and/slashes")).toBe(topic);
    expect(pushTopic("cnv_other")).not.toBe(topic);
  });

  it("reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

/** A delivery store on a fresh SQLite file; `second()` opens another connection to it, as another node would. */
function sqliteStores() {
  const dir = tempDir("switchboard-push-");
  const file = path.join(dir.dir, "store.db");
  const dbs: SqliteDatabase[] = [];
  const open = async () => {
    const db = openSqliteDatabase(file, { synchronous: "NORMAL", busyTimeoutMs: 5000 });
    dbs.push(db);
    const store = new SqliteDeliveryStore(db);
    await store.init();
    return store;
  };
  return {
    open,
    cleanup: () => {
      for (const db of dbs) db.close();
      dir.remove();
    },
  };
}

const PUSH_CONFIG: DeliveryConfig["push"] = {
  vapidSubject: SUBJECT,
  ttlSeconds: 86400,
  urgency: "high",
  timeoutMs: 10_000,
  allowPrivate: false,
  maxSubscriptionsPerUser: 10,
};

describe("resolveVapidKeys", () => {
  let stores: ReturnType<typeof sqliteStores>;
  beforeEach(() => {
    stores = sqliteStores();
  });
  afterEach(() => stores.cleanup());

  it("uses the configured pair and stores nothing", async () => {
    const store = await stores.open();
    const keys = await resolveVapidKeys({ ...PUSH_CONFIG, vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey }, store);
    expect(keys).toEqual({ ...vapid, subject: SUBJECT, generated: false });
    expect(await store.getSetting(VAPID_SETTING_KEY)).toBeNull();
  });

  it("generates a pair once and gives every later call and every node the same one", async () => {
    const first = await stores.open();
    const created = await resolveVapidKeys(PUSH_CONFIG, first);
    expect(created.generated).toBe(true);
    expect(created.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(created.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const again = await resolveVapidKeys(PUSH_CONFIG, first);
    const otherNode = await resolveVapidKeys(PUSH_CONFIG, await stores.open());
    for (const keys of [again, otherNode]) {
      expect(keys).toEqual({ ...created, generated: false });
    }
  });

  it("lets the first of two nodes starting at once decide the pair", async () => {
    const [a, b] = await Promise.all([resolveVapidKeys(PUSH_CONFIG, await stores.open()), resolveVapidKeys(PUSH_CONFIG, await stores.open())]);
    expect(a.publicKey).toBe(b.publicKey);
    expect(a.privateKey).toBe(b.privateKey);
    expect([a.generated, b.generated].filter(Boolean)).toHaveLength(1);
  });

  it("signs pushes the push service accepts with the generated pair", async () => {
    const keys = await resolveVapidKeys(PUSH_CONFIG, await stores.open());
    const subscriber = createPushSubscriber(service, { applicationServerKey: keys.publicKey });
    const sender = new WebPushSender({ vapid: keys, timeoutMs: 5000, agent: service.agent });
    expect(sender.publicKey).toBe(keys.publicKey);
    expect(await sender.send(record(subscriber), payload(), OPTIONS)).toMatchObject({ kind: "sent" });
    expect(subscriber.received()[0].vapidPublicKey).toBe(keys.publicKey);
  });
});

/** Public names resolve to a documentation-free public address; `intranet.example` to a private one. */
const lookup: HostLookup = async (hostname) => {
  if (hostname === "intranet.example") return [{ address: "10.1.2.3", family: 4 }];
  if (hostname === "nowhere.example") throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return [{ address: "142.250.74.10", family: 4 }];
};

describe("PushSubscriptionService", () => {
  let stores: ReturnType<typeof sqliteStores>;
  let subscriptions: PushSubscriptionService;
  let store: SqliteDeliveryStore;
  beforeEach(async () => {
    stores = sqliteStores();
    store = await stores.open();
    // A clock a second apart per call: "oldest" must not depend on subscriptions made in the same millisecond.
    let clock = Date.now();
    subscriptions = new PushSubscriptionService(store, {
      destinations: new DestinationPolicy({ allowPrivate: false, lookup }),
      maxSubscriptionsPerUser: 3,
      now: () => (clock += 1000),
    });
  });
  afterEach(() => stores.cleanup());

  const browser = (n: number | string = 1) => {
    const subscriber = createPushSubscriber(service);
    return { ...subscriber.toJSON(), endpoint: `https://fcm.googleapis.com/fcm/send/device-${n}` };
  };

  const rejection = async (input: unknown, userId = "usr_1"): Promise<SwitchboardError> => {
    const err = await subscriptions.subscribe(userId, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SwitchboardError);
    return err as SwitchboardError;
  };

  it("stores a browser's subscription with a psub_ id, its keys and a shortened user agent", async () => {
    const input = browser();
    const saved = await subscriptions.subscribe("usr_1", input, "Mozilla/5.0 ".repeat(40));
    expect(saved).toMatchObject({ userId: "usr_1", endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth });
    expect(saved.id).toMatch(/^psub_[0-9a-f]{24}$/);
    expect(saved.userAgent).toHaveLength(200);
    expect(await subscriptions.list("usr_1")).toEqual([saved]);
  });

  it("refuses keys that are not a P-256 point and a 16-byte secret, naming the field", async () => {
    const input = browser();
    const cases: [unknown, RegExp][] = [
      [{ ...input, keys: { ...input.keys, p256dh: input.keys.p256dh.slice(0, 40) } }, /^keys\.p256dh: .*65 bytes/],
      [{ ...input, keys: { ...input.keys, p256dh: Buffer.alloc(65, 4).toString("base64url") } }, /^keys\.p256dh: .*P-256 curve/],
      [{ ...input, keys: { ...input.keys, p256dh: "not base64 at all!" } }, /^keys\.p256dh: must be base64url/],
      [{ ...input, keys: { ...input.keys, auth: Buffer.alloc(15).toString("base64url") } }, /^keys\.auth: .*16 bytes/],
      [{ endpoint: input.endpoint }, /^keys: /],
    ];
    for (const [bad, message] of cases) {
      const err = await rejection(bad);
      expect(err.code).toBe("invalid_argument");
      expect(err.message).toMatch(message);
    }
    expect(await subscriptions.list("usr_1")).toEqual([]);
  });

  it("refuses endpoints that are not https, too long, or expired", async () => {
    const input = browser();
    for (const [endpoint, message] of [
      ["http://fcm.googleapis.com/fcm/send/x", /^endpoint: must be an https URL/],
      ["not a url", /^endpoint: must be an https URL/],
      [`https://fcm.googleapis.com/${"x".repeat(1024)}`, /^endpoint: must be at most 1024/],
      ["https://user:pw@fcm.googleapis.com/fcm/send/x", /^endpoint: must not contain credentials/],
    ] as const) {
      const err = await rejection({ ...input, endpoint });
      expect(err.code).toBe("invalid_argument");
      expect(err.message).toMatch(message);
    }
    const expired = await rejection({ ...input, expirationTime: Date.now() - 1000 });
    expect(expired.message).toMatch(/^expirationTime: /);
  });

  it("refuses endpoints on private, loopback or unresolvable hosts unless private ones are allowed", async () => {
    const subscriber = createPushSubscriber(service);
    const loopback = await rejection(subscriber.toJSON());
    expect(loopback.message).toMatch(/^endpoint: 127\.0\.0\.1 is a private or reserved address; .*PUSH_ALLOW_PRIVATE/);
    const intranet = await rejection({ ...subscriber.toJSON(), endpoint: "https://intranet.example/push/1" });
    expect(intranet.message).toMatch(/^endpoint: intranet\.example resolves to 10\.1\.2\.3/);
    const nowhere = await rejection({ ...subscriber.toJSON(), endpoint: "https://nowhere.example/push/1" });
    expect(nowhere.message).toMatch(/^endpoint: nowhere\.example does not resolve/);

    const permissive = new PushSubscriptionService(store, { destinations: new DestinationPolicy({ allowPrivate: true }), maxSubscriptionsPerUser: 3 });
    expect(await permissive.subscribe("usr_1", subscriber.toJSON())).toMatchObject({ endpoint: subscriber.endpoint });
  });

  it("keeps at most the per-user cap, dropping the oldest but never the one just registered again", async () => {
    for (const n of [1, 2, 3]) await subscriptions.subscribe("usr_1", browser(n));
    await subscriptions.subscribe("usr_1", browser(4));
    const endpoints = async () => (await subscriptions.list("usr_1")).map((s) => s.endpoint.split("-").at(-1));
    expect(await endpoints()).toEqual(["2", "3", "4"]);

    // Device 2 registers again (new keys): it is the oldest row, yet it must stay.
    await subscriptions.subscribe("usr_1", browser(2));
    expect((await endpoints()).sort()).toEqual(["2", "3", "4"]);
    // It kept its creation time, so it is the oldest when the next one comes.
    await subscriptions.subscribe("usr_1", browser(5));
    expect(await endpoints()).toEqual(["3", "4", "5"]);
    // Another user's subscriptions are theirs: the cap is per user.
    await subscriptions.subscribe("usr_2", browser(6));
    expect(await subscriptions.list("usr_1")).toHaveLength(3);
  });

  it("unsubscribes only the caller's own endpoint", async () => {
    const input = browser();
    await subscriptions.subscribe("usr_1", input);
    await expect(subscriptions.unsubscribe("usr_2", input.endpoint)).rejects.toMatchObject({ code: "not_found" });
    await subscriptions.unsubscribe("usr_1", input.endpoint);
    expect(await subscriptions.list("usr_1")).toEqual([]);
    await expect(subscriptions.unsubscribe("usr_1", input.endpoint)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("push HTTP routes", () => {
  let stores: ReturnType<typeof sqliteStores>;
  let store: SqliteDeliveryStore;
  let app: OpenAPIHono<HttpEnv>;

  beforeEach(async () => {
    stores = sqliteStores();
    store = await stores.open();
    const tokens = new TokenService({ secret: TEST_JWT_SECRET, clockToleranceSeconds: 5, maxTtlSeconds: 86400 });
    // Loopback allowed: the subscriber's endpoint is the local push service.
    const subscriptions = new PushSubscriptionService(store, { destinations: new DestinationPolicy({ allowPrivate: true }), maxSubscriptionsPerUser: 10 });
    app = new OpenAPIHono<HttpEnv>({
      defaultHook: (result) => {
        if (!result.success) throw validationError(result.error.issues);
      },
    });
    app.onError((err, c) => {
      const error = toSwitchboardError(err);
      return c.json({ error: error.toWire() }, HTTP_STATUS[error.code]);
    });
    registerPushRoutes(app, { tokens, subscriptions, devices: {} as never, publicKey: () => vapid.publicKey });
  });
  afterEach(() => stores.cleanup());

  const call = async (method: string, route: string, options: { token?: string; body?: unknown } = {}) => {
    const res = await app.request(route, {
      method,
      headers: { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  it("serves the VAPID public key without authentication", async () => {
    const res = await call("GET", "/v1/push/vapid-public-key");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ publicKey: vapid.publicKey });
  });

  it("registers the browser's subscription for the token's user, and a push to it arrives", async () => {
    const subscriber = createPushSubscriber(service, { applicationServerKey: vapid.publicKey });
    const res = await call("POST", "/v1/push/subscriptions", { token: await mintToken("usr_ada"), body: subscriber.toJSON() });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^psub_/), endpoint: subscriber.endpoint, createdAt: expect.any(String) });

    const [stored] = await store.listPushSubscriptions("usr_ada");
    expect(stored.id).toBe(res.body.id);
    const sender = new WebPushSender({ vapid: { subject: SUBJECT, ...vapid }, timeoutMs: 5000, agent: service.agent });
    expect(await sender.send(stored, payload(), OPTIONS)).toMatchObject({ kind: "sent" });
    expect(subscriber.received()[0].payloadText).toBe(payload());
  });

  it("asks for the user token before looking at the body", async () => {
    const missing = await call("POST", "/v1/push/subscriptions", { body: { nonsense: true } });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: "unauthorized", message: expect.stringContaining("Authorization: Bearer <user token>") });
    const expired = await call("POST", "/v1/push/subscriptions", { token: await mintToken("usr_ada", { expiresInSeconds: -60 }), body: {} });
    expect(expired.status).toBe(401);
    const forged = await call("DELETE", "/v1/push/subscriptions", { token: await mintToken("usr_ada", { secret: "another-secret-0123456789-0123456789" }), body: {} });
    expect(forged.status).toBe(401);

    const bad = await call("POST", "/v1/push/subscriptions", { token: await mintToken("usr_ada"), body: { endpoint: "https://push.example/x", keys: { p256dh: "AAAA", auth: "AAAA" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^keys\.p256dh: /);
  });

  it("removes the caller's subscription by endpoint and answers 404 for one it does not have", async () => {
    const subscriber = createPushSubscriber(service);
    const ada = await mintToken("usr_ada");
    await call("POST", "/v1/push/subscriptions", { token: ada, body: subscriber.toJSON() });
    const other = await call("DELETE", "/v1/push/subscriptions", { token: await mintToken("usr_bob"), body: { endpoint: subscriber.endpoint } });
    expect(other.status).toBe(404);
    expect((await call("DELETE", "/v1/push/subscriptions", { token: ada, body: { endpoint: subscriber.endpoint } })).status).toBe(204);
    expect(await store.listPushSubscriptions("usr_ada")).toEqual([]);
    expect((await call("DELETE", "/v1/push/subscriptions", { token: ada, body: { endpoint: subscriber.endpoint } })).status).toBe(404);
  });

  it("documents the user token routes with the userToken scheme and the key route as public", () => {
    const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    expect(doc.paths?.["/v1/push/vapid-public-key"]?.get?.security).toEqual([]);
    expect(doc.paths?.["/v1/push/subscriptions"]?.post?.security).toEqual([{ userToken: [] }]);
    expect(doc.paths?.["/v1/push/subscriptions"]?.delete?.security).toEqual([{ userToken: [] }]);
    expect(PUSH_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual([
      "GET /v1/push/vapid-public-key",
      "POST /v1/push/subscriptions",
      "DELETE /v1/push/subscriptions",
      "POST /v1/push/devices",
      "GET /v1/push/devices",
      "DELETE /v1/push/devices/{token}",
    ]);
    expect(doc.paths?.["/v1/push/devices"]?.post?.security).toEqual([{ userToken: [] }]);
  });
});
