import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message, SupportAvailabilityEvent, SupportInboxResult, SupportTicket, SupportTicketResult } from "../client-sdk/src/protocol.js";
import { computeUserHash } from "../server/src/support/widget-identity.js";
import { api, call, connectUser, mintToken, request, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";

/**
 * The support desk behind the demo's widget and console, over its real transports: visitor
 * sessions through widget keys (origin checks, identity verification, the per-IP limit), what a
 * visitor token may do, and the agents' inbox, assignment, status and availability.
 */

interface WidgetSession {
  token: string;
  expiresAt: string;
  userId: string;
  visitorId?: string;
  conversationId: string;
  ticket: SupportTicket;
  agentsOnline: number;
}

describe("support desk", () => {
  let server: TestServer;
  const sockets: ClientSocket[] = [];
  let seq = 0;

  beforeAll(async () => {
    server = await startServer({ env: { DEMO_MODE: "1", RATE_LIMIT_WIDGET_SESSIONS: "1000" } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server.close();
  });

  const session = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/v1/widget/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ widgetKey: "wk_demo", ...body }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as WidgetSession & { error: { code: string; message: string } } };
  };
  const connect = async (userId: string, token?: string) => {
    const socket = await connectUser(server.url, userId, token ? { token } : {});
    sockets.push(socket);
    return socket;
  };
  const agent = async () => {
    const id = `agent-${++seq}`;
    return { id, socket: await connect(id, await mintToken(id, { role: "agent", name: `Agent ${seq}` })) };
  };

  it("starts an anonymous visitor's session without an API key, and the stored visitor id resumes the same conversation", async () => {
    const first = await session({});
    expect(first.status).toBe(200);
    expect(first.body.visitorId).toMatch(/^v_[A-Za-z0-9_-]{22}$/);
    expect(first.body.userId).toBe(`visitor:${first.body.visitorId}`);
    expect(first.body.ticket).toMatchObject({ conversationId: first.body.conversationId, visitorId: first.body.userId, status: "open", identified: false, lastSeq: 0 });
    const claims = JSON.parse(Buffer.from(first.body.token.split(".")[1]!, "base64url").toString()) as { sub: string; role: string; exp: number; iat: number };
    expect(claims).toMatchObject({ sub: first.body.userId, role: "visitor" });
    expect(claims.exp - claims.iat).toBe(3600);

    const again = await session({ visitorId: first.body.visitorId });
    expect(again.body.conversationId).toBe(first.body.conversationId);
    expect(again.body.userId).toBe(first.body.userId);
    expect((await session({})).body.conversationId).not.toBe(first.body.conversationId);
  });

  it("refuses unknown keys, visitor ids it did not issue, and pages of origins the key does not allow", async () => {
    expect((await session({ widgetKey: "wk_nope" })).status).toBe(404);
    expect((await session({ visitorId: "guessable" })).status).toBe(400);
    // wk_demo has no allowed origins: only this server's own pages.
    const foreign = await session({}, { origin: "https://evil.example.net" });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("forbidden");
    expect((await session({}, { origin: server.url })).status).toBe(200);
  });

  it("verifies a claimed customer identity with the key's HMAC and refuses a missing or forged userHash", async () => {
    const created = await api(server.url, "POST", "/v1/widget-keys", { name: "shop", allowedOrigins: ["https://shop.example.com"] });
    expect(created.status).toBe(201);
    const { id, identitySecret } = created.body as { id: string; identitySecret: string };
    expect(id).toMatch(/^wk_/);
    const shop = { origin: "https://shop.example.com" };

    const noHash = await session({ widgetKey: id, userId: "cust-1042" }, shop);
    expect(noHash.status).toBe(401);
    expect(noHash.body.error.code).toBe("unauthorized");
    const forged = await session({ widgetKey: id, userId: "cust-1042", userHash: computeUserHash(identitySecret, "cust-9999") }, shop);
    expect(forged.status).toBe(401);
    const otherSecret = await session({ widgetKey: id, userId: "cust-1042", userHash: computeUserHash("not-the-secret", "cust-1042") }, shop);
    expect(otherSecret.status).toBe(401);

    const verified = await session({ widgetKey: id, userId: "cust-1042", userHash: computeUserHash(identitySecret, "cust-1042"), name: "Grace" }, shop);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ userId: "customer:cust-1042", ticket: { identified: true, names: { "customer:cust-1042": "Grace" } } });
    expect(verified.body.visitorId).toBeUndefined();
    expect(verified.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");

    // The preflight carries no key: it is answered for origins some active key allows.
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/widget/sessions`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect((await preflight("https://shop.example.com")).headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
    expect((await preflight("https://evil.example.net")).headers.get("access-control-allow-origin")).toBeNull();

    // Listed without the secret; revoked, it starts nothing.
    const listed = await api(server.url, "GET", "/v1/widget-keys");
    expect(listed.body.widgetKeys.find((k: { id: string }) => k.id === id)).toEqual({ id, name: "shop", allowedOrigins: ["https://shop.example.com"], createdAt: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toContain(identitySecret);
    expect((await api(server.url, "DELETE", `/v1/widget-keys/${id}`)).status).toBe(204);
    expect((await session({ widgetKey: id, userId: "cust-1042", userHash: computeUserHash(identitySecret, "cust-1042") }, shop)).status).toBe(404);
  });

  it("limits a visitor token to the visitor's own support conversation", async () => {
    const { body } = await session({});
    const visitor = await connect(body.userId, body.token);
    const joined = await call<{ messages: Message[] }>(visitor, "conversation:join", { conversationId: body.conversationId });
    expect(joined.messages).toEqual([]);
    await call(visitor, "message:send", { conversationId: body.conversationId, clientMessageId: "v1", text: "hello" });

    const other = await session({});
    const refusals = await Promise.all([
      request(visitor, "conversation:create", { type: "group", memberIds: ["alice"] }),
      request(visitor, "presence:query", { userIds: ["agent-ada"] }),
      request(visitor, "conversation:join", { conversationId: other.body.conversationId }),
      request(visitor, "message:send", { conversationId: other.body.conversationId, clientMessageId: "x", text: "hi" }),
      request(visitor, "support:inbox", {}),
      request(visitor, "support:get", { conversationId: other.body.conversationId }),
      request(visitor, "support:status", { conversationId: body.conversationId, status: "resolved" }),
    ]);
    expect(refusals.map((r) => (r.ok ? "ok" : r.error.code))).toEqual(["forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden"]);
    const own = await call<SupportTicketResult>(visitor, "support:get", { conversationId: body.conversationId });
    expect(own.ticket).toMatchObject({ status: "open", lastSeq: 1, lastMessage: { text: "hello" } });
  });

  it("lists conversations with messages in the agents' inbox, live, with unread counts; assignment, resolve and a visitor's reopening reach everyone", async () => {
    const { id: adaId, socket: ada } = await agent();
    const { socket: bob } = await agent();
    const updates: SupportTicket[] = [];
    bob.on("support:updated", ({ ticket }) => updates.push(ticket));

    const { body } = await session({ name: "Lin" });
    const { conversationId } = body;
    // No message yet: not in the inbox.
    const before = await call<SupportInboxResult>(ada, "support:inbox", {});
    expect(before.entries.some((e) => e.ticket.conversationId === conversationId)).toBe(false);

    const visitor = await connect(body.userId, body.token);
    await call(visitor, "conversation:join", { conversationId });
    await call(visitor, "message:send", { conversationId, clientMessageId: "q1", text: "Is it in stock?" });
    await waitFor(() => updates.some((t) => t.conversationId === conversationId && t.lastMessage?.text === "Is it in stock?"), "bob to hear of the message");

    const inbox = await call<SupportInboxResult>(ada, "support:inbox", { status: "open" });
    const entry = inbox.entries.find((e) => e.ticket.conversationId === conversationId)!;
    expect(entry).toMatchObject({ unreadCount: 1, lastReadSeq: 0, ticket: { status: "open", names: { [body.userId]: "Lin" }, lastSeq: 1 } });
    expect(inbox.agents.filter((a) => a.online).length).toBeGreaterThanOrEqual(2);

    // An agent must join the conversation through the desk before using it.
    expect((await request(ada, "conversation:join", { conversationId })).ok).toBe(false);
    await call(ada, "support:join", { conversationId });
    await call(ada, "conversation:join", { conversationId });
    await call(ada, "message:read", { conversationId, seq: 1 });
    await call(ada, "message:send", { conversationId, clientMessageId: "a1", text: "Yes!" });
    const afterReply = await call<SupportInboxResult>(ada, "support:inbox", {});
    expect(afterReply.entries.find((e) => e.ticket.conversationId === conversationId)).toMatchObject({ lastReadSeq: 2, unreadCount: 0 });

    const assigned = await call<SupportTicketResult>(bob, "support:assign", { conversationId, assigneeId: adaId });
    expect(assigned.ticket.assigneeId).toBe(adaId);
    await waitFor(() => updates.some((t) => t.conversationId === conversationId && t.assigneeId === adaId), "bob to see the assignment");
    expect((await request(bob, "support:assign", { conversationId, assigneeId: "not-an-agent" })).ok).toBe(false);

    const resolved = await call<SupportTicketResult>(ada, "support:status", { conversationId, status: "resolved" });
    expect(resolved.ticket.status).toBe("resolved");
    const visitorUpdates: SupportTicket[] = [];
    visitor.on("support:updated", ({ ticket }) => visitorUpdates.push(ticket));
    // An agent's message keeps it resolved; the visitor's reopens it.
    await call(ada, "message:send", { conversationId, clientMessageId: "a2", text: "Anything else?" });
    await waitFor(() => updates.some((t) => t.conversationId === conversationId && t.lastSeq === 3), "the agent's message to be announced");
    expect(updates.find((t) => t.lastSeq === 3)?.status).toBe("resolved");
    await call(visitor, "message:send", { conversationId, clientMessageId: "q2", text: "One more thing" });
    await waitFor(() => updates.some((t) => t.conversationId === conversationId && t.lastSeq === 4 && t.status === "open"), "bob to see it reopened");
    await waitFor(() => visitorUpdates.some((t) => t.status === "open" && t.lastSeq === 4), "the visitor to see it reopened");
  });

  it("tells visitors when agents come online and go away", async () => {
    const quiet = await startServer({ env: { DEMO_MODE: "0" } });
    const local: ClientSocket[] = [];
    try {
      const key = await api(quiet.url, "POST", "/v1/widget-keys", { name: "site" });
      const res = await fetch(`${quiet.url}/v1/widget/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ widgetKey: key.body.id }) });
      const visitorSession = (await res.json()) as WidgetSession;
      expect(visitorSession.agentsOnline).toBe(0);
      const visitor = await connectUser(quiet.url, visitorSession.userId, { token: visitorSession.token });
      local.push(visitor);
      const heard: SupportAvailabilityEvent[] = [];
      visitor.on("support:availability", (e) => heard.push(e));
      const solo = await connectUser(quiet.url, "solo", { token: await mintToken("solo", { role: "agent" }) });
      local.push(solo);
      await waitFor(() => heard.at(-1)?.agentsOnline === 1, "the visitor to hear an agent is online");
      solo.close();
      await waitFor(() => heard.at(-1)?.agentsOnline === 0, "the visitor to hear the team is away", 10_000);
    } finally {
      for (const s of local) s.close();
      await quiet.close();
    }
  }, 20_000);

  it("turns the demo off without DEMO_MODE: no demo sign-in, and the demo widget key starts no sessions", async () => {
    const prod = await startServer({ env: { DEMO_MODE: "0" } });
    try {
      const signIn = await fetch(`${prod.url}/demo/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agentId: "agent-ada" }) });
      expect(signIn.status).toBe(404);
      const demoKey = await fetch(`${prod.url}/v1/widget/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ widgetKey: "wk_demo" }) });
      expect(demoKey.status).toBe(404);
    } finally {
      await prod.close();
    }
    const signIn = await fetch(`${server.url}/demo/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agentId: "agent-ada" }) });
    expect(signIn.status).toBe(200);
    expect(((await signIn.json()) as { agent: { id: string } }).agent.id).toBe("agent-ada");
    const stranger = await fetch(`${server.url}/demo/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agentId: "root" }) });
    expect(stranger.status).toBe(404);
  });

  it("rate-limits widget sessions per client address", async () => {
    const limited = await startServer({ env: { RATE_LIMIT_WIDGET_SESSIONS: "2" } });
    try {
      const start = () => fetch(`${limited.url}/v1/widget/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ widgetKey: "wk_demo" }) });
      expect((await start()).status).toBe(200);
      expect((await start()).status).toBe(200);
      const third = await start();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

