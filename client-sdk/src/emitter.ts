/** A listener of one event of an event map. */
export type Listener<T> = (payload: T) => void;

/**
 * A small typed event emitter: `Events` maps each event name to its payload type, so `on()`
 * and `emit()` are checked at compile time. Listeners run synchronously in registration
 * order; one that throws does not stop the others, and its error is rethrown asynchronously
 * so it still surfaces (console, error overlay, `uncaughtException`) without corrupting the
 * SDK's internal state.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds `listener` for `event`; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Like {@link on}, but the listener runs at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes `listener` from `event`; removes every listener of `event` when omitted. */
  off<K extends keyof Events>(event: K, listener?: Listener<Events[K]>): void {
    if (!listener) {
      this.listeners.delete(event);
      return;
    }
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /**
   * How many listeners `event` has, or all events together when omitted. For leak checks: a
   * UI binding (such as `@switchboard/react`) must leave none behind when it unmounts.
   */
  listenerCount(event?: keyof Events): number {
    if (event !== undefined) return this.listeners.get(event)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  /** Calls every listener of `event` with `payload`. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    // Copy first: a listener may remove itself (once) or others while we iterate.
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
