import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { io as ioClient, type Socket } from "socket.io-client";
import type { Ack, ClientToServerEvents, ServerToClientEvents } from "../../client-sdk/src/protocol.js";
import { createApp, type AppOptions, type SwitchboardApp } from "../../server/src/app.js";
import { loadConfig } from "../../server/src/config.js";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The HS256 secret every test server uses, so tests can mint their own tokens. */
export const TEST_JWT_SECRET = "test-secret-0123456789-0123456789-abcdef";
/** The admin API key every test server accepts. */
export const TEST_ADMIN_KEY = "sb_test_admin_key_0123456789abcdef";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = "switchboard-test-"): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `check` until it returns a truthy value or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Mints a user token the test servers accept (or, with options, one they must refuse). */
export async function mintToken(
  sub: string,
  options: { expiresInSeconds?: number; secret?: string; audience?: string; issuer?: string; name?: string; role?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ ...(options.name ? { name: options.name } : {}), ...(options.role ? { role: options.role } : {}) })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600));
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** Environment of a test server: fresh data dir, free port, quiet logs, known secrets. */
export function testEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    SQLITE_SYNCHRONOUS: "NORMAL",
    ...extra,
  };
}

/** An in-process server on a free port. */
export interface TestServer {
  app: SwitchboardApp;
  url: string;
  dataDir: string;
  /** Closes the server and removes its data dir (unless it was given). */
  close(): Promise<void>;
}

export async function startServer(options: { dataDir?: string; env?: Record<string, string>; appOptions?: AppOptions } = {}): Promise<TestServer> {
  const temp = options.dataDir ? undefined : tempDir();
  const dataDir = options.dataDir ?? temp!.dir;
  const app = await createApp(loadConfig(testEnv(dataDir, options.env)), options.appOptions);
  await app.listen();
  return {
    app,
    url: app.localUrl,
    dataDir,
    async close() {
      await app.close();
      temp?.remove();
    },
  };
}

/** A server in its own process, so a test can kill it with SIGKILL. */
export interface SpawnedServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed, for failure messages. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `server/src/main.ts` in a child process and resolves once it listens. */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}): Promise<SpawnedServer> {
  // A MONGODB_URI in the test runner's environment is for the store contract suite only;
  // spawned servers use it only when a test passes it explicitly.
  const { MONGODB_URI: _ignored, REDIS_URL: _alsoIgnored, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
    cwd: ROOT,
    env: { ...inherited, ...testEnv(dataDir, { LOG_LEVEL: "info", ...env }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      const line = output.split("\n").find((l) => l.includes('"switchboard listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    },
    "the spawned server to listen",
    20_000,
  ).catch((err) => {
    child.kill("SIGKILL");
    throw err;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => output,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Connects a raw socket.io-client socket as `userId` and waits for the connection. */
export async function connectUser(url: string, userId: string, options: { token?: string; autoConnect?: boolean } = {}): Promise<ClientSocket> {
  const token = options.token ?? (await mintToken(userId));
  const socket: ClientSocket = ioClient(url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
  });
  return socket;
}

/** Tries to connect and resolves with the `connect_error` it must get. */
export async function expectConnectError(url: string, auth: Record<string, unknown> | undefined): Promise<Error & { data?: { code: string; message: string } }> {
  const socket: ClientSocket = ioClient(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true });
  try {
    return await new Promise((resolve, reject) => {
      socket.once("connect", () => reject(new Error("connected, but a refusal was expected")));
      socket.once("connect_error", (err) => resolve(err as Error & { data?: { code: string; message: string } }));
    });
  } finally {
    socket.close();
  }
}

/** Emits an event and resolves with its ack (typed loosely: tests also send bad payloads). */
export async function request<T = Record<string, unknown>>(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
  return (socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<T>> }).emitWithAck(event, payload);
}

/** Like {@link request} but throws unless the ack is `ok`. */
export async function call<T = Record<string, unknown>>(socket: ClientSocket, event: string, payload: unknown): Promise<T> {
  const ack = await request<T>(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code}: ${ack.error.message}`);
  return ack as unknown as T;
}

/** Calls the HTTP API with the admin key. */
export async function api(url: string, method: string, route: string, body?: unknown, key = TEST_ADMIN_KEY): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * A TCP proxy in front of a server, so a test can cut the network (every connection dropped,
 * new ones refused) and restore it, or point it at a restarted server, on one stable port.
 */
export interface NetworkProxy {
  url: string;
  /** Drops every open connection and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  /** Sends new connections to another port (a restarted server). */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<NetworkProxy> {
  const net = await import("node:net");
  let target = targetPort;
  let down = false;
  const open = new Set<import("node:net").Socket>();
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(target, "127.0.0.1");
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    retarget(p) {
      target = p;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A round-robin TCP load balancer over several servers: a connection whose backend refuses it
 * is tried on the next one, as a balancer with passive health checks does. No stickiness.
 */
export interface Balancer {
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(ports: number[]): Promise<Balancer> {
  const net = await import("node:net");
  let next = 0;
  const open = new Set<import("node:net").Socket>();
  const server = net.createServer((client) => {
    client.pause();
    open.add(client);
    const tryBackend = (attempt: number) => {
      if (attempt >= ports.length) return client.destroy();
      const port = ports[next++ % ports.length];
      const upstream = net.connect(port, "127.0.0.1");
      upstream.once("error", () => {
        open.delete(upstream);
        if (!upstream.readyState.includes("open")) tryBackend(attempt + 1);
      });
      upstream.once("connect", () => {
        open.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
