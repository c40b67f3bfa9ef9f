import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardError } from "../server/src/core/errors.js";
import { MongoDeliveryStore } from "../server/src/delivery/mongo-delivery-store.js";
import { SqliteDeliveryStore } from "../server/src/delivery/sqlite-delivery-store.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { runDeliveryStoreContract } from "./delivery-store-contract.js";
import { ROOT, tempDir } from "./support/harness.js";

const OPTIONS = { synchronous: "NORMAL", busyTimeoutMs: 5000 } as const;

/** The main store and the delivery store over one connection, as the composition root opens them. */
async function openBoth(file: string) {
  const db = openSqliteDatabase(file, OPTIONS);
  const store = new SqliteStore(db);
  await store.init();
  const deliveries = new SqliteDeliveryStore(db);
  await deliveries.init();
  return { db, store, deliveries };
}

describe("SqliteDeliveryStore", () => {
  runDeliveryStoreContract("SqliteDeliveryStore", async () => {
    const dir = tempDir("switchboard-delivery-");
    const file = path.join(dir.dir, "store.db");
    const opened: SqliteStore[] = [];
    const open = async () => {
      const { store, deliveries } = await openBoth(file);
      opened.push(store);
      return deliveries;
    };
    const closeAll = async () => {
      for (const store of opened.splice(0)) await store.close();
    };
    return {
      store: await open(),
      reopen: open,
      restart: async () => {
        await closeAll();
        return open();
      },
      cleanup: async () => {
        await closeAll();
        dir.remove();
      },
    };
  });

  describe("on the main store's file", () => {
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it("records its schema version in schema_versions and leaves PRAGMA user_version to the main store", async () => {
      const dir = tempDir("switchboard-delivery-");
      cleanups.push(dir.remove);
      const file = path.join(dir.dir, "store.db");
      const { db: shared, store, deliveries } = await openBoth(file);
      cleanups.push(() => store.close());
      await deliveries.init(); // idempotent
      const mainVersion = shared.pragma("user_version", { simple: true });

      const db = new Database(file, { readonly: true });
      cleanups.push(() => db.close());
      expect(db.pragma("user_version", { simple: true })).toBe(mainVersion);
      expect(db.prepare("SELECT component, version FROM schema_versions WHERE component = 'delivery'").all()).toEqual([{ component: "delivery", version: 4 }]);
      const tables = db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('deliveries', 'push_subscriptions', 'notification_preferences',
             'conversation_mutes', 'sms_consent', 'sms_threads', 'sandbox_sms', 'delivery_settings') ORDER BY name`,
        )
        .all();
      expect(tables).toHaveLength(8);
    });

    it("refuses a delivery schema newer than this code, as unavailable", async () => {
      const dir = tempDir("switchboard-delivery-");
      cleanups.push(dir.remove);
      const { db, store } = await openBoth(path.join(dir.dir, "store.db"));
      cleanups.push(() => store.close());
      db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'delivery'").run();
      const err = await new SqliteDeliveryStore(db).init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("unavailable");
      expect((err as SwitchboardError).message).toMatch(/delivery schema version 99/);
    });
  });

  describe("with two processes on one file", () => {
    const children: ChildProcessWithoutNullStreams[] = [];
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it("plans the same 200 (message, user, channel) triples from both into exactly 200 rows, and never leases one twice", async () => {
      const dir = tempDir("switchboard-delivery-mp-");
      cleanups.push(dir.remove);
      const file = path.join(dir.dir, "store.db");
      // The parent creates the schema first, as the first node to start would.
      const { store: main, deliveries } = await openBoth(file);
      cleanups.push(() => main.close());

      // 20 conversations × 5 messages × 2 users on push: each (conversation, user) burst folds
      // into one scheduled delivery, so the workers also race on folding, not only on inserting.
      const triples: WorkerTriple[] = [];
      for (let c = 0; c < 20; c++) {
        for (let seq = 1; seq <= 5; seq++) {
          for (const userId of ["usr_a", "usr_b"]) {
            triples.push({ messageId: `msg_${c}_${seq}`, conversationId: `cnv_${c}`, seq, userId, channel: "push" });
          }
        }
      }
      expect(triples).toHaveLength(200);

      // One plans in order, the other in reverse: seqs arrive out of order half the time.
      const workers = ["w1", "w2"].map((name, i) => startWorker({ file, worker: name, reverse: i === 1, triples }));
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.stdin.write("go\n");
      const outputs = await Promise.all(workers.map((w) => w.done));

      // Every triple was created by exactly one worker; the other saw it exist.
      const created = new Map<string, number>();
      for (const output of outputs) {
        expect(output.plans).toHaveLength(200);
        for (const p of output.plans) if (p.kind !== "exists") created.set(p.key, (created.get(p.key) ?? 0) + 1);
      }
      expect(created.size).toBe(200);
      expect([...created.values()].every((n) => n === 1)).toBe(true);

      const rows = (await Promise.all(triples.filter((t) => t.userId === "usr_a").map((t) => deliveries.listForMessage(t.messageId)))).flat();
      expect(rows).toHaveLength(200);
      expect(new Set(rows.map((d) => `${d.messageId}|${d.userId}|${d.channel}`)).size).toBe(200);

      // Each burst: one notification covering all five messages, the newest as its text.
      const covering = rows.filter((d) => d.status !== "collapsed");
      expect(covering).toHaveLength(40);
      for (const d of covering) {
        expect(d).toMatchObject({ status: "scheduled", messageCount: 5, lastSeq: 5, lastMessageId: `msg_${d.conversationId.slice(4)}_5` });
      }
      const coveringIds = new Set(covering.map((d) => d.id));
      const collapsed = rows.filter((d) => d.status === "collapsed");
      expect(collapsed).toHaveLength(160);
      for (const d of collapsed) {
        const into = covering.find((c) => c.id === d.collapsedInto);
        expect(into && coveringIds.has(into.id) && into.conversationId === d.conversationId && into.userId === d.userId).toBe(true);
      }

      // Both leased until nothing was left: together every scheduled delivery, none twice.
      const leased = outputs.flatMap((o) => o.leased);
      expect(leased).toHaveLength(40);
      expect(new Set(leased)).toEqual(coveringIds);
    });
  });
});

/** One (message, user, channel) a worker plans. */
interface WorkerTriple {
  messageId: string;
  conversationId: string;
  seq: number;
  userId: string;
  channel: "push" | "sms";
}

/** What a worker prints when it is done. */
interface WorkerOutput {
  plans: { key: string; kind: string; id: string }[];
  leased: string[];
}

/**
 * The child process, inline so the test needs no file of its own: opens the file like a node
 * (main store first), prints `ready`, waits for one line on stdin so both start together, plans
 * every triple, then leases in small batches until nothing is due, and prints one JSON line.
 */
const WORKER_SOURCE = `
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
const cfg = JSON.parse(process.env.DELIVERY_WORKER);
const { openSqliteDatabase, SqliteStore } = await import(cfg.storeModule);
const { SqliteDeliveryStore } = await import(cfg.deliveryModule);
const db = openSqliteDatabase(cfg.file, { synchronous: "NORMAL", busyTimeoutMs: 10000 });
const main = new SqliteStore(db);
await main.init();
const store = new SqliteDeliveryStore(db);
await store.init();
const lines = createInterface({ input: process.stdin });
const started = once(lines, "line");
process.stdout.write("ready\\n");
await started;
lines.close();
const order = cfg.reverse ? [...cfg.triples].reverse() : cfg.triples;
const plans = [];
for (const [i, t] of order.entries()) {
  const now = Date.now();
  const r = await store.plan({ ...t, id: "dlv_" + cfg.worker + "_" + String(i).padStart(4, "0"), dueAt: now, collapseSince: 0, now });
  plans.push({ key: t.messageId + "|" + t.userId + "|" + t.channel, kind: r.kind, id: r.delivery.id });
  // A node does other work between two plans; without a pause one process would retake the
  // write lock at once while the other sleeps in SQLite's busy handler.
  await sleep(1);
}
const leased = [];
for (;;) {
  const batch = await store.lease(Date.now(), 600000, 3);
  if (batch.length === 0) break;
  leased.push(...batch.map((l) => l.delivery.id));
  await sleep(1);
}
await main.close();
process.stdout.write(JSON.stringify({ plans, leased }) + "\\n");
`;

function startWorker(cfg: { file: string; worker: string; reverse: boolean; triples: WorkerTriple[] }) {
  const env = {
    ...process.env,
    DELIVERY_WORKER: JSON.stringify({
      ...cfg,
      storeModule: pathToFileURL(path.join(ROOT, "server/src/store/sqlite-store.ts")).href,
      deliveryModule: pathToFileURL(path.join(ROOT, "server/src/delivery/sqlite-delivery-store.ts")).href,
    }),
  };
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", WORKER_SOURCE], { cwd: ROOT, env });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const output: string[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  lines.on("line", (line) => {
    if (line === "ready") markReady();
    else output.push(line);
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const done = exited.then(([code, signal]): WorkerOutput => {
    if (code !== 0) throw new Error(`worker ${cfg.worker} exited with ${code ?? signal}: ${stderr}`);
    return JSON.parse(output.at(-1) ?? "null") as WorkerOutput;
  });
  // A worker that dies before it is ready fails the test instead of hanging it.
  return { child, ready: Promise.race([ready, done.then(() => Promise.reject(new Error(`worker ${cfg.worker} exited before ready: ${stderr}`)))]), done };
}

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn("MongoDB delivery store contract SKIPPED: MONGODB_URI is not set (it runs in GitHub Actions with a mongo service)");
}

describe.skipIf(!uri)("MongoDeliveryStore", () => {
  const url = uri ?? "";
  let admin: MongoClient | undefined;
  beforeAll(async () => {
    admin = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
  });
  afterAll(async () => {
    await admin?.close();
  });

  runDeliveryStoreContract("MongoDeliveryStore", async () => {
    // A fresh database per test, unique across parallel runs sharing one server.
    const name = `switchboard_delivery_test_${process.pid}_${randomUUID().slice(0, 8)}`;
    const clients: MongoClient[] = [];
    const open = async () => {
      const client = await new MongoClient(url, { serverSelectionTimeoutMS: 10_000 }).connect();
      clients.push(client);
      const store = new MongoDeliveryStore(client.db(name));
      await store.init();
      return store;
    };
    const closeAll = async () => {
      for (const client of clients.splice(0)) await client.close();
    };
    return {
      store: await open(),
      reopen: open,
      restart: async () => {
        await closeAll();
        return open();
      },
      cleanup: async () => {
        await closeAll();
        await admin?.db(name).dropDatabase();
      },
    };
  });
});
