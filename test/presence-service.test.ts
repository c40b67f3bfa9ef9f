import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatEvents, type ChatEvent } from "../server/src/core/chat-events.js";
import { PresenceService, type PresenceOptions, type PresenceTask } from "../server/src/core/presence-service.js";
import { RedisPresenceRegistry } from "../server/src/presence/redis-presence-registry.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { tempDir, waitFor } from "./support/harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

type PresenceChanged = Extract<ChatEvent, { type: "presence.changed" }>;

/** Short intervals so a test sees a whole heartbeat / reap / grace cycle in about a second. */
const TIMING = { heartbeatIntervalMs: 100, nodeTimeoutMs: 600, offlineGraceMs: 400 };

describe("PresenceService over Redis, on several nodes", () => {
  let redis: TestRedis;
  let redisDown = false;
  let store: SqliteStore;
  let removeDir: () => void;
  /** Every presence.changed published on any node, in order, tagged with the node. */
  let changes: (PresenceChanged & { node: string })[];
  const clients: Redis[] = [];
  const services: PresenceService[] = [];
  let errors: { node: string; task: PresenceTask; err: unknown }[] = [];

  beforeEach(async () => {
    redis = await startRedis();
    redisDown = false;
    const temp = tempDir("switchboard-presence-");
    removeDir = temp.remove;
    store = new SqliteStore(openSqliteDatabase(path.join(temp.dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 }));
    await store.init();
    // One conversation, so each of these users has the others as audience.
    await store.createConversation({
      id: "team",
      type: "group",
      members: ["alice", "bob", "carol", "dave"].map((userId) => ({ userId, role: "member" })),
      createdAt: new Date().toISOString(),
    });
    changes = [];
    errors = [];
  });

  afterEach(async () => {
    // Back up first, so closing services does not wait on a server a failed test left down.
    if (redisDown) await redis.start();
    for (const service of services.splice(0)) await service.close();
    for (const client of clients.splice(0)) client.disconnect();
    await redis.close();
    await store.close();
    removeDir();
  });

  /** A node: its own Redis client (as a separate process has), registry, event bus and service. */
  async function startNode(nodeId: string, options: PresenceOptions = {}) {
    const client = new Redis(redis.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    });
    client.on("error", () => undefined);
    await client.connect();
    clients.push(client);
    const events = new ChatEvents((err) => {
      throw err;
    });
    events.subscribe((event) => {
      if (event.type === "presence.changed") changes.push({ ...event, node: nodeId });
    });
    // This test's list, even for a report that arrives late.
    const sink = errors;
    const registry = new RedisPresenceRegistry(client, { nodeId, keyPrefix: "sb:presence:", nodeTimeoutMs: TIMING.nodeTimeoutMs });
    const presence = new PresenceService(registry, store, events, {
      heartbeatIntervalMs: TIMING.heartbeatIntervalMs,
      offlineGraceMs: TIMING.offlineGraceMs,
      onError: (err, task) => sink.push({ node: nodeId, task, err }),
      ...options,
    });
    services.push(presence);
    await presence.start();
    return { presence, client };
  }

  const changesOf = (userId: string) => changes.filter((c) => c.userId === userId).map((c) => c.status);

  it("announces a crashed node's users offline, once, within the node timeout", async () => {
    const crashing = await startNode("crashing");
    const survivors = [await startNode("survivor-1"), await startNode("survivor-2")];
    await crashing.presence.connected("alice", "c-1");
    await crashing.presence.connected("alice", "c-2");
    await survivors[0].presence.connected("bob", "s-1");
    expect(changesOf("alice")).toEqual(["online"]);

    // The node vanishes from the cluster: its connection to Redis is gone and it never heartbeats again.
    crashing.client.disconnect();
    const crashedAt = Date.now();
    const offline = await waitFor(() => changes.find((c) => c.userId === "alice" && c.status === "offline"), "alice to be announced offline", 10_000);
    const elapsed = Date.now() - crashedAt;
    // At most one node timeout after the last heartbeat, plus one reaper interval and some slack.
    expect(elapsed).toBeLessThan(TIMING.nodeTimeoutMs + 2 * TIMING.heartbeatIntervalMs + 1000);
    expect(offline.audience.sort()).toEqual(["bob", "carol", "dave"]);
    expect(offline.node).toMatch(/^survivor-/);
    expect(Math.abs(Date.parse(offline.lastSeenAt!) - crashedAt)).toBeLessThan(TIMING.heartbeatIntervalMs + 500);

    // A few more reap rounds on both survivors: still exactly one offline announcement.
    await waitFor(() => errors.filter((e) => e.node === "crashing" && e.task === "heartbeat").length >= 3, "the crashed node to fail a few heartbeats");
    expect(changesOf("alice")).toEqual(["online", "offline"]);
    expect(changesOf("bob")).toEqual(["online"]);
    expect(await survivors[1].presence.query(["alice", "bob"])).toMatchObject({ alice: { status: "offline" }, bob: { status: "online" } });
  });

  it("does not flap when a user reconnects to another node within the grace period, and announces online once", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    await a.presence.connected("carol", "a-1");
    expect(changesOf("carol")).toEqual(["online"]);

    await a.presence.disconnected("carol", "a-1");
    await b.presence.connected("carol", "b-1");
    // The window in which a flap would show: node a's grace timer fires and checks the registry.
    await new Promise((resolve) => setTimeout(resolve, TIMING.offlineGraceMs * 2));
    expect(changesOf("carol")).toEqual(["online"]);
    expect(await a.presence.query(["carol"])).toEqual({ carol: { status: "online" } });

    // Leaving for good is still announced, once, after the grace period.
    const leftAt = Date.now();
    await b.presence.disconnected("carol", "b-1");
    await waitFor(() => changesOf("carol").length === 2, "carol to be announced offline");
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(TIMING.offlineGraceMs - 5);
    expect(changesOf("carol")).toEqual(["online", "offline"]);
    expect(errors).toEqual([]);
  });

  it("does not flap when a user reconnects to the same node within the grace period", async () => {
    const a = await startNode("a");
    await a.presence.connected("dave", "a-1");
    await a.presence.disconnected("dave", "a-1");
    await a.presence.connected("dave", "a-2");
    await new Promise((resolve) => setTimeout(resolve, TIMING.offlineGraceMs * 2));
    expect(changesOf("dave")).toEqual(["online"]);
  });

  it("has a peer announce the users a node still held when it closed on purpose, unless they reconnect within the grace period", async () => {
    const leaving = await startNode("leaving");
    const peer = await startNode("peer");
    await leaving.presence.connected("alice", "l-1");
    await leaving.presence.connected("bob", "l-2");
    await leaving.presence.close();
    const closedAt = Date.now();
    // Bob's client reconnects to the peer at once; alice's does not come back.
    await peer.presence.connected("bob", "p-1");
    await waitFor(() => changesOf("alice").includes("offline"), "alice to be announced offline", 5000);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(TIMING.offlineGraceMs - 5);
    expect(changes.find((c) => c.userId === "alice" && c.status === "offline")?.node).toBe("peer");
    // Bob's grace period ended together with alice's: he was never announced offline, nor twice online.
    expect(changesOf("bob")).toEqual(["online"]);
  });

  it("is correct again after Redis restarts empty, without anyone calling restore, and announces who left meanwhile", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    await a.presence.connected("alice", "a-1");
    await a.presence.connected("carol", "a-2");
    await b.presence.connected("bob", "b-1");
    changes.length = 0;

    redisDown = true;
    await redis.kill();
    // Carol leaves while Redis is away: the registry cannot be told.
    await expect(a.presence.disconnected("carol", "a-2")).rejects.toThrow();
    await redis.start();
    redisDown = false;
    const restartedAt = Date.now();

    await waitFor(
      async () => {
        const p = await b.presence.query(["alice", "bob", "carol"]);
        return p.alice.status === "online" && p.bob.status === "online" && p.carol.status === "offline";
      },
      "presence to be whole again",
      10_000,
    );
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    await waitFor(() => changesOf("carol").includes("offline"), "carol to be announced offline");
    expect(changesOf("carol")).toEqual(["offline"]);
    // Never offline for those who stayed connected throughout.
    expect(changesOf("alice")).not.toContain("offline");
    expect(changesOf("bob")).not.toContain("offline");
  });
});
