/**
 * `npm run bench`: Switchboard against a bare Socket.IO baseline, same Redis adapter, same load
 * generator, same run. Starts its own redis-server, server nodes and load workers as child
 * processes, runs the scenarios (each bounded in time), prints a table and writes
 * `bench/results/latest.json`. See docs/benchmarks.md.
 *
 * Options: `--quick` (a smoke run of a few seconds per scenario), `--only=idle,cross,fanout,acks,presend,history,storm`,
 * `--workers=N` (load processes, default 4), `--cpu-prof` (V8 CPU profiles of every server
 * process into bench/results/cpu-prof/), `--budget-seconds=N` (default 570), and scale knobs
 * such as `--cross-rate=1000` (see KNOBS).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatTable, row, type Row } from "./report.js";
import { bigRoom, bigRoomEstimateSeconds, bigRoomRows, presenceFramesPerMember, type BigRoomParams, type BigRoomResults } from "./scenario-big-room.js";
import { historyPages, type HistoryParams, type HistoryResult } from "./scenario-history.js";
import { reconnectStorm, type StormParams, type StormResult } from "./scenario-reconnect-storm.js";
import { summaryLines, TARGETS, targetText, meets, type Target } from "./targets.js";
import { killAllChildren, ROOT, startHookServer, startRedis, startWorker, withDeadline, type LoadWorker } from "./processes.js";
import {
  ackedSends,
  CrossNodeDeliveryBroken,
  deploy,
  disconnectAll,
  deliveryRun,
  idleDensity,
  SWITCHBOARD_BENCH_ENV,
  withDeployment,
  type AckParams,
  type AckResult,
  type BenchContext,
  type Deployment,
  type DeployOptions,
  type DeliveryParams,
  type DeliveryResult,
  type IdleParams,
  type IdleResult,
} from "./scenarios.js";

type ScenarioName = "idle" | "cross" | "fanout" | "acks" | "presend" | "bigroom" | "history" | "storm";
const SCENARIOS: ScenarioName[] = ["idle", "cross", "fanout", "acks", "presend", "bigroom", "history", "storm"];

interface Options {
  quick: boolean;
  only: Set<ScenarioName>;
  workers: number;
  cpuProf: boolean;
  budgetSeconds: number;
  /** Scale overrides, e.g. `--cross-rate=1000` (see {@link KNOBS}). */
  knobs: Partial<Record<Knob, number>>;
}

/** Scale settings that `--<name>=<number>` overrides, to run the named parameters on a bigger machine. */
const KNOBS = [
  "idle-connections",
  "cross-conversations",
  "cross-rate",
  "cross-seconds",
  "fanout-members",
  "fanout-rate",
  "fanout-seconds",
  "fanout-burst-messages",
  "fanout-burst-rate",
  "ack-senders",
  "ack-seconds",
  "presend-senders",
  "presend-seconds",
  "bigroom-members",
  "bigroom-rate",
  "bigroom-seconds",
  "history-messages",
  "history-requests",
  "storm-clients",
  "storm-workers",
] as const;
type Knob = (typeof KNOBS)[number];

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, only: new Set(SCENARIOS), workers: 4, cpuProf: false, budgetSeconds: 570, knobs: {} };
  let onlyGiven = false;
  let workersGiven = false;
  const usage = `known: --quick --only=<${SCENARIOS.join("|")},…> --workers=N --budget-seconds=N --cpu-prof ${KNOBS.map((k) => `--${k}=N`).join(" ")}`;
  for (const arg of argv) {
    const [key, value] = arg.split("=", 2) as [string, string | undefined];
    const name = key.replace(/^--/, "");
    if (key === "--quick") options.quick = true;
    else if (key === "--cpu-prof") options.cpuProf = true;
    else if (key === "--workers") {
      options.workers = positive(key, value);
      workersGiven = true;
    }
    else if (key === "--budget-seconds") options.budgetSeconds = positive(key, value);
    else if (key === "--only") {
      const names = (value ?? "").split(",").map((n) => n.trim()).filter(Boolean);
      for (const n of names) if (!SCENARIOS.includes(n as ScenarioName)) fail(`--only: unknown scenario ${JSON.stringify(n)} (${usage})`);
      options.only = new Set(names as ScenarioName[]);
      onlyGiven = true;
    } else if ((KNOBS as readonly string[]).includes(name)) options.knobs[name as Knob] = positive(key, value);
    else fail(`unknown option ${arg}; ${usage}`);
  }
  if (options.quick) {
    // The quick run must fit 90 s on the 2-core machine, and each server start costs seconds: it
    // runs every scenario that has a Done-when target, each once, at a small scale, on 2 load
    // workers. The pre-send hook (no target) runs only when named with --only.
    if (!onlyGiven) options.only.delete("presend");
    if (!workersGiven) options.workers = 2;
  }
  return options;
}

function positive(key: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) fail(`${key} needs a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/**
 * The scale of each scenario. The issue names 10,000 idle connections, 1,000 msg/s cross-node
 * and 50 msg/s into a 1,000-member room for 60 s; on the 2-core reference machine (which also
 * runs the load generators) the paced rates are lowered to what it delivers without queueing,
 * so latencies are latencies, and a burst at the named 50 msg/s probes fan-out capacity. The
 * whole run stays under 10 minutes. `--quick` is a smoke test; the knobs restore any named value.
 */
function parameters(o: Options) {
  const q = o.quick;
  const k = (name: Knob, full: number, quick: number) => o.knobs[name] ?? (q ? quick : full);
  return {
    idle: { connections: k("idle-connections", 10_000, 500), settleMs: q ? 500 : 2000 } satisfies IdleParams,
    cross: {
      conversations: k("cross-conversations", 200, 20),
      membersPerConversation: 10,
      ratePerSec: k("cross-rate", 200, 100),
      durationSeconds: k("cross-seconds", 20, 2),
      warmupSeconds: q ? 0.5 : 1,
      nodes: 2,
      // Half of every conversation on each node.
      nodeOf: (_c: number, m: number) => (m < 5 ? 0 : 1),
    } satisfies DeliveryParams,
    fanout: {
      conversations: 1,
      membersPerConversation: k("fanout-members", 1000, 100),
      ratePerSec: k("fanout-rate", 5, 5),
      durationSeconds: k("fanout-seconds", 30, 2),
      warmupSeconds: q ? 0.5 : 1,
      nodes: 2,
      nodeOf: (_c: number, m: number) => m % 2,
      burst: { messages: k("fanout-burst-messages", 60, 10), ratePerSec: k("fanout-burst-rate", 50, 50) },
    } satisfies DeliveryParams,
    // K=50 in the quick run too: the target is stated at K=50.
    acks: { senders: k("ack-senders", 50, 50), durationSeconds: k("ack-seconds", 12, 2) } satisfies AckParams,
    acksFull: { senders: k("ack-senders", 50, 50), durationSeconds: q ? 2 : 6 } satisfies AckParams,
    presend: { senders: k("presend-senders", 50, 20), durationSeconds: k("presend-seconds", 8, 2) } satisfies AckParams,
    bigroom: { members: k("bigroom-members", 10_000, 2000), ratePerSec: k("bigroom-rate", 1, 1), durationSeconds: k("bigroom-seconds", 10, 3) } satisfies BigRoomParams,
    history: { messages: k("history-messages", 1_000_000, 300_000), requests: k("history-requests", 1000, 100) } satisfies HistoryParams,
    storm: {
      clients: k("storm-clients", 5000, 500),
      workers: k("storm-workers", 4, 2),
      members: 10,
      senderEvery: 5,
      sendIntervalMs: 1000,
      sendBeforeKillSeconds: q ? 1 : 2,
      sendAfterKillSeconds: q ? 2 : 8,
      strandedAfterSeconds: 30,
    } satisfies StormParams,
  };
}

/** A scenario run that did not produce numbers. */
interface Failure {
  error: string;
  skipped?: true;
  /** The adapter delivers nothing across nodes (sharded + ioredis, for instance). */
  broken?: true;
}

type Outcome<T> = T | Failure;
const failed = <T extends object>(o: Outcome<T> | undefined): o is Failure => !!o && "error" in o;
const ok = <T extends object>(o: Outcome<T> | undefined): T | undefined => (o && !("error" in o) ? (o as T) : undefined);

interface Results {
  idle: { switchboard?: Outcome<IdleResult>; bare?: Outcome<IdleResult> };
  cross: { "switchboard-classic"?: Outcome<DeliveryResult>; "switchboard-sharded"?: Outcome<DeliveryResult>; bare?: Outcome<DeliveryResult> };
  fanout: { "switchboard-classic"?: Outcome<DeliveryResult>; "switchboard-sharded"?: Outcome<DeliveryResult>; bare?: Outcome<DeliveryResult> };
  acks: { switchboard?: Outcome<AckResult>; "switchboard-full"?: Outcome<AckResult>; bare?: Outcome<AckResult> };
  /** The same Switchboard with and without `PRESEND_HOOK_URL`. */
  presend: { hook?: Outcome<AckResult>; none?: Outcome<AckResult> };
  bigroom: BigRoomResults;
  history: { switchboard?: Outcome<HistoryResult> };
  storm: { switchboard?: Outcome<StormResult> };
}

/** The signing secret of the benchmark's pre-send hook. */
const BENCH_HOOK_SECRET = `whsec_${Buffer.from("switchboard benchmark pre-send hook").toString("base64")}`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const params = parameters(options);
  const quick = options.quick;
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const log = (line: string) => process.stdout.write(`[${elapsed().toFixed(1).padStart(6)} s] ${line}\n`);
  const tempDirs = new Set<string>();
  const cleanup = () => {
    killAllChildren();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping every child process\n`);
      cleanup();
      process.exit(130);
    });
  }

  // The last resort: whatever hangs, the run ends shortly after its budget.
  setTimeout(() => {
    process.stderr.write(`\nbench: still running ${options.budgetSeconds + 25} s after the start; stopping every child process\n`);
    cleanup();
    process.exit(1);
  }, (options.budgetSeconds + 25) * 1000).unref();

  const cpuProfDir = path.join(ROOT, "bench/results/cpu-prof");
  if (options.cpuProf) fs.mkdirSync(cpuProfDir, { recursive: true });

  const notes: string[] = [];
  const quietness = await machineBusyPercent(1000);
  if (quietness > 25) notes.push(`The machine was already ${quietness}% busy (other processes) in the second before the benchmark started: expect noisy latencies; the CPU-per-delivery figures (per process) are less affected.`);
  log(`Switchboard benchmark${options.quick ? " (--quick: smoke-test scale, numbers are not meaningful)" : ""}: ${[...options.only].join(", ")}; machine ${quietness}% busy before start`);
  const redis = await startRedis();
  log(`redis-server ${redis.version} on ${redis.url.replace("redis://", "")} (pid ${redis.pid})`);
  const workers: LoadWorker[] = await Promise.all(Array.from({ length: options.workers }, (_, i) => startWorker(i)));
  log(`${workers.length} load workers (pids ${workers.map((w) => w.pid).join(", ")})`);
  const ctx: BenchContext = {
    redis,
    redisUrl: redis.url,
    workers,
    serverNodeArgs: options.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [],
    tempDirs,
    live: new Set(),
    log,
  };

  /**
   * Where a scenario gets its servers. The full run gives every scenario fresh ones. The quick run
   * keeps a deployment for the scenarios that ask for the same kind (system, nodes, adapter,
   * synchronous), disconnecting the clients in between, because starting a node costs seconds and
   * the quick run has 90 s: cross-node, fan-out and the storm (last: it kills a node) share one
   * two-node deployment, 4b and history one FULL node. A deployment a step left dead is replaced.
   */
  const shared = new Map<string, Deployment>();
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const onDeployment = async <T>(system: "switchboard" | "bare", opts: DeployOptions, body: (dep: Deployment) => Promise<T>): Promise<T> => {
    if (!quick || opts.env) return withDeployment(ctx, system, opts, body);
    const key = JSON.stringify([system, opts.nodes, opts.adapter ?? "classic", opts.synchronous ?? "NORMAL"]);
    let dep = shared.get(key);
    if (dep && !dep.servers.every((s) => alive(s.pid))) {
      await dep.stop();
      dep = undefined;
    }
    if (!dep) {
      dep = await deploy(ctx, system, opts);
      shared.set(key, dep);
    }
    try {
      return await body(dep);
    } finally {
      await disconnectAll(ctx);
    }
  };

  const results: Results = { idle: {}, cross: {}, fanout: {}, acks: {}, presend: {}, bigroom: {}, history: {}, storm: {} };
  const budgetMs = options.budgetSeconds * 1000;

  /**
   * Runs one step within its deadline, unless the overall budget cannot fit its estimate. A step
   * that overruns is aborted: its servers are killed and the load workers replaced, so nothing of
   * it runs on into the next step.
   */
  const step = async <T>(label: string, estimateS: number, body: () => Promise<T>): Promise<Outcome<T>> => {
    const remaining = budgetMs - (Date.now() - started);
    if (remaining < estimateS * 1000) {
      const error = `about ${Math.round(estimateS)} s needed, ${Math.round(remaining / 1000)} s of the ${options.budgetSeconds} s budget left`;
      log(`${label}: skipped: ${error}`);
      return { error, skipped: true };
    }
    log(`${label} ...`);
    const controller = new AbortController();
    ctx.signal = controller.signal;
    const running = body();
    try {
      const value = await withDeadline(running, Math.min(remaining, estimateS * 2000 + 30_000), label);
      log(`${label}: done`);
      return value;
    } catch (err) {
      const broken = err instanceof CrossNodeDeliveryBroken;
      const error = err instanceof Error ? err.message : String(err);
      log(`${label}: ${broken ? "NOT WORKING" : "FAILED"}: ${error}`);
      controller.abort();
      if (ctx.live.size > 0 || /no result within/.test(error)) {
        for (const dep of ctx.live) for (const s of dep.servers) void s.stop(0);
        for (const w of ctx.workers) w.stop();
        ctx.workers.splice(0, ctx.workers.length, ...(await Promise.all(ctx.workers.map((_, i) => startWorker(i)))));
        await withDeadline(running.catch(() => undefined), 15_000, `${label} cleanup`).catch(() => undefined);
      }
      return broken ? { error, broken: true } : { error };
    }
  };

  if (options.only.has("idle")) {
    const p = params.idle;
    const est = 15 + p.connections / 800;
    results.idle.switchboard = await step(`1 idle density: Switchboard, ${p.connections} connections`, est, () => idleDensity(ctx, "switchboard", p));
    results.idle.bare = await step(`1 idle density: bare, ${p.connections} connections`, est, () => idleDensity(ctx, "bare", p));
  }

  const deliveries = async (name: "cross" | "fanout", title: string, p: DeliveryParams) => {
    const users = p.conversations * p.membersPerConversation;
    const est = 12 + users / (name === "fanout" ? 60 : 250) + p.warmupSeconds + p.durationSeconds + 5;
    const run = (system: "switchboard" | "bare", adapter: "classic" | "sharded", tag: string) =>
      onDeployment(system, { nodes: 2, adapter }, (dep) => deliveryRun(ctx, dep, tag, p));
    const r = results[name];
    r["switchboard-classic"] = await step(`${title}: Switchboard, classic adapter`, est, () => run("switchboard", "classic", `${name}-sbc`));
    // The quick run compares classic with bare only; the adapter comparison is the full run's.
    if (!quick) r["switchboard-sharded"] = await step(`${title}: Switchboard, sharded adapter`, est, () => run("switchboard", "sharded", `${name}-sbs`));
    r.bare = await step(`${title}: bare, classic adapter`, est, () => run("bare", "classic", `${name}-bare`));
  };
  if (options.only.has("cross")) {
    const p = params.cross;
    await deliveries("cross", `2 cross-node latency: ${p.conversations}x${p.membersPerConversation}, ${p.ratePerSec} msg/s, ${p.durationSeconds} s`, p);
  }
  if (options.only.has("fanout")) {
    const p = params.fanout;
    await deliveries("fanout", `3 large-room fan-out: ${p.membersPerConversation} members, ${p.ratePerSec} msg/s, ${p.durationSeconds} s`, p);
  }

  if (options.only.has("acks")) {
    const p = params.acks;
    const est = 10 + p.durationSeconds + 3;
    const title = `4 acked sends: ${p.senders} closed-loop senders, one node, ${p.durationSeconds} s`;
    // The targets are on the default FULL (4b); the quick run leaves NORMAL out.
    if (!quick)
      results.acks.switchboard = await step(`${title}: Switchboard (SQLITE_SYNCHRONOUS=NORMAL)`, est, () =>
        withDeployment(ctx, "switchboard", { nodes: 1 }, (dep) => ackedSends(ctx, dep, "acks-sb", p)),
      );
    results.acks.bare = await step(`${title}: bare`, est, () => onDeployment("bare", { nodes: 1 }, (dep) => ackedSends(ctx, dep, "acks-bare", p)));
    const pf = params.acksFull;
    results.acks["switchboard-full"] = await step(`4b acked sends, ${pf.durationSeconds} s: Switchboard with SQLITE_SYNCHRONOUS=FULL (the default)`, 10 + pf.durationSeconds + 3, () =>
      onDeployment("switchboard", { nodes: 1, synchronous: "FULL" }, (dep) => ackedSends(ctx, dep, "acks-full", pf)),
    );
  }

  if (options.only.has("presend")) {
    const p = params.presend;
    const est = 10 + p.durationSeconds + 3;
    const title = `5 pre-send hook: ${p.senders} closed-loop senders, one node, ${p.durationSeconds} s`;
    results.presend.none = await step(`${title}: Switchboard without a hook`, est, () =>
      withDeployment(ctx, "switchboard", { nodes: 1 }, (dep) => ackedSends(ctx, dep, "presend-none", p)),
    );
    results.presend.hook = await step(`${title}: Switchboard with PRESEND_HOOK_URL (a local hook answering allow)`, est + 3, async () => {
      const hook = await startHookServer("pre-send-hook", BENCH_HOOK_SECRET, ctx.serverNodeArgs);
      try {
        ctx.log(`    pre-send hook pid ${hook.pid} port ${hook.port}`);
        const env = { PRESEND_HOOK_URL: `${hook.url}/pre-send`, PRESEND_HOOK_SECRET: BENCH_HOOK_SECRET, WEBHOOK_ALLOW_PRIVATE: "1" };
        return await withDeployment(ctx, "switchboard", { nodes: 1, env }, (dep) => ackedSends(ctx, dep, "presend-hook", p, hook));
      } finally {
        await hook.stop();
      }
    });
  }

  if (options.only.has("bigroom")) {
    const p = params.bigroom;
    const title = `6 big room: ${p.members} members on two nodes, ${p.ratePerSec} msg/s, ${p.durationSeconds} s`;
    const est = bigRoomEstimateSeconds(p);
    results.bigroom.switchboard = await step(`${title}: Switchboard`, est, () => bigRoom(ctx, "switchboard", p));
    results.bigroom.bare = await step(`${title}: bare`, est, () => bigRoom(ctx, "bare", p));
  }

  if (options.only.has("history")) {
    const p = params.history;
    const est = 12 + p.messages / 100_000 + p.requests / 100;
    results.history.switchboard = await step(`7 history: ${p.messages.toLocaleString("en-US")} messages in one conversation, ${p.requests} first and ${p.requests} deep pages of 50`, est, () =>
      // FULL, the default (reads do not depend on it; the quick run reuses 4b's node).
      onDeployment("switchboard", { nodes: 1, synchronous: "FULL" }, (dep) => historyPages(ctx, dep, p)),
    );
  }

  if (options.only.has("storm")) {
    const p = params.storm;
    const est = 30 + p.clients / 50 + p.sendAfterKillSeconds;
    results.storm.switchboard = await step(`8 reconnect storm: ${p.clients} SDK clients over ${p.workers} processes, two nodes, SIGKILL one`, est, () =>
      onDeployment("switchboard", { nodes: 2 }, (dep) => reconnectStorm(ctx, dep, p)),
    );
  }

  for (const dep of shared.values()) await dep.stop();
  shared.clear();

  const rows = buildRows(results, params, notes);
  if (results.bigroom.switchboard || results.bigroom.bare) rows.push(...bigRoomRows(results.bigroom, params.bigroom, notes));
  const wallSeconds = Math.round(elapsed());
  if (options.quick) rows.push(targetRow("quick run", "wall time (s)", wallSeconds, null));
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: redis.version,
    platform: `${os.type()} ${os.release()}`,
  };
  const settings = [
    `Every scenario runs Switchboard and the bare baseline in this run, on the same redis-server ${redis.version} (its own, on a free loopback port) with @socket.io/redis-adapter over ioredis (classic unless a row says sharded), driven by the same ${workers.length} load-worker processes (raw socket.io-client, websocket transport).`,
    `Switchboard nodes run with ${Object.entries(SWITCHBOARD_BENCH_ENV)
      .filter(([k]) => k.startsWith("RATE_LIMIT") || k === "SQLITE_SYNCHRONOUS" || k === "LOG_LEVEL")
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}: rate limits raised to their maximum so the benchmark measures throughput, not limits; SQLITE_SYNCHRONOUS=NORMAL (survives a process crash, not power loss; the default FULL is measured separately in 4b).`,
    `The load generators, servers and Redis share this machine's ${machine.cpus} cores, so absolute numbers are lower than on dedicated hosts; the ratios compare like with like.`,
    "Latency is measured at receivers from a send timestamp embedded in each message text, on the shared monotonic clock (CLOCK_MONOTONIC); cross-node = receiver on the other node than the sender.",
    "CPU = utime+stime of the server processes plus redis-server from /proc/<pid>/stat over the measured window (drain included); deliveries = unique message:new events received.",
  ];

  process.stdout.write(`\n${"=".repeat(100)}\nSwitchboard vs bare Socket.IO: ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}; wall time ${wallSeconds} s${options.quick ? " (--quick)" : ""}\n\n`);
  process.stdout.write(`${formatTable(rows)}\n\n`);
  for (const s of settings) process.stdout.write(`* ${s}\n`);
  for (const n of notes) process.stdout.write(`* ${n}\n`);

  const outDir = path.join(ROOT, "bench/results");
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, "latest.json");
  fs.writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        startedAt: new Date(started).toISOString(),
        wallSeconds,
        quick: options.quick,
        machine: { ...machine, busyPercentBeforeStart: quietness },
        options: { ...options, only: [...options.only] },
        parameters: params,
        switchboardEnv: SWITCHBOARD_BENCH_ENV,
        settings,
        notes,
        rows,
        results,
      },
      (_k, v: unknown) => (typeof v === "function" ? undefined : v),
      2,
    )}\n`,
  );
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), outFile)}${options.cpuProf ? `; CPU profiles in ${path.relative(process.cwd(), cpuProfDir)}` : ""}\n`);

  await Promise.all(workers.map((w) => w.stop()));
  await redis.stop();
  cleanup();

  // The last lines of every run: one per Done-when target (bench/targets.ts).
  process.stdout.write(`\nTargets (${options.quick ? "--quick: smoke-test scale" : "full run"}; wall time ${Math.round(elapsed())} s):\n`);
  for (const line of summaryLines(rows)) process.stdout.write(`${line}\n`);
}

/** A row whose target and met? come from bench/targets.ts (matched by scenario prefix and metric). */
function targetRow(scenario: string, metric: string, switchboard: number | string | null | undefined, bare: number | string | null | undefined): Row {
  const t: Target | undefined = TARGETS.find((x) => scenario.startsWith(x.scenario) && x.metric === metric);
  if (!t) return row(scenario, metric, switchboard, bare);
  return row(scenario, metric, switchboard, bare, targetText(t), (x, _y, ratio) => (t.ratio ? ratio !== null && meets(t, ratio) : meets(t, x)));
}

/** How busy the whole machine is (all cores, every process) over the next `ms`, from /proc/stat. */
async function machineBusyPercent(ms: number): Promise<number> {
  const read = () => {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total > a.total ? Math.round(((b.busy - a.busy) / (b.total - a.total)) * 100) : 0;
}

/** Turns the results into table rows, and adds a note for each failure and the adapter comparison. */
function buildRows(r: Results, params: ReturnType<typeof parameters>, notes: string[]): Row[] {
  const rows: Row[] = [];
  const failure = (name: string, o: Outcome<object> | undefined) => {
    if (failed(o)) notes.push(`${name}: ${o.broken ? "NOT WORKING" : o.skipped ? "skipped" : "FAILED"}: ${o.error}`);
  };
  const show = (o: Outcome<object> | undefined) => (failed(o) ? (o.broken ? "not working" : o.skipped ? "skipped" : "failed") : null);

  // 1. idle density
  {
    const sb = ok(r.idle.switchboard);
    const b = ok(r.idle.bare);
    failure("1 idle (Switchboard)", r.idle.switchboard);
    failure("1 idle (bare)", r.idle.bare);
    if (r.idle.switchboard || r.idle.bare) {
      const s = `1 idle, ${params.idle.connections} conns`;
      rows.push(row(s, "RSS per connection (KB)", sb?.rssPerConnectionKB ?? show(r.idle.switchboard), b?.rssPerConnectionKB ?? show(r.idle.bare), "<= 1.1x bare", (_x, _y, ratio) => ratio !== null && ratio <= 1.1));
      rows.push(row(s, "V8 heap per connection (KB)", sb ? (sb.heapPerConnectionKB ?? "no /metrics") : null, b?.heapPerConnectionKB));
      rows.push(row(s, "server RSS before -> after (MB)", sb ? `${sb.rssBeforeMB} -> ${sb.rssAfterMB}` : null, b ? `${b.rssBeforeMB} -> ${b.rssAfterMB}` : null));
      rows.push(row(s, "connections accepted per s", sb?.connectsPerSecond, b?.connectsPerSecond, ">= 0.8x bare", (_x, _y, ratio) => ratio !== null && ratio >= 0.8));
      rows.push(row(s, "server CPU ms per connection", sb?.cpuMsPerConnection, b?.cpuMsPerConnection));
      rows.push(row(s, "all disconnect at once: busy (s)", sb?.disconnectBusySeconds, b?.disconnectBusySeconds));
      rows.push(row(s, "server CPU ms per disconnect", sb?.cpuMsPerDisconnect, b?.cpuMsPerDisconnect));
      if (sb && sb.heapPerConnectionKB === null) notes.push("1 idle: Switchboard has no GET /metrics (nodejs_heap_size_used_bytes) in this build, so only RSS is compared.");
    }
  }

  // 2 and 3: per adapter
  const delivery = (name: "cross" | "fanout", label: string) => {
    const res = r[name];
    const b = ok(res.bare);
    failure(`${label} (bare)`, res.bare);
    for (const adapter of ["classic", "sharded"] as const) {
      const key = `switchboard-${adapter}` as const;
      const o = res[key];
      if (!o) continue;
      failure(`${label} (Switchboard, ${adapter})`, o);
      const sb = ok(o);
      const s = `${label}, ${adapter}`;
      if (!sb) {
        rows.push(row(s, "result", show(o), b ? "ok" : show(res.bare)));
        continue;
      }
      const cpuCheck = (_x: number, _y: number | null, ratio: number | null) => ratio !== null && ratio <= 1.3;
      if (name === "cross") {
        rows.push(row(s, "cross-node p50 (ms)", sb.crossNode.p50, b?.crossNode.p50, "<= 3 ms", (x) => x <= 3));
        rows.push(row(s, "cross-node p99 (ms)", sb.crossNode.p99, b?.crossNode.p99, "<= 15 ms", (x) => x <= 15));
        rows.push(row(s, "same-node p99 (ms)", sb.sameNode.p99, b?.sameNode.p99));
        rows.push(row(s, "ack p99 (ms)", sb.ack.p99, b?.ack.p99));
        rows.push(row(s, "acked sends/s", sb.sendRatePerSecond, b?.sendRatePerSecond));
        rows.push(row(s, "lost deliveries", sb.lost, b?.lost));
      } else {
        rows.push(row(s, "offered deliveries/s (paced)", sb.offeredDeliveriesPerSecond, b?.offeredDeliveriesPerSecond));
        rows.push(row(s, "deliveries/s (paced)", sb.deliveriesPerSecond, b?.deliveriesPerSecond));
        rows.push(row(s, "delivery p50 (ms)", sb.all.p50, b?.all.p50));
        rows.push(row(s, "delivery p99 (ms)", sb.all.p99, b?.all.p99, "<= 100 ms", (x) => x <= 100));
        rows.push(row(s, "lost deliveries", sb.lost, b?.lost, "0", (x) => x === 0));
        if (sb.burst || b?.burst) {
          const burst = (d: DeliveryResult | undefined) => d?.burst ?? undefined;
          const n = (sb.burst ?? b?.burst)!;
          rows.push(row(s, `burst capacity deliveries/s (${n.messages} msgs)`, burst(sb)?.deliveriesPerSecond, burst(b)?.deliveriesPerSecond, ">= 50,000", (x) => x >= 50_000));
          rows.push(row(s, "burst lost deliveries", burst(sb)?.lost, burst(b)?.lost, "0", (x) => x === 0));
        }
        rows.push(row(s, "setup: connect+join (s)", sb.setupSeconds, b?.setupSeconds, "<= 2x bare", (_x, _y, ratio) => ratio !== null && ratio <= 2));
        const presence = (d: DeliveryResult | undefined) => (d ? (d.otherEventsDuringSetup["presence:update"] ?? 0) : undefined);
        rows.push(row(s, "presence:update during setup", presence(sb), presence(b)));
        rows.push(row(s, "presence frames per member", presenceFramesPerMember(sb), b ? presenceFramesPerMember(b) : null, "<= 10", (x) => x <= 10));
        const redisCalls = (d: DeliveryResult | undefined) => (d ? Object.values(d.redisCommands.setup).reduce((a, c) => a + c, 0) : undefined);
        rows.push(row(s, "Redis commands during setup", redisCalls(sb), redisCalls(b)));
      }
      const perMessage = (d: DeliveryResult | undefined) => (d && d.acked ? Math.round((Object.values(d.redisCommands.run).reduce((a, c) => a + c, 0) / d.acked) * 100) / 100 : undefined);
      rows.push(row(s, "Redis commands per message", perMessage(sb), perMessage(b), "<= 5", (x) => x <= 5));
      rows.push(row(s, "CPU busy % (bench procs / machine)", `${sb.cpuMs.benchPercent} / ${sb.cpuMs.machinePercent}`, b ? `${b.cpuMs.benchPercent} / ${b.cpuMs.machinePercent}` : null));
      rows.push(row(s, "CPU ms / 1k deliveries", sb.cpuMsPer1kDeliveries, b?.cpuMsPer1kDeliveries, "<= 1.3x bare", cpuCheck));
      if (sb.duplicates) notes.push(`${s}: ${sb.duplicates} duplicate deliveries (dropped by seq)`);
      if (sb.failed) notes.push(`${s}: ${sb.failed} sends failed: ${sb.sendErrors.join("; ")}`);
      if (sb.disconnects) notes.push(`${s}: ${sb.disconnects} connections dropped during the run`);
      const lag = sb.eventLoopLag.filter((l): l is { p99Ms: number; maxMs: number } => l !== null);
      if (lag.length) notes.push(`${s}: Switchboard event-loop delay during the run: ${lag.map((l, i) => `node ${i} p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms`).join("; ")}`);
    }
    if (b?.failed) notes.push(`${label} (bare): ${b.failed} sends failed: ${b.sendErrors.join("; ")}`);
  };
  const pc = params.cross;
  const pf = params.fanout;
  delivery("cross", `2 cross-node ${pc.conversations}x${pc.membersPerConversation} @${pc.ratePerSec}/s ${pc.durationSeconds}s`);
  delivery("fanout", `3 fan-out ${pf.membersPerConversation} members @${pf.ratePerSec}/s ${pf.durationSeconds}s`);

  // 4. acked sends
  {
    const b = ok(r.acks.bare);
    failure("4 acks (bare)", r.acks.bare);
    const variants = [
      ["switchboard", `4 acks K=${params.acks.senders} ${params.acks.durationSeconds}s, sync=NORMAL`],
      ["switchboard-full", `4b acks K=${params.acksFull.senders} ${params.acksFull.durationSeconds}s, sync=FULL`],
    ] as const;
    for (const [key, s] of variants) {
      const o = r.acks[key];
      if (!o) continue;
      failure(s, o);
      const sb = ok(o);
      if (!sb) {
        rows.push(row(s, "result", show(o), b ? "ok" : show(r.acks.bare)));
        continue;
      }
      rows.push(targetRow(s, "acked sends/s", sb.acksPerSecond, b?.acksPerSecond));
      rows.push(row(s, "ack p50 (ms)", sb.ack.p50, b?.ack.p50));
      rows.push(row(s, "ack p99 (ms)", sb.ack.p99, b?.ack.p99));
      rows.push(row(s, "sends per SQLite commit (group commit)", sb.appendsPerCommit ?? "no metric", null));
      rows.push(row(s, "CPU busy % (bench procs / machine)", `${sb.cpuMs.benchPercent} / ${sb.cpuMs.machinePercent}`, b ? `${b.cpuMs.benchPercent} / ${b.cpuMs.machinePercent}` : null));
      rows.push(row(s, "CPU ms / 1k acked sends", sb.cpuMsPer1kAcks, b?.cpuMsPer1kAcks, "<= 1.5x bare", (_x, _y, ratio) => ratio !== null && ratio <= 1.5));
      if (sb.failed) notes.push(`${s}: ${sb.failed} sends failed: ${sb.errors.join("; ")}`);
      if (sb.eventLoopLag) notes.push(`${s}: Switchboard event-loop delay during the run: p99 ${sb.eventLoopLag.p99Ms.toFixed(1)} ms, max ${sb.eventLoopLag.maxMs.toFixed(1)} ms`);
    }
    if (r.acks["switchboard-full"] && !failed(r.acks["switchboard-full"])) notes.push("4b compares with the same bare run as 4 (the baseline stores nothing, so fsync settings do not apply to it).");
  }

  // 5. the pre-send hook's cost: Switchboard with the hook in the "Switchboard" column, without it in the "bare" one
  if (r.presend.hook || r.presend.none) {
    const s = `5 pre-send hook K=${params.presend.senders} ${params.presend.durationSeconds}s`;
    failure(`${s} (with the hook)`, r.presend.hook);
    failure(`${s} (without)`, r.presend.none);
    const h = ok(r.presend.hook);
    const w = ok(r.presend.none);
    const perAck = (a: AckResult | undefined) => (a && a.acked ? Math.round((a.cpuMs.servers / a.acked) * 1000 * 100) / 100 : undefined);
    if (!h || !w) rows.push(row(s, "result", h ? "ok" : show(r.presend.hook), w ? "ok" : show(r.presend.none)));
    if (h || w) {
      rows.push(row(s, "acked sends/s", h?.acksPerSecond, w?.acksPerSecond));
      rows.push(row(s, "ack p50 (ms)", h?.ack.p50, w?.ack.p50));
      rows.push(row(s, "ack p99 (ms)", h?.ack.p99, w?.ack.p99));
      rows.push(row(s, "CPU busy % (bench procs / machine)", h ? `${h.cpuMs.benchPercent} / ${h.cpuMs.machinePercent}` : null, w ? `${w.cpuMs.benchPercent} / ${w.cpuMs.machinePercent}` : null));
      rows.push(row(s, "server CPU ms / 1k acked sends", perAck(h), perAck(w)));
      rows.push(row(s, "CPU ms / 1k acked sends (server+Redis)", h?.cpuMsPer1kAcks, w?.cpuMsPer1kAcks));
    }
    if (h?.hook) {
      rows.push(row(s, "hook call mean, as timed by the server (ms)", h.hook.meanCallMs, null));
      rows.push(row(s, "hook process CPU ms / 1k calls", h.hook.hookCpuMsPer1kCalls, null));
      const other = Object.entries(h.hook.calls).filter(([o, v]) => o !== "allow" && v > 0);
      if (other.length) notes.push(`${s}: hook calls that did not answer allow: ${other.map(([o, v]) => `${o} ${v}`).join(", ")}`);
      const extra = perAck(h) !== undefined && perAck(w) !== undefined ? Math.round((perAck(h)! - perAck(w)!) * 1000) / 1000 : undefined;
      notes.push(
        `${s}: the "Switchboard" column is Switchboard with PRESEND_HOOK_URL pointing at a local hook process (bench/hook-server.ts: verifies the signature with standardwebhooks, answers allow); the "bare" column is the same Switchboard without a hook, in the same run. ${h.hook.calls.allow ?? 0} calls in the window${extra !== undefined ? `; the hook added ${extra} µs of server CPU per acked send (ms per 1k)` : ""}.`,
      );
    }
    for (const [label, a] of [["with the hook", h], ["without", w]] as const) {
      if (a?.failed) notes.push(`${s} (${label}): ${a.failed} sends failed: ${a.errors.join("; ")}`);
      if (a?.eventLoopLag) notes.push(`${s} (${label}): event-loop delay during the run: p99 ${a.eventLoopLag.p99Ms.toFixed(1)} ms, max ${a.eventLoopLag.maxMs.toFixed(1)} ms`);
    }
  }

  // 6. history pages from a big conversation, against the anchor figure (no bare equivalent)
  if (r.history.switchboard) {
    const s = `7 history, ${params.history.messages.toLocaleString("en-US")} msgs, socket message:history`;
    failure(s, r.history.switchboard);
    const h = ok(r.history.switchboard);
    if (!h) rows.push(row(s, "result", show(r.history.switchboard), null));
    else {
      rows.push(row(s, "fill (s, rows/s)", `${h.fillSeconds} s, ${h.fillRowsPerSecond.toLocaleString("en-US")}/s`, null));
      rows.push(row(s, "first page p50 (ms)", h.firstPage.p50, null));
      rows.push(targetRow(s, "first page p99 (ms)", h.firstPage.p99, null));
      rows.push(row(s, "deep page p50 (ms)", h.deepPage.p50, null));
      rows.push(targetRow(s, "deep page p99 (ms)", h.deepPage.p99, null));
      rows.push(row(s, "anchor: Discord history p99 (ms)", 15, null));
      rows.push(row(s, "server CPU ms per page", h.serverCpuMsPerPage, null));
      rows.push(row(s, "deep page uses the (conversation_id, seq) index", h.planUsesIndex ? "yes" : "NO", null));
      notes.push(`${s}: query plan of a deep page, newest first: ${h.plan.descending}; oldest first: ${h.plan.ascending}`);
      if (h.badPages) notes.push(`${s}: ${h.badPages} pages did not hold 50 consecutive messages`);
    }
  }

  // 7. reconnect storm, against the anchor figures (no bare equivalent: it has no reconnect logic)
  if (r.storm.switchboard) {
    const s = `8 reconnect storm, ${params.storm.clients} SDK clients, 2 nodes`;
    failure(s, r.storm.switchboard);
    const st = ok(r.storm.switchboard);
    if (!st) rows.push(row(s, "result", show(r.storm.switchboard), null));
    else {
      rows.push(row(s, "setup: connect+join through the balancer (s)", st.connectSeconds, null));
      rows.push(row(s, "clients dropped by the kill", st.dropped, null));
      rows.push(row(s, "handshake again p50 / p95 (s)", `${st.reconnect.p50} / ${st.reconnect.p95}`, null));
      rows.push(row(s, "reconnect+resync p50 (s)", st.resync.p50, null));
      rows.push(targetRow(s, "reconnect+resync p95 (s)", st.resync.p95, null));
      rows.push(row(s, "reconnect+resync max (s)", st.resync.max, null));
      rows.push(targetRow(s, "clients stranded", st.stranded, null));
      rows.push(row(s, "messages acked in the window", st.acked, null));
      rows.push(targetRow(s, "acked messages delivered to every member (%)", st.deliveredPercent, null));
      rows.push(row(s, "... to every member joined at the end (%)", st.deliveredToJoinedPercent, null));
      rows.push(row(s, "survivor CPU ms per reconnect", st.survivorCpuMsPerReconnect, null));
      rows.push(row(s, "anchor: Socket.IO storm elsewhere p95 (s) / stranded", "6 / 3.8%", null));
      if (st.sendFailed) notes.push(`${s}: ${st.sendFailed} SDK sends failed or stayed unacknowledged: ${st.errors.join("; ")}`);
      if (st.outOfOrder) notes.push(`${s}: ${st.outOfOrder} member handles delivered with a gap or out of order`);
    }
  }

  // The adapter question: classic or sharded, with numbers.
  const line = (name: "cross" | "fanout") => {
    const c = ok(r[name]["switchboard-classic"]);
    const s = r[name]["switchboard-sharded"];
    if (failed(s) && s.broken) return `${name}: sharded: not working with ioredis (${s.error})`;
    const so = ok(s);
    if (!c || !so) return undefined;
    return name === "cross"
      ? `cross-node p50/p99 classic ${c.crossNode.p50}/${c.crossNode.p99} ms vs sharded ${so.crossNode.p50}/${so.crossNode.p99} ms; CPU ${c.cpuMsPer1kDeliveries} vs ${so.cpuMsPer1kDeliveries} ms/1k deliveries (redis ${c.cpuMs.redis} vs ${so.cpuMs.redis} ms)`
      : `fan-out deliveries/s classic ${c.deliveriesPerSecond} vs sharded ${so.deliveriesPerSecond}, p99 ${c.all.p99} vs ${so.all.p99} ms; CPU ${c.cpuMsPer1kDeliveries} vs ${so.cpuMsPer1kDeliveries} ms/1k deliveries (redis ${c.cpuMs.redis} vs ${so.cpuMs.redis} ms)`;
  };
  const adapterLines = [line("cross"), line("fanout")].filter(Boolean);
  if (adapterLines.length) notes.push(`Adapter comparison (Switchboard, Redis 7): ${adapterLines.join("; ")}.`);
  return rows;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
