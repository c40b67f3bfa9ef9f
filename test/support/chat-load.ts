import { ChatClient } from "../../client-sdk/src/index.js";
import type { Message } from "../../client-sdk/src/protocol.js";
import { api, mintToken, waitFor } from "./harness.js";

/** One simulated user of a load test: an SDK client in one conversation, recording what it sees. */
export interface LoadUser {
  userId: string;
  conversationId: string;
  client: ChatClient;
  /** Every message delivered by the SDK's conversation handle, in delivery order. */
  delivered: Message[];
  /** Times (ms) the client was back after each outage, from when it noticed the drop. */
  reconnectMs: number[];
}

/**
 * Builds `conversations × membersEach` users through the HTTP API on `adminUrl`, then connects
 * each with the SDK through `clientUrl` (a balancer) and joins its conversation.
 */
export async function startChatLoad(options: { adminUrl: string; clientUrl: string; conversations: number; membersEach: number }): Promise<{
  users: LoadUser[];
  conversationIds: string[];
  stop(): void;
}> {
  const users: LoadUser[] = [];
  const conversationIds: string[] = [];
  for (let c = 0; c < options.conversations; c++) {
    const memberIds = Array.from({ length: options.membersEach }, (_, m) => `load-${c}-${m}`);
    const res = await api(options.adminUrl, "POST", "/v1/conversations", { type: "group", memberIds });
    if (res.status !== 201) throw new Error(`creating a conversation failed: ${JSON.stringify(res.body)}`);
    conversationIds.push(res.body.id);
    for (const userId of memberIds) {
      const client = new ChatClient({ url: options.clientUrl, getToken: () => mintToken(userId), reconnect: { minDelayMs: 100, maxDelayMs: 1000 } });
      const user: LoadUser = { userId, conversationId: res.body.id, client, delivered: [], reconnectMs: [] };
      let droppedAt = 0;
      client.on("state", (change) => {
        if (change.oldState === "connected" && change.newState === "connecting") droppedAt = Date.now();
        if (change.newState === "connected" && droppedAt) {
          user.reconnectMs.push(Date.now() - droppedAt);
          droppedAt = 0;
        }
      });
      client.conversation(res.body.id).on("message", (m) => user.delivered.push(m));
      users.push(user);
    }
  }
  for (const user of users) user.client.connect();
  // Join in batches: 200 joins at once is a thundering herd no real deployment starts with.
  for (let i = 0; i < users.length; i += 20) {
    await Promise.all(users.slice(i, i + 20).map((u) => u.client.conversation(u.conversationId).join()));
  }
  return { users, conversationIds, stop: () => users.forEach((u) => u.client.disconnect()) };
}

/**
 * Sends `perSecond` messages a second for `durationMs`, each from a random user through its
 * SDK outbox, and resolves with every message the server acknowledged once all sends settle.
 * `at` runs callbacks at the given offsets (ms) from the start, for injecting faults.
 */
export async function sendLoad(
  users: LoadUser[],
  options: { perSecond: number; durationMs: number; at?: Record<number, () => Promise<unknown> | void> },
): Promise<Message[]> {
  const sends: Promise<Message>[] = [];
  const started = Date.now();
  const faults = Object.entries(options.at ?? {}).map(([offset, run]) => ({ offset: Number(offset), run, done: false }));
  const faultRuns: Promise<unknown>[] = [];
  let n = 0;
  // Seeded choice of sender keeps runs comparable.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  while (Date.now() - started < options.durationMs) {
    const elapsed = Date.now() - started;
    for (const f of faults) {
      if (!f.done && elapsed >= f.offset) {
        f.done = true;
        faultRuns.push(Promise.resolve(f.run()));
      }
    }
    const due = Math.floor((elapsed / 1000) * options.perSecond);
    while (n < due) {
      const user = users[Math.floor(random() * users.length)];
      sends.push(user.client.conversation(user.conversationId).send(`load ${n++} from ${user.userId}`));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(faultRuns);
  return waitFor(async () => {
    const settled = await Promise.race([Promise.all(sends), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    return settled;
  }, "every send to be acknowledged", 60_000);
}

/** The 95th percentile of `values` (nearest rank). */
export function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
}
