import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { PresenceRegistry } from "../presence/presence-registry.js";
import type { Store } from "../store/store.js";
import type { ChatEvents } from "./chat-events.js";

/** Options of {@link PresenceService}. */
export interface PresenceOptions {
  /**
   * How long a user whose last connection closed is still announced as online, so a page reload
   * or a network hop does not flap offline/online to every contact. Default 3000 ms.
   */
  offlineGraceMs?: number;
  /** Most contacts told about one user's change. Default 1000. */
  audienceMax?: number;
}

/** Tracks who is online and announces changes to the people who share a conversation with them. */
export class PresenceService {
  private readonly pendingOffline = new Map<string, NodeJS.Timeout>();
  private readonly graceMs: number;
  private readonly audienceMax: number;

  constructor(
    private readonly registry: PresenceRegistry,
    private readonly store: Store,
    private readonly events: ChatEvents,
    options: PresenceOptions = {},
  ) {
    this.graceMs = options.offlineGraceMs ?? 3000;
    this.audienceMax = options.audienceMax ?? 1000;
  }

  /** A connection of `userId` was authenticated. */
  async connected(userId: string, connectionId: string): Promise<void> {
    const first = await this.registry.addConnection(userId, connectionId);
    const pending = this.pendingOffline.get(userId);
    if (pending) {
      // Back within the grace period: the contacts never heard they left.
      clearTimeout(pending);
      this.pendingOffline.delete(userId);
      return;
    }
    if (first) await this.announce(userId, { status: "online" });
  }

  /** A connection of `userId` closed. */
  async disconnected(userId: string, connectionId: string): Promise<void> {
    const at = new Date();
    if (!(await this.registry.removeConnection(userId, connectionId, at))) return;
    clearTimeout(this.pendingOffline.get(userId));
    const timer = setTimeout(() => {
      this.pendingOffline.delete(userId);
      void this.registry.query([userId]).then((p) => {
        if (p[userId]?.status === "offline") return this.announce(userId, { status: "offline", lastSeenAt: at.toISOString() });
      }).catch(() => undefined);
    }, this.graceMs);
    timer.unref();
    this.pendingOffline.set(userId, timer);
  }

  query(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    return this.registry.query(userIds);
  }

  /** Stops pending announcements (shutdown). */
  close(): void {
    for (const timer of this.pendingOffline.values()) clearTimeout(timer);
    this.pendingOffline.clear();
  }

  private async announce(userId: string, info: PresenceInfo): Promise<void> {
    const audience = await this.store.listContacts(userId, this.audienceMax);
    if (audience.length === 0) return;
    this.events.publish({ type: "presence.changed", userId, status: info.status, ...(info.lastSeenAt ? { lastSeenAt: info.lastSeenAt } : {}), audience });
  }
}
