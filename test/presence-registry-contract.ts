import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PresenceRegistry } from "../server/src/presence/presence-registry.js";

/** What a driver's test file hands the contract for each test: a fresh, empty registry. */
export interface PresenceRegistryHarness {
  registry: PresenceRegistry;
  /** Releases whatever the harness opened for this test. */
  cleanup: () => Promise<void>;
}

/** A fixed clock: `at(n)` is n seconds after 2025-01-01T00:00:00Z. */
const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000);

/**
 * The behaviour every {@link PresenceRegistry} driver must show on one node, declared as vitest
 * suites. Each driver's test file calls it with a factory that builds a fresh registry per test.
 */
export function runPresenceRegistryContract(name: string, factory: () => Promise<PresenceRegistryHarness>): void {
  describe(`${name} (presence registry contract)`, () => {
    let harness: PresenceRegistryHarness | undefined;
    const registry = () => harness!.registry;
    beforeEach(async () => {
      harness = await factory();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it("reports a user online from their first connection until their last one closes", async () => {
      expect(await registry().addConnection("alice", "c1")).toEqual({ cameOnline: true });
      expect(await registry().addConnection("alice", "c2")).toEqual({ cameOnline: false });
      expect(await registry().query(["alice"])).toEqual({ alice: { status: "online" } });
      expect(await registry().removeConnection("alice", "c1", at(1))).toBe(false);
      expect(await registry().query(["alice"])).toEqual({ alice: { status: "online" } });
      expect(await registry().removeConnection("alice", "c2", at(2))).toBe(true);
      expect(await registry().query(["alice"])).toEqual({ alice: { status: "offline", lastSeenAt: at(2).toISOString() } });
    });

    it("answers calls made in one turn as if made one after the other (a burst of handshakes)", async () => {
      await registry().addConnection("dora", "old");
      await registry().removeConnection("dora", "old", at(3));
      // 600 handshakes at once, more than one batch: each user comes online exactly once.
      const users = Array.from({ length: 200 }, (_, i) => `burst${i}`);
      const adds = users.flatMap((id) => [1, 2, 3].map((n) => ({ id, conn: `${id}-c${n}` })));
      const [results, remove, queried, back] = await Promise.all([
        Promise.all(adds.map((a) => registry().addConnection(a.id, a.conn))),
        // Issued after burst0's adds in the same turn: it sees them.
        registry().removeConnection("burst0", "burst0-c1", at(4)),
        registry().query(["burst1", "dora"]),
        registry().addConnection("dora", "new"),
      ]);
      expect(results.filter((r) => r.cameOnline)).toHaveLength(200);
      expect(results.filter((_, i) => i % 3 === 0).every((r) => r.cameOnline)).toBe(true);
      expect(remove).toBe(false);
      expect(queried).toEqual({ burst1: { status: "online" }, dora: { status: "offline", lastSeenAt: at(3).toISOString() } });
      expect(back).toEqual({ cameOnline: true, lastSeenAt: at(3).toISOString() });
      expect(await registry().onlineAmong(users)).toEqual(new Set(users));
    });

    it("counts a connection added twice once", async () => {
      await registry().addConnection("bob", "c1");
      expect(await registry().addConnection("bob", "c1")).toEqual({ cameOnline: false });
      expect(await registry().removeConnection("bob", "c1", at(1))).toBe(true);
    });

    it("reports users it never saw as offline without lastSeenAt, and answers for many users at once", async () => {
      expect(await registry().query([])).toEqual({});
      await registry().addConnection("alice", "c1");
      await registry().addConnection("bob", "c2");
      await registry().removeConnection("bob", "c2", at(5));
      expect(await registry().query(["alice", "bob", "ghost"])).toEqual({
        alice: { status: "online" },
        bob: { status: "offline", lastSeenAt: at(5).toISOString() },
        ghost: { status: "offline" },
      });
    });

    it("answers which of many users are online, agreeing with query through adds, removals and restores", async () => {
      expect(await registry().onlineAmong([])).toEqual(new Set());
      const users = Array.from({ length: 1500 }, (_, i) => `u${i}`);
      for (const id of users.filter((_, i) => i % 3 === 0)) await registry().addConnection(id, `c-${id}`);
      await registry().removeConnection("u3", "c-u3", at(1));
      const expected = new Set(users.filter((id, i) => i % 3 === 0 && id !== "u3"));
      expect(await registry().onlineAmong(users)).toEqual(expected);
      // query, chunked the same way, agrees for every one of them.
      const answers = await registry().query(users);
      expect(new Set(users.filter((id) => answers[id].status === "online"))).toEqual(expected);
      expect(answers.u3).toEqual({ status: "offline", lastSeenAt: at(1).toISOString() });

      await registry().restore([{ userId: "u1", connectionId: "r1" }], at(2));
      expect(await registry().onlineAmong(["u0", "u1", "u3"])).toEqual(new Set(["u1"]));
    });

    it("takes a mass disconnect in one turn (a load balancer restart): each user goes offline once, at their own time", async () => {
      const users = Array.from({ length: 300 }, (_, i) => `gone${i}`);
      await Promise.all(users.flatMap((id) => [registry().addConnection(id, `${id}-a`), registry().addConnection(id, `${id}-b`)]));
      const removals = await Promise.all(
        users.flatMap((id, i) => [registry().removeConnection(id, `${id}-a`, at(10 + i)), registry().removeConnection(id, `${id}-b`, at(10 + i))]),
      );
      expect(removals.filter((r) => r)).toHaveLength(300);
      expect(removals.filter((_, i) => i % 2 === 1).every((r) => r)).toBe(true);
      expect(await registry().onlineAmong(users)).toEqual(new Set());
      expect(await registry().query(["gone7"])).toEqual({ gone7: { status: "offline", lastSeenAt: at(17).toISOString() } });
    });

    it("gives each of many questions asked in one turn its own answer (a group commit's messages planned together)", async () => {
      await registry().addConnection("ann", "a1");
      await registry().addConnection("ben", "b1");
      const [first, second, , third, none] = await Promise.all([
        registry().onlineAmong(["ann", "eve"]),
        registry().onlineAmong(["ben", "ann", "ben"]),
        registry().addConnection("cat", "c1"),
        // Asked after that add in the same turn: it sees it.
        registry().onlineAmong(["cat", "dan"]),
        registry().onlineAmong(["dan"]),
      ]);
      expect(first).toEqual(new Set(["ann"]));
      expect(second).toEqual(new Set(["ben", "ann"]));
      expect(third).toEqual(new Set(["cat"]));
      expect(none).toEqual(new Set());
    });

    it("tells when a user who comes back online was last seen", async () => {
      await registry().addConnection("carol", "c1");
      await registry().removeConnection("carol", "c1", at(7));
      expect(await registry().addConnection("carol", "c2")).toEqual({ cameOnline: true, lastSeenAt: at(7).toISOString() });
    });

    it("ends offline when the last connection was already unknown to it, keeping the first lastSeenAt", async () => {
      expect(await registry().removeConnection("dave", "lost", at(3))).toBe(true);
      expect(await registry().query(["dave"])).toEqual({ dave: { status: "offline", lastSeenAt: at(3).toISOString() } });
      expect(await registry().removeConnection("dave", "lost", at(4))).toBe(true);
      expect((await registry().query(["dave"])).dave.lastSeenAt).toBe(at(3).toISOString());
      await registry().addConnection("erin", "c1");
      expect(await registry().removeConnection("erin", "other", at(3))).toBe(false);
    });

    it("restores exactly the given connections, reporting who came online or went offline, idempotently", async () => {
      await registry().addConnection("alice", "a1");
      await registry().addConnection("bob", "b1");
      const first = await registry().restore(
        [
          { userId: "alice", connectionId: "a1" },
          { userId: "carol", connectionId: "c1" },
          { userId: "carol", connectionId: "c2" },
        ],
        at(10),
      );
      expect(first.cameOnline).toEqual(["carol"]);
      expect(first.wentOffline).toEqual([{ userId: "bob", lastSeenAt: at(10).toISOString() }]);
      const again = await registry().restore(
        [
          { userId: "alice", connectionId: "a1" },
          { userId: "carol", connectionId: "c1" },
          { userId: "carol", connectionId: "c2" },
        ],
        at(11),
      );
      expect(again).toEqual({ cameOnline: [], wentOffline: [] });
      expect(await registry().query(["alice", "bob", "carol"])).toEqual({
        alice: { status: "online" },
        bob: { status: "offline", lastSeenAt: at(10).toISOString() },
        carol: { status: "online" },
      });
      expect(await registry().removeConnection("carol", "c1", at(12))).toBe(false);
      expect(await registry().removeConnection("carol", "c2", at(13))).toBe(true);
    });

    it("keeps a user who swaps one connection for another online through a restore", async () => {
      await registry().addConnection("alice", "old");
      const result = await registry().restore([{ userId: "alice", connectionId: "new" }], at(1));
      expect(result).toEqual({ cameOnline: [], wentOffline: [] });
      expect(await registry().query(["alice"])).toEqual({ alice: { status: "online" } });
      expect(await registry().removeConnection("alice", "new", at(2))).toBe(true);
    });

    it("holds its own registration after a restore and has nobody to reap while it lives alone", async () => {
      await registry().restore([{ userId: "alice", connectionId: "a1" }], at(1));
      expect(await registry().heartbeat()).toBe(true);
      expect(await registry().reapDeadNodes()).toEqual([]);
      expect(await registry().query(["alice"])).toEqual({ alice: { status: "online" } });
    });
  });
}
