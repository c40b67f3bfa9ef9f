import { afterEach, describe, expect, it } from "vitest";
import { ChatClient } from "../client-sdk/src/index.js";
import type { Message } from "../client-sdk/src/protocol.js";
import { api, mintToken, spawnServer, startProxy, tempDir, waitFor } from "./support/harness.js";

describe("client SDK against a real server", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const client = (url: string, userId: string) => {
    const c = new ChatClient({ url, getToken: () => mintToken(userId), reconnect: { minDelayMs: 50, maxDelayMs: 300 } });
    cleanups.push(() => c.disconnect());
    c.connect();
    return c;
  };

  it("sends messages written while offline in order after reconnecting, and delivers what it missed exactly once", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const server = await spawnServer(data.dir);
    cleanups.push(() => server.kill("SIGKILL"));
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["alice", "bob"] });
    const conversationId: string = created.body.id;

    const alice = client(proxy.url, "alice");
    const bob = client(server.url, "bob");
    const aliceRoom = alice.conversation(conversationId);
    const bobRoom = bob.conversation(conversationId);
    const aliceSaw: Message[] = [];
    const bobSaw: Message[] = [];
    aliceRoom.on("message", (m) => aliceSaw.push(m));
    bobRoom.on("message", (m) => bobSaw.push(m));
    await Promise.all([aliceRoom.join(), bobRoom.join()]);
    await bobRoom.send("before the outage");
    await waitFor(() => aliceSaw.length === 1, "alice to get the first message");

    proxy.cut();
    await waitFor(() => alice.state === "connecting", "alice to notice the outage");
    const offlineSends = Array.from({ length: 5 }, (_, i) => aliceRoom.send(`offline ${i}`));
    expect(aliceRoom.pending.map((p) => p.text)).toEqual(["offline 0", "offline 1", "offline 2", "offline 3", "offline 4"]);
    for (let i = 0; i < 3; i++) await bobRoom.send(`missed ${i}`);

    proxy.restore();
    const stored = await Promise.all(offlineSends);
    expect(stored.map((m) => m.text)).toEqual(["offline 0", "offline 1", "offline 2", "offline 3", "offline 4"]);
    expect(stored.map((m) => m.seq)).toEqual([...stored.map((m) => m.seq)].sort((a, b) => a - b));

    await waitFor(() => aliceSaw.length === 9 && bobSaw.length === 9, "both to hold all 9 messages");
    for (const seen of [aliceSaw, bobSaw]) {
      expect(seen.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(aliceSaw.slice(1, 4).map((m) => m.text)).toEqual(["missed 0", "missed 1", "missed 2"]);
    expect(aliceRoom.pending).toEqual([]);
  });

  it("recovers every message after its server is killed with SIGKILL and comes back", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    let server = await spawnServer(data.dir);
    cleanups.push(() => server.kill("SIGKILL"));
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["carol", "dave"] });
    const conversationId: string = created.body.id;

    const carol = client(proxy.url, "carol");
    const carolRoom = carol.conversation(conversationId);
    const carolSaw: Message[] = [];
    carolRoom.on("message", (m) => carolSaw.push(m));
    await carolRoom.join();
    const sent = await carolRoom.send("one");
    expect(sent.seq).toBe(1);

    await server.kill("SIGKILL");
    await waitFor(() => carol.state === "connecting", "carol to notice the crash");
    const whileDown = carolRoom.send("two");
    server = await spawnServer(data.dir);
    proxy.retarget(server.port);
    // Someone else writes on the restarted server before carol is back.
    await api(server.url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "dave", text: "three?", clientMessageId: "dave-1" });

    await whileDown;
    await waitFor(() => carolSaw.length === 3, "carol to hold all three messages", 15_000);
    expect(carolSaw.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(new Set(carolSaw.map((m) => m.text))).toEqual(new Set(["one", "two", "three?"]));
  });
});
