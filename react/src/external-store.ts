/**
 * The base of every store the hooks read through `useSyncExternalStore`: a set of subscribers,
 * and start/stop around the first and the last of them, so SDK listeners (and joins) exist
 * exactly while some mounted component reads the store.
 */
export abstract class ExternalStore {
  private readonly subscribers = new Set<() => void>();
  private started = false;

  /** Attaches the store to the SDK; called when the first subscriber arrives. */
  protected abstract start(): void;
  /** Detaches everything `start()` attached; called once the last subscriber is gone. */
  protected abstract stop(): void;

  /** The `subscribe` argument of `useSyncExternalStore`; stable per store. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.subscribers.add(listener);
    if (!this.started) {
      this.started = true;
      this.start();
    }
    return () => {
      if (!this.subscribers.delete(listener) || this.subscribers.size > 0) return;
      // Deferred: StrictMode and a re-keyed child unsubscribe and subscribe again in the same
      // commit, and leaving then re-joining a conversation for that would be wasted round trips.
      queueMicrotask(() => {
        if (this.subscribers.size > 0 || !this.started) return;
        this.started = false;
        this.stop();
      });
    };
  };

  /** True while at least one component reads the store (the SDK listeners are attached). */
  get active(): boolean {
    return this.started;
  }

  /** Tells every subscriber to read its snapshot again; unchanged snapshots re-render nothing. */
  protected notify(): void {
    for (const listener of [...this.subscribers]) listener();
  }
}

/** The element-wise identity of two lists, so an unchanged derived list keeps its reference. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
