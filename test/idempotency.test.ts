import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Conversation, Message, User } from "../client-sdk/src/protocol.js";
import type { ApiKeyService } from "../server/src/auth/api-key-service.js";
import type { TokenService } from "../server/src/auth/token-service.js";
import { loadConfig } from "../server/src/config.js";
import type { UserService } from "../server/src/core/user-service.js";
import { SqliteIdempotencyStore } from "../server/src/idempotency/sqlite-idempotency-store.js";
import { RateLimit } from "../server/src/limits/rate-limit.js";
import { openSqliteDatabase, type SqliteDatabase } from "../server/src/store/sqlite-store.js";
import { createHttpApi } from "../server/src/transport/http-api.js";
import { InflightTracker } from "../server/src/transport/inflight-tracker.js";
import { waitFor } from "./support/harness.js";
import { call, captureLogger, startHttpApp, type HttpTestApp } from "./support/http-harness.js";

const DEMO_DIR = fileURLToPath(new URL("../demo-app/public/", import.meta.url));

interface ErrorBody {
  error: { code: string; message: string };
}
interface CreatedKey {
  id: string;
  key: string;
}

describe("Idempotency-Key on the HTTP API", () => {
  let t: HttpTestApp;
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;
  const idem = (key: string) => ({ "idempotency-key": key });

  beforeAll(async () => {
    t = await startHttpApp({ RATE_LIMIT_MESSAGES: "3" });
  });
  afterAll(async () => {
    await t?.close();
  });

  const group = async (memberIds: string[]) => (await t.call<Conversation>("POST", "/v1/conversations", { json: { type: "group", memberIds } })).body;
  const history = async (conversationId: string) =>
    (await t.call<{ messages: Message[] }>("GET", `/v1/conversations/${conversationId}/messages`)).body.messages;

  it("replays the stored status and body with Idempotent-Replayed: true, and runs the request only once", async () => {
    const sender = uid("alice");
    const conversation = await group([sender]);
    const send = () =>
      t.call<Message>("POST", `/v1/conversations/${conversation.id}/messages`, { json: { senderId: sender, text: "exactly once" }, headers: idem("send-1") });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("content-type")).toMatch(/^application\/json/);
    expect(second.text).toBe(first.text);
    // No clientMessageId: without the key, a retry would have stored a second message.
    expect((await history(conversation.id)).map((m) => m.id)).toEqual([first.body.id]);
  });

  it("keeps rate limit and request id headers on a replayed response", async () => {
    const headers = { ...idem("user-headers"), "x-request-id": "replay-trace" };
    await t.call("POST", "/v1/users", { json: { id: uid("u") }, headers: idem("user-headers") });
    const replay = await t.call("POST", "/v1/users", { json: { id: `u-${n}` }, headers });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("ratelimit-limit")).toBe(String(t.app.config.limits.httpPer10s));
    expect(replay.headers.get("ratelimit-remaining")).toMatch(/^\d+$/);
    expect(replay.headers.get("x-request-id")).toBe("replay-trace");
  });

  it("answers 409 conflict when the key is reused with another body or another path, and keeps the first response", async () => {
    const id = uid("u");
    const first = await t.call<User>("POST", "/v1/users", { json: { id, name: "First" }, headers: idem("reused") });
    expect(first.status).toBe(200);
    const otherBody = await t.call<ErrorBody>("POST", "/v1/users", { json: { id, name: "Second" }, headers: idem("reused") });
    expect(otherBody.status).toBe(409);
    expect(otherBody.body.error.code).toBe("conflict");
    expect(otherBody.body.error.message).toMatch(/already used with a different request/);
    const otherPath = await t.call<ErrorBody>("POST", "/v1/conversations", { json: { id, name: "First" }, headers: idem("reused") });
    expect(otherPath.status).toBe(409);
    expect((await t.call<User>("GET", `/v1/users/${id}`)).body.name).toBe("First");
    expect((await t.call("POST", "/v1/users", { json: { id, name: "First" }, headers: idem("reused") })).headers.get("idempotent-replayed")).toBe("true");
  });

  it("keeps keys per API key: another key's request with the same Idempotency-Key runs", async () => {
    const other = (await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: uid("key") } })).body;
    const sender = uid("s");
    const conversation = await group([sender]);
    const path = `/v1/conversations/${conversation.id}/messages`;
    const mine = await t.call<Message>("POST", path, { json: { senderId: sender, text: "hi" }, headers: idem("shared-key") });
    const theirs = await t.call<Message>("POST", path, { key: other.key, json: { senderId: sender, text: "hi" }, headers: idem("shared-key") });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it("stores a deterministic client error and replays it", async () => {
    const bad = () => t.call<ErrorBody>("POST", "/v1/conversations", { json: { type: "nope", memberIds: ["a"] }, headers: idem("bad-body") });
    const first = await bad();
    expect(first.status).toBe(400);
    const again = await bad();
    expect(again.status).toBe(400);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });

  it("does not store a 429, so the same request with the same key runs again later", async () => {
    const sender = uid("busy");
    const conversation = await group([sender]);
    const path = `/v1/conversations/${conversation.id}/messages`;
    for (let i = 0; i < t.app.config.limits.messagesPer10s; i++) {
      expect((await t.call("POST", path, { json: { senderId: sender, text: `m${i}` } })).status).toBe(201);
    }
    const limited = () => t.call<ErrorBody>("POST", path, { json: { senderId: sender, text: "one more" }, headers: idem("limited") });
    const first = await limited();
    expect(first.status).toBe(429);
    const again = await limited();
    expect(again.status).toBe(429);
    // Ran again (and was limited again) instead of being replayed.
    expect(again.headers.get("idempotent-replayed")).toBeNull();
  });

  it("ignores the header on GET and accepts keys of 1 to 255 characters on POST", async () => {
    const get = await t.call("GET", "/v1/users/nobody", { headers: idem("x") });
    expect(get.status).toBe(404);
    expect((await t.call("GET", "/v1/users/nobody", { headers: idem("x") })).headers.get("idempotent-replayed")).toBeNull();
    expect((await t.call("POST", "/v1/users", { json: { id: uid("u") }, headers: idem("k".repeat(255)) })).status).toBe(200);
    const tooLong = await t.call<ErrorBody>("POST", "/v1/users", { json: { id: uid("u") }, headers: idem("k".repeat(256)) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toEqual({ code: "invalid_argument", message: "Idempotency-Key must be 1 to 255 characters." });
  });

  describe("after 24 hours", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("forgets a key, so the same key runs the request again", async () => {
      const sender = uid("late");
      const conversation = await group([sender]);
      const send = () => t.call<Message>("POST", `/v1/conversations/${conversation.id}/messages`, { json: { senderId: sender, text: "daily" }, headers: idem("daily") });
      const first = await send();
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 23 * 3600_000);
      expect((await send()).headers.get("idempotent-replayed")).toBe("true");
      vi.setSystemTime(Date.now() + 3600_000 + 1000);
      const later = await send();
      expect(later.status).toBe(201);
      expect(later.headers.get("idempotent-replayed")).toBeNull();
      expect(later.body.id).not.toBe(first.body.id);
    });
  });
});

describe("Idempotency-Key around requests that are still running or fail", () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: SqliteIdempotencyStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-idem-http-"));
    db = openSqliteDatabase(path.join(dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 });
    store = new SqliteIdempotencyStore(db);
    await store.init();
  });
  afterAll(async () => {
    db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The API over a stub user service (the only one these tests call) and the real idempotency store. */
  function api(users: Partial<UserService>) {
    const admin = { kind: "api-key" as const, keyId: `k-${Math.random()}`, name: "test", scopes: ["admin" as const] };
    return createHttpApi({
      config: loadConfig({ DATA_DIR: dir, LOG_LEVEL: "silent" }),
      logger: captureLogger().logger,
      tokens: {} as TokenService,
      apiKeys: { verify: async () => admin } as unknown as ApiKeyService,
      users: users as UserService,
      conversations: {} as never,
      messages: {} as never,
      limits: { http: RateLimit.inMemory(100, 10, "test"), messages: RateLimit.inMemory(100, 10, "test") },
      readiness: async () => ({ ok: true, checks: {} }),
      inflight: new InflightTracker(),
      originAllowed: () => true,
      demoDir: DEMO_DIR,
      storeName: "stub",
      idempotency: store,
    });
  }

  it("answers 409 'still in progress' to a duplicate while the first request runs, then replays its response", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const app = api({
      upsert: async (input) => {
        calls += 1;
        await gate;
        return { id: input.id, role: "user", createdAt: new Date(0).toISOString() };
      },
    });
    const post = () => call<ErrorBody>(app, "POST", "/v1/users", { json: { id: "slow" }, headers: { "idempotency-key": "slow-1" } });
    const first = post();
    await waitFor(() => calls === 1, "the first request to reach the service");
    const duplicate = await post();
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe("conflict");
    expect(duplicate.body.error.message).toMatch(/still in progress/);
    release();
    expect((await first).status).toBe(200);
    const replay = await post();
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(calls).toBe(1);
  });

  it("does not store a 500: the same request with the same key runs again", async () => {
    let calls = 0;
    const app = api({
      upsert: async (input) => {
        calls += 1;
        if (calls === 1) throw new Error("database hiccup");
        return { id: input.id, role: "user", createdAt: new Date(0).toISOString() };
      },
    });
    const post = () => call(app, "POST", "/v1/users", { json: { id: "flaky" }, headers: { "idempotency-key": "flaky-1" } });
    expect((await post()).status).toBe(500);
    const retry = await post();
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(calls).toBe(2);
  });
});
