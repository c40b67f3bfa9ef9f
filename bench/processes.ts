/**
 * Every child process of the benchmark (Redis, server nodes, load workers), started here and
 * tracked so that all of them die with the orchestrator: on normal exit, on an error and on
 * SIGINT/SIGTERM. Also reads the CPU time and RSS of a process from /proc.
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import type { WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

const children = new Set<ChildProcess>();

/** Registers a child so it is killed with the orchestrator (see {@link killAllChildren}). */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGKILLs every child still running (synchronous: usable in an `exit` handler). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** Rejects with a message naming `what` unless `promise` settles within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it is truthy or `timeoutMs` passed (then throws). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs: number, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A port nothing listens on right now (redis-server cannot be given port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server process the benchmark started. */
export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** The last few KB it printed, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns a process and resolves once a line of its output yields a port through `portFrom`.
 * Output is drained continuously (a full pipe would stall the child) and the tail is kept.
 */
async function spawnListening(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  portFrom: (line: string) => number | undefined,
  timeoutMs: number,
): Promise<ServerProcess> {
  const child = track(spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] }));
  let tail = "";
  let port: number | undefined;
  let pending = "";
  const onData = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-8000);
    if (port !== undefined) return;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) port ??= portFrom(line);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${tail}`);
        }
        return port;
      },
      `${name} to listen`,
      timeoutMs,
      25,
    );
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    name,
    pid: child.pid!,
    port: port!,
    url: `http://127.0.0.1:${port}`,
    output: () => tail,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts `redis-server` on a free loopback port, persisting nothing. */
export async function startRedis(): Promise<ServerProcess & { version: string }> {
  const port = await freePort();
  const version = execFileSync("redis-server", ["--version"]).toString().match(/v=(\S+)/)?.[1] ?? "unknown";
  const server = await spawnListening(
    "redis-server",
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
    process.env,
    (line) => (/Ready to accept connections/.test(line) ? port : undefined),
    10_000,
  );
  return { ...server, url: `redis://127.0.0.1:${port}`, version };
}

/** Starts a Switchboard node (`server/src/main.ts`) with `env` added to the inherited environment. */
export function startSwitchboard(name: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  // Never let the caller's own deployment settings leak into the benchmark's servers.
  const { MONGODB_URI: _m, REDIS_URL: _r, CLUSTER_ADAPTER: _c, ...inherited } = process.env;
  return spawnListening(
    name,
    process.execPath,
    [...nodeArgs, "--import", "tsx", "server/src/main.ts"],
    { ...inherited, ...env },
    (line) => {
      // With LOG_LEVEL=warn only main.ts's banner names the port; at info the JSON line does too.
      const banner = line.match(/Switchboard is running: http:\/\/[^:\s]+:(\d+)/);
      if (banner) return Number(banner[1]);
      if (line.includes('"switchboard listening"')) return (JSON.parse(line) as { port: number }).port;
      return undefined;
    },
    // Generous: on a 2-core machine that other jobs keep busy, tsx and the imports alone take seconds.
    60_000,
  );
}

/** Starts the bare Socket.IO baseline (`bench/bare-server.ts`). */
export function startBare(name: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  return spawnListening(
    name,
    process.execPath,
    [...nodeArgs, "--import", "tsx", "bench/bare-server.ts"],
    { ...process.env, ...env },
    (line) => (line.includes('"bare listening"') ? (JSON.parse(line) as { port: number }).port : undefined),
    30_000,
  );
}

/** Starts the benchmark's pre-send hook (`bench/hook-server.ts`), answering allow to calls signed with `secret`. */
export function startHookServer(name: string, secret: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  return spawnListening(
    name,
    process.execPath,
    [...nodeArgs, "--import", "tsx", "bench/hook-server.ts"],
    { ...process.env, PORT: "0", HOOK_SECRET: secret },
    (line) => (line.includes('"hook listening"') ? (JSON.parse(line) as { port: number }).port : undefined),
    30_000,
  );
}

/** A load worker (`bench/load-worker.ts`) and its request/reply channel. */
export interface LoadWorker {
  pid: number;
  request<T>(req: DistributiveOmit<WorkerRequest, "id">, timeoutMs: number): Promise<T>;
  stop(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Starts a load worker and resolves once it is ready for requests. */
export async function startWorker(index: number): Promise<LoadWorker> {
  const child = track(
    fork(fileURLToPath(new URL("./load-worker.ts", import.meta.url)), [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, BENCH_WORKER: String(index) },
    }),
  );
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  child.on("message", (reply: WorkerReply) => {
    if (reply.type === "ready") return ready();
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.type === "reply") w.resolve(reply.result);
    else w.reject(new Error(`worker ${index}: ${reply.message}`));
  });
  child.once("exit", (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`worker ${index} exited (${code ?? signal})`));
    waiting.clear();
  });
  await withDeadline(isReady, 30_000, `load worker ${index} to start`);
  return {
    pid: child.pid!,
    request<T>(req: DistributiveOmit<WorkerRequest, "id">, timeoutMs: number): Promise<T> {
      const id = nextId++;
      const reply = new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...req, id } as WorkerRequest);
      });
      return withDeadline(reply, timeoutMs, `worker ${index} ${req.type}`).finally(() => waiting.delete(id));
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks;
}

/** Resident set size of a process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}
