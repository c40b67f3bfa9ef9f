/**
 * A child process for the multi-process test in `test/sqlite-store.test.ts`:
 *
 *   node --import tsx test/support/sqlite-append-worker.ts <file> <conversationId> <workerName> <count>
 *
 * Opens the shared SQLite file, prints `ready`, waits for one line on stdin (the start signal, so
 * every worker writes at the same time), then sends `count` messages as `<workerName>` in order,
 * re-sending every tenth one (a duplicate from the same process) and, every 25th, one message as
 * the sender `shared` that every worker races to send. Prints one JSON line with the outcome of
 * each send, in send order, and exits 0; on failure prints the error to stderr and exits 1.
 */
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { openSqliteDatabase, SqliteStore } from "../../server/src/store/sqlite-store.js";

/** One send as reported to the parent test. */
export interface WorkerSend {
  senderId: string;
  clientMessageId: string;
  kind: "created" | "duplicate";
  seq: number;
  id: string;
}

async function main(): Promise<void> {
  const [file, conversationId, worker, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (!file || !conversationId || !worker || !Number.isInteger(count)) {
    throw new Error("usage: sqlite-append-worker.ts <file> <conversationId> <workerName> <count>");
  }
  const store = new SqliteStore(openSqliteDatabase(file, { synchronous: "FULL", busyTimeoutMs: 10_000 }));
  await store.init();

  const lines = createInterface({ input: process.stdin });
  const started = once(lines, "line");
  process.stdout.write("ready\n");
  await started;
  lines.close();

  const sends: WorkerSend[] = [];
  const send = async (senderId: string, clientMessageId: string) => {
    const result = await store.appendMessage({
      id: `${worker}-${sends.length}-${process.pid}`,
      conversationId,
      senderId,
      clientMessageId,
      type: "text",
      text: `${senderId} ${clientMessageId}`,
      createdAt: new Date().toISOString(),
    });
    sends.push({ senderId, clientMessageId, kind: result.kind, seq: result.message.seq, id: result.message.id });
    // A server does other work between two appends. Without this pause the process would take the
    // write lock again within microseconds of releasing it, while the others sleep in SQLite's busy
    // handler, and the three workers would simply run one after another.
    await sleep(1);
  };
  for (let i = 0; i < count; i++) {
    await send(worker, `${worker}-${i}`);
    if (i % 10 === 9) await send(worker, `${worker}-${i}`);
    if (i % 25 === 0) await send("shared", `shared-${i}`);
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(sends)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
