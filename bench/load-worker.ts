/**
 * A load-generator process of the benchmark, started by `bench/run.ts` with an IPC channel.
 * It owns many raw `socket.io-client` connections (not the SDK: thousands per process must stay
 * cheap), speaks the real Switchboard protocol (`auth: { token }`, `conversation:join`,
 * `message:send` with `clientMessageId`, `message:new`), sends on command and measures what it
 * receives: each message text carries its send time on the shared monotonic clock.
 */
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { LatencyHistogram } from "./histogram.js";
import {
  monotonicUs,
  type CollectResult,
  type ConnectResult,
  type CountResult,
  type SendResult,
  type SocketSpec,
  type SystemUnderTest,
  type WorkerReply,
  type WorkerRequest,
} from "./worker-protocol.js";

/** The fields of a `message:new` payload the worker reads. */
interface IncomingMessage {
  id: string;
  conversationId: string;
  seq: number;
  text: string;
}

type Ack = { ok: true; message?: IncomingMessage } | { ok: false; error: { code: string; message: string } };

interface BenchSocket {
  socket: Socket;
  spec: SocketSpec;
  /** Conversations joined successfully. */
  joined: string[];
  /** De-duplication keys seen, per conversation. */
  seen: Map<string, Set<number | string>>;
}

/** Every message text starts with this tag, then `|sendTimeUs|senderNode|padding`. */
const TAG = "b";

const sockets: BenchSocket[] = [];
let system: SystemUnderTest = "switchboard";
let nextClientMessageId = 0;
let stats = freshStats();

function freshStats() {
  return {
    received: 0,
    unique: 0,
    duplicates: 0,
    crossNode: new LatencyHistogram(),
    sameNode: new LatencyHistogram(),
    firstReceiveUs: 0,
    lastReceiveUs: 0,
    otherEvents: {} as Record<string, number>,
    disconnects: 0,
  };
}

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const data = (err as Error & { data?: { code?: string } }).data;
    return data?.code ? `${data.code}: ${err.message}` : err.message;
  }
  return String(err);
}

function onMessage(bs: BenchSocket, m: IncomingMessage): void {
  const now = monotonicUs();
  stats.received++;
  // Switchboard promises gapless per-conversation seq and may announce a message twice (a
  // retried send); the bare server's seq is per node, so its unique message id is the key.
  const key = system === "switchboard" ? m.seq : m.id;
  let seen = bs.seen.get(m.conversationId);
  if (!seen) bs.seen.set(m.conversationId, (seen = new Set()));
  if (seen.has(key)) {
    stats.duplicates++;
    return;
  }
  seen.add(key);
  stats.unique++;
  if (stats.firstReceiveUs === 0) stats.firstReceiveUs = now;
  stats.lastReceiveUs = now;
  const [tag, sentAt, senderNode] = m.text.split("|", 3);
  if (tag !== TAG) return;
  const latency = now - Number(sentAt);
  (Number(senderNode) === bs.spec.node ? stats.sameNode : stats.crossNode).record(latency);
}

async function connectOne(spec: SocketSpec, jwtSecret: Uint8Array, timeoutMs: number, result: ConnectResult): Promise<void> {
  const nowS = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(spec.userId)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + 3600)
    .sign(jwtSecret);
  const socket = io(spec.url, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  const bs: BenchSocket = { socket, spec, joined: [], seen: new Map() };
  socket.on("message:new", (m: IncomingMessage) => onMessage(bs, m));
  socket.onAny((event: string) => {
    if (event !== "message:new") stats.otherEvents[event] = (stats.otherEvents[event] ?? 0) + 1;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (err) => reject(err));
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  socket.on("disconnect", (reason) => {
    if (reason !== "io client disconnect") stats.disconnects++;
  });
  sockets.push(bs);
  result.connected++;
  for (const conversationId of spec.conversations) {
    try {
      const ack = (await socket.timeout(timeoutMs).emitWithAck("conversation:join", { conversationId })) as Ack;
      if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
      bs.joined.push(conversationId);
      result.joined[conversationId] = (result.joined[conversationId] ?? 0) + 1;
    } catch (err) {
      result.joinFailed++;
      if (result.errors.length < 5) result.errors.push(`join ${conversationId}: ${errorText(err)}`);
    }
  }
}

async function connect(req: Extract<WorkerRequest, { type: "connect" }>): Promise<ConnectResult> {
  system = req.system;
  const started = performance.now();
  const secret = new TextEncoder().encode(req.jwtSecret);
  const result: ConnectResult = { connected: 0, failed: 0, joined: {}, joinFailed: 0, errors: [], ms: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, req.concurrency) }, async () => {
      while (next < req.sockets.length) {
        const spec = req.sockets[next++];
        try {
          await connectOne(spec, secret, req.timeoutMs, result);
        } catch (err) {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(`connect ${spec.userId}: ${errorText(err)}`);
        }
      }
    }),
  );
  result.ms = performance.now() - started;
  return result;
}

/** Sockets that joined at least one conversation, i.e. that can send. */
function senders(): BenchSocket[] {
  return sockets.filter((s) => s.joined.length > 0);
}

function emptySendResult(): SendResult & { ackHistogram: LatencyHistogram } {
  return { sent: 0, acked: 0, failed: 0, ackedByConversation: {}, ack: { buckets: [], count: 0, sum: 0, min: 0, max: 0 }, errors: [], firstSendUs: 0, lastAckUs: 0, ackHistogram: new LatencyHistogram() };
}

/** Sends one message from `bs`; calls `done` once its ack (or timeout) is in. */
function sendOne(bs: BenchSocket, padding: string, ackTimeoutMs: number, r: ReturnType<typeof emptySendResult>, done: () => void): void {
  const conversationId = bs.joined[0];
  const sentAt = monotonicUs();
  if (r.firstSendUs === 0) r.firstSendUs = sentAt;
  r.sent++;
  bs.socket
    .timeout(ackTimeoutMs)
    .emit(
      "message:send",
      { conversationId, clientMessageId: `bench-${process.pid}-${nextClientMessageId++}`, text: `${TAG}|${sentAt}|${bs.spec.node}|${padding}` },
      (err: Error | null, ack: Ack) => {
        const now = monotonicUs();
        if (err || !ack?.ok) {
          r.failed++;
          if (r.errors.length < 5) r.errors.push(err ? `ack: ${err.message}` : `ack: ${ack.ok ? "" : `${ack.error.code}: ${ack.error.message}`}`);
        } else {
          r.acked++;
          r.ackedByConversation[conversationId] = (r.ackedByConversation[conversationId] ?? 0) + 1;
          r.ackHistogram.record(now - sentAt);
          r.lastAckUs = now;
        }
        done();
      },
    );
}

function finish(r: ReturnType<typeof emptySendResult>): SendResult {
  const { ackHistogram, ...rest } = r;
  return { ...rest, ack: ackHistogram.toJSON() };
}

async function openLoop(req: Extract<WorkerRequest, { type: "openLoop" }>): Promise<SendResult> {
  const from = senders();
  const r = emptySendResult();
  if (from.length === 0) return finish(r);
  const padding = "x".repeat(req.padding);
  const intervalUs = 1e6 / req.ratePerSec;
  let outstanding = 0;
  let j = 0;
  let allSent = false;
  return new Promise((resolve) => {
    const maybeDone = () => {
      if (allSent && outstanding === 0) resolve(finish(r));
    };
    const tick = () => {
      const now = monotonicUs();
      for (;;) {
        const k = j * req.stride + req.offset;
        if (k >= req.total) {
          allSent = true;
          clearInterval(timer);
          return maybeDone();
        }
        if (req.startUs + k * intervalUs > now) return;
        outstanding++;
        sendOne(from[j % from.length], padding, req.ackTimeoutMs, r, () => {
          outstanding--;
          maybeDone();
        });
        j++;
      }
    };
    // 1 ms ticks: the schedule is kept to about a millisecond, and the send time in the text
    // is taken when the message really leaves, so scheduling jitter never shows as latency.
    const timer = setInterval(tick, 1);
  });
}

async function closedLoop(req: Extract<WorkerRequest, { type: "closedLoop" }>): Promise<SendResult> {
  const from = senders().slice(0, req.senders);
  const r = emptySendResult();
  const padding = "x".repeat(req.padding);
  const deadline = performance.now() + req.durationMs;
  await Promise.all(
    from.map(
      (bs) =>
        new Promise<void>((resolve) => {
          const loop = () => {
            if (performance.now() >= deadline) return resolve();
            sendOne(bs, padding, req.ackTimeoutMs, r, loop);
          };
          loop();
        }),
    ),
  );
  return finish(r);
}

function collect(): CollectResult {
  return {
    received: stats.received,
    unique: stats.unique,
    duplicates: stats.duplicates,
    crossNode: stats.crossNode.toJSON(),
    sameNode: stats.sameNode.toJSON(),
    firstReceiveUs: stats.firstReceiveUs,
    lastReceiveUs: stats.lastReceiveUs,
    otherEvents: stats.otherEvents,
    disconnects: stats.disconnects,
  };
}

async function disconnectAll(): Promise<{ closed: number }> {
  const closed = sockets.length;
  for (const bs of sockets.splice(0)) bs.socket.disconnect();
  // Lets the close frames leave before the orchestrator stops the servers.
  await new Promise((r) => setTimeout(r, 200));
  stats = freshStats();
  return { closed };
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.type) {
    case "connect":
      return connect(req);
    case "openLoop":
      return openLoop(req);
    case "closedLoop":
      return closedLoop(req);
    case "reset":
      stats = freshStats();
      for (const bs of sockets) bs.seen.clear();
      return {};
    case "count":
      return { unique: stats.unique, received: stats.received } satisfies CountResult;
    case "collect":
      return collect();
    case "disconnect":
      return disconnectAll();
    default: {
      const exhaustive: never = req;
      throw new Error(`unknown request ${JSON.stringify(exhaustive)}`);
    }
  }
}

process.on("message", (req: WorkerRequest) => {
  handle(req).then(
    (result) => send({ type: "reply", id: req.id, result }),
    (err: unknown) => send({ type: "error", id: req.id, message: errorText(err) }),
  );
});
// The orchestrator is gone (crashed or killed): never linger as an orphan.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
