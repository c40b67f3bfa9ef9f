import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { waitFor } from "./harness.js";

/**
 * A real `redis-server` owned by a test: on a free port, keeping nothing on disk, and able to be
 * stopped (SIGKILL, as a crash) and started again on the same port, as a Redis restart.
 */
export interface TestRedis {
  url: string;
  port: number;
  /** Kills the server at once, as a crash or network loss would look to clients. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** A port nothing listens on right now. redis-server cannot take port 0, so one is picked here. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = "";

  const ping = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => socket.end("PING\r\n"));
      socket.once("data", (d) => {
        resolve(d.toString().startsWith("+PONG"));
        socket.destroy();
      });
      socket.once("error", () => resolve(false));
    });

  const start = async () => {
    // Already running: a second redis-server could not bind the port, and replacing `child` with
    // it would lose the running one, which `kill` then never stops.
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const started = child;
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}: ${output}`);
      return ping();
    }, `redis-server on port ${port}`);
  };

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, close: kill };
}
