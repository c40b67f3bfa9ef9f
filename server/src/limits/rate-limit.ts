import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
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
