import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChatClient } from "../client-sdk/src/index.js";
import type { Conversation, Message, MessageResult } from "../client-sdk/src/protocol.js";
import { createApp } from "../server/src/app.js";
import { ConfigError, loadConfig } from "../server/src/config.js";
import { createPreSendHookAgent, HttpPreSendHook } from "../server/src/moderation/http-pre-send-hook.js";
import { DestinationPolicy } from "../server/src/webhooks/destination-policy.js";
import { api, call, connectUser, mintToken, request, ROOT, startServer, tempDir, testEnv, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";
import { captureLogger } from "./support/http-harness.js";
import { startHookReceiver, type HookAnswer, type HookReceiver, type PreSendCall } from "./support/pre-send-hook-receiver.js";

/** The hook's signing secret, as a customer would generate it: `whsec_` + base64. */
const SECRET = `whsec_${Buffer.from("switchboard pre-send hook test key!").toString("base64")}`;
/** Short, so a test waits little for a hook that does not answer; well above a loopback round trip. */
const TIMEOUT_MS = 250;
const IMAGE = { url: "https://cdn.example.com/cat.png", mimeType: "image/png" };
const ALLOW: HookAnswer = { status: 200, json: { action: "allow" } };

describe("pre-send moderation hook", () => {
  let receiver: HookReceiver;
  /** `PRESEND_HOOK_FAILURE=open` (the default), with its log lines readable. */
  let open: TestServer;
  let openLogs: Record<string, unknown>[];
  /** `PRESEND_HOOK_FAILURE=closed`. */
  let closed: TestServer;
  const sockets: ClientSocket[] = [];
  const cleanups: (() => unknown)[] = [];
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;

  const hookEnv = (failure: "open" | "closed") => ({
    PRESEND_HOOK_URL: receiver.url,
    PRESEND_HOOK_SECRET: SECRET,
    PRESEND_HOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    PRESEND_HOOK_FAILURE: failure,
    // The receiver is on loopback.
    WEBHOOK_ALLOW_PRIVATE: "1",
  });

  beforeAll(async () => {
    receiver = await startHookReceiver(SECRET);
    const captured = captureLogger();
    openLogs = captured.logs;
    open = await startServer({ env: hookEnv("open"), appOptions: { logger: captured.logger } });
    closed = await startServer({ env: hookEnv("closed") });
  });
  afterEach(async () => {
    receiver.answer(() => ALLOW);
    receiver.releaseHung();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await open?.close();
    await closed?.close();
    await receiver?.close();
  });

  /** A group of `names` (fresh ids) on `server`, each connected and joined, with the `message:new` events each receives. */
  async function room(server: TestServer, ...names: string[]) {
    const ids = names.map(uid);
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ids });
    expect(created.status).toBe(201);
    const conversation = created.body as Conversation;
    const members = await Promise.all(
      ids.map(async (userId) => {
        const socket = await connectUser(server.url, userId);
        sockets.push(socket);
        const received: Message[] = [];
        socket.on("message:new", (m) => received.push(m));
        await call(socket, "conversation:join", { conversationId: conversation.id });
        return { userId, socket, received };
      }),
    );
    return { conversation, members };
  }

  const send = (socket: ClientSocket, conversationId: string, text: string, extra: object = {}) =>
    request<MessageResult>(socket, "message:send", { conversationId, clientMessageId: uid("cm"), text, ...extra });

  /** The calls the hook received about one conversation. */
  const callsFor = (conversationId: string) => receiver.receipts.filter((r) => r.verified?.data.conversationId === conversationId);

  const history = async (server: TestServer, conversationId: string) =>
    ((await api(server.url, "GET", `/v1/conversations/${conversationId}/messages`)).body as { messages: Message[] }).messages;

  /** Warnings the open server wrote about failed hook calls. */
  const failureWarnings = () => openLogs.filter((l) => l.level === 40 && String(l.msg).startsWith("pre-send hook failed"));

  it("stores a message the hook allows as it was sent, after one signed call that describes the draft", async () => {
    const { conversation, members } = await room(open, "alice", "bob");
    const [alice, bob] = members;
    const before = Date.now();
    const ack = await send(alice.socket, conversation.id, "hello there", { attachments: [IMAGE] });
    expect(ack.ok).toBe(true);
    const message = (ack as MessageResult & { ok: true }).message;
    expect(message).toMatchObject({ text: "hello there", attachments: [IMAGE], senderId: alice.userId, seq: 1 });

    const calls = callsFor(conversation.id);
    expect(calls).toHaveLength(1);
    const [receipt] = calls;
    expect(receipt.verified).toEqual({
      type: "message.pre_send",
      timestamp: expect.any(String),
      data: { conversationId: conversation.id, senderId: alice.userId, clientMessageId: message.clientMessageId, text: "hello there", attachments: [IMAGE] },
    } satisfies PreSendCall);
    expect(Date.parse(receipt.verified!.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(receipt.headers).toMatchObject({ "content-type": "application/json", "user-agent": "Switchboard-PreSendHook/1", "webhook-id": expect.stringMatching(/^pre_/) });

    await waitFor(() => bob.received.length === 1, "bob to receive the message");
    expect(bob.received[0]).toEqual(message);
    expect(await history(open, conversation.id)).toEqual([message]);
  });

  it("counts an empty answer (204, or 200 without a body) as allow, also when failures are refused", async () => {
    const { conversation, members } = await room(closed, "alice");
    for (const answer of [{ status: 204 }, { status: 200 }] satisfies HookAnswer[]) {
      receiver.answer(() => answer);
      const ack = await send(members[0].socket, conversation.id, `empty ${answer.status}`);
      expect(ack.ok && ack.message.text).toBe(`empty ${answer.status}`);
    }
    expect(callsFor(conversation.id)).toHaveLength(2);
  });

  it("refuses a message the hook rejects with forbidden and the hook's reason over the socket, storing and broadcasting nothing", async () => {
    const { conversation, members } = await room(open, "alice", "bob");
    const [alice, bob] = members;
    receiver.answer((c) => (c.data.text.includes("spam") ? { status: 200, json: { action: "reject", reason: "links to spam are not allowed" } } : ALLOW));

    const refused = await send(alice.socket, conversation.id, "buy spam now");
    expect(refused).toEqual({ ok: false, error: { code: "forbidden", message: "The message was rejected: links to spam are not allowed" } });

    // The next message is the conversation's first: the rejected one took no seq and reached nobody.
    const accepted = await send(alice.socket, conversation.id, "sorry, hello");
    expect(accepted.ok && accepted.message.seq).toBe(1);
    await waitFor(() => bob.received.length === 1 && alice.received.length === 1, "both members to receive the allowed message");
    expect(bob.received.map((m) => m.text)).toEqual(["sorry, hello"]);
    expect((await history(open, conversation.id)).map((m) => m.text)).toEqual(["sorry, hello"]);
  });

  it("answers an HTTP send the hook rejects with 403 and the reason, checks backend text messages, and lets system messages through unasked", async () => {
    const { conversation, members } = await room(open, "alice");
    const [alice] = members;
    receiver.answer(() => ({ status: 200, json: { action: "reject", reason: "off topic" } }));

    const refused = await api(open.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, text: "unrelated", clientMessageId: uid("cm") });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: { code: "forbidden", message: "The message was rejected: off topic" } });
    expect(callsFor(conversation.id)).toHaveLength(1);

    const system = await api(open.url, "POST", `/v1/conversations/${conversation.id}/messages`, { senderId: alice.userId, type: "system", text: "Alice joined the team" });
    expect(system.status).toBe(201);
    expect(system.body).toMatchObject({ type: "system", text: "Alice joined the team", seq: 1 });
    // The system message was stored without a call: the only call is the rejected text's.
    expect(callsFor(conversation.id)).toHaveLength(1);
    expect((await history(open, conversation.id)).map((m) => m.text)).toEqual(["Alice joined the team"]);
  });

  it("stores and broadcasts the hook's rewrite instead of the text that was sent", async () => {
    const { conversation, members } = await room(open, "alice", "bob");
    const [alice, bob] = members;
    receiver.answer((c) => ({ status: 200, json: { action: "rewrite", text: c.data.text.replaceAll("darn", "d**n") } }));

    const ack = await send(alice.socket, conversation.id, "darn, darn it");
    expect(ack.ok && ack.message.text).toBe("d**n, d**n it");
    await waitFor(() => bob.received.length === 1, "bob to receive the rewritten message");
    expect(bob.received[0].text).toBe("d**n, d**n it");
    expect((await history(open, conversation.id)).map((m) => m.text)).toEqual(["d**n, d**n it"]);
  });

  it("judges an edit like a send: a rejected edit keeps the old text, a rewritten one is stored rewritten, and the call names the edited message", async () => {
    const { conversation, members } = await room(open, "alice", "bob");
    const [alice] = members;
    const ack = await send(alice.socket, conversation.id, "harmless");
    if (!ack.ok) throw new Error(ack.error.message);
    const messageId = ack.message.id;

    receiver.answer((c) => (c.data.text.includes("buy now") ? { status: 200, json: { action: "reject", reason: "advertising" } } : ALLOW));
    const rejected = await request<MessageResult>(alice.socket, "message:edit", { conversationId: conversation.id, messageId, text: "buy now!" });
    expect(rejected.ok ? "ok" : rejected.error.code).toBe("forbidden");
    expect(!rejected.ok && rejected.error.message).toContain("advertising");
    expect((await history(open, conversation.id)).map((m) => m.text)).toEqual(["harmless"]);

    receiver.answer((c) => ({ status: 200, json: { action: "rewrite", text: c.data.text.replaceAll("darn", "d**n") } }));
    const edited = await request<MessageResult>(alice.socket, "message:edit", { conversationId: conversation.id, messageId, text: "darn" });
    expect(edited.ok && edited.message.text).toBe("d**n");
    expect((await history(open, conversation.id)).map((m) => m.text)).toEqual(["d**n"]);
    const editCalls = callsFor(conversation.id).filter((r) => r.verified?.data.messageId === messageId);
    expect(editCalls.map((r) => r.verified?.data.text)).toEqual(["buy now!", "darn"]);
  });

  it("stores the message as sent when the hook does not answer in time with PRESEND_HOOK_FAILURE=open, and warns with the reason", async () => {
    const { conversation, members } = await room(open, "alice");
    receiver.answer(() => "hang");
    const ack = await send(members[0].socket, conversation.id, "nobody is checking");
    expect(ack.ok && ack.message.text).toBe("nobody is checking");
    expect(callsFor(conversation.id)).toHaveLength(1);
    expect(await history(open, conversation.id)).toHaveLength(1);
    const warning = failureWarnings().find((l) => l.conversationId === conversation.id);
    expect(warning).toMatchObject({
      reason: `no answer within ${TIMEOUT_MS} ms (PRESEND_HOOK_TIMEOUT_MS)`,
      failurePolicy: "open",
      url: receiver.url,
      msg: "pre-send hook failed (PRESEND_HOOK_FAILURE=open: messages are stored unchecked)",
    });
  });

  it("refuses the send with unavailable when the hook does not answer in time with PRESEND_HOOK_FAILURE=closed, and stores nothing", async () => {
    const { conversation, members } = await room(closed, "alice", "bob");
    const [alice, bob] = members;
    receiver.answer(() => "hang");
    const refused = await send(alice.socket, conversation.id, "wait for it");
    expect(refused).toEqual({ ok: false, error: { code: "unavailable", message: "The message was not sent: the moderation hook did not answer; retry." } });
    expect(await history(closed, conversation.id)).toEqual([]);

    receiver.answer(() => ALLOW);
    const accepted = await send(alice.socket, conversation.id, "now it answers");
    expect(accepted.ok && accepted.message.seq).toBe(1);
    await waitFor(() => bob.received.length === 1, "bob to receive the allowed message");
    expect(bob.received.map((m) => m.text)).toEqual(["now it answers"]);
  });

  it("treats a 500, a redirect, and answers that are not JSON or do not validate as failures: open stores the message, closed answers unavailable", async () => {
    const stray = `${new URL(receiver.url).origin}/elsewhere`;
    const failures: [string, HookAnswer, RegExp][] = [
      ["a 500", { status: 500, raw: "oops" }, /^answered HTTP 500$/],
      ["a redirect", { status: 307, headers: { location: stray } }, /^answered 307 \(redirects are not followed\)$/],
      ["a body that is not JSON", { status: 200, raw: "<html>allow</html>" }, /^malformed answer: answer is not JSON: "<html>allow<\/html>"$/],
      ["an unknown action", { status: 200, json: { action: "block" } }, /^malformed answer: action: /],
      ["a reason that is too long", { status: 200, json: { action: "reject", reason: "x".repeat(501) } }, /^malformed answer: reason: must be at most 500 characters/],
      ["a rewrite that is too long", { status: 200, json: { action: "rewrite", text: "x".repeat(4001) } }, /^malformed answer: text: text is longer than 4000 characters/],
      ["an answer over 64 KiB", { status: 200, raw: JSON.stringify({ action: "allow", padding: "x".repeat(70_000) }) }, /^malformed answer: answer larger than 65536 bytes$/],
      ["an empty rewrite of a text message", { status: 200, json: { action: "rewrite", text: " " } }, /^malformed answer: text: a rewrite of a message without attachments must not be empty/],
    ];
    const inOpen = await room(open, "alice");
    const inClosed = await room(closed, "alice");
    for (const [what, answer, reason] of failures) {
      receiver.answer(() => answer);
      const stored = await send(inOpen.members[0].socket, inOpen.conversation.id, `open: ${what}`);
      expect(stored.ok && stored.message.text, what).toBe(`open: ${what}`);
      expect(failureWarnings().at(-1)?.reason, what).toMatch(reason);
      const refused = await send(inClosed.members[0].socket, inClosed.conversation.id, `closed: ${what}`);
      expect(!refused.ok && refused.error.code, what).toBe("unavailable");
    }
    expect(await history(open, inOpen.conversation.id)).toHaveLength(failures.length);
    expect(await history(closed, inClosed.conversation.id)).toEqual([]);
    expect(receiver.strayRequests).toEqual([]);
  });

  it("warns once per reason while the hook keeps failing, with the count, and says when it answers again", async () => {
    const { conversation, members } = await room(open, "alice");
    const sendWith = async (answer: HookAnswer, times: number) => {
      receiver.answer(() => answer);
      for (let i = 0; i < times; i++) expect((await send(members[0].socket, conversation.id, "x")).ok).toBe(true);
    };
    // Ends a streak an earlier test may have left.
    await sendWith(ALLOW, 1);
    const mark = openLogs.length;
    await sendWith({ status: 418 }, 1);
    await sendWith({ status: 500 }, 3);
    await sendWith(ALLOW, 2);
    const lines = openLogs.slice(mark).filter((l) => String(l.msg).startsWith("pre-send hook"));
    expect(lines.map((l) => [l.msg, l.reason ?? l.failures])).toEqual([
      ["pre-send hook failed (PRESEND_HOOK_FAILURE=open: messages are stored unchecked)", "answered HTTP 418"],
      ["pre-send hook failed (PRESEND_HOOK_FAILURE=open: messages are stored unchecked)", "answered HTTP 500"],
      ["pre-send hook answering again", 4],
    ]);
    expect(lines[1]).toMatchObject({ level: 40, failuresSinceLastWarning: 1, component: "pre-send-hook" });
  });

  it("answers a retry with the same clientMessageId with the original message, without asking the hook again", async () => {
    const { conversation, members } = await room(open, "alice");
    const [alice] = members;
    const payload = { conversationId: conversation.id, clientMessageId: uid("cm"), text: "exactly once" };
    const first = await request<MessageResult>(alice.socket, "message:send", payload);
    expect(first.ok).toBe(true);
    // Were the hook asked again, this retry would be refused.
    receiver.answer(() => ({ status: 200, json: { action: "reject", reason: "changed my mind" } }));
    const retry = await request<MessageResult>(alice.socket, "message:send", payload);
    expect(retry).toEqual(first);
    expect(callsFor(conversation.id)).toHaveLength(1);
  });

  it("signs every call so that standardwebhooks verifies it with the hook's secret, and with no other secret or body", async () => {
    const { conversation, members } = await room(open, "alice");
    for (const text of ["one", "two"]) expect((await send(members[0].socket, conversation.id, text)).ok).toBe(true);
    const calls = callsFor(conversation.id);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.verified && !c.verifyError)).toBe(true);
    // A fresh id per call: a retried send is a new question, not a redelivery.
    expect(new Set(calls.map((c) => c.headers["webhook-id"])).size).toBe(2);
    expect(calls[0].headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    const otherSecret = `whsec_${Buffer.from("somebody else's key, 32 bytes!!").toString("base64")}`;
    expect(() => new Webhook(otherSecret).verify(calls[0].body, calls[0].headers)).toThrow(/signature/i);
    expect(() => new Webhook(SECRET).verify(calls[0].body.replace('"one"', '"0ne"'), calls[0].headers)).toThrow(/signature/i);
    // And a receiver holding another secret refuses every call: with PRESEND_HOOK_FAILURE=closed, so is the send.
    const wrong = await startHookReceiver(otherSecret);
    cleanups.push(() => wrong.close());
    const server = await startServer({ env: { ...hookEnv("closed"), PRESEND_HOOK_URL: wrong.url } });
    cleanups.push(() => server.close());
    const other = await room(server, "carol");
    const refused = await send(other.members[0].socket, other.conversation.id, "signed with the right key");
    expect(!refused.ok && refused.error.code).toBe("unavailable");
    expect(wrong.receipts).toHaveLength(1);
    expect(wrong.receipts[0].verifyError).toMatch(/signature/i);
  });

  it("lets the SDK's outbox retry a send refused by a fail-closed hook until the hook answers, storing it once", async () => {
    const created = await api(closed.url, "POST", "/v1/conversations", { type: "group", memberIds: [uid("dana")] });
    const conversation = created.body as Conversation;
    const userId = conversation.members[0].userId;
    let calls = 0;
    receiver.answer(() => (++calls <= 2 ? { status: 503, raw: "warming up" } : ALLOW));
    const client = new ChatClient({ url: closed.url, getToken: () => mintToken(userId), reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
    cleanups.push(() => client.disconnect());
    client.connect();
    const message = await client.conversation(conversation.id).send("through the outage");
    expect(message.text).toBe("through the outage");

    const asked = callsFor(conversation.id);
    expect(asked).toHaveLength(3);
    expect(new Set(asked.map((c) => c.verified!.data.clientMessageId))).toEqual(new Set([message.clientMessageId]));
    expect((await history(closed, conversation.id)).map((m) => m.id)).toEqual([message.id]);
  });

  it("counts every call by outcome, with its duration, in /metrics", async () => {
    const scrape = async () => {
      const text = await (await fetch(`${open.url}/metrics`)).text();
      const sample = (name: string, outcome: string) => Number(new RegExp(`^${name}\\{[^}]*outcome="${outcome}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
      return Object.fromEntries(
        ["allow", "reject", "rewrite", "failed"].map((o) => [o, { total: sample("switchboard_presend_hook_total", o), count: sample("switchboard_presend_hook_duration_seconds_count", o) }]),
      );
    };
    const before = await scrape();
    const { conversation, members } = await room(open, "alice");
    const answers: Record<string, HookAnswer> = {
      allow: ALLOW,
      reject: { status: 200, json: { action: "reject", reason: "no" } },
      rewrite: { status: 200, json: { action: "rewrite", text: "rewritten" } },
      failed: { status: 502 },
    };
    for (const answer of Object.values(answers)) {
      receiver.answer(() => answer);
      await send(members[0].socket, conversation.id, "counted");
    }
    const after = await scrape();
    for (const outcome of Object.keys(answers)) {
      expect(after[outcome].total - before[outcome].total, outcome).toBe(1);
      expect(after[outcome].count - (before[outcome].count || 0), outcome).toBe(1);
    }
  });

  it("refuses to start with a hook URL that is or resolves to a private address unless WEBHOOK_ALLOW_PRIVATE is set, before opening anything", async () => {
    const temp = tempDir();
    try {
      const port = new URL(receiver.url).port;
      for (const [url, reason] of [
        [receiver.url, "127.0.0.1 is a private or reserved address"],
        [`http://localhost:${port}/hook`, /localhost resolves to (127\.0\.0\.1|::1), a private or reserved address/],
      ] as const) {
        const dataDir = path.join(temp.dir, "never-created");
        const attempt = createApp(loadConfig(testEnv(dataDir, { PRESEND_HOOK_URL: url, PRESEND_HOOK_SECRET: SECRET })));
        await expect(attempt).rejects.toThrow(ConfigError);
        await expect(attempt).rejects.toThrow(/PRESEND_HOOK_URL: .*WEBHOOK_ALLOW_PRIVATE=1/);
        await expect(attempt).rejects.toThrow(reason);
        expect(fs.existsSync(dataDir)).toBe(false);
      }

      const { MONGODB_URI: _m, REDIS_URL: _r, WEBHOOK_ALLOW_PRIVATE: _w, ...inherited } = process.env;
      const result = spawnSync(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
        cwd: ROOT,
        env: { ...inherited, ...testEnv(temp.dir, { PRESEND_HOOK_URL: receiver.url, PRESEND_HOOK_SECRET: SECRET }) },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(result.stderr).toMatch(/PRESEND_HOOK_URL: 127\.0\.0\.1 is a private or reserved address/);
      expect(result.status).toBe(78);
    } finally {
      temp.remove();
    }
  });
});

describe("HttpPreSendHook on its own", () => {
  it("asks again on a fresh connection when the hook drops a pooled one unanswered, so a keep-alive race fails no send", async () => {
    const perConnection = new WeakMap<object, number>();
    let answered = 0;
    const server = http.createServer((req, res) => {
      const n = perConnection.get(req.socket) ?? 0;
      perConnection.set(req.socket, n + 1);
      req.resume();
      req.on("end", () => {
        // The second request on a connection meets a hook that closed it in the meantime.
        if (n === 1) return req.socket.destroy();
        answered++;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ action: "rewrite", text: `answer ${answered}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const agent = createPreSendHookAgent(url);
    const outcomes: string[] = [];
    const hook = new HttpPreSendHook({
      url,
      agent,
      secret: SECRET,
      timeoutMs: 2000,
      failurePolicy: "closed",
      destinations: new DestinationPolicy({ allowPrivate: true }),
      logger: captureLogger().logger,
      onCall: (outcome) => outcomes.push(outcome),
    });
    try {
      const draft = { conversationId: "c1", senderId: "alice", text: "hi", attachments: [] };
      expect(await hook.check(draft)).toEqual({ action: "rewrite", text: "answer 1" });
      expect(await hook.check(draft)).toEqual({ action: "rewrite", text: "answer 2" });
      expect(outcomes).toEqual(["rewrite", "rewrite"]);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });


  it("times out a hook that sends its headers and then trickles the answer", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"action":');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const agent = createPreSendHookAgent(url);
    const { logger, logs } = captureLogger();
    const hook = new HttpPreSendHook({ url, agent, secret: SECRET, timeoutMs: TIMEOUT_MS, failurePolicy: "closed", destinations: new DestinationPolicy({ allowPrivate: true }), logger });
    try {
      await expect(hook.check({ conversationId: "c1", senderId: "alice", text: "hi", attachments: [] })).rejects.toMatchObject({ code: "unavailable" });
      expect(logs.find((l) => l.level === 40)?.reason).toBe(`no answer within ${TIMEOUT_MS} ms (PRESEND_HOOK_TIMEOUT_MS)`);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("checks the destination before calls, reusing a verdict for 10 s, and never calls a host that resolves to a private address", async () => {
    let lookups = 0;
    let address = "10.0.0.5";
    const destinations = new DestinationPolicy({
      allowPrivate: false,
      lookup: async () => {
        lookups++;
        return [{ address, family: 4 }];
      },
    });
    let now = Date.parse("2030-01-01T00:00:00Z");
    const { logger, logs } = captureLogger();
    const outcomes: string[] = [];
    const url = "http://moderation.internal.example/pre-send";
    const agent = createPreSendHookAgent(url);
    const hook = new HttpPreSendHook({
      url,
      agent,
      secret: SECRET,
      timeoutMs: TIMEOUT_MS,
      failurePolicy: "closed",
      destinations,
      logger,
      onCall: (outcome) => outcomes.push(outcome),
      now: () => now,
    });
    const draft = { conversationId: "c1", senderId: "alice", text: "hi", attachments: [] };
    await expect(hook.check(draft)).rejects.toMatchObject({ code: "unavailable" });
    await expect(hook.check(draft)).rejects.toMatchObject({ code: "unavailable" });
    expect(lookups).toBe(1);
    expect(logs.find((l) => l.level === 40)?.reason).toBe(
      "not called: moderation.internal.example resolves to 10.0.0.5, a private or reserved address; hooks must be public unless WEBHOOK_ALLOW_PRIVATE is set",
    );
    now += 10_000;
    address = "10.0.0.6";
    await expect(hook.check(draft)).rejects.toMatchObject({ code: "unavailable" });
    expect(lookups).toBe(2);
    expect(outcomes).toEqual(["failed", "failed", "failed"]);
    agent.destroy();
  });
});
