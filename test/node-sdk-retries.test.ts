import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook, WebhookVerificationError as ReferenceError } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { retryingFetch, Switchboard, SwitchboardApiError, verifyWebhook, WebhookVerificationError } from "../node-sdk/src/index.js";
import { standardWebhookHeaders } from "../server/src/webhooks/webhook-signature.js";

/** One request the scripted server got. */
interface Seen {
  method: string;
  url: string;
  idempotencyKey: string | undefined;
  body: string;
}

/** A real HTTP server that answers from a script, one step per request (the last step repeats). */
async function scriptedServer(steps: ((req: http.IncomingMessage, res: http.ServerResponse) => void)[]) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, idempotencyKey: req.headers["idempotency-key"] as string | undefined, body: Buffer.concat(chunks).toString() });
      steps[Math.min(seen.length - 1, steps.length - 1)]!(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", "x-request-id": `req-${status}`, ...headers });
    res.end(JSON.stringify(body));
  };
/** Polls `check` every 5 ms, for at most 5 s. */
async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
const drop = (req: http.IncomingMessage) => req.socket.destroy();
const USER = { id: "alice", role: "user", createdAt: "2026-01-01T00:00:00.000Z" };

describe("the Node SDK's retries", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const start = async (steps: Parameters<typeof scriptedServer>[0]) => {
    const s = await scriptedServer(steps);
    cleanups.push(s.close);
    return s;
  };

  it("does not retry a 400, and throws the server's code, message and request id", async () => {
    const s = await start([json(400, { error: { code: "invalid_argument", message: "name: too long" } })]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 1 } });
    const err = await sb.users.upsert({ id: "alice" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardApiError);
    expect(err).toMatchObject({ code: "invalid_argument", status: 400, message: "name: too long", requestId: "req-400" });
    expect(s.seen).toHaveLength(1);
  });

  it("does not retry other 4xx answers either (401, 403, 404, 409)", async () => {
    for (const [status, code] of [[401, "unauthorized"], [403, "forbidden"], [404, "not_found"], [409, "conflict"]] as const) {
      const s = await start([json(status, { error: { code, message: code } })]);
      const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 1 } });
      await expect(sb.users.get("alice")).rejects.toMatchObject({ code, status });
      expect(s.seen).toHaveLength(1);
    }
  });

  it("waits for Retry-After on a 429 and sends the same Idempotency-Key again", async () => {
    const s = await start([json(429, { error: { code: "rate_limited", message: "slow down" } }, { "retry-after": "1" }), json(200, USER)]);
    // A backoff of at most 1 ms: only Retry-After can make the SDK wait a second.
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 1, maxDelayMs: 5000 } });
    const started = performance.now();
    expect(await sb.users.upsert({ id: "alice" })).toEqual(USER);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(s.seen).toHaveLength(2);
    expect(s.seen[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.seen[1]!.idempotencyKey).toBe(s.seen[0]!.idempotencyKey);
    expect(s.seen[1]!.body).toBe(s.seen[0]!.body);
  });

  it("retries 5xx answers and dropped connections with one Idempotency-Key per call, and a new key for the next call", async () => {
    const s = await start([json(503, { error: { code: "unavailable", message: "draining" } }), drop, json(500, { error: { code: "internal", message: "oops" } }), json(200, USER)]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 5, maxRetries: 3 } });
    expect(await sb.users.upsert({ id: "alice" })).toEqual(USER);
    expect(s.seen).toHaveLength(4);
    expect(new Set(s.seen.map((r) => r.idempotencyKey)).size).toBe(1);
    await sb.users.upsert({ id: "alice" });
    expect(s.seen[4]!.idempotencyKey).not.toBe(s.seen[0]!.idempotencyKey);
    // GETs carry no key: they are safe to repeat anyway.
    await sb.users.get("alice");
    expect(s.seen[5]).toMatchObject({ method: "GET", idempotencyKey: undefined });
  });

  it("keeps a key the caller chose", async () => {
    const s = await start([json(503, {}), json(200, USER)]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 1 } });
    await sb.api.POST("/v1/users", { body: { id: "alice" }, params: { header: { "Idempotency-Key": "mine-1" } } });
    expect(s.seen.map((r) => r.idempotencyKey)).toEqual(["mine-1", "mine-1"]);
  });

  it("gives up after maxRetries with the last answer's error, or network_error when nothing answered", async () => {
    const s = await start([json(502, { error: { code: "unavailable", message: "bad gateway" } })]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 1, maxRetries: 2 } });
    await expect(sb.users.get("alice")).rejects.toMatchObject({ code: "unavailable", status: 502 });
    expect(s.seen).toHaveLength(3);

    const down = await start([drop]);
    const sb2 = new Switchboard({ baseUrl: down.url, apiKey: "k", retry: { baseDelayMs: 1, maxRetries: 1 } });
    const err = await sb2.users.get("alice").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "network_error", status: 0 });
    expect((err as Error).message).toMatch(/no answer after 2 attempt/);
    expect(down.seen).toHaveLength(2);
  });

  it("answers a Retry-After longer than maxDelayMs at once, with retryAfterMs on the error", async () => {
    const s = await start([json(429, { error: { code: "rate_limited", message: "wait" } }, { "retry-after": "120" })]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { maxDelayMs: 1000 } });
    await expect(sb.users.get("alice")).rejects.toMatchObject({ code: "rate_limited", retryAfterMs: 120_000 });
    expect(s.seen).toHaveLength(1);
  });

  it("stops retrying when the caller aborts, with the caller's reason", async () => {
    const s = await start([json(503, {})]);
    const sb = new Switchboard({ baseUrl: s.url, apiKey: "k", retry: { baseDelayMs: 50, maxRetries: 50 } });
    const stop = new AbortController();
    const pending = sb.api.GET("/v1/users/{id}", { params: { path: { id: "alice" } }, signal: stop.signal });
    await waitUntil(() => s.seen.length >= 2);
    stop.abort(new Error("caller gave up"));
    // The rejection comes from the retry loop itself, so it has ended: far fewer than 51 attempts were made.
    await expect(pending).rejects.toThrow("caller gave up");
    expect(s.seen.length).toBeLessThan(10);
  });

  it("backs off with full jitter: a random wait up to base·2^attempt, capped", async () => {
    const s = await start([json(503, {})]);
    const waits: number[] = [];
    const send = retryingFetch({ maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5, sleep: async (ms) => void waits.push(ms) });
    const res = await send(new Request(`${s.url}/v1/users/alice`));
    expect(res.status).toBe(503);
    expect(waits).toEqual([50, 100, 200, 400, 500]);
  });
});

describe("webhook verification", () => {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const newSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const body = JSON.stringify({ type: "message.created", data: { text: "héllo" } });
  const reference = (s: string, payload: string, headers: Record<string, string>) => {
    try {
      new Webhook(s).verify(payload, headers);
      return true;
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      return false;
    }
  };
  const ours = (s: string | string[], payload: string, headers: Record<string, string>) => {
    try {
      verifyWebhook(headers, payload, Array.isArray(s) ? { secrets: s } : { secret: s });
      return true;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      return false;
    }
  };

  it("accepts a delivery signed by the server and one signed by the standardwebhooks package, as that package does", () => {
    const fromServer = { ...standardWebhookHeaders([secret], "msg_1", body, Date.now()) };
    const ts = new Date();
    const fromPackage = { "webhook-id": "msg_2", "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign("msg_2", ts, body) };
    for (const headers of [fromServer, fromPackage]) {
      expect(reference(secret, body, headers)).toBe(true);
      expect(ours(secret, body, headers)).toBe(true);
    }
    expect(verifyWebhook(fromServer, Buffer.from(body), { secret })).toEqual(JSON.parse(body));
  });

  it("refuses a tampered body, id or signature, and a wrong secret, as that package does", () => {
    const headers = { ...standardWebhookHeaders([secret], "msg_3", body, Date.now()) };
    const cases: [string, string, Record<string, string>][] = [
      [secret, body.replace("héllo", "hello"), headers],
      [secret, body, { ...headers, "webhook-id": "msg_4" }],
      [secret, body, { ...headers, "webhook-signature": `v1,${Buffer.from("x".repeat(32)).toString("base64")}` }],
      [newSecret, body, headers],
    ];
    for (const [s, payload, h] of cases) {
      expect(reference(s, payload, h)).toBe(false);
      expect(ours(s, payload, h)).toBe(false);
    }
  });

  it("refuses a stale or far-future timestamp, as that package does, and accepts it within a tolerance given", () => {
    for (const offsetSeconds of [-600, 600]) {
      const headers = { ...standardWebhookHeaders([secret], "msg_5", body, Date.now() + offsetSeconds * 1000) };
      expect(reference(secret, body, headers)).toBe(false);
      expect(ours(secret, body, headers)).toBe(false);
      expect(() => verifyWebhook(headers, body, { secret })).toThrow(expect.objectContaining({ reason: "stale" }));
      expect(verifyWebhook(headers, body, { secret, toleranceSeconds: 900 })).toEqual(JSON.parse(body));
    }
  });

  it("accepts a delivery signed with both secrets during a rotation with either one, as that package does, and any of several secrets", () => {
    const both = { ...standardWebhookHeaders([newSecret, secret], "msg_6", body, Date.now()) };
    for (const s of [secret, newSecret]) {
      expect(reference(s, body, both)).toBe(true);
      expect(ours(s, body, both)).toBe(true);
    }
    const oldOnly = { ...standardWebhookHeaders([secret], "msg_7", body, Date.now()) };
    expect(reference(newSecret, body, oldOnly)).toBe(false);
    expect(ours(newSecret, body, oldOnly)).toBe(false);
    expect(ours([newSecret, secret], body, oldOnly)).toBe(true);
  });

  it("says which header is missing from a request that is not a webhook", () => {
    expect(() => verifyWebhook(new Headers({ "webhook-id": "x" }), body, { secret })).toThrow(/Missing webhook-id, webhook-timestamp or webhook-signature/);
  });
});
