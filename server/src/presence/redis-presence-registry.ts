import type { Redis } from "ioredis";
import type { PresenceInfo } from "../../../client-sdk/src/protocol.js";
import type { AddConnectionResult, PresenceConnection, PresenceDeparture, PresenceRegistry, RestoreResult } from "./presence-registry.js";

/** Options of {@link RedisPresenceRegistry}. */
export interface RedisPresenceOptions {
  /** This node's name, unique in the cluster (`Config.nodeId`). */
  nodeId: string;
  /** Prefix of every key this registry uses. Default `"sb:presence:"`. */
  keyPrefix?: string;
  /**
   * How old a node's last heartbeat may be before peers reap it as dead. Must be well above the
   * heartbeat interval (`PresenceOptions.heartbeatIntervalMs`, default 5000), so a GC pause or a
   * slow Redis round trip does not get a live node reaped, and above `PresenceOptions.offlineGraceMs`
   * (default 3000). A crashed node's users are announced offline within about this plus one
   * heartbeat interval. Default 15000 ms.
   */
  nodeTimeoutMs?: number;
  /**
   * How long an offline user's `lastSeenAt` is kept. Each user's is one small key that expires,
   * so memory is bounded by the users seen in this window. Default 30 days.
   */
  lastSeenTtlSeconds?: number;
}

/** Most dead nodes reaped by one call: one script runs atomically, so its length is bounded. */
const REAP_BATCH = 16;

// Key layout, all under the prefix P (computed inside the scripts, so this needs one Redis or a
// Sentinel pair, not Redis Cluster):
//   P user:<userId>        hash  connectionId → nodeId     (exists ⇔ the user is online)
//   P node:<nodeId>        hash  connectionId → userId     (what a reaper must undo)
//   P registered:<nodeId>  "1"   present while the registry holds this node's connections
//   P nodes                zset  nodeId → last heartbeat, ms (Redis's clock, so node clocks can differ)
//   P seen:<userId>        string lastSeenAt in ms, expiring after lastSeenTtlSeconds
//   P occupancy:<convId>   string the node that sends this conversation's count this interval (PX)
//   P online               set   userIds with at least one connection (⇔ P user:<userId> exists), so
//                                "who of these is online" is one SMISMEMBER whatever their number
// Every write is one Lua script, so a user's and a node's hashes never disagree and "first" and
// "last" are decided atomically across nodes. Scripts are sent with EVAL, not EVALSHA: after a
// Redis restart EVALSHA fails with NOSCRIPT and would be resent out of order with later calls.

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * ARGV: prefix, nodeId, ttlSeconds, then one group of four per change, in call order:
 * `a`, userId, connectionId, 0 for an add, or `r`, userId, connectionId, atMs for a removal.
 * Returns two values per change: for an add {cameOnline, lastSeenMs|false}; for a removal
 * {wentOffline, false} (1 when the user has no connection left).
 */
const CHANGES_SCRIPT = `
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
local nkey = p .. 'node:' .. node
${NOW_MS}
-- A node that dies before its first heartbeat must still be found by the reapers.
redis.call('ZADD', p .. 'nodes', 'NX', now, node)
local out = {}
for i = 4, #ARGV, 4 do
  local op, user, conn, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ukey = p .. 'user:' .. user
  if op == 'a' then
    local added = redis.call('HSET', ukey, conn, node)
    redis.call('HSET', nkey, conn, user)
    if added == 1 and redis.call('HLEN', ukey) == 1 then
      redis.call('SADD', p .. 'online', user)
      out[#out + 1] = 1
      out[#out + 1] = redis.call('GET', p .. 'seen:' .. user)
    else
      out[#out + 1] = 0
      out[#out + 1] = false
    end
  else
    local skey = p .. 'seen:' .. user
    redis.call('HDEL', nkey, conn)
    local removed = redis.call('HDEL', ukey, conn)
    if redis.call('EXISTS', ukey) == 1 then
      out[#out + 1] = 0
    else
      redis.call('SREM', p .. 'online', user)
      -- A removal the registry had lost (Redis restarted) still ends in offline; a repeated one
      -- keeps the first time.
      if removed == 1 or redis.call('EXISTS', skey) == 0 then redis.call('SET', skey, at, 'EX', ttl) end
      out[#out + 1] = 1
    end
    out[#out + 1] = false
  end
end
return out
`;

/** Most changes sent in one CHANGES_SCRIPT call (a script runs atomically; keep it short). */
const CHANGE_BATCH = 256;

/**
 * How long a connection change waits for others to share its script call. A user's "online" or
 * "offline" reaches their contacts this much later; at 700 handshakes a second it makes batches
 * of about 7 instead of 1-2, and a mass disconnect (a load balancer restart) goes out in 256s.
 */
const CHANGE_WINDOW_MS = 10;

/**
 * ARGV: prefix, userId… Returns {online(0|1), lastSeenMs|false} per user: one SMISMEMBER and one
 * MGET per QUERY_CHUNK users, so the commands Redis runs do not grow with the number asked.
 */
const QUERY_SCRIPT = `
local p, out = ARGV[1], {}
for from = 2, #ARGV, 1000 do
  local to = math.min(from + 999, #ARGV)
  local users, seen = {}, {}
  for i = from, to do
    users[#users + 1] = ARGV[i]
    seen[#seen + 1] = p .. 'seen:' .. ARGV[i]
  end
  local online = redis.call('SMISMEMBER', p .. 'online', unpack(users))
  local last = redis.call('MGET', unpack(seen))
  for i = 1, #users do
    out[#out + 1] = online[i]
    out[#out + 1] = last[i]
  end
end
return out
`;

/** Most user ids in one SMISMEMBER of {@link RedisPresenceRegistry.onlineAmong}. */
const ONLINE_CHUNK = 5000;

/** ARGV: prefix, nodeId. Returns 1 while this node's registration is intact. */
const HEARTBEAT_SCRIPT = `
local p, node = ARGV[1], ARGV[2]
${NOW_MS}
redis.call('ZADD', p .. 'nodes', now, node)
return redis.call('EXISTS', p .. 'registered:' .. node)
`;

/**
 * ARGV: prefix, nodeId (the reaper, never reaped by itself), timeoutMs, ttlSeconds, batch.
 * Returns {userId, lastSeenMs, …}. Removing the node from the zset in the same script is the claim:
 * a concurrent reaper finds it gone, so each departure is reported once.
 */
const REAP_SCRIPT = `
local p, self, timeout, ttl, batch = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
${NOW_MS}
local out = {}
local dead = redis.call('ZRANGEBYSCORE', p .. 'nodes', '-inf', now - timeout, 'WITHSCORES', 'LIMIT', 0, batch + 1)
for i = 1, #dead, 2 do
  local node, last = dead[i], dead[i + 1]
  -- 0 is a node that closed on purpose (see close()): it was there until about now.
  if tonumber(last) == 0 then last = now end
  if node ~= self then
    local nkey = p .. 'node:' .. node
    local conns = redis.call('HGETALL', nkey)
    for j = 1, #conns, 2 do
      local conn, user = conns[j], conns[j + 1]
      local ukey = p .. 'user:' .. user
      if redis.call('HGET', ukey, conn) == node then
        redis.call('HDEL', ukey, conn)
        if redis.call('EXISTS', ukey) == 0 then
          redis.call('SREM', p .. 'online', user)
          -- The node's last heartbeat is the last moment its users were known to be there.
          redis.call('SET', p .. 'seen:' .. user, last, 'EX', ttl)
          out[#out + 1] = user
          out[#out + 1] = last
        end
      end
    end
    redis.call('DEL', nkey, p .. 'registered:' .. node)
    redis.call('ZREM', p .. 'nodes', node)
  end
end
return out
`;

/**
 * ARGV: prefix, nodeId, atMs, ttlSeconds, then userId, connectionId pairs.
 * Returns {{userId…} came online, {userId, lastSeenMs…} went offline}.
 */
const RESTORE_SCRIPT = `
local p, node, at, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local nkey = p .. 'node:' .. node
local wanted, online, offline = {}, {}, {}
-- Adds first: a user who keeps a connection must never pass through "no connection".
for i = 5, #ARGV, 2 do
  local user, conn = ARGV[i], ARGV[i + 1]
  wanted[conn] = user
  local ukey = p .. 'user:' .. user
  if redis.call('HSET', ukey, conn, node) == 1 and redis.call('HLEN', ukey) == 1 then online[#online + 1] = user end
  redis.call('HSET', nkey, conn, user)
  -- Every user, not only those who came online: the set is repaired along with the hashes.
  redis.call('SADD', p .. 'online', user)
end
local have = redis.call('HGETALL', nkey)
for i = 1, #have, 2 do
  local conn, user = have[i], have[i + 1]
  if wanted[conn] ~= user then
    redis.call('HDEL', nkey, conn)
    local ukey = p .. 'user:' .. user
    if redis.call('HGET', ukey, conn) == node then
      redis.call('HDEL', ukey, conn)
      if redis.call('EXISTS', ukey) == 0 then
        redis.call('SREM', p .. 'online', user)
        redis.call('SET', p .. 'seen:' .. user, at, 'EX', ttl)
        offline[#offline + 1] = user
        offline[#offline + 1] = at
      end
    end
  end
end
${NOW_MS}
redis.call('SET', p .. 'registered:' .. node, '1')
redis.call('ZADD', p .. 'nodes', now, node)
return {online, offline}
`;

/** ARGV: prefix, nodeId. Makes this node's heartbeat look expired (0, which reapers read as "just now"). */
const EXPIRE_SCRIPT = `
local p, node = ARGV[1], ARGV[2]
if redis.call('ZSCORE', p .. 'nodes', node) then redis.call('ZADD', p .. 'nodes', 0, node) end
return 0
`;

/**
 * The scripts, registered on the client with ioredis' `defineCommand`: each call sends EVALSHA and
 * the 40-character hash instead of the whole script (ioredis sends the script once per connection,
 * and again after NOSCRIPT, so a restarted Redis gets it back). Names are prefixed so that they
 * cannot clash with commands other code defines on a shared client.
 */
const SCRIPTS = {
  sbPresenceChanges: CHANGES_SCRIPT,
  sbPresenceQuery: QUERY_SCRIPT,
  sbPresenceHeartbeat: HEARTBEAT_SCRIPT,
  sbPresenceReap: REAP_SCRIPT,
  sbPresenceRestore: RESTORE_SCRIPT,
  sbPresenceExpire: EXPIRE_SCRIPT,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCalls = Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/**
 * The cluster presence registry: every node registers its connections in one Redis, heartbeats,
 * and reaps the connections of nodes that stopped heartbeating. Each method is one round trip
 * (shared by the adds and removals of one {@link CHANGE_WINDOW_MS} window, and by the
 * `onlineAmong` calls of one event-loop turn) and rejects as soon as the client does (give it a
 * client without an offline queue, so a Redis outage fails calls instead of queueing them).
 *
 * Redis should run with `maxmemory-policy noeviction`: an evicted hash would leave a user's
 * connections and their node's index disagreeing.
 *
 * @example
 * const registry = new RedisPresenceRegistry(redis.commands, { nodeId: config.nodeId });
 */
export class RedisPresenceRegistry implements PresenceRegistry {
  private readonly nodeId: string;
  private readonly prefix: string;
  private readonly nodeTimeoutMs: number;
  private readonly lastSeenTtlSeconds: number;
  /** Adds and removals waiting for the end of their window, to be sent in one script call. */
  private pendingChanges: PendingChange[] = [];
  /** {@link onlineAmong} calls waiting for the end of this event-loop turn. */
  private pendingOnline: { userIds: string[]; resolve: (online: Set<string>) => void; reject: (error: unknown) => void }[] = [];
  /** The client, seen through the commands {@link SCRIPTS} defined on it. */
  private readonly scripts: ScriptCalls;

  /**
   * @param redis a connected client, owned by the caller (this registry never connects or quits it).
   */
  constructor(
    private readonly redis: Redis,
    options: RedisPresenceOptions,
  ) {
    if (!options.nodeId) throw new TypeError("RedisPresenceRegistry needs a nodeId");
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? "sb:presence:";
    this.nodeTimeoutMs = options.nodeTimeoutMs ?? 15_000;
    this.lastSeenTtlSeconds = options.lastSeenTtlSeconds ?? 30 * 24 * 3600;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.scripts = redis as unknown as ScriptCalls;
  }

  /**
   * Registers a connection. The adds and removals of one {@link CHANGE_WINDOW_MS} window (a burst
   * of handshakes, a reconnect storm, a mass disconnect) go to Redis together, in call order, in
   * one script call of up to {@link CHANGE_BATCH}, instead of one round trip and one write each.
   * Any other call first sends the changes waiting, so Redis sees every call in the order it was made.
   */
  addConnection(userId: string, connectionId: string): Promise<AddConnectionResult> {
    return new Promise((resolve, reject) => {
      this.queueChange({
        op: "a",
        userId,
        connectionId,
        at: 0,
        settle: (came, lastSeen) => resolve(came !== 1 ? { cameOnline: false } : lastSeen ? { cameOnline: true, lastSeenAt: iso(lastSeen) } : { cameOnline: true }),
        reject,
      });
    });
  }

  /** Unregisters a connection, batched with the adds; see {@link addConnection}. */
  removeConnection(userId: string, connectionId: string, at: Date): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queueChange({ op: "r", userId, connectionId, at: at.getTime(), settle: (wentOffline) => resolve(wentOffline === 1), reject });
    });
  }

  private queueChange(change: PendingChange): void {
    if (this.pendingChanges.length === 0) setTimeout(() => this.flushChanges(), CHANGE_WINDOW_MS);
    this.pendingChanges.push(change);
    if (this.pendingChanges.length >= CHANGE_BATCH) this.flushChanges();
  }

  /** Sends the changes waiting, if any, as one script call. */
  private flushChanges(): void {
    const batch = this.pendingChanges;
    if (batch.length === 0) return;
    this.pendingChanges = [];
    const args = batch.flatMap((c) => [c.op, c.userId, c.connectionId, c.at]);
    this.scripts.sbPresenceChanges(this.prefix, this.nodeId, this.lastSeenTtlSeconds, ...args).then(
      (reply) => {
        const flat = reply as (number | string | null)[];
        batch.forEach((change, i) => change.settle(flat[2 * i] as number, flat[2 * i + 1] ?? null));
      },
      (err: unknown) => {
        for (const change of batch) change.reject(err);
      },
    );
  }

  async query(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    const result: Record<string, PresenceInfo> = {};
    if (userIds.length === 0) return result;
    this.flushChanges();
    const flat = (await this.scripts.sbPresenceQuery(this.prefix, ...userIds)) as (number | string | null)[];
    userIds.forEach((id, i) => {
      const lastSeen = flat[2 * i + 1];
      result[id] = flat[2 * i] === 1 ? { status: "online" } : lastSeen ? { status: "offline", lastSeenAt: iso(lastSeen) } : { status: "offline" };
    });
    return result;
  }

  /**
   * Answers from one SMISMEMBER for every call of the event-loop turn (the planner asks once per
   * message, and a group commit acknowledges dozens of messages in one turn), chunked at
   * {@link ONLINE_CHUNK} ids. Adds made before the call are sent first, so they are seen.
   */
  onlineAmong(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return Promise.resolve(new Set());
    return new Promise((resolve, reject) => {
      if (this.pendingOnline.length === 0) setImmediate(() => this.flushOnline());
      this.pendingOnline.push({ userIds, resolve, reject });
    });
  }

  /** Sends the waiting {@link onlineAmong} calls as one SMISMEMBER per chunk of distinct ids. */
  private flushOnline(): void {
    const waiting = this.pendingOnline;
    this.pendingOnline = [];
    this.flushChanges();
    const ids = [...new Set(waiting.flatMap((w) => w.userIds))];
    const chunks: string[][] = [];
    for (let start = 0; start < ids.length; start += ONLINE_CHUNK) chunks.push(ids.slice(start, start + ONLINE_CHUNK));
    Promise.all(chunks.map((chunk) => this.redis.call("SMISMEMBER", `${this.prefix}online`, ...chunk) as Promise<number[]>)).then(
      (replies) => {
        const online = new Set<string>();
        replies.forEach((flags, c) => chunks[c]!.forEach((id, i) => flags[i] === 1 && online.add(id)));
        for (const w of waiting) w.resolve(new Set(w.userIds.filter((id) => online.has(id))));
      },
      (err: unknown) => {
        for (const w of waiting) w.reject(err);
      },
    );
  }

  async claimOccupancy(conversationId: string, ms: number): Promise<boolean> {
    this.flushChanges();
    return (await this.redis.set(`${this.prefix}occupancy:${conversationId}`, this.nodeId, "PX", Math.max(1, Math.round(ms)), "NX")) === "OK";
  }

  async heartbeat(): Promise<boolean> {
    return (await this.run("sbPresenceHeartbeat")) === 1;
  }

  async reapDeadNodes(): Promise<PresenceDeparture[]> {
    const flat = (await this.run("sbPresenceReap", this.nodeTimeoutMs, this.lastSeenTtlSeconds, REAP_BATCH)) as (string | number)[];
    return pairs(flat);
  }

  async restore(connections: PresenceConnection[], at: Date): Promise<RestoreResult> {
    const args = connections.flatMap((c) => [c.userId, c.connectionId]);
    const [online, offline] = (await this.run("sbPresenceRestore", at.getTime(), this.lastSeenTtlSeconds, ...args)) as [string[], (string | number)[]];
    return { cameOnline: online, wentOffline: pairs(offline) };
  }

  /**
   * Marks this node's heartbeat as expired, so a peer reaps (and announces offline) whatever it
   * still holds at its next reap instead of after `nodeTimeoutMs`. A restarted node with the same
   * id takes its registration back with `restore`. The client stays open: it belongs to the caller.
   */
  async close(): Promise<void> {
    await this.run("sbPresenceExpire");
  }

  private run(script: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    this.flushChanges();
    return this.scripts[script](this.prefix, this.nodeId, ...args);
  }
}

/** An {@link RedisPresenceRegistry.addConnection} or `removeConnection` call waiting for its batch. */
interface PendingChange {
  op: "a" | "r";
  userId: string;
  connectionId: string;
  /** When a removal happened (epoch ms); 0 for an add. */
  at: number;
  settle: (flag: number, lastSeen: string | number | null) => void;
  reject: (err: unknown) => void;
}

/** A stored millisecond timestamp as ISO-8601. */
function iso(ms: string | number): string {
  return new Date(Number(ms)).toISOString();
}

/** `[userId, ms, userId, ms, …]` as departures. */
function pairs(flat: (string | number)[]): PresenceDeparture[] {
  const out: PresenceDeparture[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ userId: String(flat[i]), lastSeenAt: iso(flat[i + 1]) });
  return out;
}
