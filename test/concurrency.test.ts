import { afterAll, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, request, spawnServer, tempDir, type ClientSocket, type SpawnedServer } from "./support/harness.js";

describe("concurrent writers", () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("gives 20 clients on two processes sharing one SQLite file exactly 1,000 messages with seq 1..1000, retries included", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const servers: SpawnedServer[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await spawnServer(data.dir);
      servers.push(s);
      cleanups.push(() => s.kill("SIGKILL"));
    }
    const users = Array.from({ length: 20 }, (_, i) => `writer-${i}`);
    const created = await api(servers[0].url, "POST", "/v1/conversations", { type: "group", memberIds: users, title: "load" });
    expect(created.status).toBe(201);
    const conversationId: string = created.body.id;

    // Each client has a socket on both processes: a retry may land on the other one.
    const sockets: [ClientSocket, ClientSocket][] = [];
    for (const [i, user] of users.entries()) {
      const primary = await connectUser(servers[i % 2].url, user);
      const secondary = await connectUser(servers[(i + 1) % 2].url, user);
      sockets.push([primary, secondary]);
      cleanups.push(() => primary.close(), () => secondary.close());
    }

    // Seeded randomness keeps the run reproducible.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    const ackedSeqByClientId = new Map<string, number>();
    let retries = 0;
    await Promise.all(
      users.map(async (user, i) => {
        const [primary, secondary] = sockets[i];
        await Promise.all(
          Array.from({ length: 50 }, async (_, n) => {
            const payload = { conversationId, clientMessageId: `${user}-${n}`, text: `${user} says ${n}` };
            const attempts = [request<{ message: Message }>(primary, "message:send", payload)];
            if (random() < 0.3) {
              retries++;
              attempts.push(request<{ message: Message }>(random() < 0.5 ? primary : secondary, "message:send", payload));
            }
            for (const ack of await Promise.all(attempts)) {
              if (!ack.ok) throw new Error(`send failed: ${ack.error.code} ${ack.error.message}`);
              const previous = ackedSeqByClientId.get(payload.clientMessageId);
              // Every attempt of one clientMessageId is answered with the same message.
              if (previous !== undefined) expect(ack.message.seq).toBe(previous);
              ackedSeqByClientId.set(payload.clientMessageId, ack.message.seq);
            }
          }),
        );
      }),
    );
    expect(retries).toBeGreaterThan(100);
    expect(ackedSeqByClientId.size).toBe(1000);

    const all: Message[] = [];
    const reader = sockets[0][0];
    for (let afterSeq = 0; ; ) {
      const page = await call<{ messages: Message[]; hasMore: boolean }>(reader, "message:history", { conversationId, afterSeq, limit: 100 });
      all.push(...page.messages);
      if (!page.hasMore) break;
      afterSeq = page.messages.at(-1)!.seq;
    }
    expect(all).toHaveLength(1000);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(all.map((m) => m.clientMessageId)).size).toBe(1000);
    for (const m of all) expect(ackedSeqByClientId.get(m.clientMessageId!)).toBe(m.seq);
  }, 120_000);
});
