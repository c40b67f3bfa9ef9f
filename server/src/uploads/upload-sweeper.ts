import type { Logger } from "../logger.js";

/** Options of {@link UploadSweeper}. */
export interface UploadSweeperOptions {
  /** One sweep: removes up to `limit` due uploads, resolves with how many it removed (`UploadService.sweep`). */
  sweep(now: Date, limit: number): Promise<number>;
  /** How often to sweep (`UPLOAD_SWEEP_INTERVAL_MS`, default 60000). */
  intervalMs: number;
  /** Uploads removed per sweep call; a full batch is followed at once by another. Default 100. */
  batchSize?: number;
  logger: Logger;
}

/**
 * The timer that deletes expired and released uploads on this node. Every node runs one; the
 * store's conditional removal and idempotent blob deletes make concurrent sweeps harmless. The
 * timer is unref'd: a sweep never keeps the process alive.
 */
export class UploadSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private state: "idle" | "running" | "stopped" = "idle";

  constructor(private readonly options: UploadSweeperOptions) {}

  /** Sweeps now, then every interval. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "running";
    this.schedule(0);
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const batch = this.options.batchSize ?? 100;
    let full = false;
    try {
      const removed = await this.options.sweep(new Date(), batch);
      if (removed > 0) this.options.logger.debug({ removed }, "upload sweeper removed expired or released uploads");
      full = removed >= batch;
    } catch (err) {
      this.options.logger.warn({ err }, "upload sweep failed; retrying at the next interval");
    } finally {
      if (this.state === "running") this.schedule(full ? 0 : this.options.intervalMs);
    }
  }
}
