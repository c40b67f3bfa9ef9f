/**
 * Scenario 8: a reconnect storm. N real `client-sdk` clients (spread over several
 * `bench/storm-worker.ts` processes), each joined to one conversation of 10 members, reach two
 * Switchboard nodes through a round-robin TCP balancer (a connection whose backend refuses it is
 * tried on the other one, as a balancer with passive health checks does). While some members send
 * through the SDK, one node is killed with SIGKILL. Measured: the time from the kill until each
 * client that dropped is connected again with its conversation re-joined and caught up (the
 * handle's `joined`), p50/p95/max; clients stranded (dropped and not back, or not joined at the
 * end); and for every message the SDK acknowledged during the window, whether every member's
 * handle delivered it (each handle delivers once and in seq order, so the highest seq delivered
 * in order covers everything below it). A last message per conversation after the storm makes a
 * lost broadcast show as a gap. Compared with the anchor figure (a Socket.IO storm of 5,000 clients
 * measured elsewhere: p95 6 s, 3.8% stranded); the bare baseline has no reconnect logic to compare.
 */
import { fork, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { ROOT, sleep, track, withDeadline, type ServerProcess } from "./processes.js";
import { BENCH_JWT_SECRET, createConversations, cpuWindow, type BenchContext, type Deployment } from "./scenarios.js";
import type { StormReport, StormRequest, StormSent, StormStarted } from "./storm-worker.js";
import { monotonicUs } from "./worker-protocol.js";

/** Parameters of {@link reconnectStorm}. */
export interface StormParams {
  clients: number;
  /** Load processes the clients are spread over. */
  workers: number;
  /** Members per conversation. */
  members: number;
  /** Every n-th conversation has a sender. */
  senderEvery: number;
  /** Each sender's interval between sends. */
  sendIntervalMs: number;
  /** How long sending goes on before the kill. */
  sendBeforeKillSeconds: number;
  /** How long sending goes on after the kill. */
  sendAfterKillSeconds: number;
  /** How long a dropped client may take before it counts as stranded. */
  strandedAfterSeconds: number;
}

/** Result of {@link reconnectStorm}. */
export interface StormResult {
  clients: number;
  joinedBefore: number;
  connectSeconds: number;
  dropped: number;
  resync: { p50: number | null; p95: number | null; max: number | null };
  /** The handshake alone (connected again), before the re-join. */
  reconnect: { p50: number | null; p95: number | null; max: number | null };
  stranded: number;
  acked: number;
  sendFailed: number;
  /** Acknowledged messages every member of the conversation delivered. */
  deliveredToAll: number;
  deliveredPercent: number | null;
  /** The same, counting only the members joined at the end: below 100 % means a message was lost, not a member stranded. */
  deliveredToJoinedPercent: number | null;
  /** Member handles that delivered out of order or with a gap (should be 0). */
  outOfOrder: number;
  survivorCpuMsPerReconnect: number | null;
  errors: string[];
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

interface StormWorker {
  child: ChildProcess;
  request<T>(req: WithoutId<StormRequest>, timeoutMs: number): Promise<T>;
}

async function startStormWorker(index: number, nodeArgs: string[]): Promise<StormWorker> {
  const child = track(
    fork(fileURLToPath(new URL("./storm-worker.ts", import.meta.url)), [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx", "--max-old-space-size=2048", ...nodeArgs.filter((a) => !a.startsWith("--cpu-prof"))],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, BENCH_WORKER: `storm-${index}` },
    }),
  );
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  child.on("message", (reply: { type: string; id: number; result?: unknown; message?: string }) => {
    if (reply.type === "ready") return ready();
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.type === "reply") w.resolve(reply.result);
    else w.reject(new Error(`storm worker ${index}: ${reply.message}`));
  });
  // A send on a closed channel is reported to its callback; this keeps it from being an uncaught error.
  child.on("error", () => undefined);
  child.once("exit", (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`storm worker ${index} exited (${code ?? signal})`));
    waiting.clear();
  });
  await withDeadline(isReady, 30_000, `storm worker ${index} to start`);
  return {
    child,
    request<T>(req: WithoutId<StormRequest>, timeoutMs: number) {
      const id = next++;
      const reply = new Promise<T>((resolve, reject) => {
        if (!child.connected) return reject(new Error(`storm worker ${index} is gone (${child.exitCode ?? child.signalCode})`));
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...req, id }, (err) => {
          if (!err) return;
          waiting.delete(id);
          reject(new Error(`storm worker ${index}: ${err.message}`));
        });
      });
      return withDeadline(reply, timeoutMs, `storm worker ${index} ${req.type}`).finally(() => waiting.delete(id));
    },
  };
}

/** A round-robin TCP balancer in this process; a refused backend is skipped for that connection. */
async function startBalancer(servers: ServerProcess[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.pause();
    open.add(client);
    client.on("error", () => undefined);
    const tryBackend = (attempt: number) => {
      if (attempt >= servers.length) return client.destroy();
      const backend = servers[next++ % servers.length]!;
      const upstream = net.connect(backend.port, "127.0.0.1");
      let connected = false;
      upstream.once("error", () => {
        if (!connected) tryBackend(attempt + 1);
      });
      upstream.once("connect", () => {
        connected = true;
        open.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The storm, on a two-node Switchboard deployment. */
export async function reconnectStorm(ctx: BenchContext, dep: Deployment, p: StormParams): Promise<StormResult> {
  const [victim, survivor] = dep.servers;
  if (!victim || !survivor) throw new Error("the reconnect storm needs two nodes");
  const conversations = Array.from({ length: Math.ceil(p.clients / p.members) }, (_, c) => ({
    id: `storm-c${c}`,
    memberIds: Array.from({ length: p.members }, (_, m) => `storm-u${c * p.members + m}`).filter((_, m) => c * p.members + m < p.clients),
  }));
  // The worker processes load the SDK while the conversations are created.
  const starting = Promise.allSettled(Array.from({ length: p.workers }, (_, i) => startStormWorker(i, ctx.serverNodeArgs)));
  const created = createConversations(survivor, conversations);
  const startedWorkers = await starting;
  const workers = startedWorkers.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (workers.length < p.workers) {
    for (const w of workers) w.child.kill("SIGKILL");
    throw (startedWorkers.find((r) => r.status === "rejected") as PromiseRejectedResult).reason;
  }
  const balancer = await created.then(
    () => startBalancer([victim, survivor]),
    (err: unknown) => {
      for (const w of workers) w.child.kill("SIGKILL");
      throw err;
    },
  );
  try {
    // Members of one conversation go to different workers, and alternate nodes through the balancer.
    const specs: { userId: string; conversationId: string; sender: boolean }[][] = workers.map(() => []);
    let k = 0;
    conversations.forEach((c, ci) =>
      c.memberIds.forEach((userId, m) => specs[k++ % workers.length]!.push({ userId, conversationId: c.id, sender: m === 0 && ci % p.senderEvery === 0 })),
    );
    const connectStarted = performance.now();
    const started = await Promise.all(
      workers.map((w, i) => w.request<StormStarted>({ type: "start", url: balancer.url, jwtSecret: BENCH_JWT_SECRET, clients: specs[i]!, timeoutMs: 120_000 }, 180_000)),
    );
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const joinedBefore = started.reduce((a, s) => a + s.joined, 0);
    ctx.log(`    ${joinedBefore}/${p.clients} SDK clients joined in ${connectSeconds.toFixed(1)} s through the balancer`);
    if (joinedBefore < p.clients * 0.99) throw new Error(`only ${joinedBefore}/${p.clients} clients joined: ${started.flatMap((s) => s.errors).slice(0, 3).join("; ")}`);

    const sendMs = (p.sendBeforeKillSeconds + p.sendAfterKillSeconds) * 1000;
    const sending = Promise.all(workers.map((w) => w.request<StormSent>({ type: "send", durationMs: sendMs, intervalMs: p.sendIntervalMs, settleMs: 30_000 }, sendMs + 60_000)));
    await sleep(p.sendBeforeKillSeconds * 1000);
    const cpu = cpuWindow(ctx, [survivor.pid]);
    const killedAt = monotonicUs();
    process.kill(victim.pid, "SIGKILL");
    ctx.log(`    SIGKILL to ${victim.name} (pid ${victim.pid})`);
    const sent = await sending;
    // Wait until every dropped client is back, up to the stranded deadline.
    const deadline = Date.now() + p.strandedAfterSeconds * 1000;
    let reports: StormReport[];
    for (;;) {
      reports = await Promise.all(workers.map((w) => w.request<StormReport>({ type: "report", sinceUs: killedAt }, 30_000)));
      const stranded = reports.reduce((a, r) => a + r.stranded, 0);
      if (stranded === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    const survivorCpu = cpu();
    // One more message per sending conversation, through the survivor: a broadcast the victim lost shows as a gap.
    const last = await Promise.all(workers.map((w) => w.request<StormSent>({ type: "send", durationMs: 0, intervalMs: 0, settleMs: 15_000, once: true }, 30_000)));
    const acked = [...sent, ...last].flatMap((s) => s.acked);
    // Delivery: give the last messages time to arrive, then read every handle.
    const maxAcked = new Map<string, number>();
    for (const a of acked) maxAcked.set(a.conversationId, Math.max(maxAcked.get(a.conversationId) ?? 0, a.seq));
    let finalReports = reports;
    for (const until = Date.now() + 15_000; Date.now() < until; ) {
      finalReports = await Promise.all(workers.map((w) => w.request<StormReport>({ type: "report", sinceUs: killedAt }, 30_000)));
      const behind = finalReports.some((r) => r.delivered.some((d) => d.maxSeq < (maxAcked.get(d.conversationId) ?? 0)));
      if (!behind) break;
      await sleep(250);
    }
    const members = finalReports.flatMap((r) => r.delivered);
    const byConversation = new Map<string, { maxSeq: number; inOrder: boolean; joined: boolean }[]>();
    for (const d of members) byConversation.set(d.conversationId, [...(byConversation.get(d.conversationId) ?? []), d]);
    let deliveredToAll = 0;
    let deliveredToJoined = 0;
    for (const a of acked) {
      const ms = byConversation.get(a.conversationId) ?? [];
      const has = (m: { maxSeq: number; inOrder: boolean }) => m.inOrder && m.maxSeq >= a.seq;
      if (ms.length > 0 && ms.every(has)) deliveredToAll++;
      if (ms.filter((m) => m.joined).every(has)) deliveredToJoined++;
    }
    const resyncMs = reports.flatMap((r) => r.resyncMs).sort((a, b) => a - b);
    const reconnectMs = reports.flatMap((r) => r.reconnectMs).sort((a, b) => a - b);
    const dropped = reports.reduce((a, r) => a + r.dropped, 0);
    const round = (v: number | null) => (v === null ? null : Math.round(v) / 1000);
    return {
      clients: p.clients,
      joinedBefore,
      connectSeconds: Math.round(connectSeconds * 10) / 10,
      dropped,
      resync: { p50: round(percentile(resyncMs, 50)), p95: round(percentile(resyncMs, 95)), max: round(percentile(resyncMs, 100)) },
      reconnect: { p50: round(percentile(reconnectMs, 50)), p95: round(percentile(reconnectMs, 95)), max: round(percentile(reconnectMs, 100)) },
      stranded: reports.reduce((a, r) => a + r.stranded, 0),
      acked: acked.length,
      sendFailed: [...sent, ...last].reduce((a, s) => a + s.failed, 0),
      deliveredToAll,
      deliveredPercent: acked.length ? Math.round((deliveredToAll / acked.length) * 10_000) / 100 : null,
      deliveredToJoinedPercent: acked.length ? Math.round((deliveredToJoined / acked.length) * 10_000) / 100 : null,
      outOfOrder: members.filter((m) => !m.inOrder).length,
      survivorCpuMsPerReconnect: dropped ? Math.round((survivorCpu.servers / dropped) * 100) / 100 : null,
      errors: [...started.flatMap((s) => s.errors), ...sent.flatMap((s) => s.errors)].slice(0, 5),
    };
  } finally {
    await Promise.all(workers.map((w) => w.request({ type: "stop" }, 20_000).catch(() => undefined)));
    for (const w of workers) w.child.kill("SIGKILL");
    await balancer.close();
  }
}
