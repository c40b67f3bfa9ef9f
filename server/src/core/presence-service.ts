import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { PresenceConnection, PresenceRegistry } from "../presence/presence-registry.js";
import type { Store } from "../store/store.js";
import type { ChatEvents } from "./chat-events.js";

/** The background step of {@link PresenceService} that failed, as told to `onError`. */
export type PresenceTask = "heartbeat" | "restore" | "reap" | "offline-check" | "announce" | "occupancy" | "close";

/** Options of {@link PresenceService}. */
export interface PresenceOptions {
  /**
   * How long a user whose last connection closed is still announced as online, so a page reload
   * or a network hop (to this node or another) does not flap offline/online to every contact.
   * Default 3000 ms.
   */
  offlineGraceMs?: number;
  /** Most contacts told about one user's change. Default 1000. */
  audienceMax?: number;
  /**
   * Conversations with more members than this get `presence.occupancy` counts instead of one
   * `presence.changed` per member change, so a room's presence costs O(members) frames per
   * interval instead of O(members²) (`PRESENCE_ROOM_LIMIT`). Default 100.
   */
  roomLimit?: number;
  /**
   * Changes are announced at once when none was in the last `coalesceMs`; within that window
   * they wait for its end, and a user's repeated changes collapse into the latest
   * (`PRESENCE_COALESCE_MS`). 0 announces every change at once. Default 250 ms.
   */
  coalesceMs?: number;
  /**
   * At most one occupancy count per large conversation per this interval, cluster-wide
   * (`PRESENCE_OCCUPANCY_INTERVAL_MS`). Default 1000 ms.
   */
  occupancyIntervalMs?: number;
  /**
   * How often, after {@link PresenceService.start}, this node heartbeats, repairs its registration
   * if the registry lost it, and reaps dead peers. Keep it well under the registry's node timeout
   * (the Redis driver's `nodeTimeoutMs`, default 15000, which must also exceed `offlineGraceMs`).
   * Default 5000 ms.
   */
  heartbeatIntervalMs?: number;
  /**
   * Told about failures of background work (heartbeats, reaping, restores, delayed announcements),
   * which have no caller to reject to; each is retried by the next heartbeat. Default: ignored.
   */
  onError?: (err: unknown, task: PresenceTask) => void;
}

/**
 * Tracks who is online and announces changes to the people who share a conversation with them.
 *
 * It keeps its own record of this node's live connections, so that whenever the registry may
 * disagree with it (a write failed, Redis restarted empty, peers reaped this node during a
 * partition) it can put the registry right with `restore`, at the latest on the next heartbeat.
 */
export class PresenceService {
  /** This node's live connections: userId → connectionIds. The truth the registry is repaired to. */
  private readonly local = new Map<string, Set<string>>();
  private readonly pendingOffline = new Map<string, NodeJS.Timeout>();
  /** Users whose going offline could not be checked (registry unreachable): userId → lastSeenAt. */
  private readonly unsettled = new Map<string, string>();
  /** The registry may disagree with {@link local}. True at first, to clear a previous process's entries. */
  private stale = true;
  private restoreQueue: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private tickRunning?: Promise<void>;
  /** Offline checks under way, awaited by `close` so none runs on after it. */
  private readonly checking = new Set<Promise<void>>();
  private closed = false;
  /** Changes waiting for the end of the coalescing window: userId → latest status. */
  private readonly pendingAnnouncements = new Map<string, PresenceInfo>();
  /** Set while a coalescing window is open. */
  private coalesceTimer?: NodeJS.Timeout;
  /** Announcements under way, awaited by `close`. */
  private flushing?: Promise<void>;
  /** Large conversations whose online count changed since it was last sent. */
  private readonly occupancyDirty = new Set<string>();
  private occupancyTimer?: NodeJS.Timeout;
  private occupancyRunning?: Promise<void>;
  private readonly graceMs: number;
  private readonly audienceMax: number;
  private readonly roomLimit: number;
  private readonly coalesceMs: number;
  private readonly occupancyIntervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly onError: (err: unknown, task: PresenceTask) => void;

  constructor(
    private readonly registry: PresenceRegistry,
    private readonly store: Store,
    private readonly events: ChatEvents,
    options: PresenceOptions = {},
  ) {
    this.graceMs = options.offlineGraceMs ?? 3000;
    this.audienceMax = options.audienceMax ?? 1000;
    this.roomLimit = options.roomLimit ?? 100;
    this.coalesceMs = options.coalesceMs ?? 250;
    this.occupancyIntervalMs = options.occupancyIntervalMs ?? 1000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Starts the heartbeat. The first beat runs now and first restores this node's registration,
   * which also removes what a previous process with the same node id left behind; the returned
   * promise settles after it (failures go to `onError`, never to the caller).
   */
  start(): Promise<void> {
    if (this.timer || this.tickRunning || this.closed) return this.tickRunning ?? Promise.resolve();
    return this.tick();
  }

  /** A connection of `userId` was authenticated. Rejects when the registry is unreachable. */
  async connected(userId: string, connectionId: string): Promise<void> {
    let set = this.local.get(userId);
    if (!set) this.local.set(userId, (set = new Set()));
    set.add(connectionId);
    const pending = this.pendingOffline.get(userId);
    clearTimeout(pending);
    this.pendingOffline.delete(userId);
    const at = Date.now();
    let added;
    try {
      added = await this.registry.addConnection(userId, connectionId);
    } catch (err) {
      this.stale = true;
      throw err;
    }
    this.unsettled.delete(userId);
    // Back within the grace period: the contacts never heard they left.
    if (pending || !added.cameOnline) return;
    // Left another node less than the grace period ago: that node's offline check will find
    // them online and stay silent, so their contacts must not hear "online" again either.
    if (added.lastSeenAt && at - Date.parse(added.lastSeenAt) < this.graceMs) return;
    await this.announce(userId, { status: "online" });
  }

  /** A connection of `userId` closed. Rejects when the registry is unreachable. */
  async disconnected(userId: string, connectionId: string): Promise<void> {
    const set = this.local.get(userId);
    set?.delete(connectionId);
    if (set?.size === 0) this.local.delete(userId);
    // Came and went within one coalescing window: the contacts need not hear "online" at all.
    if (!this.local.has(userId) && this.pendingAnnouncements.get(userId)?.status === "online") this.pendingAnnouncements.delete(userId);
    const at = new Date();
    let gone: boolean;
    try {
      gone = await this.registry.removeConnection(userId, connectionId, at);
    } catch (err) {
      this.stale = true;
      this.unsettled.set(userId, at.toISOString());
      throw err;
    }
    if (!gone) return;
    if (this.local.has(userId)) {
      // Another connection of theirs is alive here, yet the registry holds none: it lost ours.
      this.stale = true;
      return;
    }
    this.scheduleOfflineCheck(userId, at.toISOString());
  }

  /** Status of each user, cluster-wide. */
  query(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    return this.registry.query(userIds);
  }

  /** Which of these users are online anywhere in the cluster, in one registry look-up. */
  onlineAmong(userIds: string[]): Promise<Set<string>> {
    return this.registry.onlineAmong(userIds);
  }

  /**
   * Re-registers this node's live connections (the registry lost them: Redis restarted, or peers
   * reaped this node) and drops any it no longer holds; announces the users this brings online or
   * offline. Idempotent; calls are serialised. Rejects when the registry is unreachable (the next
   * heartbeat retries).
   */
  restore(): Promise<void> {
    const run = this.restoreQueue.then(() => this.restoreNow());
    this.restoreQueue = run.catch(() => undefined);
    return run;
  }

  /** Stops the heartbeat and pending announcements, and closes the registry (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // After the running beat, which may still schedule checks, and before those under way end.
    await this.tickRunning;
    for (const timer of this.pendingOffline.values()) clearTimeout(timer);
    this.pendingOffline.clear();
    await Promise.all(this.checking);
    clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    await this.flushing;
    // Changes still waiting for their window happened: the contacts hear them before the node goes.
    const batch = [...this.pendingAnnouncements];
    this.pendingAnnouncements.clear();
    for (const [userId, info] of batch) await this.announceNow(userId, info);
    clearTimeout(this.occupancyTimer);
    this.occupancyTimer = undefined;
    await this.occupancyRunning;
    await this.registry.close().catch((err: unknown) => this.onError(err, "close"));
  }

  /** One heartbeat; schedules the next when done, so beats never overlap. */
  private tick(): Promise<void> {
    const run = (async () => {
      try {
        const intact = await this.registry.heartbeat();
        if (!intact) this.stale = true;
      } catch (err) {
        this.onError(err, "heartbeat");
        return;
      }
      if (this.stale) {
        try {
          await this.restore();
        } catch (err) {
          this.onError(err, "restore");
        }
      }
      try {
        // Only this node got these users back from the reap, so each is announced once; a user
        // of a node that closed on purpose was seen just now and still gets the grace period.
        for (const { userId, lastSeenAt } of await this.registry.reapDeadNodes()) this.scheduleOfflineCheck(userId, lastSeenAt);
      } catch (err) {
        this.onError(err, "reap");
      }
    })().finally(() => {
      this.tickRunning = undefined;
      if (this.closed) return;
      this.timer = setTimeout(() => void this.tick(), this.heartbeatIntervalMs);
      this.timer.unref();
    });
    this.tickRunning = run;
    return run;
  }

  private async restoreNow(): Promise<void> {
    // Cleared before the snapshot: a write that fails after it marks the registry stale again.
    this.stale = false;
    const connections: PresenceConnection[] = [];
    for (const [userId, set] of this.local) for (const connectionId of set) connections.push({ userId, connectionId });
    let result;
    try {
      result = await this.registry.restore(connections, new Date());
    } catch (err) {
      this.stale = true;
      throw err;
    }
    for (const userId of result.cameOnline) await this.announce(userId, { status: "online" });
    // Users who left while the registry was unreachable, or whose removal it missed: checked
    // like any departure, so a reconnect to any node within the grace period stays silent.
    for (const { userId, lastSeenAt } of result.wentOffline) {
      if (!this.unsettled.has(userId)) this.unsettled.set(userId, lastSeenAt);
    }
    for (const [userId, lastSeenAt] of [...this.unsettled]) {
      this.unsettled.delete(userId);
      if (!this.local.has(userId)) this.scheduleOfflineCheck(userId, lastSeenAt);
    }
  }

  /**
   * Announces `userId` offline once the grace period after `lastSeenAt` is over, unless they came
   * back on any node. Every offline announcement waits for this, which is what lets `connected`
   * on another node tell from `lastSeenAt` alone whether the contacts heard of the departure.
   */
  private scheduleOfflineCheck(userId: string, lastSeenAt: string): void {
    if (this.closed) return;
    clearTimeout(this.pendingOffline.get(userId));
    const delay = Math.max(0, Date.parse(lastSeenAt) + this.graceMs - Date.now());
    const timer = setTimeout(() => {
      this.pendingOffline.delete(userId);
      const check = this.announceIfOffline(userId, lastSeenAt).finally(() => this.checking.delete(check));
      this.checking.add(check);
    }, delay);
    timer.unref();
    this.pendingOffline.set(userId, timer);
  }

  /** The end of a grace period: announce offline unless a connection came back on any node. */
  private async announceIfOffline(userId: string, lastSeenAt: string): Promise<void> {
    if (this.local.has(userId)) return;
    let status;
    try {
      status = (await this.registry.query([userId]))[userId]?.status;
    } catch (err) {
      // Checked again after the next restore.
      this.stale = true;
      this.unsettled.set(userId, lastSeenAt);
      this.onError(err, "offline-check");
      return;
    }
    if (status === "offline" && !this.local.has(userId)) await this.announce(userId, { status: "offline", lastSeenAt });
  }

  /**
   * Tells the user's contacts now, or at the end of the coalescing window when one is open (a
   * burst of connects then costs one window per `coalesceMs`, and a user's flapping collapses).
   */
  private async announce(userId: string, info: PresenceInfo): Promise<void> {
    if (this.closed) return;
    if (this.coalesceMs <= 0) return this.announceNow(userId, info);
    if (this.coalesceTimer) {
      this.pendingAnnouncements.set(userId, info);
      return;
    }
    this.openCoalesceWindow();
    await this.announceNow(userId, info);
  }

  private openCoalesceWindow(): void {
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      if (this.closed || this.pendingAnnouncements.size === 0) return;
      const batch = [...this.pendingAnnouncements];
      this.pendingAnnouncements.clear();
      // What arrives while this batch is announced waits for the next window.
      this.openCoalesceWindow();
      const run = (async () => {
        for (const [userId, info] of batch) await this.announceNow(userId, info);
      })().finally(() => {
        if (this.flushing === run) this.flushing = undefined;
      });
      this.flushing = run;
    }, this.coalesceMs);
    this.coalesceTimer.unref();
  }

  /**
   * Publishes the change to the contacts of the user's small conversations and marks their large
   * conversations for an occupancy count. A failure is reported and dropped (live events are
   * best effort). Published even with no contact to tell, so listeners such as the offline
   * planner hear every change (the gateway sends nothing for an empty audience).
   */
  private async announceNow(userId: string, info: PresenceInfo): Promise<void> {
    try {
      const { contacts, largeConversationIds } = await this.store.listPresenceAudience(userId, this.roomLimit, this.audienceMax);
      if (contacts.length === 0 && largeConversationIds.length === 0) return;
      this.events.publish({
        type: "presence.changed",
        userId,
        status: info.status,
        ...(info.lastSeenAt ? { lastSeenAt: info.lastSeenAt } : {}),
        audience: contacts,
      });
      for (const id of largeConversationIds) this.occupancyDirty.add(id);
      if (largeConversationIds.length > 0) this.scheduleOccupancy(0);
    } catch (err) {
      this.onError(err, "announce");
    }
  }

  /** Sends the dirty conversations' counts after `delayMs` (no-op while a send is scheduled). */
  private scheduleOccupancy(delayMs: number): void {
    if (this.occupancyTimer || this.occupancyRunning || this.closed) return;
    this.occupancyTimer = setTimeout(() => {
      this.occupancyTimer = undefined;
      const run = this.sendOccupancy().finally(() => {
        this.occupancyRunning = undefined;
        // Changes seen meanwhile, or a conversation another node had claimed: the next interval.
        if (this.occupancyDirty.size > 0) this.scheduleOccupancy(this.occupancyIntervalMs);
      });
      this.occupancyRunning = run;
    }, delayMs);
    this.occupancyTimer.unref();
  }

  /**
   * Counts the online members of each dirty large conversation and publishes it, at most once per
   * interval per conversation in the whole cluster: a node that finds the interval claimed by a
   * peer keeps the conversation dirty and counts again in the next one, so the last change is
   * always covered by a count taken after it.
   */
  private async sendOccupancy(): Promise<void> {
    const batch = [...this.occupancyDirty];
    this.occupancyDirty.clear();
    for (const conversationId of batch) {
      try {
        if (!(await this.registry.claimOccupancy(conversationId, this.occupancyIntervalMs))) {
          this.occupancyDirty.add(conversationId);
          continue;
        }
        const conversation = await this.store.getConversation(conversationId);
        if (!conversation) continue;
        const online = await this.registry.onlineAmong(conversation.members.map((m) => m.userId));
        this.events.publish({ type: "presence.occupancy", conversationId, online: online.size, members: conversation.members.length });
      } catch (err) {
        this.onError(err, "occupancy");
      }
    }
  }
}
