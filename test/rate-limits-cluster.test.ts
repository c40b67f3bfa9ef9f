import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation } from "../client-sdk/src/protocol.js";
import { createApp, type SwitchboardApp } from "../server/src/app.js";
import { loadConfig } from "../server/src/config.js";
import { RateLimit } from "../server/src/limits/rate-limit.js";
import { connectUser, request, TEST_ADMIN_KEY, tempDir, testEnv, waitFor } from "./support/harness.js";
import { call, captureLogger, type CallOptions } from "./support/http-harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

/** Large enough for the admin key's setup calls across the file (each test makes its own keys). */
const HTTP_LIMIT = 10;
const MESSAGE_LIMIT = 3;

interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * Two nodes in one process, sharing one Redis (cluster mode) and one SQLite file, as two
 * processes behind a load balancer would: a caller whose requests alternate between them must
 * meet one budget, not one per node.
 */
describe("rate limits shared through Redis in cluster mode", () => {
  let redis: TestRedis;
  let data: { dir: string; remove: () => void };
  let nodes: SwitchboardApp[] = [];
  let a: SwitchboardApp;
  let b: SwitchboardApp;
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir();
    const start = async (nodeId: string) => {
      const env = testEnv(data.dir, { REDIS_URL: redis.url, NODE_ID: nodeId, RATE_LIMIT_HTTP: String(HTTP_LIMIT), RATE_LIMIT_MESSAGES: String(MESSAGE_LIMIT) });
      const app = await createApp(loadConfig(env), { logger: captureLogger().logger });
      nodes.push(app);
      await app.listen();
      return app;
    };
    a = await start("node-a");
    b = await start("node-b");
  });
  afterAll(async () => {
    // Redis must be up for the nodes' clients to quit cleanly.
    await redis?.start().catch(() => undefined);
    for (const node of nodes) await node.close();
    nodes = [];
    await redis?.close();
    data?.remove();
  });

  const admin = (app: SwitchboardApp, method: string, path: string, options: CallOptions = {}) => call(app, method, path, { key: TEST_ADMIN_KEY, ...options });
  /** A fresh key with its own budget (costs the admin key one request on node A). */
  const freshKey = async (scopes?: string[]) => {
    const res = await admin(a, "POST", "/v1/api-keys", { json: { name: uid("key"), ...(scopes ? { scopes } : {}) } });
    expect(res.status).toBe(201);
    return res.body.key as string;
  };

  it("counts one API key's requests on both nodes together: exhausted on A, refused on B", async () => {
    const key = await freshKey();
    const remaining: string[] = [];
    for (let i = 0; i < HTTP_LIMIT; i++) {
      const res = await call(a, "GET", "/v1/users/nobody", { key });
      expect(res.status).toBe(404);
      remaining.push(res.headers.get("ratelimit-remaining") ?? "");
    }
    expect(remaining).toEqual(Array.from({ length: HTTP_LIMIT }, (_, i) => String(HTTP_LIMIT - 1 - i)));

    const refused = await call<ErrorBody>(b, "GET", "/v1/users/nobody", { key });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(10);
    expect(refused.headers.get("ratelimit-limit")).toBe(String(HTTP_LIMIT));
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect((await call(a, "GET", "/v1/users/nobody", { key })).status).toBe(429);

    // Another key keeps its own budget on either node.
    const other = await freshKey();
    expect((await call(b, "GET", "/v1/users/nobody", { key: other })).status).toBe(404);
  });

  it("counts one user's messages across nodes, HTTP and socket sends together", async () => {
    const sender = uid("sam");
    const viaA = await freshKey();
    const viaB = await freshKey();
    const conversation = (await call<Conversation>(a, "POST", "/v1/conversations", { key: viaA, json: { type: "group", memberIds: [sender, uid("peer")] } })).body;
    const path = `/v1/conversations/${conversation.id}/messages`;
    for (let i = 0; i < MESSAGE_LIMIT; i++) {
      expect((await call(a, "POST", path, { key: viaA, json: { senderId: sender, text: `m${i}` } })).status).toBe(201);
    }
    const refused = await call<ErrorBody>(b, "POST", path, { key: viaB, json: { senderId: sender, text: "one too many" } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/messages per 10 s per user/);

    // The same user on a socket of node B shares the budget.
    const socket = await connectUser(b.localUrl, sender);
    try {
      const ack = await request(socket, "message:send", { conversationId: conversation.id, clientMessageId: uid("cm"), text: "from the app" });
      expect(ack).toMatchObject({ ok: false, error: { code: "rate_limited", retryAfterMs: expect.any(Number) } });
    } finally {
      socket.close();
    }
  });

  it("sets RateLimit-Limit and RateLimit-Remaining on every /v1 response, errors included", async () => {
    const key = await freshKey();
    const reader = await freshKey(["read"]);
    const responses = [
      await call(b, "POST", "/v1/users", { key, json: { id: uid("u") } }),
      await call(b, "GET", "/v1/users/nobody", { key }),
      await call(b, "POST", "/v1/users", { key, json: { id: "has space" } }),
      await call(b, "POST", "/v1/users", { key, raw: "{", headers: { "content-type": "application/json" } }),
      await call(b, "POST", "/v1/conversations", { key, json: { id: "taken", type: "group", memberIds: ["x"] } }),
      await call(b, "POST", "/v1/conversations", { key, json: { id: "taken", type: "group", memberIds: ["y"] } }),
      await call(b, "POST", "/v1/users", { key: reader, json: { id: uid("u") } }),
      await call(b, "GET", "/v1/no-such-route", { key: reader }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 400, 400, 201, 409, 403, 404]);
    for (const res of responses) {
      expect(res.headers.get("ratelimit-limit"), `status ${res.status}`).toBe(String(HTTP_LIMIT));
      expect(res.headers.get("ratelimit-remaining"), `status ${res.status}`).toMatch(/^\d+$/);
    }
  });

  it("keeps answering while Redis is down, limiting each node in its own memory, and shares the budget again once Redis is back", async () => {
    const key = await freshKey();
    await redis.kill();
    try {
      const statuses: number[] = [];
      for (let i = 0; i <= HTTP_LIMIT; i++) statuses.push((await call(a, "GET", "/v1/users/nobody", { key })).status);
      // No 503: the in-memory insurance limiter counts on node A alone.
      expect(statuses).toEqual([...Array.from({ length: HTTP_LIMIT }, () => 404), 429]);
      expect((await call(b, "GET", "/v1/users/nobody", { key })).status).toBe(404);
    } finally {
      await redis.start();
    }
    const other = await freshKey();
    await waitForRedisLimiter(a, other);
    for (let i = 0; i < HTTP_LIMIT - 1; i++) expect((await call(a, "GET", "/v1/users/nobody", { key: other })).status).toBe(404);
    expect((await call(b, "GET", "/v1/users/nobody", { key: other })).status).toBe(429);
  });
});

/**
 * The shared limiter itself, on two Redis clients as two nodes have: it decides locally while a
 * key is far from its limit, so these tests look at what it admits and at what Redis counted.
 */
describe("a shared limit counted locally and synced through Redis", () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await redis?.close();
  });
  const client = async () => {
    const c = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    await c.connect();
    clients.push(c);
    return c;
  };
  /** Calls of `command` Redis has run so far (INFO commandstats). */
  const calls = async (c: Redis, command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await c.info("commandstats"))?.[1] ?? 0);
  /** The limiter's windows are fixed 10 s windows: start a test well inside one. */
  const insideOneWindow = () => waitFor(() => Date.now() % 10_000 < 5_000, "the start of a 10 s window", 10_000, 50);

  it("admits exactly the limit across two nodes when one caller alternates between them", async () => {
    const [a, b] = [await client(), await client()];
    const limitA = RateLimit.redisSynced(a, 20, 10, "20 per 10 s", "test:rl:alternate");
    const limitB = RateLimit.redisSynced(b, 20, 10, "20 per 10 s", "test:rl:alternate");
    await insideOneWindow();
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(await (i % 2 === 0 ? limitA : limitB).consume("caller").then(() => "ok", (err: { code?: string }) => err.code ?? "error"));
    }
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(20);
    expect(new Set(outcomes.filter((o) => o !== "ok"))).toEqual(new Set(["rate_limited"]));
    // Another caller still has its whole budget on either node.
    await expect(limitB.consume("someone-else")).resolves.toBe(19);
  });

  it("costs Redis a few commands, not one per call, while a caller stays far from the limit, and still counts every call there", async () => {
    const c = await client();
    const limit = RateLimit.redisSynced(c, 1000, 10, "1000 per 10 s", "test:rl:quiet", { syncMs: 50 });
    await insideOneWindow();
    const before = await calls(c, "incrby");
    for (let i = 0; i < 100; i++) await limit.consume("chatty");
    // The unsynced counts reach Redis within a sync interval.
    const key = (await c.keys("test:rl:quiet:chatty:*"))[0];
    await waitFor(async () => Number(await c.get(key)) === 100, "Redis to hold all 100 counts");
    expect((await calls(c, "incrby")) - before).toBeLessThanOrEqual(5);
    expect(await c.pttl(key)).toBeGreaterThan(0);
  });
});

/**
 * Waits until node `app`'s Redis client is connected again (its readiness says so), spending
 * one request of `key`'s budget on the probe that proves it.
 */
async function waitForRedisLimiter(app: SwitchboardApp, key: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await call(app, "GET", "/readyz", { key: null });
    if (ready.body?.checks?.redis === "ok") break;
    if (Date.now() > deadline) throw new Error(`Redis did not come back: ${JSON.stringify(ready.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await call(app, "GET", "/v1/users/nobody", { key })).status).toBe(404);
}
