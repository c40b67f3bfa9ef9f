import type { Logger } from "../logger.js";

/** What an {@link OutboxPoller} drains, and how. */
export interface OutboxPollerOptions<T> {
  /** Used in log lines: `"webhook dispatcher"`, `"delivery worker"`. */
  name: string;
  logger: Logger;
  /** Leases up to `limit` due items from the store (exclusive across nodes). */
  lease(now: number, limit: number): Promise<T[]>;
  /** Works one leased item off; a rejection is logged, and the item's lease runs out and it is retried. */
  handle(item: T): Promise<void>;
  /** Log fields naming an item, for a failed `handle`. */
  describe(item: T): Record<string, unknown>;
  /** Housekeeping after each round (pruning), when there is any. */
  afterRound?(now: number): Promise<void>;
  /** How often to look for due items when nothing asks sooner. */
  pollIntervalMs: number;
  /** Items handled at once on this node. */
  concurrency: number;
}

/**
 * The loop shared by every outbox a node drains (webhooks, offline notifications): each round
 * leases what fits into the free slots and starts handling it; the next round comes after the
 * poll interval, at once after {@link kick} (something new is due), or as soon as a slot frees
 * up when the last round filled every slot (more is probably waiting). Every node runs one per
 * outbox; the store's leases make sure one node handles each item.
 */
export class OutboxPoller<T> {
  private readonly inflight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private state: "idle" | "running" | "stopping" = "idle";
  /** A round is in progress; {@link kick} during it asks for another right after. */
  private polling = false;
  private pollAgain = false;

  constructor(private readonly options: OutboxPollerOptions<T>) {}

  /** Starts polling. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "running";
    this.schedule(0);
  }

  /** Looks for due items now instead of at the next poll. */
  kick(): void {
    if (this.state !== "running") return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops polling and waits up to `graceMs` for the items in hand. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === "stopping") return;
    this.state = "stopping";
    clearTimeout(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.drained(), graceOver]);
    clearTimeout(timer);
  }

  /** Resolves once every item in hand is done with. */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.round(), ms);
  }

  private async round(): Promise<void> {
    this.timer = undefined;
    if (this.state !== "running") return;
    const { concurrency, logger, name } = this.options;
    this.polling = true;
    let full = false;
    try {
      const free = concurrency - this.inflight.size;
      const now = Date.now();
      if (free > 0) {
        const leased = await this.options.lease(now, free);
        for (const item of leased) this.handle(item);
        full = leased.length === free;
      }
      await this.options.afterRound?.(now);
    } catch (err) {
      logger.warn({ err }, `${name}: polling the outbox failed; retrying at the next poll`);
    } finally {
      this.polling = false;
      if (this.state === "running") this.schedule(this.pollAgain || (full && this.inflight.size < concurrency) ? 0 : this.options.pollIntervalMs);
      this.pollAgain = false;
    }
  }

  private handle(item: T): void {
    // Each item starts in a macrotask of its own: with a synchronous store, a batch started
    // in one go would run every item's reads, encryption and writes back to back, holding the
    // event loop (and live traffic) until the whole batch had reached the network.
    const running: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.options.handle(item))
      .catch((err: unknown) => {
        this.options.logger.error({ err, ...this.options.describe(item) }, `${this.options.name}: handling an item failed unexpectedly; its lease will run out and it is retried`);
      })
      .finally(() => {
        this.inflight.delete(running);
        // A slot is free: more may be waiting.
        this.kick();
      });
    this.inflight.add(running);
  }
}
