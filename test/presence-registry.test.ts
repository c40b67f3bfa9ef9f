import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { InMemoryPresenceRegistry } from "../server/src/presence/in-memory-presence-registry.js";
import type { PresenceDeparture } from "../server/src/presence/presence-registry.js";
import { RedisPresenceRegistry, type RedisPresenceOptions } from "../server/src/presence/redis-presence-registry.js";
import { runPresenceRegistryContract } from "./presence-registry-contract.js";
import { waitFor } from "./support/harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

/**
 * A command client as the composition root builds it: no offline queue and one retry, so calls
 * fail fast while Redis is away, and quick reconnects.
 */
async function connectClient(url: string): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  });
  // Errors while Redis is down are expected here; the calls themselves reject.
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Clients and registries a test opened, released after it. */
function useNodes(redis: () => TestRedis) {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  return {
    /** A registry for one node, on its own client, as a separate process would have. */
    async node(options: RedisPresenceOptions): Promise<RedisPresenceRegistry> {
      const client = await connectClient(redis().url);
      clients.push(client);
      return new RedisPresenceRegistry(client, options);
    },
  };
}

describe("InMemoryPresenceRegistry", () => {
  runPresenceRegistryContract("InMemoryPresenceRegistry", async () => ({
    registry: new InMemoryPresenceRegistry(),
    cleanup: async () => undefined,
  }));
});

describe("RedisPresenceRegistry", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  // Each test gets its own key prefix on the shared server, so tests cannot see each other.
  runPresenceRegistryContract("RedisPresenceRegistry", async () => {
    const client = await connectClient(redis.url);
    const registry = new RedisPresenceRegistry(client, { nodeId: "node-a", keyPrefix: `test:${randomUUID()}:` });
    return {
      registry,
      cleanup: async () => {
        await registry.close();
        client.disconnect();
      },
    };
  });

  describe("in a cluster", () => {
    const nodes = useNodes(() => redis);
    const prefix = () => `test:${randomUUID()}:`;

    it("lets two nodes see each other's users, counting connections across nodes", async () => {
      const keyPrefix = prefix();
      const a = await nodes.node({ nodeId: "a", keyPrefix });
      const b = await nodes.node({ nodeId: "b", keyPrefix });
      expect(await a.addConnection("alice", "a-1")).toEqual({ cameOnline: true });
      expect(await b.query(["alice"])).toEqual({ alice: { status: "online" } });
      expect(await b.addConnection("alice", "b-1")).toEqual({ cameOnline: false });
      expect(await a.removeConnection("alice", "a-1", new Date())).toBe(false);
      expect(await b.query(["alice"])).toEqual({ alice: { status: "online" } });
      expect(await b.removeConnection("alice", "b-1", new Date(5000))).toBe(true);
      expect(await a.query(["alice"])).toEqual({ alice: { status: "offline", lastSeenAt: new Date(5000).toISOString() } });
    });

    it("keeps working when Redis drops its script cache (SCRIPT FLUSH), as after a failover to a replica", async () => {
      const keyPrefix = prefix();
      const a = await nodes.node({ nodeId: "a", keyPrefix });
      expect(await a.addConnection("alice", "a-1")).toEqual({ cameOnline: true });
      const admin = await connectClient(redis.url);
      try {
        await admin.script("FLUSH");
      } finally {
        admin.disconnect();
      }
      expect(await a.addConnection("bob", "a-2")).toEqual({ cameOnline: true });
      expect(await a.query(["alice", "bob"])).toEqual({ alice: { status: "online" }, bob: { status: "online" } });
      expect(await a.removeConnection("alice", "a-1", new Date(7000))).toBe(true);
    });

    it("keeps each node's restore to its own connections", async () => {
      const keyPrefix = prefix();
      const a = await nodes.node({ nodeId: "a", keyPrefix });
      const b = await nodes.node({ nodeId: "b", keyPrefix });
      await a.addConnection("alice", "a-1");
      await b.addConnection("bob", "b-1");
      expect(await a.restore([], new Date())).toMatchObject({ cameOnline: [], wentOffline: [{ userId: "alice" }] });
      expect(await a.query(["alice", "bob"])).toMatchObject({ alice: { status: "offline" }, bob: { status: "online" } });
    });

    it("reaps a node that stopped heartbeating after its timeout, reporting each of its users offline once among concurrent reapers", async () => {
      const keyPrefix = prefix();
      const nodeTimeoutMs = 1000;
      const dead = await nodes.node({ nodeId: "dead", keyPrefix, nodeTimeoutMs });
      const reapers = await Promise.all(["r1", "r2", "r3", "r4"].map((nodeId) => nodes.node({ nodeId, keyPrefix, nodeTimeoutMs })));
      await dead.restore(
        [
          { userId: "solo", connectionId: "d-1" },
          { userId: "solo", connectionId: "d-2" },
          { userId: "shared", connectionId: "d-3" },
        ],
        new Date(),
      );
      // Each live node registers itself, as PresenceService.start does.
      await Promise.all(reapers.map((r) => r.restore([], new Date())));
      await reapers[0].addConnection("shared", "r1-1");
      const beforeLastBeat = Date.now();
      expect(await dead.heartbeat()).toBe(true);

      // Well within the timeout: nothing to reap yet.
      expect(await reapers[0].reapDeadNodes()).toEqual([]);

      const reaped: PresenceDeparture[] = [];
      await waitFor(
        async () => {
          await Promise.all(reapers.map((r) => r.heartbeat()));
          const rounds = await Promise.all(reapers.map((r) => r.reapDeadNodes()));
          reaped.push(...rounds.flat());
          return reaped.length > 0;
        },
        "the dead node to be reaped",
        nodeTimeoutMs + 5000,
        50,
      );
      // Redis's clock and ours are the same machine's, up to rounding to the millisecond.
      expect(Date.now() - beforeLastBeat).toBeGreaterThanOrEqual(nodeTimeoutMs - 2);
      // Later rounds find nothing more: the node was claimed once.
      for (let i = 0; i < 3; i++) reaped.push(...(await Promise.all(reapers.map((r) => r.reapDeadNodes()))).flat());
      expect(reaped.map((d) => d.userId)).toEqual(["solo"]);
      // Its last heartbeat (Redis's clock, to the millisecond) is when its users were last seen.
      expect(Math.abs(Date.parse(reaped[0].lastSeenAt) - beforeLastBeat)).toBeLessThan(1000);
      expect(await reapers[1].query(["solo", "shared"])).toEqual({
        solo: { status: "offline", lastSeenAt: reaped[0].lastSeenAt },
        shared: { status: "online" },
      });
      // The live reapers were never reaped themselves.
      expect(await Promise.all(reapers.map((r) => r.heartbeat()))).toEqual([true, true, true, true]);

      // Were the node only partitioned, its next heartbeat tells it to restore, which brings its users back.
      expect(await dead.heartbeat()).toBe(false);
      expect((await dead.restore([{ userId: "solo", connectionId: "d-1" }], new Date())).cameOnline).toEqual(["solo"]);
      expect(await dead.heartbeat()).toBe(true);
      expect(await reapers[2].query(["solo"])).toEqual({ solo: { status: "online" } });
    });

    it("lets a peer reap a node that closed on purpose at once, without waiting for its timeout", async () => {
      const keyPrefix = prefix();
      const leaving = await nodes.node({ nodeId: "leaving", keyPrefix, nodeTimeoutMs: 60_000 });
      const peer = await nodes.node({ nodeId: "peer", keyPrefix, nodeTimeoutMs: 60_000 });
      await leaving.restore([{ userId: "alice", connectionId: "l-1" }], new Date());
      await leaving.close();
      const before = Date.now();
      const reaped = await peer.reapDeadNodes();
      expect(reaped.map((d) => d.userId)).toEqual(["alice"]);
      expect(Math.abs(Date.parse(reaped[0].lastSeenAt) - before)).toBeLessThan(1000);
      expect(await peer.reapDeadNodes()).toEqual([]);
    });

    it("reaps a node that registered connections but died before its first heartbeat", async () => {
      const keyPrefix = prefix();
      const dead = await nodes.node({ nodeId: "early", keyPrefix, nodeTimeoutMs: 300 });
      const peer = await nodes.node({ nodeId: "peer", keyPrefix, nodeTimeoutMs: 300 });
      await dead.addConnection("bob", "e-1");
      const reaped = await waitFor(async () => {
        const r = await peer.reapDeadNodes();
        return r.length > 0 ? r : undefined;
      }, "the early node to be reaped");
      expect(reaped.map((d) => d.userId)).toEqual(["bob"]);
    });
  });

  describe("when Redis restarts or is away", () => {
    // Its own server: these tests kill it.
    let own: TestRedis;
    let down = false;
    const kill = async () => {
      down = true;
      await own.kill();
    };
    const start = async () => {
      await own.start();
      down = false;
    };
    beforeAll(async () => {
      own = await startRedis();
    });
    afterAll(async () => {
      await own?.close();
    });
    afterEach(async () => {
      // A test that fails while Redis is down must not leave it down for the next one.
      if (down) await start();
    });
    const nodes = useNodes(() => own);

    it("is empty after a restart, tells each node through its heartbeat, and is whole again after each restores", async () => {
      const a = await nodes.node({ nodeId: "a" });
      const b = await nodes.node({ nodeId: "b" });
      await a.restore([{ userId: "alice", connectionId: "a-1" }], new Date());
      await b.restore([{ userId: "bob", connectionId: "b-1" }], new Date());
      expect(await a.heartbeat()).toBe(true);

      await kill();
      await start();
      // The clients reconnect by themselves; until then calls reject.
      const lost = await waitFor(() => a.heartbeat().then((intact) => ({ intact })), "node a to reach Redis again");
      expect(lost.intact).toBe(false);
      expect(await a.query(["alice", "bob"])).toEqual({ alice: { status: "offline" }, bob: { status: "offline" } });

      expect(await a.restore([{ userId: "alice", connectionId: "a-1" }], new Date())).toEqual({ cameOnline: ["alice"], wentOffline: [] });
      expect(await a.restore([{ userId: "alice", connectionId: "a-1" }], new Date())).toEqual({ cameOnline: [], wentOffline: [] });
      await waitFor(() => b.restore([{ userId: "bob", connectionId: "b-1" }], new Date()), "node b to reach Redis again");
      expect(await a.heartbeat()).toBe(true);
      expect(await b.heartbeat()).toBe(true);
      expect(await b.query(["alice", "bob"])).toEqual({ alice: { status: "online" }, bob: { status: "online" } });
    });

    it("rejects every call promptly while Redis is down instead of hanging", async () => {
      const a = await nodes.node({ nodeId: "a" });
      await a.addConnection("alice", "a-1");
      await kill();
      const calls: [string, () => Promise<unknown>][] = [
        ["addConnection", () => a.addConnection("bob", "a-2")],
        ["removeConnection", () => a.removeConnection("alice", "a-1", new Date())],
        ["query", () => a.query(["alice"])],
        ["heartbeat", () => a.heartbeat()],
        ["reapDeadNodes", () => a.reapDeadNodes()],
        ["restore", () => a.restore([], new Date())],
        ["close", () => a.close()],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        const outcome = await Promise.race([
          call().then(
            () => "resolved",
            () => "rejected",
          ),
          new Promise((resolve) => setTimeout(() => resolve("hung"), 3000).unref()),
        ]);
        expect(`${name}: ${String(outcome)}`).toBe(`${name}: rejected`);
        expect(Date.now() - started, name).toBeLessThan(3000);
      }
    });
  });
});
