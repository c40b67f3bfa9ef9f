import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";

/**
 * Where live connections are counted. A user is online while at least one connection of theirs
 * is registered. The single-node driver keeps this in memory; the cluster driver in Redis.
 */
export interface PresenceRegistry {
  /** Registers a connection; resolves true when it is the user's first (they came online). */
  addConnection(userId: string, connectionId: string): Promise<boolean>;
  /** Unregisters a connection; resolves true when it was the user's last (they went offline). */
  removeConnection(userId: string, connectionId: string, at: Date): Promise<boolean>;
  /** Status of each user; `lastSeenAt` for users seen since the registry started. */
  query(userIds: string[]): Promise<Record<string, PresenceInfo>>;
}
