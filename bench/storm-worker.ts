/**
 * A load process of the reconnect-storm scenario (`bench/scenario-reconnect-storm.ts`): runs
 * many real `client-sdk` ChatClients (each joined to its conversation through a
 * ConversationHandle, default reconnect backoff unless told otherwise), driven over IPC by the
 * orchestrator. It records, on the machine-wide monotonic clock, every client's state changes and
 * re-joins, what each handle delivered (the SDK hands messages over once, in `seq` order), and the
 * seq of every message its senders had acknowledged.
 */
import { SignJWT } from "jose";
import { ChatClient, type ConversationHandle, type Message } from "../client-sdk/src/index.js";
import { monotonicUs } from "./worker-protocol.js";

/** A request from the orchestrator. */
export type StormRequest =
  | { id: number; type: "start"; url: string; jwtSecret: string; clients: { userId: string; conversationId: string; sender: boolean }[]; backoff?: { minDelayMs: number; maxDelayMs: number }; timeoutMs: number }
  | { id: number; type: "send"; durationMs: number; intervalMs: number; settleMs: number; once?: boolean }
  | { id: number; type: "report"; sinceUs: number }
  | { id: number; type: "stop" };

/** What `start` answers. */
export interface StormStarted {
  joined: number;
  failed: number;
  errors: string[];
}

/** What `send` answers: the acknowledged messages of this worker's senders. */
export interface StormSent {
  acked: { conversationId: string; seq: number }[];
  failed: number;
  errors: string[];
}

/** What `report` answers. */
export interface StormReport {
  /** Clients that dropped at or after `sinceUs`. */
  dropped: number;
  /** For each of them that re-joined: ms from `sinceUs` to the re-join (connected + conversation joined and caught up). */
  resyncMs: number[];
  /** For each of them that connected again: ms from `sinceUs` to the accepted handshake. */
  reconnectMs: number[];
  /** Dropped clients not joined again, and clients not joined now. */
  stranded: number;
  /** Per client: its conversation, the highest seq delivered, and whether delivery had a gap or a repeat. */
  delivered: { conversationId: string; maxSeq: number; inOrder: boolean; joined: boolean }[];
}

interface StormClient {
  client: ChatClient;
  handle: ConversationHandle;
  conversationId: string;
  sender: boolean;
  /** Monotonic µs of each drop (connected → connecting) and each completed join. */
  drops: number[];
  connects: number[];
  joins: number[];
  maxSeq: number;
  inOrder: boolean;
}

let clients: StormClient[] = [];

async function start(req: Extract<StormRequest, { type: "start" }>): Promise<StormStarted> {
  const secret = new TextEncoder().encode(req.jwtSecret);
  const errors: string[] = [];
  let failed = 0;
  const nowS = Math.floor(Date.now() / 1000);
  for (const spec of req.clients) {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(spec.userId).setIssuedAt(nowS).setExpirationTime(nowS + 3600).sign(secret);
    const client = new ChatClient({ url: req.url, getToken: () => token, ...(req.backoff ? { reconnect: req.backoff } : {}) });
    const handle = client.conversation(spec.conversationId);
    const c: StormClient = { client, handle, conversationId: spec.conversationId, sender: spec.sender, drops: [], connects: [], joins: [], maxSeq: 0, inOrder: true };
    client.on("state", (s) => {
      if (s.oldState === "connected" && s.newState !== "connected") c.drops.push(monotonicUs());
      if (s.newState === "connected") c.connects.push(monotonicUs());
    });
    handle.on("joined", () => c.joins.push(monotonicUs()));
    handle.on("message", (m: Message) => {
      if (m.seq !== c.maxSeq + 1) c.inOrder = false;
      c.maxSeq = Math.max(c.maxSeq, m.seq);
    });
    clients.push(c);
  }
  // Connect in waves so the servers see a ramp, not one wall of handshakes.
  const deadline = Date.now() + req.timeoutMs;
  let joined = 0;
  const wave = 50;
  for (let i = 0; i < clients.length; i += wave) {
    await Promise.all(
      clients.slice(i, i + wave).map(async (c) => {
        c.client.connect();
        try {
          await withTimeout(c.handle.join(), Math.max(1, deadline - Date.now()));
          joined++;
        } catch (err) {
          failed++;
          if (errors.length < 5) errors.push(String(err instanceof Error ? err.message : err));
        }
      }),
    );
  }
  return { joined, failed, errors };
}

async function send(req: Extract<StormRequest, { type: "send" }>): Promise<StormSent> {
  const senders = clients.filter((c) => c.sender);
  const acked: StormSent["acked"] = [];
  const errors: string[] = [];
  let failed = 0;
  const sends: Promise<void>[] = [];
  const ends = Date.now() + req.durationMs;
  let n = 0;
  // Each sender sends on its own phase of the interval, so the load is spread evenly.
  await Promise.all(
    senders.map(async (c, i) => {
      if (!req.once) await sleep((req.intervalMs * i) / Math.max(1, senders.length));
      for (let first = true; first || (!req.once && Date.now() < ends); first = false) {
        // The SDK queues a send while disconnected and retries it (same clientMessageId) after the reconnect.
        sends.push(
          c.handle.send(`storm ${n++}`).then(
            (m) => void acked.push({ conversationId: c.conversationId, seq: m.seq }),
            (err: unknown) => {
              failed++;
              if (errors.length < 5) errors.push(String(err instanceof Error ? err.message : err));
            },
          ),
        );
        await sleep(req.intervalMs);
      }
    }),
  );
  await withTimeout(Promise.all(sends), req.settleMs).catch(() => undefined);
  // Rejected sends and sends still unacknowledged when the settle time ran out.
  return { acked, failed: Math.max(failed, sends.length - acked.length), errors };
}

function report(req: Extract<StormRequest, { type: "report" }>): StormReport {
  let dropped = 0;
  let stranded = 0;
  const resyncMs: number[] = [];
  const reconnectMs: number[] = [];
  for (const c of clients) {
    const drop = c.drops.find((t) => t >= req.sinceUs);
    if (drop !== undefined) {
      dropped++;
      const connected = c.connects.find((t) => t > drop);
      if (connected !== undefined) reconnectMs.push((connected - req.sinceUs) / 1000);
      const rejoin = c.joins.find((t) => t > drop);
      if (rejoin === undefined) stranded++;
      else resyncMs.push((rejoin - req.sinceUs) / 1000);
    } else if (!c.handle.joined) {
      stranded++;
    }
  }
  return { dropped, resyncMs, reconnectMs, stranded, delivered: clients.map((c) => ({ conversationId: c.conversationId, maxSeq: c.maxSeq, inOrder: c.inOrder, joined: c.handle.joined })) };
}

function stop(): Record<string, never> {
  for (const c of clients) c.client.disconnect();
  clients = [];
  return {};
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

async function handle(req: StormRequest): Promise<unknown> {
  switch (req.type) {
    case "start":
      return start(req);
    case "send":
      return send(req);
    case "report":
      return report(req);
    case "stop":
      return stop();
    default: {
      const exhaustive: never = req;
      throw new Error(`unknown request ${JSON.stringify(exhaustive)}`);
    }
  }
}

process.on("message", (req: StormRequest) => {
  handle(req).then(
    (result) => process.send?.({ type: "reply", id: req.id, result }),
    (err: unknown) => process.send?.({ type: "error", id: req.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
// The orchestrator is gone: never linger as an orphan.
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
