/**
 * The benchmark's point of comparison: a bare Socket.IO 4 server on the same
 * `@socket.io/redis-adapter` (classic, on ioredis) that Switchboard uses, with none of its work.
 * It reads the user id from `handshake.auth.token` without verifying it, joins `user:<id>` like
 * Switchboard does, answers `conversation:join` by joining the room, and answers `message:send`
 * by broadcasting `message:new` to the room and acking: no persistence, no membership check,
 * no rate limit, no presence. What Switchboard costs beyond this is the price of its guarantees.
 *
 * Env: `PORT` (0 = any), `REDIS_URL` (optional: without it the in-memory adapter), `NODE_ID`.
 * Prints one JSON line `{"msg":"bare listening","port":…}`. `GET /metrics` answers the one
 * series the benchmark reads, `nodejs_heap_size_used_bytes`, as prom-client would.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";

interface BareMessage {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMessageId?: string;
  type: "text";
  text: string;
  createdAt: string;
}

const port = Number(process.env.PORT ?? 0);
const nodeId = process.env.NODE_ID ?? `bare-${process.pid}`;
const redisUrl = process.env.REDIS_URL;

const httpServer = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/metrics") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(`# TYPE nodejs_heap_size_used_bytes gauge\nnodejs_heap_size_used_bytes ${process.memoryUsage().heapUsed}\n`);
    return;
  }
  if (req.url?.startsWith("/socket.io/")) return; // engine.io answers these
  res.writeHead(404).end();
});

const io = new Server(httpServer, {
  // The same frame limit and transports Switchboard configures.
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
  transports: ["polling", "websocket"],
});

let pub: Redis | undefined;
let sub: Redis | undefined;
if (redisUrl) {
  pub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  io.adapter(createAdapter(pub, sub, { key: "bare" }));
}

/** `sub` of an unverified JWT: reading the handshake is all the "auth" the baseline does. */
function userIdFromToken(token: unknown): string | undefined {
  if (typeof token !== "string") return undefined;
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : undefined;
  } catch {
    return undefined;
  }
}

io.use((socket, next) => {
  const userId = userIdFromToken((socket.handshake.auth as { token?: unknown }).token);
  if (!userId) return next(new Error("no token"));
  socket.data.userId = userId;
  next();
});

let messageCounter = 0;
const seqByRoom = new Map<string, number>();

io.on("connection", (socket) => {
  const userId = socket.data.userId as string;
  void socket.join(`user:${userId}`);

  socket.on("conversation:join", (payload: { conversationId?: unknown }, ack?: (r: unknown) => void) => {
    const conversationId = String(payload?.conversationId ?? "");
    void socket.join(`conv:${conversationId}`);
    ack?.({ ok: true, conversation: { id: conversationId }, messages: [], hasMore: false });
  });

  socket.on("message:send", (payload: { conversationId?: unknown; clientMessageId?: unknown; text?: unknown }, ack?: (r: unknown) => void) => {
    const conversationId = String(payload?.conversationId ?? "");
    const room = `conv:${conversationId}`;
    const seq = (seqByRoom.get(room) ?? 0) + 1;
    seqByRoom.set(room, seq);
    const message: BareMessage = {
      id: `m_${nodeId}_${++messageCounter}`,
      conversationId,
      seq,
      senderId: userId,
      ...(typeof payload?.clientMessageId === "string" ? { clientMessageId: payload.clientMessageId } : {}),
      type: "text",
      text: String(payload?.text ?? ""),
      createdAt: new Date().toISOString(),
    };
    io.to(room).emit("message:new", message);
    ack?.({ ok: true, message });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  const bound = (httpServer.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ msg: "bare listening", port: bound, nodeId, redis: Boolean(redisUrl) })}\n`);
});

const stop = () => {
  io.close();
  void Promise.allSettled([pub?.quit(), sub?.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
