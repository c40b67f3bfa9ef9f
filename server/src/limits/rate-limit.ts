import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { SwitchboardError } from "../core/errors.js";

/**
 * One named limit over a `rate-limiter-flexible` limiter (memory on one node, Redis in a
 * cluster: the composition root picks). Exceeding it throws `rate_limited` with `retryAfterMs`.
 */
export class RateLimit {
  constructor(
    private readonly limiter: RateLimiterAbstract | SyncedRedisLimiter,
    private readonly description: string,
  ) {}

  /**
   * Like {@link redis}, but without a Redis round trip on most calls: each node counts locally and
   * adds its counts to the shared Redis counter of the window every `syncMs` (INCRBY + PEXPIRE NX,
   * pipelined, per key). A call goes to Redis itself (awaiting the shared total) when this node
   * has not synced the key within `freshMs`, or when what it knows of the cluster's total plus
   * its own unsynced counts reaches half the limit, so a user far from the limit costs Redis about
   * two commands per `syncMs` instead of four per call.
   *
   * Overshoot: a node admits on its own only while the total it knows stays under `points / 2`,
   * so with 2 nodes the cluster never admits more than `points` per window; with N nodes at most
   * `N × points / 2` in the worst case (every node bursting within one sync). Windows are fixed
   * (aligned to the epoch), like the Redis limiter's. While Redis is unreachable each node limits
   * on its own, as {@link redis} does.
   */
  static redisSynced(client: Redis, points: number, seconds: number, description: string, keyPrefix: string, options: SyncedLimiterOptions = {}): RateLimit {
    return new RateLimit(new SyncedRedisLimiter(client, points, seconds * 1000, keyPrefix, options), description);
  }

  /** A limit of `points` per `seconds`, kept in this process's memory. */
  static inMemory(points: number, seconds: number, description: string): RateLimit {
    return new RateLimit(new RateLimiterMemory({ points, duration: seconds }), description);
  }

  /**
   * A limit of `points` per `seconds` counted in Redis, so every node of a cluster shares one
   * budget per key (an atomic Lua INCR + EXPIRE per call, under `keyPrefix:<key>`).
   *
   * While Redis is unreachable (`client` not ready, or a command fails) each call falls back to
   * an in-memory limiter of the same size on this node: requests keep being answered, limited
   * per node, so the cluster-wide budget is at most `points` × nodes until Redis is back; the
   * Redis counts then resume where they were. A Redis outage never turns into `unavailable`.
   *
   * @param client the node's Redis `commands` client (fails fast while Redis is away), shared, never closed here.
   * @param keyPrefix namespaces the counters, such as `switchboard:rl:http`; one per limit.
   */
  static redis(client: Redis, points: number, seconds: number, description: string, keyPrefix: string): RateLimit {
    return new RateLimit(
      new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: false,
        // Straight to the insurance limiter while disconnected, instead of waiting for a timeout.
        rejectIfRedisNotReady: true,
        points,
        duration: seconds,
        keyPrefix,
        insuranceLimiter: new RateLimiterMemory({ points, duration: seconds, keyPrefix }),
      }),
      description,
    );
  }

  /** The limit's size, for `RateLimit-Limit` style headers. */
  get points(): number {
    return this.limiter.points;
  }

  /** Takes one point for `key`, or throws `rate_limited`. Resolves with the points left. */
  async consume(key: string): Promise<number> {
    try {
      return (await this.limiter.consume(key)).remainingPoints;
    } catch (err) {
      if (err instanceof RateLimiterRes || err instanceof LimitExceeded) {
        throw new SwitchboardError("rate_limited", `Too many requests: ${this.description}. Retry after ${Math.ceil(err.msBeforeNext)} ms.`, {
          retryAfterMs: err.msBeforeNext,
        });
      }
      throw new SwitchboardError("unavailable", "The rate limiter is unavailable; try again shortly.", { cause: err });
    }
  }
}

/** Options of {@link RateLimit.redisSynced}. */
export interface SyncedLimiterOptions {
  /**
   * How often local counts are added to Redis. Default 1000 ms: a sender at a few messages a
   * second costs two commands per second instead of two per message. The overshoot bound does not
   * depend on it (see {@link RateLimit.redisSynced}).
   */
  syncMs?: number;
  /** How long a synced total is trusted for local decisions; more than `syncMs`. Default 2500 ms. */
  freshMs?: number;
}

/** Thrown inside {@link SyncedRedisLimiter} when a key is over its limit. */
class LimitExceeded extends Error {
  constructor(readonly msBeforeNext: number) {
    super("limit exceeded");
  }
}

/** What this node knows of one key in the current window. */
interface KeyState {
  window: number;
  /** The cluster's total for the window at the last sync (this node's synced counts included). */
  known: number;
  /** Counts admitted here since the last sync. */
  pending: number;
  syncedAt: number;
}

/**
 * Adds `n` to a window's counter and makes it expire with the window: two commands in one round
 * trip. A pipeline, not MULTI/EXEC (which Redis counts as two more commands): should the
 * connection drop between the two, the next call's `PEXPIRE … NX` gives the key its expiry.
 */
async function addToWindow(client: Redis, key: string, n: number, ttlMs: number): Promise<number> {
  const replies = await client.pipeline().incrby(key, n).call("PEXPIRE", key, ttlMs, "NX").exec();
  const [err, total] = replies?.[0] ?? [new Error("the pipeline was discarded")];
  if (err) throw err;
  return Number(total);
}

/**
 * A fixed-window counter per key, shared through Redis but decided locally while the key is far
 * from its limit. See {@link RateLimit.redisSynced} for the overshoot bound.
 */
class SyncedRedisLimiter {
  private readonly states = new Map<string, KeyState>();
  private readonly insurance: RateLimiterMemory;
  private readonly syncMs: number;
  private readonly freshMs: number;
  private timer?: NodeJS.Timeout;
  private syncing = false;

  constructor(
    private readonly client: Redis,
    readonly points: number,
    private readonly windowMs: number,
    private readonly keyPrefix: string,
    options: SyncedLimiterOptions,
  ) {
    this.syncMs = options.syncMs ?? 1000;
    this.freshMs = options.freshMs ?? 2500;
    this.insurance = new RateLimiterMemory({ points, duration: windowMs / 1000, keyPrefix });
  }

  async consume(key: string): Promise<{ remainingPoints: number }> {
    if (this.client.status !== "ready") return this.insurance.consume(key);
    const now = Date.now();
    const window = Math.floor(now / this.windowMs);
    const msBeforeNext = (window + 1) * this.windowMs - now;
    let state = this.states.get(key);
    if (!state || state.window !== window) {
      state = { window, known: 0, pending: 0, syncedAt: -Infinity };
      this.states.set(key, state);
    }
    const estimate = state.known + state.pending;
    if (estimate >= this.points) throw new LimitExceeded(msBeforeNext);
    if (now - state.syncedAt <= this.freshMs && estimate + 1 <= this.points / 2) {
      state.pending++;
      this.scheduleSync();
      return { remainingPoints: this.points - estimate - 1 };
    }
    // Near the limit, or nothing recent known: ask Redis, carrying this node's unsynced counts along.
    const n = state.pending + 1;
    state.pending = 0;
    let total: number;
    try {
      total = await addToWindow(this.client, this.redisKey(key, window), n, msBeforeNext + 1000);
    } catch {
      return this.insurance.consume(key);
    }
    if (state.window === window) {
      state.known = Math.max(state.known, total);
      state.syncedAt = Date.now();
    }
    if (total > this.points) throw new LimitExceeded(msBeforeNext);
    return { remainingPoints: this.points - total };
  }

  private redisKey(key: string, window: number): string {
    return `${this.keyPrefix}:${key}:${window}`;
  }

  private scheduleSync(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.sync(), this.syncMs);
    this.timer.unref();
  }

  /** Adds every key's unsynced counts to Redis in one pipeline, and forgets past windows. */
  private async sync(): Promise<void> {
    this.timer = undefined;
    if (this.syncing) return this.scheduleSync();
    this.syncing = true;
    const now = Date.now();
    const current = Math.floor(now / this.windowMs);
    const batch: [string, KeyState, number][] = [];
    for (const [key, state] of this.states) {
      if (state.window !== current) {
        // Counts of a finished window no longer matter to anyone.
        this.states.delete(key);
      } else if (state.pending > 0) {
        batch.push([key, state, state.pending]);
        state.pending = 0;
      }
    }
    try {
      if (batch.length === 0) return;
      const ttl = (current + 1) * this.windowMs - now + 1000;
      const pipeline = this.client.pipeline();
      for (const [key, state, n] of batch) pipeline.incrby(this.redisKey(key, state.window), n).call("PEXPIRE", this.redisKey(key, state.window), ttl, "NX");
      const replies = (await pipeline.exec()) ?? [];
      const syncedAt = Date.now();
      batch.forEach(([, state], i) => {
        const [err, total] = replies[2 * i] ?? [new Error("no reply")];
        if (err) return;
        state.known = Math.max(state.known, Number(total));
        state.syncedAt = syncedAt;
      });
    } catch {
      // Redis is away: these counts stay local (each node limits alone until it is back).
    } finally {
      this.syncing = false;
    }
  }
}
