/**
 * A child process for the concurrent-start test in `test/sqlite-store.test.ts`:
 *
 *   node --import tsx test/support/sqlite-open-worker.ts <dir> <rounds> <startAtMs> <intervalMs>
 *
 * For each round r, waits until `startAtMs + r * intervalMs` (every worker shares the schedule,
 * so they all open the same fresh file at the same moment) and opens `<dir>/round-<r>.db` the way
 * a starting node does. Prints one JSON line, `{ opened, failures: [{ round, message }] }`.
 */
import path from "node:path";
import { openSqliteDatabase } from "../../server/src/store/sqlite-store.js";

const [dir, roundsArg, startArg, intervalArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const startAt = Number(startArg);
const interval = Number(intervalArg);
let opened = 0;
const failures: { round: number; message: string }[] = [];
for (let round = 0; round < rounds; round++) {
  const at = startAt + round * interval;
  // A spin, not a timer: timers fire late by milliseconds, and the race needs the same moment.
  while (Date.now() < at) {
    /* wait */
  }
  try {
    openSqliteDatabase(path.join(dir!, `round-${round}.db`), { synchronous: "NORMAL", busyTimeoutMs: 5000 }).close();
    opened++;
  } catch (err) {
    failures.push({ round, message: err instanceof Error ? err.message : String(err) });
  }
}
process.stdout.write(`${JSON.stringify({ opened, failures })}\n`);
