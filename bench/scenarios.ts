/**
 * The benchmark scenarios. Each one deploys one system (Switchboard or the bare baseline) as
 * child processes, drives it with the shared load workers, measures, and tears it down.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LatencyHistogram, type SerializedHistogram } from "./histogram.js";
import {
  cpuMs,
  rssBytes,
  sleep,
  startBare,
  startSwitchboard,
  type LoadWorker,
  type ServerProcess,
} from "./processes.js";
import {
  monotonicUs,
  type CollectResult,
  type ConnectResult,
  type CountResult,
  type SendResult,
  type SocketSpec,
  type SystemUnderTest,
} from "./worker-protocol.js";

/** The HS256 secret of every benchmark server; workers sign user tokens with it. */
export const BENCH_JWT_SECRET = "bench-secret-0123456789-0123456789-abcdef";
/** The admin API key of every benchmark Switchboard node. */
export const BENCH_ADMIN_KEY = "sb_bench_admin_key_0123456789abcdef";

/**
 * What every Switchboard node of the benchmark runs with, besides its data dir, port and Redis.
 * Rate limits are raised to their maximum so the benchmark measures throughput, not limits;
 * `SQLITE_SYNCHRONOUS=NORMAL` (crash-safe, not power-loss-safe) unless a run says otherwise.
 */
export const SWITCHBOARD_BENCH_ENV: Record<string, string> = {
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "warn",
  JWT_SECRET: BENCH_JWT_SECRET,
  ADMIN_API_KEY: BENCH_ADMIN_KEY,
  SQLITE_SYNCHRONOUS: "NORMAL",
  RATE_LIMIT_SOCKET_EVENTS: "1000000",
  RATE_LIMIT_MESSAGES: "1000000",
  RATE_LIMIT_HTTP: "1000000",
  SHUTDOWN_TIMEOUT_MS: "2000",
};

/** Characters of padding in each message text (the text is about 90 characters in all). */
const PADDING = 64;
const ACK_TIMEOUT_MS = 10_000;

/** What the scenarios share: Redis, the load workers, and settings of this run. */
export interface BenchContext {
  redis: ServerProcess;
  redisUrl: string;
  workers: LoadWorker[];
  /** Extra node flags for every server process (`--cpu-prof …`). */
  serverNodeArgs: string[];
  /** Temporary directories to remove at exit. */
  tempDirs: Set<string>;
  /** Deployments currently running, so a step that overruns its deadline can kill them. */
  live: Set<Deployment>;
  /** Aborted when the current step overran its deadline: every helper then throws at once. */
  signal?: AbortSignal;
  log(line: string): void;
}

/** A system under test, started for one scenario run. */
export interface Deployment {
  system: SystemUnderTest;
  servers: ServerProcess[];
  /** Switchboard's DATA_DIR (the shared SQLite file is `switchboard.db` in it). */
  dataDir?: string;
  /** Stops every server and removes its data. */
  stop(): Promise<void>;
}

/** How a deployment is configured. */
export interface DeployOptions {
  nodes: number;
  adapter?: "classic" | "sharded";
  synchronous?: "NORMAL" | "FULL";
  /** More variables for every Switchboard node (the pre-send hook's, for instance). */
  env?: Record<string, string>;
}

/** Starts `nodes` servers of `system` on the run's Redis. Switchboard nodes share one SQLite file (cluster mode). */
export async function deploy(ctx: BenchContext, system: SystemUnderTest, opts: DeployOptions): Promise<Deployment> {
  ctx.signal?.throwIfAborted();
  const servers: ServerProcess[] = [];
  let dataDir: string | undefined;
  const stop = async () => {
    ctx.live.delete(dep);
    // Switchboard drains in-flight work on SIGTERM (SHUTDOWN_TIMEOUT_MS=2000), and a CPU profile
    // is only written on a clean exit, so it gets time before SIGKILL.
    const started = performance.now();
    await Promise.all(servers.map((s) => s.stop(ctx.serverNodeArgs.includes("--cpu-prof") ? 10_000 : 4000)));
    const ms = performance.now() - started;
    if (ms > 3000) ctx.log(`    note: stopping ${system} took ${(ms / 1000).toFixed(1)} s`);
    if (dataDir) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      ctx.tempDirs.delete(dataDir);
    }
  };
  const dep: Deployment = { system, servers, stop };
  ctx.live.add(dep);
  try {
    if (system === "switchboard") {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-bench-"));
      ctx.tempDirs.add(dataDir);
      dep.dataDir = dataDir;
      // Together: every migration runs in BEGIN IMMEDIATE, so processes starting at once on one file
      // migrate one after the other (as a cluster's nodes do), and the deployment is up in half the time.
      await startTogether(
        servers,
        Array.from({ length: opts.nodes }, (_, i) =>
            startSwitchboard(
              `switchboard-${i}`,
              {
                ...SWITCHBOARD_BENCH_ENV,
                DATA_DIR: dataDir!,
                REDIS_URL: ctx.redisUrl,
                CLUSTER_ADAPTER: opts.adapter ?? "classic",
                NODE_ID: `bench-sb-${i}`,
                SQLITE_SYNCHRONOUS: opts.synchronous ?? "NORMAL",
                ...opts.env,
              },
              ctx.serverNodeArgs,
            ),
        ),
      );
    } else {
      await startTogether(
        servers,
        Array.from({ length: opts.nodes }, (_, i) => startBare(`bare-${i}`, { PORT: "0", REDIS_URL: ctx.redisUrl, NODE_ID: `bench-bare-${i}` }, ctx.serverNodeArgs)),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  ctx.log(`    ${servers.map((s) => `${s.name} pid ${s.pid} port ${s.port}`).join(", ")}`);
  return dep;
}

/** Waits for every start; the ones that came up join `servers` (so a failure still stops them), then the first failure is thrown. */
async function startTogether(servers: ServerProcess[], starts: Promise<ServerProcess>[]): Promise<void> {
  const results = await Promise.allSettled(starts);
  for (const r of results) if (r.status === "fulfilled") servers.push(r.value);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
}

// ---------------------------------------------------------------------------------------------
// Helpers over all workers

/** Calls `request` on every worker at once and returns the replies in worker order. */
async function onAll<T>(ctx: BenchContext, make: (w: number) => Parameters<LoadWorker["request"]>[0], timeoutMs: number): Promise<T[]> {
  ctx.signal?.throwIfAborted();
  return Promise.all(ctx.workers.map((worker, w) => worker.request<T>(make(w), timeoutMs)));
}

async function connectAll(ctx: BenchContext, system: SystemUnderTest, specsByWorker: SocketSpec[][], timeoutMs: number): Promise<ConnectResult & { seconds: number }> {
  const started = performance.now();
  const results = await onAll<ConnectResult>(
    ctx,
    (w) => ({ type: "connect", system, jwtSecret: BENCH_JWT_SECRET, sockets: specsByWorker[w] ?? [], concurrency: 50, timeoutMs: 20_000 }),
    timeoutMs,
  );
  const merged: ConnectResult = { connected: 0, failed: 0, joined: {}, joinFailed: 0, errors: [], ms: 0 };
  for (const r of results) {
    merged.connected += r.connected;
    merged.failed += r.failed;
    merged.joinFailed += r.joinFailed;
    merged.errors.push(...r.errors);
    for (const [c, n] of Object.entries(r.joined)) merged.joined[c] = (merged.joined[c] ?? 0) + n;
  }
  merged.errors = merged.errors.slice(0, 5);
  return { ...merged, ms: performance.now() - started, seconds: (performance.now() - started) / 1000 };
}

interface MergedCollect extends Omit<CollectResult, "crossNode" | "sameNode"> {
  crossNode: LatencyHistogram;
  sameNode: LatencyHistogram;
}

async function collectAll(ctx: BenchContext): Promise<MergedCollect> {
  const results = await onAll<CollectResult>(ctx, () => ({ type: "collect" }), 30_000);
  const merged: MergedCollect = {
    received: 0,
    unique: 0,
    duplicates: 0,
    crossNode: new LatencyHistogram(),
    sameNode: new LatencyHistogram(),
    firstReceiveUs: 0,
    lastReceiveUs: 0,
    otherEvents: {},
    disconnects: 0,
  };
  for (const r of results) {
    merged.received += r.received;
    merged.unique += r.unique;
    merged.duplicates += r.duplicates;
    merged.crossNode.merge(r.crossNode);
    merged.sameNode.merge(r.sameNode);
    if (r.firstReceiveUs && (!merged.firstReceiveUs || r.firstReceiveUs < merged.firstReceiveUs)) merged.firstReceiveUs = r.firstReceiveUs;
    merged.lastReceiveUs = Math.max(merged.lastReceiveUs, r.lastReceiveUs);
    merged.disconnects += r.disconnects;
    for (const [e, n] of Object.entries(r.otherEvents)) merged.otherEvents[e] = (merged.otherEvents[e] ?? 0) + n;
  }
  return merged;
}

async function resetAll(ctx: BenchContext): Promise<void> {
  await onAll(ctx, () => ({ type: "reset" }), 10_000);
}

/** Disconnects every load-worker socket. */
export async function disconnectAll(ctx: BenchContext): Promise<void> {
  await onAll(ctx, () => ({ type: "disconnect" }), 30_000).catch(() => undefined);
}

async function uniqueSoFar(ctx: BenchContext): Promise<number> {
  const counts = await onAll<CountResult>(ctx, () => ({ type: "count" }), 10_000);
  return counts.reduce((sum, c) => sum + c.unique, 0);
}

/**
 * Waits until receivers have everything expected, or until nothing new arrived for
 * `quietMs`, or `maxMs` passed. Returns the unique deliveries counted.
 */
async function drain(ctx: BenchContext, expected: number, quietMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await uniqueSoFar(ctx);
    if (n >= expected) return n;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) {
      return n;
    }
    if (Date.now() > deadline) return n;
    await sleep(100);
  }
}

/** Sums CPU ms of the given processes (a process that is gone counts 0). */
function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      return sum + cpuMs(pid);
    } catch {
      return sum;
    }
  }, 0);
}

/** Busy and total jiffies of the whole machine (/proc/stat), other tenants included. */
function machineJiffies(): { busy: number; total: number } {
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4];
  return { busy: total - idle, total };
}

/** CPU use over a measured window: the system under test, Redis, the load workers, and the whole machine. */
export interface CpuUse {
  servers: number;
  redis: number;
  workers: number;
  /** Servers + Redis: what the per-delivery figures divide. */
  total: number;
  /** Servers + Redis + load workers, as % of all cores over the window. */
  benchPercent: number;
  /** Everything running on the machine (other tenants included), as % of all cores. */
  machinePercent: number;
}

/** Starts a CPU measurement; the returned function ends it. */
export function cpuWindow(ctx: BenchContext, serverPids: number[]): () => CpuUse {
  const workerPids = ctx.workers.map((w) => w.pid);
  const s0 = cpuOf(serverPids);
  const r0 = cpuOf([ctx.redis.pid]);
  const w0 = cpuOf(workerPids);
  const m0 = machineJiffies();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const servers = cpuOf(serverPids) - s0;
    const redis = cpuOf([ctx.redis.pid]) - r0;
    const workers = cpuOf(workerPids) - w0;
    const m1 = machineJiffies();
    const cores = os.cpus().length;
    return {
      servers: Math.round(servers),
      redis: Math.round(redis),
      workers: Math.round(workers),
      total: Math.round(servers + redis),
      benchPercent: Math.round(((servers + redis + workers) / (wallMs * cores)) * 100),
      machinePercent: m1.total > m0.total ? Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100) : 0,
    };
  };
}

/** Sends one command to Redis over a raw RESP connection and returns the raw reply text. */
async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no reply`));
    }, 5000);
    socket.once("connect", () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`));
    socket.on("data", (d) => {
      reply += d.toString();
      // A simple reply ends at its first CRLF; a bulk string announces its length.
      const bulk = reply.match(/^\$(\d+)\r\n/);
      if ((!bulk && reply.includes("\r\n")) || (bulk && Buffer.byteLength(reply) >= bulk[0].length + Number(bulk[1]) + 2)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Calls per Redis command since the last reset (`INFO commandstats`), then resets the counters. */
async function redisCommandCalls(ctx: BenchContext): Promise<Record<string, number>> {
  const port = ctx.redis.port;
  const info = await redisCommand(port, "INFO", "commandstats");
  await redisCommand(port, "CONFIG", "RESETSTAT");
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] !== "info" && m[1] !== "config|resetstat") calls[m[1]] = Number(m[2]);
  }
  return Object.fromEntries(Object.entries(calls).sort((a, b) => b[1] - a[1]));
}

/** `nodejs_heap_size_used_bytes` from `GET /metrics`, or `undefined` when the server has no such endpoint. */
export async function heapUsedBytes(server: ServerProcess): Promise<number | undefined> {
  const text = await scrape(server);
  const m = text?.match(/^nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+([0-9.eE+]+)/m);
  return m ? Number(m[1]) : undefined;
}

async function scrape(server: ServerProcess): Promise<string | undefined> {
  try {
    const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Event-loop delay gauges since the previous scrape (prom-client resets its histogram on each scrape). */
export async function eventLoopLag(server: ServerProcess): Promise<{ p99Ms: number; maxMs: number } | undefined> {
  const text = await scrape(server);
  const read = (name: string) => {
    const m = text?.match(new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, "m"));
    return m ? Number(m[1]) * 1000 : undefined;
  };
  const p99Ms = read("nodejs_eventloop_lag_p99_seconds");
  const maxMs = read("nodejs_eventloop_lag_max_seconds");
  return p99Ms === undefined || maxMs === undefined ? undefined : { p99Ms, maxMs };
}

export async function api(server: ServerProcess, method: string, route: string, body: unknown): Promise<unknown> {
  const res = await fetch(server.url + route, {
    method,
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Creates the conversations over the HTTP API (admin key), a few requests at a time. */
/** The sum of two event-count maps. */
function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return out;
}

export async function createConversations(server: ServerProcess, conversations: { id: string; memberIds: string[] }[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < conversations.length) {
        const c = conversations[next++];
        await api(server, "POST", "/v1/conversations", { id: c.id, type: "group", title: c.id, memberIds: c.memberIds });
      }
    }),
  );
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
  histogram: SerializedHistogram;
}

export function summarize(h: LatencyHistogram): LatencySummary {
  const ms = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
  return { count: h.count, p50: ms(h.percentileMs(50)), p99: ms(h.percentileMs(99)), max: ms(h.count ? h.max / 1000 : undefined), mean: ms(h.meanMs()), histogram: h.toJSON() };
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: idle density

/** Parameters of {@link idleDensity}. */
export interface IdleParams {
  connections: number;
  settleMs: number;
}

/** Result of {@link idleDensity}. */
export interface IdleResult {
  connections: number;
  failed: number;
  errors: string[];
  connectSeconds: number;
  connectsPerSecond: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  rssPerConnectionKB: number;
  heapBeforeMB: number | null;
  heapAfterMB: number | null;
  heapPerConnectionKB: number | null;
  /** Server CPU spent accepting the connections (handshake, auth, presence), per connection. */
  cpuMsPerConnection: number;
  /**
   * From all clients disconnecting at once until the server answers `GET /healthz` (any status;
   * the bare server answers 404): how long the disconnect storm occupies its event loop.
   */
  disconnectBusySeconds: number;
  /** Server CPU over the disconnect storm (and one quiet second after), per connection. */
  cpuMsPerDisconnect: number;
}

/** Resolves once the server answers an HTTP request (its event loop is free again). */
async function untilResponsive(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`${server.name} did not answer within ${timeoutMs} ms after the clients left`, { cause: err });
      await sleep(50);
    }
  }
}

/**
 * Memory of a server once it has settled: the smallest of five samples over `settleMs`, so a
 * sample taken just before a garbage collection does not count garbage as per-connection cost.
 */
async function settledMemory(server: ServerProcess, settleMs: number): Promise<{ rss: number; heap: number | undefined }> {
  let rss = Number.POSITIVE_INFINITY;
  let heap: number | undefined;
  for (let i = 0; i < 5; i++) {
    await sleep(settleMs / 5);
    rss = Math.min(rss, rssBytes(server.pid));
    const h = await heapUsedBytes(server);
    if (h !== undefined) heap = Math.min(heap ?? h, h);
  }
  return { rss, heap };
}

/**
 * N authenticated, idle connections (no conversations joined) on one node: memory before and
 * after, per connection.
 */
export async function idleDensity(ctx: BenchContext, system: SystemUnderTest, p: IdleParams): Promise<IdleResult> {
  const dep = await deploy(ctx, system, { nodes: 1 });
  try {
    const [server] = dep.servers;
    // A little traffic first, so lazily loaded code and JIT warm-up are not billed to connections.
    const warm = await connectAll(ctx, system, ctx.workers.map((_, w) => [{ userId: `warm-${w}`, node: 0, url: server.url, conversations: [] }]), 30_000);
    if (warm.connected === 0) throw new Error(`no warm-up connection succeeded: ${warm.errors.join("; ")}`);
    await disconnectAll(ctx);
    const before = await settledMemory(server, p.settleMs);
    const rssBefore = before.rss;
    const heapBefore = before.heap;
    const cpuBefore = cpuOf([server.pid]);

    const specs: SocketSpec[][] = ctx.workers.map(() => []);
    for (let i = 0; i < p.connections; i++) specs[i % ctx.workers.length].push({ userId: `idle-${i}`, node: 0, url: server.url, conversations: [] });
    const c = await connectAll(ctx, system, specs, 120_000);
    const cpuAfter = cpuOf([server.pid]);
    const after = await settledMemory(server, p.settleMs);
    const rssAfter = after.rss;
    const heapAfter = after.heap;
    if (c.connected < p.connections * 0.95) throw new Error(`only ${c.connected} of ${p.connections} connections succeeded: ${c.errors.join("; ")}`);
    const perConn = (before: number, after: number) => Math.round(((after - before) / c.connected / 1024) * 100) / 100;

    // Every client leaves at once (a load balancer restart looks like this): how long until the
    // server answers an HTTP request again, and what the disconnects cost.
    const cpuBeforeDisconnect = cpuOf([server.pid]);
    const disconnectStarted = performance.now();
    await disconnectAll(ctx);
    await untilResponsive(server, 60_000);
    const disconnectBusySeconds = (performance.now() - disconnectStarted) / 1000;
    await sleep(1000);
    const cpuDisconnects = cpuOf([server.pid]) - cpuBeforeDisconnect;
    return {
      connections: c.connected,
      failed: c.failed,
      errors: c.errors,
      connectSeconds: Math.round(c.seconds * 100) / 100,
      connectsPerSecond: Math.round(c.connected / c.seconds),
      rssBeforeMB: Math.round(rssBefore / 1048576),
      rssAfterMB: Math.round(rssAfter / 1048576),
      rssPerConnectionKB: perConn(rssBefore, rssAfter),
      heapBeforeMB: heapBefore === undefined ? null : Math.round(heapBefore / 1048576),
      heapAfterMB: heapAfter === undefined ? null : Math.round(heapAfter / 1048576),
      heapPerConnectionKB: heapBefore === undefined || heapAfter === undefined ? null : perConn(heapBefore, heapAfter),
      cpuMsPerConnection: Math.round(((cpuAfter - cpuBefore) / c.connected) * 1000) / 1000,
      disconnectBusySeconds: Math.round(disconnectBusySeconds * 100) / 100,
      cpuMsPerDisconnect: Math.round((cpuDisconnects / c.connected) * 1000) / 1000,
    };
  } finally {
    await disconnectAll(ctx);
    await dep.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios 2 and 3: open-loop sending, deliveries measured at receivers

/** Parameters of {@link deliveryRun}. */
export interface DeliveryParams {
  conversations: number;
  membersPerConversation: number;
  /** Messages per second, all senders together. */
  ratePerSec: number;
  durationSeconds: number;
  /** A short burst before measuring: warms up, and proves cross-node delivery works at all. */
  warmupSeconds: number;
  /** Node of member `m` of conversation `c`. */
  nodeOf: (c: number, m: number) => number;
  nodes: number;
  /**
   * Optional capacity probe after the paced run: `messages` sent at `ratePerSec` (faster than the
   * machine can deliver), deliveries/s measured while the backlog drains.
   */
  burst?: { messages: number; ratePerSec: number };
}

/** Result of {@link deliveryRun}. */
export interface DeliveryResult {
  connected: number;
  joinFailed: number;
  setupSeconds: number;
  sent: number;
  acked: number;
  failed: number;
  sendErrors: string[];
  expectedDeliveries: number;
  uniqueDeliveries: number;
  duplicates: number;
  lost: number;
  lossPercent: number;
  deliveriesPerSecond: number;
  sendRatePerSecond: number;
  crossNode: LatencySummary;
  sameNode: LatencySummary;
  all: LatencySummary;
  ack: LatencySummary;
  /** Offered deliveries per second: rate × members joined. */
  offeredDeliveriesPerSecond: number;
  cpuMs: CpuUse;
  cpuMsPer1kDeliveries: number;
  serverCpuMsPer1kDeliveries: number;
  /** The capacity probe, when asked for. */
  burst: { messages: number; acked: number; expectedDeliveries: number; uniqueDeliveries: number; lost: number; deliveriesPerSecond: number; p99: number | null; seconds: number } | null;
  /** Event-loop delay of each Switchboard node during the measured window (when `/metrics` exists). */
  eventLoopLag: ({ p99Ms: number; maxMs: number } | null)[];
  /** Non-message events the clients received, setup included (presence, conversation updates). */
  otherEventsDuringSetup: Record<string, number>;
  /** The same after setup (warm-up and measured window): presence counts that trail the joins land here. */
  otherEventsAfterSetup: Record<string, number>;
  /** Redis commands the servers issued (INFO commandstats): during setup, and in the measured window. */
  redisCommands: { setup: Record<string, number>; run: Record<string, number> };
  disconnects: number;
}

/** Thrown when cross-node delivery does not work at all (a broken adapter): reported, not retried. */
export class CrossNodeDeliveryBroken extends Error {
  override name = "CrossNodeDeliveryBroken";
}

/**
 * `conversations` × `membersPerConversation` users, one connection each, every one joined to
 * its conversation; members spread over the nodes by `nodeOf`. Messages go out on a fixed
 * global schedule (open loop) from members in turn; receivers time them on the shared
 * monotonic clock and de-duplicate them.
 */
export async function deliveryRun(ctx: BenchContext, dep: Deployment, tag: string, p: DeliveryParams): Promise<DeliveryResult> {
  const W = ctx.workers.length;
  const conversations = Array.from({ length: p.conversations }, (_, c) => ({
    id: `${tag}-c${c}`,
    memberIds: Array.from({ length: p.membersPerConversation }, (_, m) => `${tag}-u${c}-${m}`),
  }));
  await redisCommandCalls(ctx); // resets the counters
  const setupStarted = performance.now();
  if (dep.system === "switchboard") await createConversations(dep.servers[0], conversations);
  const specs: SocketSpec[][] = ctx.workers.map(() => []);
  let i = 0;
  for (const [c, conv] of conversations.entries()) {
    for (const [m, userId] of conv.memberIds.entries()) {
      const node = p.nodeOf(c, m) % dep.servers.length;
      // Consecutive users alternate nodes; pairs go to workers in turn, so every worker has both.
      specs[Math.floor(i / 2) % W].push({ userId, node, url: dep.servers[node].url, conversations: [conv.id] });
      i++;
    }
  }
  const conn = await connectAll(ctx, dep.system, specs, 180_000);
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  const total = p.conversations * p.membersPerConversation;
  if (conn.connected < total * 0.95 || conn.joinFailed > total * 0.05) {
    throw new Error(`setup failed: ${conn.connected}/${total} connected, ${conn.joinFailed} joins failed: ${conn.errors.join("; ")}`);
  }
  ctx.log(`    setup: ${conn.connected} connections joined in ${setupSeconds.toFixed(1)} s`);
  // Events received so far (presence storms on connect, conversation updates) are setup cost.
  const setupEvents = await collectAll(ctx);
  const setupRedis = await redisCommandCalls(ctx);

  const send = async (seconds: number, ratePerSec = p.ratePerSec) => {
    const totalMessages = Math.max(1, Math.round(ratePerSec * seconds));
    const startUs = monotonicUs() + 300_000;
    const results = await onAll<SendResult>(
      ctx,
      (w) => ({ type: "openLoop", startUs, ratePerSec, total: totalMessages, stride: W, offset: w, ackTimeoutMs: ACK_TIMEOUT_MS, padding: PADDING }),
      seconds * 1000 + ACK_TIMEOUT_MS + 30_000,
    );
    const ack = new LatencyHistogram();
    const merged = { sent: 0, acked: 0, failed: 0, errors: [] as string[], expected: 0, firstSendUs: 0 };
    for (const r of results) {
      merged.sent += r.sent;
      merged.acked += r.acked;
      merged.failed += r.failed;
      merged.errors.push(...r.errors);
      ack.merge(r.ack);
      if (r.firstSendUs && (!merged.firstSendUs || r.firstSendUs < merged.firstSendUs)) merged.firstSendUs = r.firstSendUs;
      for (const [c, n] of Object.entries(r.ackedByConversation)) merged.expected += n * (conn.joined[c] ?? 0);
    }
    return { ...merged, ack };
  };

  // Warm-up, which doubles as the probe that cross-node delivery works at all.
  await resetAll(ctx);
  const warm = await send(p.warmupSeconds);
  await drain(ctx, warm.expected, 1500, 10_000);
  const warmSeen = await collectAll(ctx);
  if (p.nodes > 1 && warm.acked > 0 && warmSeen.crossNode.count === 0) {
    throw new CrossNodeDeliveryBroken(
      `messages never arrive cross-node: ${warm.acked} sends acked during warm-up, ${warmSeen.sameNode.count} same-node deliveries, 0 cross-node deliveries within 10 s`,
    );
  }
  if (warm.acked === 0) throw new Error(`no send was acknowledged during warm-up: ${warm.errors.slice(0, 3).join("; ")}`);

  await resetAll(ctx);
  for (const s of dep.servers) await eventLoopLag(s); // resets prom-client's window
  await redisCommandCalls(ctx);
  const endCpu = cpuWindow(ctx, dep.servers.map((s) => s.pid));
  const run = await send(p.durationSeconds);
  const unique = await drain(ctx, run.expected, 2000, 15_000);
  const cpu = endCpu();
  const runRedis = await redisCommandCalls(ctx);
  const cpuServers = cpu.servers;
  const cpuRedis = cpu.redis;
  const lag = await Promise.all(dep.servers.map(async (s) => (dep.system === "switchboard" ? (await eventLoopLag(s)) ?? null : null)));
  const got = await collectAll(ctx);
  if (got.unique !== unique) ctx.log(`    note: ${got.unique - unique} deliveries arrived after the drain`);
  const all = new LatencyHistogram().merge(got.crossNode).merge(got.sameNode);
  const spanS = got.lastReceiveUs > run.firstSendUs ? (got.lastReceiveUs - run.firstSendUs) / 1e6 : p.durationSeconds;
  const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
  const lost = Math.max(0, run.expected - got.unique);
  const joinedTotal = Object.values(conn.joined).reduce((a, b) => a + b, 0);

  let burst: DeliveryResult["burst"] = null;
  if (p.burst) {
    await resetAll(ctx);
    const seconds = p.burst.messages / p.burst.ratePerSec;
    const b = await send(seconds, p.burst.ratePerSec);
    await drain(ctx, b.expected, 3000, 60_000);
    const bGot = await collectAll(ctx);
    const bAll = new LatencyHistogram().merge(bGot.crossNode).merge(bGot.sameNode);
    const bSpan = bGot.lastReceiveUs > b.firstSendUs ? (bGot.lastReceiveUs - b.firstSendUs) / 1e6 : 0;
    burst = {
      messages: b.sent,
      acked: b.acked,
      expectedDeliveries: b.expected,
      uniqueDeliveries: bGot.unique,
      lost: Math.max(0, b.expected - bGot.unique),
      deliveriesPerSecond: bSpan ? Math.round(bGot.unique / bSpan) : 0,
      p99: summarize(bAll).p99,
      seconds: round(bSpan, 2),
    };
  }
  return {
    connected: conn.connected,
    joinFailed: conn.joinFailed,
    setupSeconds: round(setupSeconds),
    sent: run.sent,
    acked: run.acked,
    failed: run.failed,
    sendErrors: run.errors.slice(0, 5),
    expectedDeliveries: run.expected,
    uniqueDeliveries: got.unique,
    duplicates: got.duplicates,
    lost,
    lossPercent: run.expected ? round((lost / run.expected) * 100, 3) : 0,
    deliveriesPerSecond: Math.round(got.unique / spanS),
    sendRatePerSecond: round(run.acked / p.durationSeconds),
    crossNode: summarize(got.crossNode),
    sameNode: summarize(got.sameNode),
    all: summarize(all),
    ack: summarize(run.ack),
    offeredDeliveriesPerSecond: Math.round((p.ratePerSec * joinedTotal) / p.conversations),
    cpuMs: cpu,
    cpuMsPer1kDeliveries: got.unique ? round(((cpuServers + cpuRedis) / got.unique) * 1000, 2) : 0,
    serverCpuMsPer1kDeliveries: got.unique ? round((cpuServers / got.unique) * 1000, 2) : 0,
    burst,
    eventLoopLag: lag,
    otherEventsDuringSetup: setupEvents.otherEvents,
    otherEventsAfterSetup: addCounts(warmSeen.otherEvents, got.otherEvents),
    redisCommands: { setup: setupRedis, run: runRedis },
    disconnects: got.disconnects,
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: acknowledged sends, closed loop, one node

/** Parameters of {@link ackedSends}. */
export interface AckParams {
  senders: number;
  durationSeconds: number;
}

/** Result of {@link ackedSends}. */
export interface AckResult {
  senders: number;
  acked: number;
  failed: number;
  errors: string[];
  acksPerSecond: number;
  ack: LatencySummary;
  cpuMs: CpuUse;
  /** CPU per 1000 acknowledged sends (each is also delivered once, to the sender's own connection). */
  cpuMsPer1kAcks: number;
  eventLoopLag: { p99Ms: number; maxMs: number } | null;
  /** With a pre-send hook: its process's CPU and the calls Switchboard made, over the measured window. */
  hook?: PreSendHookUse;
  /** Switchboard: messages per SQLite group commit over the window (`switchboard_store_group_commit_size` sum ÷ count), so sends per fsync. */
  appendsPerCommit?: number | null;
}

/** The group-commit histogram's sum and count in one `/metrics` text. */
function groupCommits(text: string | undefined): { sum: number; count: number } {
  const read = (suffix: string) => Number(text?.match(new RegExp(`^switchboard_store_group_commit_size_${suffix}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m"))?.[1] ?? NaN);
  return { sum: read("sum"), count: read("count") };
}

/** What the pre-send hook cost over a measured window of {@link ackedSends}. */
export interface PreSendHookUse {
  /** Calls by outcome, from `switchboard_presend_hook_total` (the window's increase). */
  calls: Record<string, number>;
  /** Mean call duration as Switchboard timed it (`switchboard_presend_hook_duration_seconds`), in ms. */
  meanCallMs: number | null;
  /** CPU of the hook process. */
  hookCpuMs: number;
  /** Hook process CPU per 1000 calls. */
  hookCpuMsPer1kCalls: number | null;
}

/** The pre-send hook's counters in one `/metrics` text: calls per outcome, and the duration sum and count. */
function preSendHookCounters(text: string | undefined): { calls: Record<string, number>; seconds: number; count: number } {
  const calls: Record<string, number> = {};
  let seconds = 0;
  let count = 0;
  for (const m of (text ?? "").matchAll(/^switchboard_presend_hook_total\{[^}]*outcome="(\w+)"[^}]*\}\s+(\S+)/gm)) calls[m[1]] = Number(m[2]);
  for (const m of (text ?? "").matchAll(/^switchboard_presend_hook_duration_seconds_(sum|count)\{[^}]*\}\s+(\S+)/gm)) {
    if (m[1] === "sum") seconds += Number(m[2]);
    else count += Number(m[2]);
  }
  return { calls, seconds, count };
}

/**
 * K senders, each in a conversation of its own (joined, so every message is also delivered
 * once, back to it), each sending the next message as soon as the previous one is acked.
 */
export async function ackedSends(ctx: BenchContext, dep: Deployment, tag: string, p: AckParams, hook?: ServerProcess): Promise<AckResult> {
  const [server] = dep.servers;
  const W = ctx.workers.length;
  const conversations = Array.from({ length: p.senders }, (_, k) => ({ id: `${tag}-c${k}`, memberIds: [`${tag}-u${k}`] }));
  if (dep.system === "switchboard") await createConversations(server, conversations);
  const specs: SocketSpec[][] = ctx.workers.map(() => []);
  conversations.forEach((c, k) => specs[k % W].push({ userId: c.memberIds[0], node: 0, url: server.url, conversations: [c.id] }));
  const conn = await connectAll(ctx, dep.system, specs, 60_000);
  if (conn.connected < p.senders) throw new Error(`only ${conn.connected}/${p.senders} senders connected: ${conn.errors.join("; ")}`);

  const loop = (seconds: number) =>
    onAll<SendResult>(
      ctx,
      (w) => ({ type: "closedLoop", senders: specs[w].length, durationMs: seconds * 1000, ackTimeoutMs: ACK_TIMEOUT_MS, padding: PADDING }),
      seconds * 1000 + ACK_TIMEOUT_MS + 30_000,
    );
  await loop(Math.min(2, p.durationSeconds / 3)); // warm-up
  await eventLoopLag(server);
  const hookBefore = hook ? preSendHookCounters(await scrape(server)) : undefined;
  const commitsBefore = dep.system === "switchboard" ? groupCommits(await scrape(server)) : undefined;
  const hookCpu0 = hook ? cpuOf([hook.pid]) : 0;
  const endCpu = cpuWindow(ctx, [server.pid]);
  const started = performance.now();
  const results = await loop(p.durationSeconds);
  const seconds = (performance.now() - started) / 1000;
  const cpu = endCpu();
  const hookCpuMs = hook ? Math.round(cpuOf([hook.pid]) - hookCpu0) : 0;
  const lag = dep.system === "switchboard" ? ((await eventLoopLag(server)) ?? null) : null;
  const commitsAfter = commitsBefore ? groupCommits(await scrape(server)) : undefined;
  const commits = commitsBefore && commitsAfter ? commitsAfter.count - commitsBefore.count : 0;
  const appendsPerCommit = commitsBefore && commitsAfter && commits > 0 ? Math.round(((commitsAfter.sum - commitsBefore.sum) / commits) * 10) / 10 : null;
  let hookUse: PreSendHookUse | undefined;
  if (hookBefore) {
    // Scraped after the lag gauges: the hook's counters only grow, so the order does not matter.
    const after = preSendHookCounters(await scrape(server));
    const calls = Object.fromEntries(Object.entries(after.calls).map(([o, v]) => [o, v - (hookBefore.calls[o] ?? 0)]));
    const count = after.count - hookBefore.count;
    hookUse = {
      calls,
      meanCallMs: count > 0 ? Math.round(((after.seconds - hookBefore.seconds) / count) * 1_000_000) / 1000 : null,
      hookCpuMs,
      hookCpuMsPer1kCalls: count > 0 ? Math.round((hookCpuMs / count) * 100_000) / 100 : null,
    };
  }
  const ack = new LatencyHistogram();
  let acked = 0;
  let failed = 0;
  const errors: string[] = [];
  for (const r of results) {
    acked += r.acked;
    failed += r.failed;
    errors.push(...r.errors);
    ack.merge(r.ack);
  }
  return {
    senders: conn.connected,
    acked,
    failed,
    errors: errors.slice(0, 5),
    acksPerSecond: Math.round(acked / seconds),
    ack: summarize(ack),
    cpuMs: cpu,
    cpuMsPer1kAcks: acked ? Math.round((cpu.total / acked) * 1000 * 100) / 100 : 0,
    eventLoopLag: lag,
    ...(hookUse ? { hook: hookUse } : {}),
    ...(commitsBefore ? { appendsPerCommit } : {}),
  };
}

/** Runs `body` against a fresh deployment, always disconnecting clients and stopping servers after. */
export async function withDeployment<T>(ctx: BenchContext, system: SystemUnderTest, opts: DeployOptions, body: (dep: Deployment) => Promise<T>): Promise<T> {
  const dep = await deploy(ctx, system, opts);
  try {
    return await body(dep);
  } finally {
    await disconnectAll(ctx);
    await dep.stop();
  }
}
