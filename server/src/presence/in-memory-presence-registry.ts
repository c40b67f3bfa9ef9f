import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { PresenceRegistry } from "./presence-registry.js";

/** How many offline users' `lastSeenAt` are remembered; the oldest are forgotten first. */
const LAST_SEEN_CAPACITY = 100_000;

/** The single-node presence registry: exact, and gone with the process. */
export class InMemoryPresenceRegistry implements PresenceRegistry {
  private readonly connections = new Map<string, Set<string>>();
  private readonly lastSeen = new Map<string, string>();

  async addConnection(userId: string, connectionId: string): Promise<boolean> {
    let set = this.connections.get(userId);
    if (!set) this.connections.set(userId, (set = new Set()));
    set.add(connectionId);
    return set.size === 1;
  }

  async removeConnection(userId: string, connectionId: string, at: Date): Promise<boolean> {
    const set = this.connections.get(userId);
    if (!set?.delete(connectionId) || set.size > 0) return false;
    this.connections.delete(userId);
    // Re-inserting keeps the Map in last-seen order, so the first key is the stalest.
    this.lastSeen.delete(userId);
    this.lastSeen.set(userId, at.toISOString());
    if (this.lastSeen.size > LAST_SEEN_CAPACITY) this.lastSeen.delete(this.lastSeen.keys().next().value!);
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
}
