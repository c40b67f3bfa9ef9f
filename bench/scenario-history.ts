/**
 * Scenario 7: history pages from a big conversation. The bench fills one conversation of a
 * Switchboard node's SQLite file with N messages directly through SQLite (one INSERT … SELECT
 * over a recursive CTE per 100,000 rows, in the node's own WAL file while it runs), then one
 * client asks for 50-message pages over the socket (`message:history`), one request at a time so
 * the figure is a latency and not a queue: the first page (newest 50) and deep pages (a random
 * `beforeSeq` or `afterSeq` anywhere in the conversation), interleaved. Compared with the anchor
 * figure (Discord's p99 of 15 ms), there is no bare equivalent (the baseline stores nothing).
 */
import path from "node:path";
import Database from "better-sqlite3";
import { SignJWT } from "jose";
import { io } from "socket.io-client";
import { HISTORY_PAGE_SQL } from "../server/src/store/sqlite-store.js";
import { LatencyHistogram } from "./histogram.js";
import { BENCH_JWT_SECRET, createConversations, cpuWindow, summarize, type BenchContext, type Deployment, type LatencySummary } from "./scenarios.js";
import { monotonicUs } from "./worker-protocol.js";

/** Parameters of {@link historyPages}. */
export interface HistoryParams {
  /** Messages stored in the conversation. */
  messages: number;
  /** Requests of each kind (first page, deep page). */
  requests: number;
}

/** Result of {@link historyPages}. */
export interface HistoryResult {
  messages: number;
  fillSeconds: number;
  fillRowsPerSecond: number;
  firstPage: LatencySummary;
  deepPage: LatencySummary;
  /** Server CPU per page served. */
  serverCpuMsPerPage: number;
  /** SQLite's plan for a deep page, newest-first and oldest-first, one line each. */
  plan: { descending: string; ascending: string };
  /** Both plans search an index on (conversation_id, seq) and neither sorts nor scans the table. */
  planUsesIndex: boolean;
  /** Pages that came back without 50 messages or out of order (should be 0). */
  badPages: number;
}

const PAGE = 50;
const CHUNK = 100_000;

/** Fills the store, then times pages. `dep` is a one-node Switchboard deployment. */
export async function historyPages(ctx: BenchContext, dep: Deployment, p: HistoryParams): Promise<HistoryResult> {
  const [server] = dep.servers;
  if (!dep.dataDir) throw new Error("history needs a Switchboard deployment with a data dir");
  const conversationId = "history-c0";
  const reader = "history-u0";
  await createConversations(server, [{ id: conversationId, memberIds: [reader, "history-u1"] }]);

  // The node has the file open in WAL mode; a second connection writes beside it, as a second node would.
  const db = new Database(path.join(dep.dataDir, "switchboard.db"), { timeout: 10_000 });
  let fillSeconds: number;
  let plan: HistoryResult["plan"];
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const insert = db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO messages (id, conversation_id, seq, sender_id, type, text, created_at)
       SELECT 'hm_' || i, ?, i, CASE i % 2 WHEN 0 THEN 'history-u0' ELSE 'history-u1' END, 'text',
              'history message ' || i || ' ' || ?, ?
       FROM n`,
    );
    const padding = "x".repeat(64);
    const createdAt = new Date().toISOString();
    const started = performance.now();
    for (let from = 1; from <= p.messages; from += CHUNK) {
      ctx.signal?.throwIfAborted();
      const to = Math.min(p.messages, from + CHUNK - 1);
      db.transaction(() => insert.run(from, to, conversationId, padding, createdAt))();
    }
    db.prepare("UPDATE conversations SET last_seq = ?, last_activity_at = ? WHERE id = ?").run(p.messages, createdAt, conversationId);
    db.pragma("wal_checkpoint(TRUNCATE)");
    fillSeconds = (performance.now() - started) / 1000;
    const explain = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ conversationId, after: 0, before: Math.floor(p.messages / 2), limit: PAGE + 1 })
        .map((r) => (r as { detail: string }).detail)
        .join("; ");
    plan = { descending: explain(HISTORY_PAGE_SQL.descending), ascending: explain(HISTORY_PAGE_SQL.ascending) };
  } finally {
    db.close();
  }
  const indexed = (s: string) => /SEARCH m USING (INDEX|PRIMARY KEY) \S+ \(conversation_id=\? AND seq>\? AND seq<\?\)/.test(s) && !/SCAN m\b|TEMP B-TREE/.test(s);
  ctx.log(`    filled ${p.messages.toLocaleString("en-US")} messages in ${fillSeconds.toFixed(1)} s; plan: ${plan.descending}`);

  const nowS = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(reader).setIssuedAt(nowS).setExpirationTime(nowS + 3600).sign(new TextEncoder().encode(BENCH_JWT_SECRET));
  const socket = io(server.url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const first = new LatencyHistogram();
    const deep = new LatencyHistogram();
    let badPages = 0;
    // Seeded, so every run asks for the same pages.
    let seed = 13;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const ask = async (query: Record<string, number>, into: LatencyHistogram) => {
      const t0 = monotonicUs();
      const ack = (await socket.timeout(10_000).emitWithAck("message:history", { conversationId, limit: PAGE, ...query })) as {
        ok: boolean;
        messages?: { seq: number }[];
        error?: { message: string };
      };
      into.record(monotonicUs() - t0);
      if (!ack.ok) throw new Error(`message:history failed: ${ack.error?.message}`);
      const seqs = ack.messages!.map((m) => m.seq);
      if (seqs.length !== PAGE || seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1)) badPages++;
    };
    // Warm-up: the connection, the statements, the membership cache.
    for (let i = 0; i < 20; i++) await ask({}, new LatencyHistogram());
    const endCpu = cpuWindow(ctx, [server.pid]);
    for (let i = 0; i < p.requests; i++) {
      ctx.signal?.throwIfAborted();
      await ask({}, first);
      const at = PAGE + 1 + Math.floor(random() * (p.messages - 2 * PAGE - 1));
      await ask(i % 2 === 0 ? { beforeSeq: at } : { afterSeq: at }, deep);
    }
    const cpu = endCpu();
    return {
      messages: p.messages,
      fillSeconds: Math.round(fillSeconds * 10) / 10,
      fillRowsPerSecond: Math.round(p.messages / fillSeconds),
      firstPage: summarize(first),
      deepPage: summarize(deep),
      serverCpuMsPerPage: Math.round((cpu.servers / (2 * p.requests)) * 1000) / 1000,
      plan,
      planUsesIndex: indexed(plan.descending) && indexed(plan.ascending),
      badPages,
    };
  } finally {
    socket.close();
  }
}
