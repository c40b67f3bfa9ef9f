import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { SwitchboardError } from "../core/errors.js";

/**
 * One named limit over a `rate-limiter-flexible` limiter (memory on one node, Redis in a
 * cluster: the composition root picks). Exceeding it throws `rate_limited` with `retryAfterMs`.
 */
export class RateLimit {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly description: string,
  ) {}

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
      if (err instanceof RateLimiterRes) {
        throw new SwitchboardError("rate_limited", `Too many requests: ${this.description}. Retry after ${Math.ceil(err.msBeforeNext)} ms.`, {
          retryAfterMs: err.msBeforeNext,
        });
      }
      throw new SwitchboardError("unavailable", "The rate limiter is unavailable; try again shortly.", { cause: err });
    }
  }
}
