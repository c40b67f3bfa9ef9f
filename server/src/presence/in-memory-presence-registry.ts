import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { AddConnectionResult, PresenceConnection, PresenceDeparture, PresenceRegistry, RestoreResult } from "./presence-registry.js";

/** How many offline users' `lastSeenAt` are remembered; the oldest are forgotten first. */
const LAST_SEEN_CAPACITY = 100_000;

/**
 * The single-node presence registry: exact, and gone with the process. This node is the whole
 * cluster, so it never loses its registration and has no peers to reap.
 */
export class InMemoryPresenceRegistry implements PresenceRegistry {
  private readonly connections = new Map<string, Set<string>>();
  private readonly lastSeen = new Map<string, string>();

  async addConnection(userId: string, connectionId: string): Promise<AddConnectionResult> {
    let set = this.connections.get(userId);
    if (!set) this.connections.set(userId, (set = new Set()));
    const cameOnline = !set.has(connectionId) && set.size === 0;
    set.add(connectionId);
    const lastSeenAt = cameOnline ? this.lastSeen.get(userId) : undefined;
    return lastSeenAt ? { cameOnline, lastSeenAt } : { cameOnline };
  }

  async removeConnection(userId: string, connectionId: string, at: Date): Promise<boolean> {
    const set = this.connections.get(userId);
    const removed = set?.delete(connectionId) ?? false;
    if (set && set.size > 0) return false;
    this.connections.delete(userId);
    // A repeated removal keeps the first time, which is when the user really left.
    if (removed || !this.lastSeen.has(userId)) this.remember(userId, at.toISOString());
    return true;
  }

  async query(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    const result: Record<string, PresenceInfo> = {};
    for (const id of userIds) {
      const lastSeenAt = this.lastSeen.get(id);
      result[id] = this.connections.has(id) ? { status: "online" } : lastSeenAt ? { status: "offline", lastSeenAt } : { status: "offline" };
    }
    return result;
  }

  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
  }

  async claimOccupancy(): Promise<boolean> {
    // The only node: its own timer already sends at most one count per interval.
    return true;
  }

  async heartbeat(): Promise<boolean> {
    return true;
  }

  async reapDeadNodes(): Promise<PresenceDeparture[]> {
    return [];
  }

  async restore(connections: PresenceConnection[], at: Date): Promise<RestoreResult> {
    const wanted = new Map<string, Set<string>>();
    for (const { userId, connectionId } of connections) {
      let set = wanted.get(userId);
      if (!set) wanted.set(userId, (set = new Set()));
      set.add(connectionId);
    }
    const cameOnline = [...wanted.keys()].filter((userId) => !this.connections.has(userId));
    const wentOffline: PresenceDeparture[] = [];
    const lastSeenAt = at.toISOString();
    for (const userId of this.connections.keys()) {
      if (wanted.has(userId)) continue;
      this.remember(userId, lastSeenAt);
      wentOffline.push({ userId, lastSeenAt });
    }
    this.connections.clear();
    for (const [userId, set] of wanted) this.connections.set(userId, set);
    return { cameOnline, wentOffline };
  }

  async close(): Promise<void> {}

  private remember(userId: string, lastSeenAt: string): void {
    // Re-inserting keeps the Map in last-seen order, so the first key is the stalest.
    this.lastSeen.delete(userId);
    this.lastSeen.set(userId, lastSeenAt);
    if (this.lastSeen.size > LAST_SEEN_CAPACITY) this.lastSeen.delete(this.lastSeen.keys().next().value!);
  }
}
