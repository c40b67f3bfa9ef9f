/**
 * Counts requests being handled, so a graceful shutdown can wait for in-flight writes to finish
 * before the store is closed.
 */
export class InflightTracker {
  private count = 0;
  private waiters: (() => void)[] = [];

  /** Marks one unit of work as started; call the returned function exactly once when it ends. */
  begin(): () => void {
    this.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Work under way right now. */
  get size(): number {
    return this.count;
  }

  /** Resolves true when nothing is in flight, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
