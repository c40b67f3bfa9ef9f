import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation, TypingEvent } from "../client-sdk/src/protocol.js";
import {
  api,
  call,
  connectUser,
  expectConnectError,
  mintToken,
  request,
  startServer,
  waitFor,
  type ClientSocket,
  type TestServer,
} from "./support/harness.js";

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("authentication and authorization", () => {
  let server: TestServer;
  const sockets: ClientSocket[] = [];
  const connect = async (userId: string, token?: string) => {
    const s = await connectUser(server.url, userId, token ? { token } : {});
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await startServer({ env: { JWT_AUDIENCE: "switchboard-test", JWT_CLOCK_TOLERANCE_SECONDS: "0" } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server.close();
  });

  const valid = (sub: string, extra: Parameters<typeof mintToken>[1] = {}) => mintToken(sub, { audience: "switchboard-test", ...extra });

  it("refuses a handshake without a token with a coded connect_error", async () => {
    const err = await expectConnectError(server.url, undefined);
    expect(err.data).toMatchObject({ code: "unauthorized" });
    expect(err.data!.message).toMatch(/auth: \{ token \}/);
  });

  it("ignores a token passed in the query string", async () => {
    const token = await valid("qs-user");
    const { io } = await import("socket.io-client");
    const socket = io(server.url, { query: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
    const err = await new Promise<Error & { data?: { code: string } }>((resolve) => socket.once("connect_error", resolve));
    socket.close();
    expect(err.data?.code).toBe("unauthorized");
  });

  it("refuses expired, wrongly signed, alg:none and wrong-audience tokens", async () => {
    const expired = await valid("u1", { expiresInSeconds: -60 });
    const wrongKey = await valid("u1", { secret: "another-secret-another-secret-another-secret" });
    const wrongAudience = await mintToken("u1", { audience: "someone-else" });
    const noAudience = await mintToken("u1");
    const now = Math.floor(Date.now() / 1000);
    const algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "u1", exp: now + 3600, aud: "switchboard-test" })}.`;
    const cases = { expired, wrongKey, wrongAudience, noAudience, algNone, garbage: "not-a-jwt" };
    for (const [name, token] of Object.entries(cases)) {
      const err = await expectConnectError(server.url, { token });
      expect(err.data?.code, name).toBe("unauthorized");
    }
    expect((await expectConnectError(server.url, { token: expired })).data!.message).toMatch(/expired/);
    expect((await expectConnectError(server.url, { token: wrongAudience })).data!.message).toMatch(/aud/);
  });

  it("accepts a token minted through POST /v1/tokens", async () => {
    const res = await api(server.url, "POST", "/v1/tokens", { userId: "minted-user", ttlSeconds: 120 });
    expect(res.status).toBe(200);
    const socket = await connect("minted-user", res.body.token);
    expect(socket.connected).toBe(true);
  });

  it("ends a connection whose token expires, with a session:end saying why", async () => {
    const token = await valid("short-lived", { expiresInSeconds: 2 });
    const socket = await connect("short-lived", token);
    const ends: { code: string }[] = [];
    socket.on("session:end", (e) => ends.push(e));
    await waitFor(() => !socket.connected, "the connection to be closed at token expiry", 10_000);
    expect(ends).toEqual([expect.objectContaining({ code: "unauthorized" })]);
  });

  it("keeps a connection alive past expiry after auth:refresh, and refuses a refresh for another user", async () => {
    const socket = await connect("refresher", await valid("refresher", { expiresInSeconds: 2 }));
    const other = await request(socket, "auth:refresh", { token: await valid("someone-else") });
    expect(other).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const ack = await call<{ expiresAt: string }>(socket, "auth:refresh", { token: await valid("refresher", { expiresInSeconds: 600 }) });
    expect(Date.parse(ack.expiresAt)).toBeGreaterThan(Date.now() + 500_000);
    const started = Date.now();
    await waitFor(() => Date.now() - started > 3500, "the old expiry to pass", 6000, 100);
    expect(socket.connected).toBe(true);
  });

  it("lets a non-member neither join, send, read history, mark read nor see typing", async () => {
    const owner = await connect("owner", await valid("owner"));
    const member = await connect("member", await valid("member"));
    const outsider = await connect("outsider", await valid("outsider"));
    const { conversation } = await call<{ conversation: Conversation }>(owner, "conversation:create", { type: "group", memberIds: ["member"] });
    await call(owner, "message:send", { conversationId: conversation.id, clientMessageId: "secret-1", text: "members only" });

    const attempts = {
      join: await request(outsider, "conversation:join", { conversationId: conversation.id }),
      send: await request(outsider, "message:send", { conversationId: conversation.id, clientMessageId: "x", text: "let me in" }),
      history: await request(outsider, "message:history", { conversationId: conversation.id }),
      read: await request(outsider, "message:read", { conversationId: conversation.id, seq: 1 }),
      typing: await request(outsider, "typing:start", { conversationId: conversation.id }),
    };
    for (const [name, ack] of Object.entries(attempts)) expect(ack, name).toMatchObject({ ok: false, error: { code: "forbidden" } });

    // The outsider's socket is in no room of the conversation: member typing never reaches it.
    const seen: TypingEvent[] = [];
    outsider.on("typing", (e) => seen.push(e));
    const seenByOwner: TypingEvent[] = [];
    await call(owner, "conversation:join", { conversationId: conversation.id });
    owner.on("typing", (e) => seenByOwner.push(e));
    await call(member, "typing:start", { conversationId: conversation.id });
    await waitFor(() => seenByOwner.length > 0, "the owner to see typing");
    expect(seen).toEqual([]);
    const history = await call<{ messages: unknown[] }>(owner, "message:history", { conversationId: conversation.id });
    expect(history.messages).toHaveLength(1);
  });

  it("answers 401 to a missing, unknown or revoked API key", async () => {
    const missing = await fetch(`${server.url}/v1/users/anyone`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe("unauthorized");
    expect((await api(server.url, "GET", "/v1/users/anyone", undefined, "sb_not_a_real_key")).status).toBe(401);

    const created = await api(server.url, "POST", "/v1/api-keys", { name: "temporary", scopes: ["read"] });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    await api(server.url, "POST", "/v1/users", { id: "keyed" });
    expect((await api(server.url, "GET", "/v1/users/keyed", undefined, key)).status).toBe(200);
    expect((await api(server.url, "DELETE", `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    const revoked = await api(server.url, "GET", "/v1/users/keyed", undefined, key);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe("unauthorized");
  });
});
