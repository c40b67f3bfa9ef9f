import { expect } from "vitest";
import type { Message } from "../../client-sdk/src/protocol.js";
import type { Delivery } from "../../server/src/delivery/delivery-store.js";
import { api, spawnServer, waitFor, type SpawnedServer } from "./harness.js";

/**
 * The shape shared by the offline channels' two-node tests: two node processes on one data
 * directory (one SQLite file) and one Redis, alice messaging offline bob in several
 * conversations, each send retried at once on the other node so both nodes announce it.
 */

/** The body of a successful API answer; throws with status and body otherwise. */
export function ok(res: { status: number; body: any }, what: string): any {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Starts node-a and node-b on `dataDir` with `env`; `cleanup` receives their shutdowns. */
export async function startTwoNodes(
  dataDir: string,
  env: Record<string, string>,
  cleanup: (fn: () => unknown) => void,
): Promise<[SpawnedServer, SpawnedServer]> {
  const a = await spawnServer(dataDir, { ...env, NODE_ID: "node-a" });
  cleanup(() => a.kill("SIGTERM"));
  const b = await spawnServer(dataDir, { ...env, NODE_ID: "node-b" });
  cleanup(() => b.kill("SIGTERM"));
  return [a, b];
}

/**
 * Creates `count` group conversations `<prefix>-<i>` of alice and bob, and sends alice's message
 * `message <i> for bob` in each: on one node and, at the same time, again with the same
 * `clientMessageId` on the other. Both answers must name one message.
 */
export async function sendOnBothNodes(nodes: readonly [SpawnedServer, SpawnedServer], prefix: string, count: number): Promise<Message[]> {
  for (let i = 0; i < count; i++) {
    ok(await api(nodes[0].url, "POST", "/v1/conversations", { id: `${prefix}-${i}`, type: "group", title: `Room ${i}`, memberIds: ["alice", "bob"] }), "conversation");
  }
  const messages: Message[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const send = { senderId: "alice", text: `message ${i} for bob`, clientMessageId: `${prefix}-cluster-${i}` };
      const [first, second] = await Promise.all([
        api(nodes[i % 2]!.url, "POST", `/v1/conversations/${prefix}-${i}/messages`, send),
        api(nodes[(i + 1) % 2]!.url, "POST", `/v1/conversations/${prefix}-${i}/messages`, send),
      ]);
      expect(ok(second, "retry").id).toBe(ok(first, "send").id);
      messages.push(first.body as Message);
    }),
  );
  return messages;
}

/**
 * Waits until every message has `sentPerMessage` sent deliveries, then past several polls of
 * both workers (nothing more may arrive), and answers each message's deliveries as
 * `[userId, channel, status]`, sorted.
 */
export async function settledDeliveries(node: SpawnedServer, messages: readonly Message[], sentPerMessage: number, what: string): Promise<string[][][]> {
  const deliveriesOf = async (message: Message): Promise<Delivery[]> => ok(await api(node.url, "GET", `/v1/messages/${message.id}/deliveries`), "deliveries").deliveries;
  await waitFor(
    async () => {
      for (const message of messages) if ((await deliveriesOf(message)).filter((d) => d.status === "sent").length !== sentPerMessage) return false;
      return true;
    },
    what,
    30_000,
    100,
  );
  const settled = Date.now() + 1500;
  await waitFor(() => Date.now() > settled, "the workers to settle", 5000, 100);
  const all: string[][][] = [];
  for (const message of messages) all.push((await deliveriesOf(message)).map((d) => [d.userId, d.channel, d.status]).sort());
  return all;
}
