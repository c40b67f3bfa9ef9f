import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";

/** One live connection of this node. */
export interface PresenceConnection {
  userId: string;
  connectionId: string;
}

/** A user who went offline, and when they were last seen (ISO-8601). */
export interface PresenceDeparture {
  userId: string;
  lastSeenAt: string;
}

/** What {@link PresenceRegistry.addConnection} found. */
export interface AddConnectionResult {
  /** This was the user's only connection in the whole registry: they came online. */
  cameOnline: boolean;
  /** When the user was last seen offline, if the registry remembers; only with `cameOnline`. */
  lastSeenAt?: string;
}

/** What {@link PresenceRegistry.restore} changed. */
export interface RestoreResult {
  /** Users who had no connection registered before and now have one. */
  cameOnline: string[];
  /** Users whose last registered connection was one this node no longer holds. */
  wentOffline: PresenceDeparture[];
}

/**
 * Where live connections are counted, for one node of a possibly larger cluster. A user is online
 * while at least one connection of theirs is registered by any node. The single-node driver keeps
 * this in memory; the cluster driver in Redis.
 *
 * A driver only stores and answers; when to heartbeat, reap, restore and announce is decided once,
 * in `PresenceService`. Every method rejects promptly when the backing system is unreachable.
 */
export interface PresenceRegistry {
  /** Registers a connection of this node. */
  addConnection(userId: string, connectionId: string): Promise<AddConnectionResult>;
  /**
   * Unregisters a connection of this node; resolves true when the user is left with no connection
   * anywhere (also when the registry had already lost this one, e.g. after a Redis restart), in
   * which case `at` becomes their `lastSeenAt`.
   */
  removeConnection(userId: string, connectionId: string, at: Date): Promise<boolean>;
  /** Status of each user; `lastSeenAt` for offline users the registry still remembers. */
  query(userIds: string[]): Promise<Record<string, PresenceInfo>>;
  /**
   * Which of `userIds` are online anywhere. Cheaper than {@link query} for many users (the
   * offline planner asks it for every member of a conversation on every message): the Redis
   * driver answers with one command however many are asked (and however many calls one
   * event-loop turn makes). The answer includes every change made before the call; one made
   * later in the same turn may show too.
   */
  onlineAmong(userIds: string[]): Promise<Set<string>>;
  /**
   * Marks this node alive. Resolves false when the registry no longer holds this node's
   * registration (it restarted empty, or peers reaped this node as dead), so the caller must
   * {@link restore} it.
   */
  heartbeat(): Promise<boolean>;
  /**
   * Claims the right to send `conversationId`'s occupancy count for the next `ms`: true for
   * exactly one caller in the cluster per interval, so the count is sent once, not once per node.
   */
  claimOccupancy(conversationId: string, ms: number): Promise<boolean>;
  /**
   * Removes the connections of other nodes whose heartbeat is too old, and resolves with the users
   * who thereby went offline. Each dead node is reaped by exactly one caller in the cluster, so
   * every such user is returned once.
   */
  reapDeadNodes(): Promise<PresenceDeparture[]>;
  /**
   * Makes this node's registered connections exactly `connections` (adding before removing, so a
   * user who stays connected never passes through offline) and registers the node as alive.
   * Idempotent. Users who went offline get `at` as `lastSeenAt`.
   */
  restore(connections: PresenceConnection[], at: Date): Promise<RestoreResult>;
  /** Stops using the registry; never closes a client it was given. */
  close(): Promise<void>;
}
