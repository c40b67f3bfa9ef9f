import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { PresenceConnection, PresenceRegistry } from "../presence/presence-registry.js";
import type { Store } from "../store/store.js";
import type { ChatEvents } from "./chat-events.js";

/** The background step of {@link PresenceService} that failed, as told to `onError`. */
export type PresenceTask = "heartbeat" | "restore" | "reap" | "offline-check" | "announce" | "close";

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
  private readonly graceMs: number;
  private readonly audienceMax: number;
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

  /** Tells the user's contacts; a failure is reported and dropped (live events are best effort). */
  private async announce(userId: string, info: PresenceInfo): Promise<void> {
    try {
      const audience = await this.store.listContacts(userId, this.audienceMax);
      if (audience.length === 0) return;
      this.events.publish({ type: "presence.changed", userId, status: info.status, ...(info.lastSeenAt ? { lastSeenAt: info.lastSeenAt } : {}), audience });
    } catch (err) {
      this.onError(err, "announce");
    }
  }
}
