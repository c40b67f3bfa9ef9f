import { afterEach, describe, expect, it } from "vitest";
import type { Conversation, Message } from "../client-sdk/src/protocol.js";
import { call, connectUser, spawnServer, tempDir, type SpawnedServer } from "./support/harness.js";

describe("durability of acknowledged messages", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("keeps history and continues seq after the server is killed with SIGKILL and restarted on the same DATA_DIR", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    // The production default: every ack waits for fsync.
    const env = { SQLITE_SYNCHRONOUS: "FULL" };
    let server: SpawnedServer = await spawnServer(data.dir, env);
    cleanups.push(() => server.kill("SIGKILL"));

    const alice = await connectUser(server.url, "alice");
    const { conversation } = await call<{ conversation: Conversation }>(alice, "conversation:create", { type: "group", memberIds: ["bob"] });
    const acked: Message[] = [];
    for (let i = 1; i <= 25; i++) {
      acked.push((await call<{ message: Message }>(alice, "message:send", { conversationId: conversation.id, clientMessageId: `d-${i}`, text: `durable ${i}` })).message);
    }
    alice.close();
    expect(await server.kill("SIGKILL")).toBe(null);

    server = await spawnServer(data.dir, env);
    const bob = await connectUser(server.url, "bob");
    const join = await call<{ conversation: Conversation; messages: Message[] }>(bob, "conversation:join", { conversationId: conversation.id, afterSeq: 0 });
    expect(join.messages).toEqual(acked);
    expect(join.conversation.lastSeq).toBe(25);
    const next = await call<{ message: Message }>(bob, "message:send", { conversationId: conversation.id, clientMessageId: "after-restart", text: "still here" });
    expect(next.message.seq).toBe(26);
    // A retry of a message acknowledged before the crash is still recognised.
    const alice2 = await connectUser(server.url, "alice");
    const retry = await call<{ message: Message }>(alice2, "message:send", { conversationId: conversation.id, clientMessageId: "d-25", text: "durable 25" });
    expect(retry.message).toEqual(acked[24]);
    bob.close();
    alice2.close();
  }, 60_000);

  it("finishes in-flight work and exits 0 on SIGTERM", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const server = await spawnServer(data.dir);
    cleanups.push(() => server.kill("SIGKILL"));
    const alice = await connectUser(server.url, "alice");
    const ended = new Promise<{ code: string }>((resolve) => alice.on("session:end", resolve));
    expect(await server.kill("SIGTERM")).toBe(0);
    expect((await ended).code).toBe("unavailable");
    expect(server.output()).toMatch(/"shut down"/);
    alice.close();
  }, 30_000);
});
