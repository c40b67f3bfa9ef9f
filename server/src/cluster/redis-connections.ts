import { Redis } from "ioredis";
import type { Logger } from "../logger.js";

/**
 * The Redis clients of a cluster node, created once here and handed to their users.
 *
 * - `commands`: presence and rate limits. Fails fast while Redis is away (no offline queue, one
 *   retry) so a request answers `unavailable` instead of hanging.
 * - `pub` / `sub`: the Socket.IO adapter's. The adapter publishes without handling rejections,
 *   so `pub` queues while disconnected and never rejects (`maxRetriesPerRequest: null`): a
 *   broadcast made during an outage goes out late rather than crashing the process. Clients
 *   de-duplicate by `seq` and are told to resync anyway.
 */
export interface RedisConnections {
  commands: Redis;
  pub: Redis;
  sub: Redis;
  /** True while every client is connected and ready. */
  isUp(): boolean;
  /**
   * Runs `listener` each time Redis is back after an outage (every client ready again), so the
   * node can restore what Redis lost and tell its clients to resync. Not run on the first start.
   */
  onRecovered(listener: () => void): void;
  close(): Promise<void>;
}

/** How long a Redis (re)connection attempt may wait before it is retried. */
const CONNECT_TIMEOUT_MS = 2000;

/** Connects the three clients; rejects, naming `REDIS_URL`, when Redis cannot be reached at start. */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnections> {
  const log = logger.child({ component: "redis" });
  // Quick, capped retries: a restarted Redis is found again within a second or two.
  const retryStrategy = (attempt: number) => Math.min(100 * attempt, 1000);
  const base = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy, connectionName: "switchboard" } as const;
  // commandTimeout: a Redis that accepts connections but stops answering must fail calls, not hang them.
  const commands = new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  // Auto-pipelining: the adapter PUBLISHes once per broadcast, and a group commit settles dozens of
  // sends in one turn; their PUBLISHes go out as one write instead of one write each (measured: 9 %
  // of the event loop in the acks benchmark). Order is kept: one pipeline at a time, in issue order.
  const pub = new Redis(url, { ...base, maxRetriesPerRequest: null, enableAutoPipelining: true });
  const sub = new Redis(url, { ...base, maxRetriesPerRequest: null });
  const clients = { commands, pub, sub };

  try {
    await Promise.all(Object.values(clients).map((c) => c.connect()));
  } catch (err) {
    for (const c of Object.values(clients)) c.disconnect();
    throw new Error(`REDIS_URL: cannot connect to Redis at ${redactUrl(url)} (${(err as Error).message})`, { cause: err });
  }

  const listeners: (() => void)[] = [];
  let down = false;
  const isUp = () => Object.values(clients).every((c) => c.status === "ready");
  for (const [name, client] of Object.entries(clients)) {
    client.on("error", (err: Error) => log.debug({ client: name, err: err.message }, "redis client error"));
    client.on("close", () => {
      if (!down) log.warn({ client: name }, "lost the connection to Redis: cross-node delivery and presence are degraded until it is back");
      down = true;
    });
    client.on("ready", () => {
      if (!down || !isUp()) return;
      down = false;
      log.info("Redis is back: restoring presence and asking clients to resync");
      for (const listener of listeners) listener();
    });
  }

  return {
    ...clients,
    isUp,
    onRecovered: (listener) => listeners.push(listener),
    async close() {
      await Promise.all(Object.values(clients).map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
