import { LIMITS, type ChatClient, type PresenceInfo } from "@switchboard/client-sdk";
import { ExternalStore } from "./external-store.js";

/** Presence by user id, as {@link usePresence} returns it; users not known yet are absent. */
export type PresenceSnapshot = Readonly<Record<string, PresenceInfo>>;

/** The snapshot used on the server and before a client exists. */
export const SERVER_PRESENCE: PresenceSnapshot = Object.freeze({});

/**
 * Presence of the users some mounted component watches: queried with `presence:query` when a
 * user is first watched and after every reconnect, then kept from `presence:update` events
 * (which the server sends for users who share a conversation with the current user).
 */
export class PresenceStore extends ExternalStore {
  private readonly known = new Map<string, PresenceInfo>();
  private readonly watched = new Map<string, number>();
  private queryDue = new Set<string>();
  private offs: (() => void)[] = [];

  constructor(private readonly client: ChatClient) {
    super();
  }

  /** The presence of `userId`, when known. */
  get(userId: string): PresenceInfo | undefined {
    return this.known.get(userId);
  }

  /** Watches `userIds` until the returned function is called; unknown ones are queried. */
  watch(userIds: readonly string[]): () => void {
    for (const id of userIds) {
      this.watched.set(id, (this.watched.get(id) ?? 0) + 1);
      if (!this.known.has(id)) this.queryDue.add(id);
    }
    this.scheduleQuery();
    return () => {
      for (const id of userIds) {
        const count = (this.watched.get(id) ?? 0) - 1;
        if (count > 0) this.watched.set(id, count);
        else this.watched.delete(id);
      }
    };
  }

  protected start(): void {
    this.offs = [
      this.client.on("presence", (event) => {
        this.known.set(event.userId, { status: event.status, ...(event.lastSeenAt ? { lastSeenAt: event.lastSeenAt } : {}) });
        this.notify();
      }),
      this.client.on("state", (change) => {
        if (change.newState !== "connected") return;
        // Whatever changed while offline was not announced to this socket.
        for (const id of this.watched.keys()) this.queryDue.add(id);
        this.scheduleQuery();
      }),
    ];
  }

  protected stop(): void {
    for (const off of this.offs.splice(0)) off();
    // Nothing is heard while nobody reads the store: the next reader queries afresh.
    this.known.clear();
  }

  private scheduled = false;

  /** One query per microtask for everything due, so a list of avatars costs one round trip. */
  private scheduleQuery(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.client.state !== "connected") return; // the reconnect queries them
      const due = [...this.queryDue].filter((id) => this.watched.has(id));
      this.queryDue = new Set();
      for (let i = 0; i < due.length; i += LIMITS.presenceQueryMax) {
        const chunk = due.slice(i, i + LIMITS.presenceQueryMax);
        this.client.queryPresence(chunk).then(
          (presence) => {
            let changed = false;
            for (const [id, info] of Object.entries(presence)) {
              const held = this.known.get(id);
              if (held?.status === info.status && held.lastSeenAt === info.lastSeenAt) continue;
              this.known.set(id, info);
              changed = true;
            }
            if (changed) this.notify();
          },
          // Asked again after the next reconnect; a refusal (too many ids) is the caller's bug.
          () => undefined,
        );
      }
    });
  }
}
