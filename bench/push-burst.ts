import type { Message } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, mintToken, spawnServer, tempDir, waitFor } from "../test/support/harness.js";
import { createPushSubscriber, startPushService } from "../test/support/push-service.js";

/**
 * Live latency while a message to a big group goes out as Web Push: a server process, N offline
 * members each with a push subscription at a local HTTPS push service (which verifies VAPID and
 * decrypts every push, in this process), and a probe that sends a message every 10 ms between two
 * connected users and times its arrival. Prints the probe's latency before and during the burst.
 *
 *   npx tsx bench/push-burst.ts [members=300] [FULL|NORMAL]
 */
const N = Number(process.argv[2] ?? 300);
const SYNC = process.argv[3] ?? "FULL";

async function main(): Promise<void> {
  const push = await startPushService();
  const dir = tempDir();
  // Its own process, as in production: the push service's decryption here does not slow it.
  const server = await spawnServer(dir.dir, {
    NODE_EXTRA_CA_CERTS: push.writeCaCert(dir.dir),
    PUSH_ALLOW_PRIVATE: "1",
    RATE_LIMIT_MESSAGES: "100000",
    RATE_LIMIT_SOCKET_EVENTS: "100000",
    RATE_LIMIT_HTTP: "1000000",
    SQLITE_SYNCHRONOUS: SYNC,
  });
  const url = server.url;
  const ids = Array.from({ length: N }, (_, i) => `u${i}`);
  for (const id of ["alice", "carol", ...ids]) await api(url, "POST", "/v1/users", { id, name: id });
  await api(url, "POST", "/v1/conversations", { id: "probe", type: "direct", memberIds: ["alice", "carol"] });
  await api(url, "POST", "/v1/conversations", { id: "big", type: "group", title: "Big", memberIds: ["alice", ...ids] });
  const subs = [];
  for (const id of ids) {
    const s = createPushSubscriber(push);
    const r = await fetch(`${url}/v1/push/subscriptions`, { method: "POST", headers: { authorization: `Bearer ${await mintToken(id)}`, "content-type": "application/json" }, body: JSON.stringify(s.toJSON()) });
    if (r.status !== 201) throw new Error(String(r.status));
    subs.push(s);
  }
  const alice = await connectUser(url, "alice");
  const carol = await connectUser(url, "carol");
  await call(alice, "conversation:join", { conversationId: "probe" });
  await call(carol, "conversation:join", { conversationId: "probe" });
  const sentAt = new Map<string, number>();
  let lat: number[] = [];
  alice.on("message:new", (m: Message) => { const t = sentAt.get(m.text); if (t) lat.push(performance.now() - t); });
  let n = 0;
  const probe = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const text = `p${++n}`; sentAt.set(text, performance.now());
      carol.emit("message:send", { conversationId: "probe", clientMessageId: text, text }, () => undefined);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const stats = (label: string) => { const s = [...lat].sort((a, b) => a - b); console.log(label, `n=${s.length} p50=${s[Math.floor(s.length * 0.5)].toFixed(1)} p99=${s[Math.floor(s.length * 0.99)].toFixed(1)} max=${s.at(-1)!.toFixed(1)} ms`); lat = []; };
  await probe(3000); stats("baseline            ");
  const t0 = performance.now();
  const probing = probe(4000);
  await call(alice, "conversation:join", { conversationId: "big" });
  alice.emit("message:send", { conversationId: "big", clientMessageId: "burst", text: "hello everyone, this is a notification" }, () => undefined);
  await waitFor(() => push.received.length >= N || undefined, "pushes", 30_000);
  console.log(`SQLITE_SYNCHRONOUS=${SYNC}: ${N} pushes delivered in ${(performance.now() - t0).toFixed(0)} ms`);
  await probing; stats(`during ${N} pushes  `);
  alice.close(); carol.close(); await server.kill("SIGTERM"); await push.close(); dir.remove();
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
