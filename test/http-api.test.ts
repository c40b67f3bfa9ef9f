import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as ioClient, type Socket } from "socket.io-client";
import type { ClientToServerEvents, Conversation, Message, ServerToClientEvents, User } from "../client-sdk/src/protocol.js";
import { TokenService } from "../server/src/auth/token-service.js";
import type { ApiKeyService } from "../server/src/auth/api-key-service.js";
import { loadConfig } from "../server/src/config.js";
import type { UserService } from "../server/src/core/user-service.js";
import { RateLimit } from "../server/src/limits/rate-limit.js";
import { createHttpApi } from "../server/src/transport/http-api.js";
import { API_ROUTES } from "../server/src/transport/http-routes.js";
import { WEBHOOK_ROUTES } from "../server/src/transport/http-webhook-routes.js";
import { DELIVERY_ROUTES, MY_DELIVERY_ROUTES } from "../server/src/transport/http-delivery-routes.js";
import { PUSH_ROUTES } from "../server/src/transport/http-push-routes.js";
import { EMAIL_ROUTES } from "../server/src/transport/http-email-routes.js";
import { UPLOAD_ROUTES } from "../server/src/transport/http-upload-routes.js";
import { SUPPORT_ROUTES } from "../server/src/transport/http-support-routes.js";
import { InflightTracker } from "../server/src/transport/inflight-tracker.js";
import { call, captureLogger, HTTP_ADMIN_KEY, HTTP_JWT_SECRET, startHttpApp, type CallResult, type HttpTestApp } from "./support/http-harness.js";

const DEMO_DIR = fileURLToPath(new URL("../demo-app/public/", import.meta.url));

interface ErrorBody {
  error: { code: string; message: string; retryAfterMs?: number };
}
interface MessagePage {
  messages: Message[];
  hasMore: boolean;
}
interface CreatedKey {
  id: string;
  key: string;
  name: string;
  prefix: string;
  scopes: string[];
}

/** Every operation the API must document, as `METHOD path` (PROTOCOL.md section 5 plus API keys and webhooks). */
const EXPECTED_OPERATIONS = [
  "POST /v1/users",
  "GET /v1/users/{id}",
  "POST /v1/conversations",
  "GET /v1/conversations/{id}",
  "POST /v1/conversations/{id}/members",
  "DELETE /v1/conversations/{id}/members/{userId}",
  "POST /v1/conversations/{id}/messages",
  "GET /v1/conversations/{id}/messages",
  "PATCH /v1/conversations/{id}/messages/{messageId}",
  "DELETE /v1/conversations/{id}/messages/{messageId}",
  "POST /v1/conversations/{id}/messages/{messageId}/reactions",
  "DELETE /v1/conversations/{id}/messages/{messageId}/reactions",
  "GET /v1/conversations/{id}/changes",
  "POST /v1/tokens",
  "POST /v1/api-keys",
  "GET /v1/api-keys",
  "DELETE /v1/api-keys/{id}",
  "POST /v1/api-keys/{id}/rotate",
  "POST /v1/webhooks",
  "GET /v1/webhooks",
  "GET /v1/webhooks/{id}",
  "PATCH /v1/webhooks/{id}",
  "DELETE /v1/webhooks/{id}",
  "GET /v1/webhooks/{id}/secret",
  "POST /v1/webhooks/{id}/rotate-secret",
  "GET /v1/webhooks/{id}/deliveries",
  "POST /v1/webhooks/{id}/deliveries/{deliveryId}/replay",
  "POST /v1/webhooks/{id}/replay",
  "POST /v1/widget/sessions",
  "POST /v1/widget-keys",
  "GET /v1/widget-keys",
  "GET /v1/widget-keys/{id}",
  "DELETE /v1/widget-keys/{id}",
  "GET /healthz",
  "GET /readyz",
  "POST /v1/conversations/{id}/read",
  "GET /v1/messages/{id}/deliveries",
  "GET /v1/users/{id}/notification-preferences",
  "PATCH /v1/users/{id}/notification-preferences",
  "PUT /v1/users/{id}/mutes/{conversationId}",
  "DELETE /v1/users/{id}/mutes/{conversationId}",
  "GET /v1/users/{id}/sms-consent",
  "POST /v1/users/{id}/sms-consent",
  "GET /v1/push/vapid-public-key",
  "GET /v1/email/unsubscribe/{token}",
  "POST /v1/email/unsubscribe/{token}",
  "POST /v1/push/subscriptions",
  "DELETE /v1/push/subscriptions",
  "GET /v1/me/notification-preferences",
  "PATCH /v1/me/notification-preferences",
  "PUT /v1/me/mutes/{conversationId}",
  "DELETE /v1/me/mutes/{conversationId}",
  "POST /v1/uploads",
  "GET /v1/uploads/{id}",
  "GET /v1/uploads/{id}/content",
].sort();

/** `/v1` routes that take no API key. */
const PUBLIC_V1_PATHS = ["/v1/widget/sessions", "/v1/push/vapid-public-key", "/v1/uploads/{id}/content", "/v1/email/unsubscribe/{token}"];
/** `/v1` routes that take the user's own token instead. */
const USER_TOKEN_PATHS = ["/v1/push/subscriptions", "/v1/me/notification-preferences", "/v1/me/mutes/{conversationId}"];
/** `/v1` routes that take either the user's own token or an API key. */
const USER_TOKEN_OR_API_KEY_PATHS = ["/v1/uploads", "/v1/uploads/{id}"];
/** Routes outside the OpenAPI document: Twilio's webhooks (form-encoded, signed) and the SMS sandbox. */
const UNDOCUMENTED = ["POST /v1/sms/inbound", "POST /v1/sms/status", "GET /sandbox/sms", "GET /sandbox/sms.css", "GET /v1/sandbox/sms", "POST /v1/sandbox/sms/inbound"];

describe("HTTP API", () => {
  let t: HttpTestApp;
  let seq = 0;
  /** A fresh id per call, so tests never depend on each other's data. */
  const uid = (prefix: string) => `${prefix}-${++seq}`;

  const createKey = async (scopes?: string[]) => {
    const res = await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: uid("key"), ...(scopes ? { scopes } : {}) } });
    expect(res.status).toBe(201);
    return res.body;
  };

  const createGroup = async (memberIds: string[]) => {
    const res = await t.call<Conversation>("POST", "/v1/conversations", { json: { type: "group", memberIds } });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    t = await startHttpApp({ ALLOWED_ORIGINS: "https://app.example.com" });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe("users", () => {
    it("creates a user with POST /v1/users and reads it back with GET /v1/users/:id", async () => {
      const id = uid("user");
      const created = await t.call<User>("POST", "/v1/users", { json: { id, name: "Ada", phone: "+14155550100", role: "agent" } });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ id, name: "Ada", phone: "+14155550100", role: "agent", createdAt: expect.any(String) });
      const read = await t.call<User>("GET", `/v1/users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
    });

    it("updates only the fields given when a user is posted again", async () => {
      const id = uid("user");
      await t.call("POST", "/v1/users", { json: { id, name: "Before", role: "agent" } });
      const updated = await t.call<User>("POST", "/v1/users", { json: { id, name: "After" } });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ id, name: "After", role: "agent" });
    });

    it("answers 404 not_found for an unknown user", async () => {
      const res = await t.call<ErrorBody>("GET", "/v1/users/nobody-here");
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    });
  });

  describe("conversations and members", () => {
    it("creates a conversation with 201 and reads it with GET /v1/conversations/:id", async () => {
      const id = uid("conv");
      const created = await t.call<Conversation>("POST", "/v1/conversations", {
        json: { id, type: "support", title: "Billing question", memberIds: ["cust-1", "agent-1"] },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id, type: "support", title: "Billing question", lastSeq: 0 });
      expect(created.body.members.map((m) => m.userId)).toEqual(["cust-1", "agent-1"]);
      const read = await t.call<Conversation>("GET", `/v1/conversations/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
    });

    it("adds a member with POST .../members and removes it with DELETE .../members/:userId", async () => {
      const conversation = await createGroup([uid("a"), uid("b")]);
      const newcomer = uid("c");
      const added = await t.call<Conversation>("POST", `/v1/conversations/${conversation.id}/members`, { json: { userId: newcomer, role: "observer" } });
      expect(added.status).toBe(200);
      expect(added.body.members).toContainEqual(expect.objectContaining({ userId: newcomer, role: "observer" }));
      const removed = await t.call<Conversation>("DELETE", `/v1/conversations/${conversation.id}/members/${newcomer}`);
      expect(removed.status).toBe(200);
      expect(removed.body.members.map((m) => m.userId)).not.toContain(newcomer);
    });

    it("answers 404 not_found for an unknown conversation on every conversation route", async () => {
      const missing = "no-such-conversation";
      const responses = await Promise.all([
        t.call<ErrorBody>("GET", `/v1/conversations/${missing}`),
        t.call<ErrorBody>("GET", `/v1/conversations/${missing}/messages`),
        t.call<ErrorBody>("POST", `/v1/conversations/${missing}/messages`, { json: { senderId: "x", text: "hi" } }),
        t.call<ErrorBody>("POST", `/v1/conversations/${missing}/members`, { json: { userId: "x" } }),
        t.call<ErrorBody>("DELETE", `/v1/conversations/${missing}/members/x`),
      ]);
      for (const res of responses) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
    });
  });

  describe("messages", () => {
    it("runs a full flow: two users, a conversation, messages sent and read back page by page with afterSeq", async () => {
      const alice = uid("alice");
      const bob = uid("bob");
      for (const id of [alice, bob]) expect((await t.call("POST", "/v1/users", { json: { id } })).status).toBe(200);
      const conversation = await createGroup([alice, bob]);

      const sent: Message[] = [];
      for (let i = 1; i <= 5; i++) {
        const res = await t.call<Message>("POST", `/v1/conversations/${conversation.id}/messages`, {
          json: { senderId: i % 2 ? alice : bob, text: `message ${i}`, clientMessageId: `cm-${i}` },
        });
        expect(res.status).toBe(201);
        sent.push(res.body);
      }
      expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(sent[1]).toMatchObject({ conversationId: conversation.id, senderId: bob, type: "text", text: "message 2" });

      const seen: Message[] = [];
      let afterSeq = 0;
      for (;;) {
        const page = await t.call<MessagePage>("GET", `/v1/conversations/${conversation.id}/messages?afterSeq=${afterSeq}&limit=2`);
        expect(page.status).toBe(200);
        seen.push(...page.body.messages);
        if (!page.body.hasMore) break;
        afterSeq = page.body.messages.at(-1)!.seq;
      }
      expect(seen).toEqual(sent);

      const older = await t.call<MessagePage>("GET", `/v1/conversations/${conversation.id}/messages?beforeSeq=3`);
      expect(older.body.messages.map((m) => m.seq)).toEqual([1, 2]);
      const after = await t.call<Conversation>("GET", `/v1/conversations/${conversation.id}`);
      expect(after.body.lastSeq).toBe(5);
    });

    it("returns the original message with 200 and the same seq when a send is retried with its clientMessageId", async () => {
      const sender = uid("sender");
      const conversation = await createGroup([sender, uid("peer")]);
      const path = `/v1/conversations/${conversation.id}/messages`;
      const first = await t.call<Message>("POST", path, { json: { senderId: sender, text: "once", clientMessageId: "retry-me" } });
      const retry = await t.call<Message>("POST", path, { json: { senderId: sender, text: "once", clientMessageId: "retry-me" } });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      const history = await t.call<MessagePage>("GET", path);
      expect(history.body.messages).toHaveLength(1);
    });

    it("sends system messages and attachments from a backend", async () => {
      const sender = uid("sender");
      const conversation = await createGroup([sender]);
      const res = await t.call<Message>("POST", `/v1/conversations/${conversation.id}/messages`, {
        json: { senderId: sender, type: "system", text: "Agent joined", attachments: [{ url: "https://cdn.example.com/a.png", mimeType: "image/png" }] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ type: "system", attachments: [{ url: "https://cdn.example.com/a.png", mimeType: "image/png" }] });
    });

    it("answers 403 forbidden when the sender is not a member", async () => {
      const conversation = await createGroup([uid("member")]);
      const res = await t.call<ErrorBody>("POST", `/v1/conversations/${conversation.id}/messages`, { json: { senderId: uid("outsider"), text: "hi" } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    });
  });

  describe("tokens", () => {
    it("mints a user token that TokenService.verify accepts, valid for an hour by default", async () => {
      const userId = uid("tokenuser");
      const before = Date.now();
      const res = await t.call<{ token: string; expiresAt: string }>("POST", "/v1/tokens", { json: { userId, name: "Tia", role: "agent" } });
      expect(res.status).toBe(200);
      const verifier = new TokenService({ ...t.app.config.jwt, secret: HTTP_JWT_SECRET });
      const principal = await verifier.verify(res.body.token);
      expect(principal).toMatchObject({ kind: "user", userId, name: "Tia", role: "agent" });
      expect(principal.expiresAt).toBe(Date.parse(res.body.expiresAt));
      expect(principal.expiresAt - before).toBeGreaterThan(3590_000);
      expect(principal.expiresAt - before).toBeLessThanOrEqual(3601_000);
    });

    it("caps the lifetime of a minted token at the configured maximum", async () => {
      const before = Date.now();
      const res = await t.call<{ token: string; expiresAt: string }>("POST", "/v1/tokens", { json: { userId: uid("u"), ttlSeconds: 365 * 86400 } });
      expect(res.status).toBe(200);
      const principal = await new TokenService({ ...t.app.config.jwt, secret: HTTP_JWT_SECRET }).verify(res.body.token);
      const max = t.app.config.jwt.maxTtlSeconds * 1000;
      expect(principal.expiresAt - before).toBeGreaterThan(max - 10_000);
      expect(principal.expiresAt - before).toBeLessThanOrEqual(max + 1000);
    });
  });

  describe("API keys and scopes", () => {
    it("creates a key whose secret is shown once, lists keys without secrets and revokes with 204", async () => {
      const created = await createKey(["read"]);
      expect(created).toMatchObject({ id: expect.any(String), key: expect.stringMatching(/^sb_/), scopes: ["read"] });
      expect(created.key.startsWith(created.prefix)).toBe(true);

      const list = await t.call<{ apiKeys: Record<string, unknown>[] }>("GET", "/v1/api-keys");
      expect(list.status).toBe(200);
      const listed = list.body.apiKeys.find((k) => k.id === created.id);
      expect(listed).toMatchObject({ name: created.name, prefix: created.prefix, scopes: ["read"] });
      expect(list.text).not.toContain(created.key);
      for (const key of list.body.apiKeys) {
        expect(key).not.toHaveProperty("key");
        expect(key).not.toHaveProperty("hash");
      }

      const revoked = await t.call("DELETE", `/v1/api-keys/${created.id}`);
      expect(revoked.status).toBe(204);
      expect(revoked.text).toBe("");
      const again = await t.call<ErrorBody>("DELETE", `/v1/api-keys/${created.id}`);
      expect(again.status).toBe(404);
    });

    it("gives a new key read and write (not admin) when no scopes are asked for", async () => {
      const created = await createKey();
      expect(created.scopes).toEqual(["read", "write"]);
      expect((await t.call("POST", "/v1/users", { key: created.key, json: { id: uid("u") } })).status).toBe(200);
      expect((await t.call<ErrorBody>("POST", "/v1/tokens", { key: created.key, json: { userId: "u" } })).status).toBe(403);
    });

    it("answers 401 unauthorized to a missing, malformed, unknown or revoked API key", async () => {
      const created = await createKey(["read"]);
      expect((await t.call("GET", "/v1/users/anyone", { key: created.key })).status).toBe(404);
      await t.call("DELETE", `/v1/api-keys/${created.id}`);

      const cases = [
        await t.call<ErrorBody>("GET", "/v1/users/anyone", { key: null }),
        await t.call<ErrorBody>("GET", "/v1/users/anyone", { key: null, headers: { authorization: `Basic ${HTTP_ADMIN_KEY}` } }),
        await t.call<ErrorBody>("GET", "/v1/users/anyone", { key: "sb_not_a_key_anyone_issued_0123456789" }),
        await t.call<ErrorBody>("GET", "/v1/users/anyone", { key: created.key }),
      ];
      for (const res of cases) {
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
      }
      expect(cases[3].body.error.message).toMatch(/revoked/);
    });

    it("answers 403 forbidden to a read-only key on write and admin routes, and serves its reads", async () => {
      const reader = await createKey(["read"]);
      const userId = uid("u");
      await t.call("POST", "/v1/users", { json: { id: userId } });
      expect((await t.call("GET", `/v1/users/${userId}`, { key: reader.key })).status).toBe(200);

      const refused = [
        await t.call<ErrorBody>("POST", "/v1/users", { key: reader.key, json: { id: uid("u") } }),
        await t.call<ErrorBody>("POST", "/v1/conversations", { key: reader.key, json: { type: "group", memberIds: ["a"] } }),
        await t.call<ErrorBody>("POST", "/v1/tokens", { key: reader.key, json: { userId } }),
        await t.call<ErrorBody>("GET", "/v1/api-keys", { key: reader.key }),
        await t.call<ErrorBody>("POST", "/v1/api-keys", { key: reader.key, json: { name: "escalate", scopes: ["admin"] } }),
        await t.call<ErrorBody>("POST", `/v1/api-keys/${reader.id}/rotate`, { key: reader.key }),
        await t.call<ErrorBody>("PATCH", "/v1/conversations/any/messages/any", { key: reader.key, json: { text: "edited" } }),
        await t.call<ErrorBody>("DELETE", "/v1/conversations/any/messages/any", { key: reader.key }),
      ];
      for (const res of refused) {
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
        expect(res.body.error.message).toMatch(/scope/);
      }
    });

    it("answers 403 to a write-only key on read routes", async () => {
      const writer = await createKey(["write"]);
      const res = await t.call<ErrorBody>("GET", "/v1/users/anyone", { key: writer.key });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/`read`/);
    });

    it("answers 403 to a read-and-write key that tries to rotate a key, its own included", async () => {
      const member = await createKey();
      const res = await t.call<ErrorBody>("POST", `/v1/api-keys/${member.id}/rotate`, { key: member.key });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/`admin`/);
    });

    it("checks the scope before validating the body, so a key without access learns nothing about the route", async () => {
      const reader = await createKey(["read"]);
      const res = await t.call<ErrorBody>("POST", "/v1/users", { key: reader.key, json: { id: 42 } });
      expect(res.status).toBe(403);
    });
  });

  describe("bad input", () => {
    it("answers 400 invalid_argument naming every field of the wrong type", async () => {
      const res = await t.call<ErrorBody>("POST", "/v1/conversations", { json: { type: 5, memberIds: "alice" } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_argument");
      expect(res.body.error.message).toMatch(/type/);
      expect(res.body.error.message).toMatch(/memberIds/);
    });

    it("answers 400 naming a missing field, an unknown field and a bad path parameter", async () => {
      const missing = await t.call<ErrorBody>("POST", "/v1/users", { json: { name: "no id" } });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toMatch(/^id: /);
      const unknown = await t.call<ErrorBody>("POST", "/v1/users", { json: { id: "x", admin: true } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toMatch(/admin/);
      const badParam = await t.call<ErrorBody>("GET", "/v1/users/has%20space");
      expect(badParam.status).toBe(400);
      expect(badParam.body.error.message).toMatch(/^id: /);
    });

    it("coerces and validates the history query parameters", async () => {
      const conversation = await createGroup([uid("a")]);
      const base = `/v1/conversations/${conversation.id}/messages`;
      expect((await t.call("GET", `${base}?afterSeq=0&beforeSeq=10&limit=100`)).status).toBe(200);
      for (const [query, field] of [
        ["afterSeq=abc", "afterSeq"],
        ["beforeSeq=-1", "beforeSeq"],
        ["limit=0", "limit"],
        ["limit=101", "limit"],
        ["afterSeq=1.5", "afterSeq"],
      ]) {
        const res = await t.call<ErrorBody>("GET", `${base}?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error.message).toContain(field);
      }
    });

    it("answers 400 'body is not valid JSON' to a malformed body", async () => {
      const res = await t.call<ErrorBody>("POST", "/v1/users", { raw: '{"id": "x",', headers: { "content-type": "application/json" } });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code: "invalid_argument", message: "body is not valid JSON" });
    });

    it("answers 415 invalid_argument to a body that is not application/json", async () => {
      const res = await t.call<ErrorBody>("POST", "/v1/users", { raw: "id=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("invalid_argument");
      expect(res.body.error.message).toMatch(/application\/json/);
    });

    it("answers 413 payload_too_large to a body over MAX_HTTP_BODY_BYTES", async () => {
      const res = await t.call<ErrorBody>("POST", "/v1/users", { json: { id: "big", name: "x".repeat(t.app.config.limits.httpBodyBytes + 1) } });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("payload_too_large");
    });

    it("answers 413 payload_too_large to a message text over the length limit", async () => {
      const sender = uid("s");
      const conversation = await createGroup([sender]);
      const res = await t.call<ErrorBody>("POST", `/v1/conversations/${conversation.id}/messages`, { json: { senderId: sender, text: "y".repeat(4001) } });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("payload_too_large");
      expect(res.body.error.message).toMatch(/^text: /);
    });

    it("answers unknown routes with a JSON 404", async () => {
      const res = await t.call<ErrorBody>("GET", "/v1/nothing-here");
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
      const outside = await t.call<ErrorBody>("GET", "/no-such-page", { key: null });
      expect(outside.status).toBe(404);
      expect(outside.body.error.code).toBe("not_found");
    });
  });

  describe("cross-cutting behaviour", () => {
    it("echoes a request id, sets rate limit headers and secure headers on API responses", async () => {
      const res = await t.app.request("/v1/users/anyone", { headers: { authorization: `Bearer ${HTTP_ADMIN_KEY}`, "x-request-id": "trace-123" } });
      expect(res.headers.get("x-request-id")).toBe("trace-123");
      expect(Number(res.headers.get("ratelimit-limit"))).toBe(t.app.config.limits.httpPer10s);
      expect(Number(res.headers.get("ratelimit-remaining"))).toBeLessThan(t.app.config.limits.httpPer10s);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      const generated = await t.app.request("/healthz");
      expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("writes one access log line per request with method, path, status, duration and request id, never the key", async () => {
      await t.app.request("/v1/users/logged-user", { headers: { authorization: `Bearer ${HTTP_ADMIN_KEY}`, "x-request-id": "log-check-1" } });
      const line = t.logs.find((l) => l.reqId === "log-check-1");
      expect(line).toMatchObject({ method: "GET", path: "/v1/users/logged-user", status: 404, ms: expect.any(Number), msg: "http request" });
      expect(JSON.stringify(t.logs)).not.toContain(HTTP_ADMIN_KEY);
    });

    it("answers CORS preflights for allowed origins only", async () => {
      const preflight = (origin: string) =>
        t.app.request("/v1/users", {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
        });
      const allowed = await preflight("https://app.example.com");
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(allowed.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
      const refused = await preflight("https://evil.example.net");
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    });
  });

  describe("probes, documentation and the demo page", () => {
    it("answers /healthz with 200 {status: ok} without an API key", async () => {
      const res = await t.call("GET", "/healthz", { key: null });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok" });
    });

    it("answers /readyz with 503 and the failing check until the node listens, then 200", async () => {
      const fresh = await startHttpApp();
      try {
        const before = await fresh.call<{ status: string; checks: Record<string, string>; error: ErrorBody["error"] }>("GET", "/readyz", { key: null });
        expect(before.status).toBe(503);
        expect(before.body).toMatchObject({ status: "unavailable", store: "sqlite", checks: { store: "ok", node: "starting" }, error: { code: "unavailable" } });
        await fresh.app.listen();
        const after = await fresh.call("GET", "/readyz", { key: null });
        expect(after.status).toBe(200);
        expect(after.body).toEqual({ status: "ok", store: "sqlite", checks: { store: "ok", node: "ok" } });
      } finally {
        await fresh.close();
      }
    });

    it("serves an OpenAPI 3.1 document listing every registered route with its error responses", async () => {
      const res = await t.call<any>("GET", "/openapi.json", { key: null });
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toBe("3.1.0");
      const operations: string[] = [];
      for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(item)) {
          operations.push(`${method.toUpperCase()} ${path}`);
          const statuses = Object.keys(op.responses);
          expect(statuses.some((s) => s.startsWith("2")), `${method} ${path} success`).toBe(true);
          expect(statuses, `${method} ${path} errors`).toContain("500");
          if (path.startsWith("/v1/")) {
            // The widget's session route and the VAPID key are public (a widget key in the body, or nothing) and say so.
            if (PUBLIC_V1_PATHS.includes(path)) expect(op.security).toEqual([]);
            else if (USER_TOKEN_PATHS.includes(path)) {
              expect(op.security).toEqual([{ userToken: [] }]);
              expect(statuses, `${method} ${path}`).toContain("401");
            } else if (USER_TOKEN_OR_API_KEY_PATHS.includes(path)) {
              expect(op.security).toEqual([{ userToken: [] }, { apiKey: [expect.stringMatching(/^(read|write)$/)] }]);
              for (const s of ["401", "403", "429"]) expect(statuses, `${method} ${path}`).toContain(s);
            } else {
              for (const s of ["401", "403", "429"]) expect(statuses, `${method} ${path}`).toContain(s);
              expect(op.security).toEqual([{ apiKey: [expect.stringMatching(/^(read|write|admin)$/)] }]);
            }
          }
          // A JSON body can be malformed or of the wrong type; a file body (an upload) is taken as it is, so no 415.
          if (op.requestBody) for (const s of ["400", "413"]) expect(statuses, `${method} ${path}`).toContain(s);
          if (op.requestBody?.content["application/json"]) expect(statuses, `${method} ${path}`).toContain("415");
          if (op.parameters?.length) expect(statuses, `${method} ${path}`).toContain("400");
          for (const [status, response] of Object.entries<any>(op.responses)) {
            if (Number(status) >= 400 && path.startsWith("/v1/")) {
              expect(response.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
            }
          }
        }
      }
      expect(operations.sort()).toEqual(EXPECTED_OPERATIONS);
      expect(
        [...API_ROUTES, ...WEBHOOK_ROUTES, ...SUPPORT_ROUTES, ...DELIVERY_ROUTES, ...MY_DELIVERY_ROUTES, ...PUSH_ROUTES, ...UPLOAD_ROUTES, ...EMAIL_ROUTES].map((r) => `${r.method.toUpperCase()} ${r.path}`).sort(),
      ).toEqual(EXPECTED_OPERATIONS);
      // What the router actually serves: every handler but the pages is documented.
      const served = new Set(
        stubApi({ users: {} })
          .routes.filter((r) => r.method !== "ALL")
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
      );
      const pages = ["GET /", "GET /demo", "GET /*", "GET /docs", "GET /openapi.json", ...UNDOCUMENTED];
      expect([...served].filter((r) => !pages.includes(r)).sort()).toEqual(EXPECTED_OPERATIONS);
      for (const name of ["User", "Conversation", "Member", "Message", "MessagePage", "Error", "ApiKey", "ApiKeyCreated"]) {
        expect(doc.components.schemas, name).toHaveProperty(name);
      }
      expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
      expect(doc.components.securitySchemes.userToken).toMatchObject({ type: "http", scheme: "bearer" });
    });

    it("validates requests with the schemas it documents", async () => {
      const doc = (await t.call<any>("GET", "/openapi.json", { key: null })).body;
      const send = doc.components.schemas.MessageSend;
      expect(send.required).toEqual(["senderId", "text"]);
      expect(send.properties.text.maxLength).toBe(4000);
      expect(send.additionalProperties).toBe(false);
      const params = doc.paths["/v1/conversations/{id}/messages"].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
      expect(params.sort()).toEqual(["path:id", "query:afterSeq", "query:beforeSeq", "query:limit", "query:threadId"]);
    });

    it("serves /docs as a self-contained HTML reference under a CSP without scripts or inline allowances", async () => {
      const res = await t.app.request("/docs");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("script-src");
      const html = await res.text();
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/(src|href)="https?:/);
      for (const operation of EXPECTED_OPERATIONS) {
        const [method, path] = operation.split(" ");
        expect(html).toContain(`>${method}</span><code>${path}</code>`);
      }
      expect(html).toContain('id="schema-Message"');
    });

    it("serves the demo landing page at / and /demo, and refuses paths outside the demo directory", async () => {
      for (const path of ["/", "/demo", "/index.html"]) {
        const res = await t.app.request(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^text\/html/);
        expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
        const html = await res.text();
        expect(html).toContain("Switchboard");
        expect(html).toContain('href="/docs"');
        expect(html).toContain('href="/openapi.json"');
      }
      for (const path of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/%2e%2e%2f%2e%2e%2fserver/src/app.ts"]) {
        const res = await t.app.request(path);
        expect(res.status, path).toBe(404);
        expect(await res.text()).not.toContain("workspaces");
      }
    });
  });
});

describe("HTTP API rate limits", () => {
  const HTTP_LIMIT = 5;
  let t: HttpTestApp;
  /** Keys made before the admin key's budget is spent (each costs the admin key one request). */
  let otherKey: string;
  let senderKey: string;
  beforeAll(async () => {
    t = await startHttpApp({ RATE_LIMIT_HTTP: String(HTTP_LIMIT), RATE_LIMIT_MESSAGES: "2" });
    otherKey = (await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: "other" } })).body.key;
    senderKey = (await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: "sender" } })).body.key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers 429 with Retry-After once a key exceeds RATE_LIMIT_HTTP, and keeps serving other keys", async () => {
    const statuses: number[] = [];
    let limited: CallResult<ErrorBody> | undefined;
    for (let i = 0; i <= HTTP_LIMIT && !limited; i++) {
      const res = await t.call<ErrorBody>("GET", "/v1/users/anyone");
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited, `statuses ${statuses.join(",")}`).toBeDefined();
    expect(statuses.slice(0, -1).every((s) => s === 404)).toBe(true);
    expect(limited!.body.error.code).toBe("rate_limited");
    const retryAfter = Number(limited!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(limited!.headers.get("ratelimit-limit")).toBe(String(HTTP_LIMIT));
    expect(limited!.headers.get("ratelimit-remaining")).toBe("0");

    const served = await t.call("GET", "/v1/users/anyone", { key: otherKey });
    expect(served.status).toBe(404);
    expect((await t.call("GET", "/healthz", { key: null })).status).toBe(200);
  });

  it("limits messages per sender with 429 and Retry-After", async () => {
    const key = senderKey;
    const conversation = (await t.call<Conversation>("POST", "/v1/conversations", { key, json: { type: "group", memberIds: ["rl-sender"] } })).body;
    const send = (n: number) => t.call<ErrorBody>("POST", `/v1/conversations/${conversation.id}/messages`, { key, json: { senderId: "rl-sender", text: `m${n}` } });
    expect((await send(1)).status).toBe(201);
    expect((await send(2)).status).toBe(201);
    const third = await send(3);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe("rate_limited");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("HTTP API on a listening server", () => {
  let t: HttpTestApp;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  beforeAll(async () => {
    t = await startHttpApp();
    await t.app.listen();
  });
  afterAll(async () => {
    socket?.close();
    await t?.close();
  });

  it("delivers a message sent over HTTP live to a member's socket, using a token from POST /v1/tokens", async () => {
    const conversation = (await t.call<Conversation>("POST", "/v1/conversations", { json: { type: "group", memberIds: ["live-a", "live-b"] } })).body;
    const { token } = (await t.call<{ token: string }>("POST", "/v1/tokens", { json: { userId: "live-b" } })).body;
    socket = ioClient(t.app.localUrl, { auth: { token }, transports: ["websocket"], reconnection: false });
    const received: Message[] = [];
    socket.on("message:new", (m) => received.push(m));
    const joined = await new Promise<{ ok: boolean }>((resolve) => socket!.emit("conversation:join", { conversationId: conversation.id }, resolve));
    expect(joined.ok).toBe(true);

    const sent = await t.call<Message>("POST", `/v1/conversations/${conversation.id}/messages`, { json: { senderId: "live-a", text: "over HTTP" } });
    expect(sent.status).toBe(201);
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual([sent.body]);
  });

  it("refuses a body whose Content-Length is over the limit before reading it", async () => {
    const res = await fetch(`${t.app.localUrl}/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${HTTP_ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ id: "big", name: "x".repeat(t.app.config.limits.httpBodyBytes) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe("payload_too_large");
  });
});

/** `createHttpApi` over stub services, for behaviour the real services cannot be made to show. */
function stubApi(overrides: { users: Partial<UserService>; inflight?: InflightTracker; logger?: ReturnType<typeof captureLogger>["logger"] }) {
  const admin = { kind: "api-key" as const, keyId: "k1", name: "test", scopes: ["admin" as const] };
  return createHttpApi({
    config: loadConfig({ DATA_DIR: "/nonexistent-never-written", LOG_LEVEL: "silent" }),
    logger: overrides.logger ?? captureLogger().logger,
    tokens: {} as TokenService,
    apiKeys: { verify: async () => admin } as unknown as ApiKeyService,
    users: overrides.users as UserService,
    conversations: {} as never,
    messages: {} as never,
    limits: { http: RateLimit.inMemory(100, 10, "test"), messages: RateLimit.inMemory(100, 10, "test") },
    readiness: async () => ({ ok: true, checks: {} }),
    inflight: overrides.inflight ?? new InflightTracker(),
    originAllowed: () => true,
    demoDir: DEMO_DIR,
    storeName: "stub",
    offline: {
      push: { tokens: {} as TokenService, subscriptions: {} as never, publicKey: () => "" },
      sms: { sms: {} as never, provider: "sandbox", publicUrl: "http://localhost:3000", apiKeys: {} as never, store: {} as never },
      settings: { settings: {} as never, tokens: {} as TokenService },
    },
    uploads: { uploads: {} as never, links: {} as never, tokens: {} as TokenService, apiKeys: {} as never, limit: RateLimit.inMemory(100, 60, "test") },
  });
}

describe("HTTP API error mapping", () => {
  it("turns an unexpected failure into 500 internal without leaking it, and logs it with the request id", async () => {
    const { logger, logs } = captureLogger();
    const api = stubApi({
      logger,
      users: {
        get: async () => {
          throw new Error("disk on fire: /var/lib/secret-path");
        },
      },
    });
    const res = await call<ErrorBody>(api, "GET", "/v1/users/anyone", { headers: { "x-request-id": "boom-1" } });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("internal");
    expect(res.text).not.toContain("disk on fire");
    const logged = logs.find((l) => l.msg === "request failed");
    expect(logged).toMatchObject({ reqId: "boom-1", method: "GET", path: "/v1/users/anyone", err: { message: expect.stringContaining("disk on fire") } });
  });

  it("counts a request as in flight until it is answered", async () => {
    const inflight = new InflightTracker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api = stubApi({
      inflight,
      users: {
        get: async (id: string) => {
          await gate;
          return { id, role: "user", createdAt: new Date(0).toISOString() };
        },
      },
    });
    const pending = call(api, "GET", "/v1/users/slow");
    const deadline = Date.now() + 5000;
    while (inflight.size !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(inflight.size).toBe(1);
    release();
    expect((await pending).status).toBe(200);
    expect(inflight.size).toBe(0);
    expect(await inflight.drain(0)).toBe(true);
  });
});
