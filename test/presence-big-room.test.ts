import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceOccupancyEvent, PresenceUpdateEvent } from "../client-sdk/src/protocol.js";
import { createApp, type SwitchboardApp } from "../server/src/app.js";
import { loadConfig } from "../server/src/config.js";
import { api, call, connectUser, tempDir, testEnv, waitFor, type ClientSocket } from "./support/harness.js";
import { startRedis, type TestRedis } from "./support/redis-server.js";

/** Conversations above this many members get occupancy counts. */
const ROOM_LIMIT = 5;
const OCCUPANCY_INTERVAL_MS = 300;

/** One client with everything presence-related it received. */
interface Watcher {
  userId: string;
  socket: ClientSocket;
  updates: PresenceUpdateEvent[];
  occupancy: PresenceOccupancyEvent[];
}

/**
 * Two nodes in one process sharing one Redis and one SQLite file (cluster mode), with a small
 * PRESENCE_ROOM_LIMIT so a "big" room needs only a dozen clients.
 */
describe("presence in small and big rooms across two nodes", () => {
  let redis: TestRedis;
  let data: { dir: string; remove: () => void };
  const nodes: SwitchboardApp[] = [];
  const watchers: Watcher[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir();
    for (const nodeId of ["node-a", "node-b"]) {
      const env = testEnv(data.dir, {
        REDIS_URL: redis.url,
        NODE_ID: nodeId,
        PRESENCE_ROOM_LIMIT: String(ROOM_LIMIT),
        PRESENCE_OCCUPANCY_INTERVAL_MS: String(OCCUPANCY_INTERVAL_MS),
      });
      const app = await createApp(loadConfig(env));
      await app.listen();
      nodes.push(app);
    }
  });
  afterAll(async () => {
    for (const w of watchers.splice(0)) w.socket.close();
    for (const node of nodes.splice(0)) await node.close();
    await redis?.close();
    data?.remove();
  });

  async function watch(userId: string, node: SwitchboardApp): Promise<Watcher> {
    const socket = await connectUser(node.localUrl, userId);
    const w: Watcher = { userId, socket, updates: [], occupancy: [] };
    socket.on("presence:update", (u) => w.updates.push(u));
    socket.on("presence:occupancy", (o) => w.occupancy.push(o));
    watchers.push(w);
    return w;
  }

  async function conversation(id: string, memberIds: string[]): Promise<void> {
    const res = await api(nodes[0].localUrl, "POST", "/v1/conversations", { id, type: "group", memberIds });
    expect(res.status).toBe(201);
  }

  it("tells every member of a small room about each member of a burst of connects, on both nodes", async () => {
    const members = ["s1", "s2", "s3", "s4", "s5"];
    await conversation("small", members);
    const first = await watch("s1", nodes[0]);
    // Four connect at once, two per node: after the first, the rest fall in one coalescing window.
    const rest = await Promise.all(members.slice(1).map((id, i) => watch(id, nodes[i % 2])));
    await waitFor(
      () => ["s2", "s3", "s4", "s5"].every((id) => first.updates.some((u) => u.userId === id && u.status === "online")),
      "s1 to hear that every other member came online",
    );
    // Coalescing collapses; it never duplicates one user's state.
    for (const id of ["s2", "s3", "s4", "s5"]) expect(first.updates.filter((u) => u.userId === id)).toHaveLength(1);
    // The last to connect heard of nobody (they were all online before it), and nobody hears about itself.
    for (const w of [first, ...rest]) expect(w.updates.some((u) => u.userId === w.userId)).toBe(false);
  });

  it("sends a big room's joined members online counts instead of per-member events, at most one per interval, ending at the true count", async () => {
    const members = Array.from({ length: 12 }, (_, i) => `b${i + 1}`);
    await conversation("big", members);
    const started = Date.now();
    const inRoom: Watcher[] = [];
    for (const [i, id] of members.entries()) {
      const w = await watch(id, nodes[i % 2]);
      await call(w.socket, "conversation:join", { conversationId: "big" });
      inRoom.push(w);
    }
    await waitFor(() => inRoom.every((w) => w.occupancy.at(-1)?.online === 12), "every member to see 12 of 12 online", 10_000);
    const elapsed = Date.now() - started;
    for (const w of inRoom) {
      expect(w.occupancy.at(-1)).toEqual({ conversationId: "big", online: 12, members: 12 });
      // Members of the big room only: nobody is told about each of them one by one.
      expect(w.updates).toEqual([]);
      // One count per interval in the whole cluster (not one per node), plus the one in flight.
      expect(w.occupancy.length).toBeLessThanOrEqual(Math.ceil(elapsed / OCCUPANCY_INTERVAL_MS) + 2);
    }

    // Explicit queries still answer for any member.
    const answer = await call<{ presence: Record<string, { status: string }> }>(inRoom[0].socket, "presence:query", { userIds: ["b2", "b12"] });
    expect(answer.presence).toEqual({ b2: { status: "online" }, b12: { status: "online" } });

    // Node b's six members leave: after the offline grace period the count drops to 6, on both nodes.
    const leaving = inRoom.filter((_, i) => i % 2 === 1);
    for (const w of leaving) w.socket.close();
    const staying = inRoom.filter((_, i) => i % 2 === 0);
    await waitFor(() => staying.every((w) => w.occupancy.at(-1)?.online === 6), "the count to drop to 6 after the grace period", 10_000);
    expect(staying.every((w) => w.updates.length === 0)).toBe(true);
  });
});
