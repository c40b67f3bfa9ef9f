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

  it("catches up exactly once on the reactions, edits, replies and thread posts others made while it was cut off", async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const server = await spawnServer(data.dir);
    cleanups.push(() => server.kill("SIGKILL"));
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["erin", "frank"] });
    const conversationId: string = created.body.id;

    const erin = client(proxy.url, "erin");
    const frank = client(server.url, "frank");
    const erinRoom = erin.conversation(conversationId);
    const frankRoom = frank.conversation(conversationId);
    const delivered: Message[] = [];
    const updated: Message[] = [];
    const clientUpdated: Message[] = [];
    erinRoom.on("message", (m) => delivered.push(m));
    erinRoom.on("message:updated", (m) => updated.push(m));
    erin.on("message:updated", (m) => clientUpdated.push(m));
    await Promise.all([erinRoom.join(), frankRoom.join()]);
    const sent: Message[] = [];
    for (let i = 1; i <= 5; i++) sent.push(await frankRoom.send(`message ${i}`));
    // Seen live before the outage: these versions must not come back as news.
    await frankRoom.react(sent[1]!.id, "👍");
    await frankRoom.react(sent[3]!.id, "👀");
    await waitFor(() => delivered.length === 5 && updated.length === 2, "erin to hold five messages and two reactions");
    expect(erinRoom.conversation?.lastRev).toBe(0);

    proxy.cut();
    await waitFor(() => erin.state === "connecting", "erin to notice the outage");
    const reacted = await frankRoom.react(sent[0]!.id, "🎉");
    const unreacted = await frankRoom.unreact(sent[1]!.id, "👍");
    const edited = await frankRoom.edit(sent[2]!.id, "message 3, edited");
    const reply = await frankRoom.send("answering 4", { replyTo: sent[3]!.id });
    const threadPost = await frankRoom.send("in the thread of 5", { threadId: sent[4]!.id });
    const parentNow = frankRoom.messages.find((m) => m.id === sent[4]!.id);
    expect(parentNow).toMatchObject({ replyCount: 1 });

    proxy.restore();
    await waitFor(() => delivered.length === 7 && updated.length === 6, "erin to catch up on two messages and four changes", 15_000);
    const marker = await frankRoom.send("marker");
    await waitFor(() => delivered.length === 8, "the marker after the catch-up");

    expect(delivered.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(delivered.slice(5, 7)).toEqual([reply, threadPost]);
    expect(delivered[5]?.replyTo).toMatchObject({ messageId: sent[3]!.id, excerpt: "message 4" });
    expect(delivered[6]).toMatchObject({ threadId: sent[4]!.id, threadSeq: 1 });
    // One message:updated per change, none for the versions erin already had.
    const afterOutage = updated.slice(2);
    expect(afterOutage.map((m) => m.id).sort()).toEqual([sent[0]!.id, sent[1]!.id, sent[2]!.id, sent[4]!.id].sort());
    expect(afterOutage.find((m) => m.id === sent[0]!.id)).toEqual(reacted);
    expect(afterOutage.find((m) => m.id === sent[1]!.id)).toEqual(unreacted);
    expect(afterOutage.find((m) => m.id === sent[2]!.id)).toEqual(edited);
    expect(afterOutage.find((m) => m.id === sent[4]!.id)).toEqual(parentNow);
    expect(clientUpdated).toEqual(updated);
    // What erin holds is what the server serves.
    const history = await api(server.url, "GET", `/v1/conversations/${conversationId}/messages`);
    expect(erinRoom.messages).toEqual(history.body.messages);
    expect(erinRoom.messages.at(-1)).toEqual(marker);
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
