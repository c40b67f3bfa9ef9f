/** Bounds of an exponential reconnect or retry backoff. */
export interface BackoffOptions {
  /** The ceiling of the first delay, in milliseconds. Default 500. */
  minDelayMs: number;
  /** The largest ceiling any delay can have, in milliseconds. Default 15000. */
  maxDelayMs: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ minDelayMs: 500, maxDelayMs: 15_000 });

/**
 * "Full jitter" exponential backoff: `random(0, min(maxDelayMs, minDelayMs * 2^attempt))`.
 *
 * Spreading every delay over the whole window (instead of adding a little jitter to a fixed
 * delay) is what stops thousands of clients dropped by the same server restart from coming
 * back in synchronized waves. `attempt` counts from 0.
 *
 * @param random a source of numbers in [0, 1); injectable for tests. Default `Math.random`.
 */
export function fullJitterDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  // 2^attempt overflows to Infinity long before it matters; the cap keeps the result finite.
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
