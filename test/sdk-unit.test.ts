/**
 * Client SDK unit tests against a real socket.io server (port 0) running a tiny fake of the
 * Switchboard events the SDK needs. The real server is tested elsewhere; here the point is
 * the SDK's state machine, reconnects, outbox and ordered delivery.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import { io as connectSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  ChatClient,
  SwitchboardClientError,
  fullJitterDelay,
  readJwtClaims,
  type Ack,
  type ChatClientOptions,
  type ClientToServerEvents,
  type Conversation,
  type ConversationJoinPayload,
  type EmptyResult,
  type Message,
  type MessageChangesPayload,
  type MessageHistoryPayload,
  type MessageSendPayload,
  type ReactionPayload,
  type ServerToClientEvents,
  type StateChangeEvent,
  type WireError,
  replyRefOf,
  timeOrderedUuid,
} from "../client-sdk/src/index.js";

type FakeIo = Server<ClientToServerEvents, ServerToClientEvents>;
type FakeSocket = ServerSocket<ClientToServerEvents, ServerToClientEvents>;

/** What the fake does with a `message:send`: answer normally, answer with an error, or never answer. */
type SendBehaviour = { kind: "normal" } | { kind: "error"; error: WireError } | { kind: "no_ack" };

interface FakeServer {
  url: string;
  io: FakeIo;
  /** Every handshake token, in order. */
  handshakes: unknown[];
  joins: ConversationJoinPayload[];
  sends: MessageSendPayload[];
  histories: MessageHistoryPayload[];
  changes: MessageChangesPayload[];
  reactions: { event: "reaction:add" | "reaction:remove"; payload: ReactionPayload }[];
  /** Largest `message:changes` page the fake answers (to exercise paging). */
  changesPageSize: number;
  refreshes: string[];
  reads: number[];
  /** `typing:start` / `typing:stop` events, in order. */
  typing: string[];
  leaves: string[];
  /** Decides how each send is answered; normal by default. */
  onSend: (payload: MessageSendPayload, attempt: number) => SendBehaviour;
  /** Stores a message without announcing it (as if its live event were lost). */
  append(conversationId: string, text: string, senderId?: string, extra?: Partial<Message>): Message;
  /** Sends `message:new` to the conversation's room. */
  announce(message: Message): void;
  /** Changes a stored message with the conversation's next revision, without announcing it; returns the new version. */
  change(conversationId: string, seq: number, patch: Partial<Message>): Message;
  /** Sends `message:updated` to the conversation's room. */
  announceUpdate(message: Message): void;
  stored(conversationId: string): Message[];
  sockets(): FakeSocket[];
  close(): Promise<void>;
}

/** `{ ok: true }`; `Ack<EmptyResult>` cannot be written as a literal (`EmptyResult` forbids every key, `ok` too). */
const EMPTY_ACK = { ok: true } as Ack<EmptyResult>;

const servers: FakeServer[] = [];
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startFakeServer(): Promise<FakeServer> {
  const httpServer = createServer();
  const io: FakeIo = new Server(httpServer);
  const conversations = new Map<string, Message[]>();
  const revs = new Map<string, number>();
  const sendAttempts = new Map<string, number>();
  const log = (conversationId: string): Message[] => {
    let list = conversations.get(conversationId);
    if (!list) conversations.set(conversationId, (list = []));
    return list;
  };
  const conversationOf = (id: string): Conversation => ({
    id,
    type: "group",
    members: [{ userId: "alice", role: "member", lastReadSeq: 0, joinedAt: new Date(0).toISOString() }],
    lastSeq: log(id).length,
    createdAt: new Date(0).toISOString(),
    lastRev: revs.get(id) ?? 0,
  });

  const fake: FakeServer = {
    url: "",
    io,
    handshakes: [],
    joins: [],
    sends: [],
    histories: [],
    changes: [],
    reactions: [],
    changesPageSize: 100,
    refreshes: [],
    reads: [],
    typing: [],
    leaves: [],
    onSend: () => ({ kind: "normal" }),
    append(conversationId, text, senderId = "bob", extra = {}) {
      const list = log(conversationId);
      const message: Message = {
        id: `m-${conversationId}-${list.length + 1}`,
        conversationId,
        seq: list.length + 1,
        senderId,
        type: "text",
        text,
        createdAt: new Date().toISOString(),
        ...extra,
      };
      list.push(message);
      return message;
    },
    announce(message) {
      io.to(message.conversationId).emit("message:new", message);
    },
    change(conversationId, seq, patch) {
      const list = log(conversationId);
      const rev = (revs.get(conversationId) ?? 0) + 1;
      revs.set(conversationId, rev);
      const next: Message = { ...list[seq - 1]!, ...patch, rev };
      list[seq - 1] = next;
      return next;
    },
    announceUpdate(message) {
      io.to(message.conversationId).emit("message:updated", message);
    },
    stored: (conversationId) => [...log(conversationId)],
    sockets: () => [...io.of("/").sockets.values()],
    close: () => io.close(),
  };

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth.token;
    fake.handshakes.push(token);
    if (typeof token !== "string" || token.startsWith("bad")) {
      const refusal = new Error("unauthorized") as Error & { data: unknown };
      refusal.data = { code: "unauthorized", message: "token refused" };
      next(refusal);
      return;
    }
    next();
  });

  io.on("connection", (socket) => {
    socket.on("conversation:join", (payload, ack) => {
      fake.joins.push(payload);
      if (payload.conversationId === "secret") {
        ack({ ok: false, error: { code: "forbidden", message: "not a member" } });
        return;
      }
      const list = log(payload.conversationId);
      const above = payload.afterSeq === undefined ? list.slice(-100) : list.filter((m) => m.seq > payload.afterSeq!);
      void socket.join(payload.conversationId);
      ack({ ok: true, conversation: conversationOf(payload.conversationId), messages: above.slice(0, 100), hasMore: above.length > 100 });
    });
    socket.on("conversation:leave", (payload, ack) => {
      fake.leaves.push(payload.conversationId);
      void socket.leave(payload.conversationId);
      ack(EMPTY_ACK);
    });
    socket.on("message:history", (payload, ack) => {
      fake.histories.push(payload);
      const limit = payload.limit ?? 50;
      let page = log(payload.conversationId);
      if (payload.threadId !== undefined) page = page.filter((m) => m.threadId === payload.threadId);
      if (payload.afterSeq !== undefined) page = page.filter((m) => m.seq > payload.afterSeq!);
      if (payload.beforeSeq !== undefined) page = page.filter((m) => m.seq < payload.beforeSeq!);
      const hasMore = page.length > limit;
      page = payload.afterSeq !== undefined ? page.slice(0, limit) : page.slice(-limit);
      ack({ ok: true, messages: page, hasMore });
    });
    socket.on("message:send", (payload, ack) => {
      fake.sends.push(payload);
      const attempt = (sendAttempts.get(payload.clientMessageId) ?? 0) + 1;
      sendAttempts.set(payload.clientMessageId, attempt);
      const behaviour = fake.onSend(payload, attempt);
      if (behaviour.kind === "error") {
        ack({ ok: false, error: behaviour.error });
        return;
      }
      const list = log(payload.conversationId);
      // Idempotent on clientMessageId, like the real server.
      let message = list.find((m) => m.clientMessageId === payload.clientMessageId);
      if (!message) {
        const quoted = payload.replyTo === undefined ? undefined : list.find((m) => m.id === payload.replyTo);
        message = fake.append(payload.conversationId, payload.text, "alice", {
          clientMessageId: payload.clientMessageId,
          ...(quoted ? { replyTo: replyRefOf(quoted) } : {}),
          ...(payload.threadId ? { threadId: payload.threadId } : {}),
        });
        fake.announce(message);
      }
      if (behaviour.kind === "no_ack") return;
      ack({ ok: true, message });
    });
    socket.on("message:changes", (payload, ack) => {
      fake.changes.push(payload);
      const changed = log(payload.conversationId)
        .filter((m) => (m.rev ?? 0) > payload.afterRev)
        .sort((a, b) => a.rev! - b.rev!);
      const page = changed.slice(0, Math.min(payload.limit ?? 100, fake.changesPageSize));
      const hasMore = changed.length > page.length;
      ack({ ok: true, messages: page, lastRev: hasMore ? page.at(-1)!.rev! : Math.max(payload.afterRev, revs.get(payload.conversationId) ?? 0), hasMore });
    });
    for (const event of ["reaction:add", "reaction:remove"] as const) {
      socket.on(event, (payload, ack) => {
        fake.reactions.push({ event, payload });
        const held = log(payload.conversationId).find((m) => m.id === payload.messageId);
        if (!held) return ack({ ok: false, error: { code: "not_found", message: "no such message" } });
        const others = (held.reactions ?? []).filter((r) => r.emoji !== payload.emoji);
        const reactions = event === "reaction:add" ? [...others, { emoji: payload.emoji, count: 1, userIds: ["alice"] }] : others;
        const message = fake.change(payload.conversationId, held.seq, { reactions });
        fake.announceUpdate(message);
        ack({ ok: true, message });
      });
    }
    socket.on("message:read", (payload, ack) => {
      fake.reads.push(payload.seq);
      ack(EMPTY_ACK);
    });
    socket.on("typing:start", () => fake.typing.push("start"));
    socket.on("typing:stop", () => fake.typing.push("stop"));
    socket.on("auth:refresh", (payload, ack) => {
      fake.refreshes.push(payload.token);
      ack({ ok: true, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    });
  });

  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  servers.push(fake);
  return fake;
}

/** A client with fast backoff and a recorder of its state events. */
function createClient(
  server: FakeServer,
  overrides: Partial<ChatClientOptions> = {},
): { client: ChatClient; states: StateChangeEvent[] } {
  const client = new ChatClient({
    url: server.url,
    getToken: () => "good",
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    ackTimeoutMs: 2_000,
    ...overrides,
  });
  const states: StateChangeEvent[] = [];
  client.on("state", (event) => states.push(event));
  clients.push(client);
  return { client, states };
}

/** Polls `condition` until it holds or the deadline passes. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise-based gate: `wait()` resolves once `open()` has been called. */
function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}

function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

/** What the real server does when a token expires: say why, then close. */
function endSessions(server: FakeServer): void {
  for (const socket of server.sockets()) {
    socket.emit("session:end", { code: "unauthorized", message: "token expired" });
    socket.disconnect(true);
  }
}

const summary = (events: StateChangeEvent[]): string[] => events.map((e) => `${e.oldState}>${e.newState}:${e.code}`);

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("timeOrderedUuid (the default clientMessageId)", () => {
  it("is an RFC 9562 version 7 UUID whose first 48 bits are the time, so later ids sort after earlier ones", () => {
    const at = Date.UTC(2026, 11, 8, 1, 30);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    const later = [at + 1, at + 1000, at + 86_400_000].map((t) => timeOrderedUuid(t));
    expect([...later, id].sort()).toEqual([id, ...later]);
    expect(new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(at))).size).toBe(1000);
  });
});

describe("ChatClient connection state", () => {
  it("goes disconnected → connecting → connected → disconnected, announcing each transition with its code", async () => {
    const server = await startFakeServer();
    const { client, states } = createClient(server);
    expect(client.state).toBe("disconnected");
    client.connect();
    await waitFor(() => client.state === "connected", "connected");
    client.disconnect();
    expect(summary(states)).toEqual([
      "disconnected>connecting:connect_called",
      "connecting>connected:connected",
      "connected>disconnected:disconnect_called",
    ]);
  });

  it("stops retrying after an unauthorized connect_error and connects again once the app calls connect() with a good token", async () => {
    const server = await startFakeServer();
    let token = "bad-token";
    const { client, states } = createClient(server, { getToken: () => token, reconnect: { minDelayMs: 1, maxDelayMs: 1 } });
    client.connect();
    await waitFor(() => client.state === "disconnected", "disconnected");
    expect(states.at(-1)).toMatchObject({ newState: "disconnected", code: "unauthorized", reason: "token refused" });
    // A full handshake by another client takes many event-loop turns; with a 1 ms backoff a
    // retry by the refused client would have shown up in the meantime.
    const probe = createClient(server).client;
    probe.connect();
    await waitFor(() => probe.state === "connected", "probe connected");
    expect(server.handshakes.filter((t) => t === "bad-token")).toHaveLength(1);
    expect(client.state).toBe("disconnected");

    token = "good";
    client.connect();
    await waitFor(() => client.state === "connected", "connected with the new token");
  });

  it("reconnects with backoff and a fresh token after the server drops the socket or the transport closes", async () => {
    const server = await startFakeServer();
    let calls = 0;
    const { client, states } = createClient(server, { getToken: () => `good-${++calls}` });
    client.connect();
    await waitFor(() => client.state === "connected", "connected");

    for (const socket of server.sockets()) socket.disconnect(true);
    await waitFor(() => states.length === 4 && client.state === "connected", "reconnected after server disconnect");
    for (const socket of server.sockets()) socket.conn.close();
    await waitFor(() => states.length === 6 && client.state === "connected", "reconnected after transport close");

    expect(summary(states)).toEqual([
      "disconnected>connecting:connect_called",
      "connecting>connected:connected",
      "connected>connecting:server_disconnect",
      "connecting>connected:connected",
      "connected>connecting:transport_closed",
      "connecting>connected:connected",
    ]);
    expect(server.handshakes).toEqual(["good-1", "good-2", "good-3"]);
  });

  it("keeps retrying with backoff while the server is unreachable", async () => {
    const server = await startFakeServer();
    await server.close();
    let attempts = 0;
    const { client, states } = createClient(server, {
      // Counts connect attempts: getToken only runs once a transport is open, which never happens here.
      io: (url, options) => {
        const socket = connectSocket(url, options);
        const connect = socket.connect.bind(socket);
        socket.connect = () => (attempts++, connect());
        return socket;
      },
    });
    client.connect();
    await waitFor(() => attempts >= 3, "three attempts");
    expect(client.state).toBe("connecting");
    expect(summary(states)).toEqual(["disconnected>connecting:connect_called"]);
  });

  it("reconnects at once with a fresh token after session:end unauthorized", async () => {
    const server = await startFakeServer();
    let calls = 0;
    const { client, states } = createClient(server, {
      getToken: () => `good-${++calls}`,
      // A reconnect through the backoff would take seconds; session:end must not wait for it.
      reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    client.connect();
    await waitFor(() => client.state === "connected", "connected");

    endSessions(server);
    await waitFor(() => states.length === 4 && client.state === "connected", "reconnected with good-2");
    expect(states[2]).toMatchObject({ newState: "connecting", code: "session_ended", reason: "unauthorized: token expired" });
    expect(server.handshakes).toEqual(["good-1", "good-2"]);

    // The fresh token was ended right away too: that is a refusal, not a reason to loop.
    endSessions(server);
    await waitFor(() => client.state === "disconnected", "stopped");
    expect(states.at(-1)).toMatchObject({ newState: "disconnected", code: "unauthorized", reason: "token expired" });
    expect(server.handshakes).toEqual(["good-1", "good-2"]);
  });

  it("stops after session:end unauthorized when the fresh token is refused at the handshake", async () => {
    const server = await startFakeServer();
    const tokens = ["good-1", "bad-2"];
    const { client, states } = createClient(server, { getToken: () => tokens.shift() ?? "bad-x" });
    client.connect();
    await waitFor(() => client.state === "connected", "connected");
    endSessions(server);
    await waitFor(() => client.state === "disconnected", "stopped");
    expect(summary(states).slice(2)).toEqual([
      "connected>connecting:session_ended",
      "connecting>disconnected:unauthorized",
    ]);
    expect(server.handshakes).toEqual(["good-1", "bad-2"]);
  });

  it("refreshes a JWT with auth:refresh about 30 s before it expires", async () => {
    const server = await startFakeServer();
    const now = Math.floor(Date.now() / 1000);
    const first = fakeJwt({ sub: "alice", exp: now + 31 });
    const second = fakeJwt({ sub: "alice", exp: now + 3_600 });
    const tokens = [first, second];
    const { client } = createClient(server, { getToken: () => tokens.shift() ?? second });
    client.connect();
    await waitFor(() => client.state === "connected", "connected");
    expect(client.userId).toBe("alice");
    await waitFor(() => server.refreshes.length === 1, "auth:refresh");
    expect(server.refreshes).toEqual([second]);
    expect(server.handshakes).toEqual([first]);
  });

  it("rejects requests with unavailable when disconnected or when the ack times out", async () => {
    const server = await startFakeServer();
    const { client } = createClient(server, { ackTimeoutMs: 100 });
    await expect(client.listConversations()).rejects.toMatchObject({ code: "unavailable" });
    server.onSend = () => ({ kind: "no_ack" });
    client.connect();
    await waitFor(() => client.state === "connected", "connected");
    const error = await client
      .request("message:send", { conversationId: "c1", clientMessageId: "x", text: "hi" })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SwitchboardClientError);
    expect(error).toMatchObject({ code: "unavailable" });
  });

  it("returns the same handle for the same conversation id", async () => {
    const server = await startFakeServer();
    const { client } = createClient(server);
    expect(client.conversation("c1")).toBe(client.conversation("c1"));
    expect(client.conversation("c1")).not.toBe(client.conversation("c2"));
  });
});

describe("ConversationHandle delivery", () => {
  it("re-joins after every reconnect with afterSeq and delivers the missed messages once", async () => {
    const server = await startFakeServer();
    for (const text of ["one", "two", "three"]) server.append("c1", text);
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const seen: number[] = [];
    room.on("message", (m) => seen.push(m.seq));
    client.connect();
    await room.join();
    expect(seen).toEqual([1, 2, 3]);

    const reconnected = gate();
    client.on("state", (s) => s.newState === "connected" && reconnected.open());
    for (const socket of server.sockets()) socket.disconnect(true);
    server.append("c1", "four");
    server.append("c1", "five");
    await reconnected.wait();
    await waitFor(() => seen.length === 5, "missed messages");

    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(server.joins).toEqual([{ conversationId: "c1" }, { conversationId: "c1", afterSeq: 3 }]);
    expect(room.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("fills a gap in live messages from history before delivering, and drops duplicates by seq", async () => {
    const server = await startFakeServer();
    server.append("c1", "one");
    server.append("c1", "two");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const seen: number[] = [];
    const seenByClient: number[] = [];
    room.on("message", (m) => seen.push(m.seq));
    client.on("message", (m) => seenByClient.push(m.seq));
    client.connect();
    await room.join();

    server.append("c1", "three");
    server.append("c1", "four");
    const five = server.append("c1", "five");
    server.announce(five);
    await waitFor(() => seen.length === 5, "gap filled");
    expect(server.histories).toEqual([{ conversationId: "c1", afterSeq: 2, limit: 100 }]);

    // Late and repeated live events of delivered messages must not be delivered again.
    server.announce(server.stored("c1")[3]!);
    server.announce(five);
    server.announce(server.append("c1", "six"));
    await waitFor(() => seen.length >= 6, "six");

    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seenByClient).toEqual([1, 2, 3, 4, 5, 6]);
    expect(room.lastSeq).toBe(6);
  });

  it("re-fetches with afterSeq when the server emits resync", async () => {
    const server = await startFakeServer();
    server.append("c1", "one");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const seen: number[] = [];
    room.on("message", (m) => seen.push(m.seq));
    client.connect();
    await room.join();
    server.append("c1", "two");
    server.io.emit("resync", { reason: "adapter restarted" });
    await waitFor(() => seen.length === 2, "resynced");
    expect(seen).toEqual([1, 2]);
    expect(server.histories).toEqual([{ conversationId: "c1", afterSeq: 1, limit: 100 }]);
  });

  it("pages older messages with history() into the local list without emitting them", async () => {
    const server = await startFakeServer();
    for (let i = 1; i <= 130; i++) server.append("c1", `m${i}`);
    const { client } = createClient(server);
    const room = client.conversation("c1");
    let emitted = 0;
    room.on("message", () => emitted++);
    client.connect();
    await room.join();
    expect(emitted).toBe(100);
    expect(room.messages[0]?.seq).toBe(31);
    const page = await room.history({ limit: 20 });
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i));
    expect(page.hasMore).toBe(true);
    expect(room.messages.map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => 11 + i));
    expect(emitted).toBe(100);
  });

  it("marks read up to the highest delivered seq and skips seqs that are not higher", async () => {
    const server = await startFakeServer();
    server.append("c1", "one");
    server.append("c1", "two");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    client.connect();
    await room.join();
    await room.markRead();
    await room.markRead(1);
    await room.markRead();
    expect(server.reads).toEqual([2]);
  });
});

describe("ConversationHandle lifecycle", () => {
  it("rejects join() with forbidden and reports it on the handle when the user may not join", async () => {
    const server = await startFakeServer();
    const { client } = createClient(server);
    const room = client.conversation("secret");
    const errors: string[] = [];
    room.on("error", (e) => errors.push(e.code));
    client.connect();
    await expect(room.join()).rejects.toMatchObject({ code: "forbidden" });
    expect(errors).toEqual(["forbidden"]);
    expect(room.joined).toBe(false);
  });

  it("stops delivering live messages after leave() and resumes from the last seq on the next join()", async () => {
    const server = await startFakeServer();
    server.append("c1", "one");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const seen: number[] = [];
    const seenByClient: number[] = [];
    room.on("message", (m) => seen.push(m.seq));
    client.on("message", (m) => seenByClient.push(m.seq));
    client.connect();
    await room.join();
    await room.leave();
    expect(server.leaves).toEqual(["c1"]);

    server.append("c1", "two");
    await room.join();
    expect(server.joins.at(-1)).toEqual({ conversationId: "c1", afterSeq: 1 });
    expect(seen).toEqual([1, 2]);
    expect(seenByClient).toEqual([1, 2]);
  });

  it("throttles typing:start to one per ~3 s while typing and sends typing:stop once", async () => {
    const server = await startFakeServer();
    const { client } = createClient(server);
    const room = client.conversation("c1");
    client.connect();
    await room.join();
    for (let i = 0; i < 5; i++) room.startTyping();
    room.stopTyping();
    room.stopTyping();
    room.startTyping();
    await waitFor(() => server.typing.length === 3, "typing events");
    expect(server.typing).toEqual(["start", "stop", "start"]);
  });
});

describe("ConversationHandle outbox", () => {
  it("queues sends while offline and sends them strictly in order after the reconnect and re-join", async () => {
    const server = await startFakeServer();
    let hold: { wait: () => Promise<void>; open: () => void } | undefined;
    const { client } = createClient(server, { getToken: async () => (await hold?.wait(), "good") });
    const room = client.conversation("c1");
    const seen: Message[] = [];
    room.on("message", (m) => seen.push(m));
    client.connect();
    await room.join();

    hold = gate();
    for (const socket of server.sockets()) socket.disconnect(true);
    await waitFor(() => client.state === "connecting", "connecting");
    const sent = ["first", "second", "third"].map((text) => room.send(text));
    expect(room.pending.map((p) => [p.text, p.status])).toEqual([
      ["first", "queued"],
      ["second", "queued"],
      ["third", "queued"],
    ]);
    expect(server.sends).toHaveLength(0);

    hold.open();
    const messages = await Promise.all(sent);
    expect(messages.map((m) => [m.text, m.seq])).toEqual([
      ["first", 1],
      ["second", 2],
      ["third", 3],
    ]);
    expect(server.sends.map((s) => s.text)).toEqual(["first", "second", "third"]);
    // The default clientMessageId is a time-ordered (version 7) UUID.
    for (const send of server.sends) expect(send.clientMessageId).toMatch(UUID_V7);
    expect(server.joins.at(-1)).toEqual({ conversationId: "c1", afterSeq: 0 });
    expect(room.pending).toEqual([]);
    // Each arrives twice (ack and live event); it must be delivered once.
    await waitFor(() => seen.length === 3, "own messages delivered");
    expect(seen.map((m) => m.clientMessageId)).toEqual(messages.map((m) => m.clientMessageId));
  });

  it("retries a timed-out send with the same clientMessageId and the server stores it once", async () => {
    const server = await startFakeServer();
    server.onSend = (_payload, attempt) => (attempt === 1 ? { kind: "no_ack" } : { kind: "normal" });
    const { client } = createClient(server, { ackTimeoutMs: 150 });
    const room = client.conversation("c1");
    const seen: number[] = [];
    room.on("message", (m) => seen.push(m.seq));
    client.connect();
    await room.join();

    const message = await room.send("hello");
    expect(server.sends).toHaveLength(2);
    expect(server.sends[1]!.clientMessageId).toBe(server.sends[0]!.clientMessageId);
    expect(message).toMatchObject({ seq: 1, clientMessageId: server.sends[0]!.clientMessageId });
    expect(server.stored("c1")).toHaveLength(1);
    await waitFor(() => seen.length === 1, "delivered");
    expect(seen).toEqual([1]);
  });

  it("waits retryAfterMs on rate_limited, rejects permanent errors and moves on to the next message", async () => {
    const server = await startFakeServer();
    const sentAt: number[] = [];
    server.onSend = (payload, attempt) => {
      sentAt.push(Date.now());
      if (payload.text === "slow" && attempt === 1) {
        return { kind: "error", error: { code: "rate_limited", message: "slow down", retryAfterMs: 300 } };
      }
      if (payload.text === "bad") return { kind: "error", error: { code: "invalid_argument", message: "nope" } };
      return { kind: "normal" };
    };
    const { client } = createClient(server);
    const room = client.conversation("c1");
    client.connect();
    await room.join();

    const results = await Promise.allSettled([room.send("slow"), room.send("bad"), room.send("after")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const rejection = (results[1] as PromiseRejectedResult).reason as SwitchboardClientError;
    expect(rejection).toBeInstanceOf(SwitchboardClientError);
    expect(rejection.code).toBe("invalid_argument");
    expect(server.sends.map((s) => s.text)).toEqual(["slow", "slow", "bad", "after"]);
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(280);
    expect(server.stored("c1").map((m) => m.text)).toEqual(["slow", "after"]);
  });

  it("rejects a message over the text limit at once, without a round trip", async () => {
    const server = await startFakeServer();
    const { client } = createClient(server);
    await expect(client.conversation("c1").send("x".repeat(4001))).rejects.toMatchObject({ code: "payload_too_large" });
    await expect(client.conversation("c1").send("   ")).rejects.toMatchObject({ code: "invalid_argument" });
    expect(client.conversation("c1").pending).toEqual([]);
  });
});

describe("ConversationHandle versions, replies, threads and reactions", () => {
  it("asks message:changes from the first join's lastRev after a re-join, pages while hasMore, and emits each newer version once", async () => {
    const server = await startFakeServer();
    for (const text of ["one", "two", "three"]) server.append("c1", text);
    server.change("c1", 3, { text: "three (edited before the join)", editedAt: new Date().toISOString() });
    server.changesPageSize = 1;
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const updates: Message[] = [];
    const clientUpdates: Message[] = [];
    room.on("message:updated", (m) => updates.push(m));
    client.on("message:updated", (m) => clientUpdates.push(m));
    client.connect();
    await room.join();
    expect(server.changes).toEqual([]);

    const reconnected = gate();
    client.on("state", (s) => s.newState === "connected" && reconnected.open());
    for (const socket of server.sockets()) socket.disconnect(true);
    const edited = server.change("c1", 1, { text: "one (edited while away)", editedAt: new Date().toISOString() });
    const reacted = server.change("c1", 2, { reactions: [{ emoji: "👍", count: 1, userIds: ["bob"] }] });
    await reconnected.wait();
    await waitFor(() => updates.length === 2 && server.changes.length === 2, "both changes applied");
    expect(server.changes).toEqual([
      { conversationId: "c1", afterRev: 1, limit: 100 },
      { conversationId: "c1", afterRev: 2, limit: 100 },
    ]);
    expect(updates).toEqual([edited, reacted]);
    expect(clientUpdates).toEqual([edited, reacted]);
    expect(room.messages.map((m) => m.text)).toEqual(["one (edited while away)", "two", "three (edited before the join)"]);

    // The same versions arriving live again are not news.
    server.announceUpdate(edited);
    server.announceUpdate(reacted);
    const later = server.change("c1", 2, { text: "two, later" });
    server.announceUpdate(later);
    await waitFor(() => updates.length === 3, "the later change");
    expect(updates.at(-1)).toEqual(later);
    expect(clientUpdates).toHaveLength(3);
  });

  it("orders versions by rev: an older version arriving late is dropped, and a deletion stays final", async () => {
    const server = await startFakeServer();
    const original = server.append("c1", "draft");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const updates: Message[] = [];
    room.on("message:updated", (m) => updates.push(m));
    client.connect();
    await room.join();
    const v1 = { ...original, text: "v1", editedAt: "2030-01-01T00:00:01.000Z", rev: 1 };
    const v2 = { ...v1, reactions: [{ emoji: "🎉", count: 1, userIds: ["carol"] }], rev: 2 };
    const deleted = { ...original, text: "", deleted: true as const, deletedAt: "2030-01-01T00:00:03.000Z", rev: 3 };
    const revived = { ...original, text: "zombie", editedAt: "2030-01-01T00:00:04.000Z", rev: 4 };
    for (const version of [v2, v1, deleted, revived, v2]) server.announceUpdate(version);
    server.announce(server.append("c1", "marker"));
    await waitFor(() => room.messages.length === 2, "the marker after the updates");
    expect(updates).toEqual([v2, deleted]);
    expect(room.messages[0]).toEqual(deleted);
  });

  it("sends replyTo, threadId and attachments through the outbox while offline, and retries with the same clientMessageId", async () => {
    const server = await startFakeServer();
    const parent = server.append("c1", "parent");
    server.onSend = (_payload, attempt) => (attempt === 1 ? { kind: "no_ack" } : { kind: "normal" });
    let hold: { wait: () => Promise<void>; open: () => void } | undefined;
    const { client } = createClient(server, { ackTimeoutMs: 200, getToken: async () => (await hold?.wait(), "good") });
    const room = client.conversation("c1");
    client.connect();
    await room.join();

    hold = gate();
    for (const socket of server.sockets()) socket.disconnect(true);
    await waitFor(() => client.state === "connecting", "connecting");
    const image = { url: "https://cdn.example.com/cat.png" };
    const reply = room.send("", { replyTo: parent.id, threadId: parent.id, attachments: [image] });
    expect(room.pending).toMatchObject([{ text: "", replyTo: parent.id, threadId: parent.id, attachments: [image], status: "queued" }]);
    hold.open();
    const stored = await reply;
    expect(server.sends).toHaveLength(2);
    expect(server.sends[1]).toEqual(server.sends[0]);
    expect(server.sends[0]).toMatchObject({ text: "", replyTo: parent.id, threadId: parent.id, attachments: [image] });
    expect(stored).toMatchObject({ seq: 2, threadId: parent.id, replyTo: { messageId: parent.id, excerpt: "parent" } });
    await expect(room.send("   ")).rejects.toMatchObject({ code: "invalid_argument" });
  });

  it("reacts and takes reactions back without queueing, replacing the held message once, and refuses while offline", async () => {
    const server = await startFakeServer();
    const message = server.append("c1", "react to me");
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const updates: Message[] = [];
    room.on("message:updated", (m) => updates.push(m));
    client.connect();
    await room.join();

    const reacted = await room.react(message.id, "👍");
    expect(reacted.reactions).toEqual([{ emoji: "👍", count: 1, userIds: ["alice"] }]);
    expect(room.messages[0]).toEqual(reacted);
    const cleared = await room.unreact(message.id, "👍");
    expect(cleared.reactions).toEqual([]);
    // The live echoes of both changes carry versions the handle already has.
    server.announce(server.append("c1", "marker"));
    await waitFor(() => room.messages.length === 2, "the marker");
    expect(updates).toEqual([reacted, cleared]);
    expect(server.reactions.map((r) => [r.event, r.payload])).toEqual([
      ["reaction:add", { conversationId: "c1", messageId: message.id, emoji: "👍" }],
      ["reaction:remove", { conversationId: "c1", messageId: message.id, emoji: "👍" }],
    ]);

    client.disconnect();
    await expect(room.react(message.id, "🎉")).rejects.toMatchObject({ code: "unavailable" });
    expect(server.reactions).toHaveLength(2);
  });

  it("updates the quote of every held reply when the quoted message is edited or deleted, emitting message:updated once per reply", async () => {
    const server = await startFakeServer();
    const parent = server.append("c1", "the plan", "bob");
    const first = server.append("c1", "agreed", "carol", { replyTo: replyRefOf(parent) });
    const second = server.append("c1", "me too", "dave", { replyTo: replyRefOf(parent) });
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const updates: Message[] = [];
    room.on("message:updated", (m) => updates.push(m));
    client.connect();
    await room.join();

    const edited = server.change("c1", 1, { text: "the new plan", editedAt: new Date().toISOString() });
    server.announceUpdate(edited);
    await waitFor(() => updates.length === 3, "the edit and both quotes");
    expect(updates.map((m) => [m.id, m.replyTo?.excerpt])).toEqual([
      [parent.id, undefined],
      [first.id, "the new plan"],
      [second.id, "the new plan"],
    ]);
    const deleted = server.change("c1", 1, { text: "", deleted: true, deletedAt: new Date().toISOString() });
    server.announceUpdate(deleted);
    server.announceUpdate(deleted);
    await waitFor(() => updates.length === 6, "the deletion and both quotes");
    expect(room.messages.map((m) => m.replyTo)).toEqual([
      undefined,
      { messageId: parent.id, seq: 1, senderId: "bob", excerpt: "", deleted: true },
      { messageId: parent.id, seq: 1, senderId: "bob", excerpt: "", deleted: true },
    ]);
    // A reply delivered later, quoted before the deletion, shows it too.
    server.announce(server.append("c1", "late", "erin", { replyTo: replyRefOf(parent) }));
    await waitFor(() => room.messages.length === 4, "the late reply");
    expect(room.messages[3]?.replyTo).toMatchObject({ deleted: true, excerpt: "" });
    expect(updates).toHaveLength(6);
  });

  it("pages one thread with threadHistory() without merging it into the stream, and takes newer versions of held messages", async () => {
    const server = await startFakeServer();
    const parent = server.append("c1", "thread starter");
    for (let i = 1; i <= 5; i++) {
      server.append("c1", `reply ${i}`, "bob", { threadId: parent.id, threadSeq: i });
      server.append("c1", `main ${i}`);
    }
    const { client } = createClient(server);
    const room = client.conversation("c1");
    const updates: Message[] = [];
    room.on("message:updated", (m) => updates.push(m));
    client.connect();
    await room.join();
    expect(room.messages).toHaveLength(11);

    const newer = server.change("c1", 2, { reactions: [{ emoji: "👀", count: 1, userIds: ["carol"] }] });
    const page = await room.threadHistory(parent.id, { limit: 3 });
    expect(page.messages.map((m) => m.threadSeq)).toEqual([3, 4, 5]);
    expect(page.hasMore).toBe(true);
    const older = await room.threadHistory(parent.id, { beforeSeq: page.messages[0]!.seq, limit: 3 });
    expect(older.messages.map((m) => m.threadSeq)).toEqual([1, 2]);
    expect(server.histories.at(-1)).toEqual({ conversationId: "c1", threadId: parent.id, beforeSeq: 6, limit: 3 });
    expect(updates).toEqual([newer]);
    expect(room.messages).toHaveLength(11);
  });
});

describe("SDK helpers", () => {
  it("full-jitter delays stay within [0, min(max, min * 2^attempt))", () => {
    const options = { minDelayMs: 500, maxDelayMs: 15_000 };
    const almostOne = (): number => 0.999_999;
    expect(fullJitterDelay(0, options, () => 0)).toBe(0);
    expect(fullJitterDelay(0, options, almostOne)).toBe(499);
    expect(fullJitterDelay(3, options, almostOne)).toBe(3_999);
    expect(fullJitterDelay(10, options, almostOne)).toBe(14_999);
    expect(fullJitterDelay(5_000, options, almostOne)).toBe(14_999);
  });

  it("reads sub and exp from a JWT and ignores opaque tokens", () => {
    expect(readJwtClaims(fakeJwt({ sub: "zoë", exp: 123, name: "Zoë" }))).toEqual({ sub: "zoë", exp: 123 });
    expect(readJwtClaims("opaque-token")).toBeUndefined();
    expect(readJwtClaims("a.!!!.c")).toBeUndefined();
  });

  it("maps failed acks to SwitchboardClientError with the wire code", () => {
    const ack: Ack<object> = { ok: false, error: { code: "rate_limited", message: "x", retryAfterMs: 5 } };
    const error = ack.ok ? undefined : SwitchboardClientError.fromWire(ack.error);
    expect(error).toMatchObject({ code: "rate_limited", retryAfterMs: 5 });
    expect(SwitchboardClientError.fromWire({ code: "nonsense" }).code).toBe("internal");
  });
});
