import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { SqliteDatabase } from "./sqlite-component.js";

/** How {@link WalCheckpointer} runs; the server passes the store's `Config.sqlite` values. */
export interface WalCheckpointerOptions {
  /** The `synchronous` level of the main connection (checkpoints fsync the database file under both). */
  synchronous: "FULL" | "NORMAL";
  /** How long the worker waits for a lock another connection holds (ms). */
  busyTimeoutMs: number;
  /** Group commits between passes. */
  commitsPerPass?: number;
  /** Longest time between passes (ms), commits or not. */
  intervalMs?: number;
  /** How long no other process must have written before pauses come back (ms). */
  soloAfterMs?: number;
  /** WAL size (frames of one page) at which the owner's writes pause until a pass catches up. */
  resetFrames?: number;
  /** Longest pause of the writes for one reset (ms); after it they go on and the WAL grows. */
  maxPauseMs?: number;
  /** Told when the worker fails; autocheckpoint is back on by then. */
  onError?: (error: Error) => void;
}

/** What one pass answered: `PRAGMA wal_checkpoint` columns. */
interface PassResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * The worker's code, evaluated as CommonJS in its own thread: one connection, one checkpoint per
 * request, the answer posted back. better-sqlite3 is required by absolute path, since an eval'd
 * worker resolves modules from the working directory.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma("synchronous = " + workerData.synchronous);
db.pragma("wal_autocheckpoint = 0");
parentPort.on("message", (msg) => {
  if (msg === "close") { db.close(); parentPort.close(); return; }
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: true, busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message || err) });
  }
});
`;

/**
 * WAL checkpoints on a worker thread, so that copying the WAL back into the database file (and
 * its fsync) no longer runs inside a commit on the event loop.
 *
 * SQLite's own autocheckpoint runs in the commit that crosses `wal_autocheckpoint` pages, and every
 * client waits for it: in a loop of 90,000 appends it was 0.9 s of 4.7 s spent in commits (19 %),
 * in stalls of up to 24 ms. Here the main connection's autocheckpoint is off and a worker with its own
 * connection runs `PRAGMA wal_checkpoint(PASSIVE)` after every `commitsPerPass` group commits, and
 * every `intervalMs` anyway (a pass with nothing to copy costs microseconds and no fsync), so the
 * writes of every component on the connection are covered.
 * PASSIVE never blocks the writer; the writer restarts the WAL from its start by itself once a
 * checkpoint has copied every frame. Under continuous writes that moment never comes (the writer
 * appends while the worker copies), so when the WAL passes {@link WalCheckpointerOptions.resetFrames}
 * the owner pauses its writes (see {@link paused}) until one pass catches up; the event loop stays
 * free meanwhile, and the writes that queue up commit together afterwards.
 *
 * Another process writing the same file (several nodes on one host) would make every pause run out,
 * since its writes go on. While `PRAGMA data_version` shows such writes, the connection's own
 * autocheckpoint is back on and there are no pauses: checkpoints then work as they did without the
 * worker. After `soloAfterMs` without them, the worker has the checkpoints to itself again.
 *
 * If the worker cannot start or fails, the main connection's autocheckpoint is switched back on
 * and nothing else changes.
 */
export class WalCheckpointer {
  private worker: Worker | null;
  private readonly intervalMs: number;
  private readonly commitsPerPass: number;
  private readonly soloAfterMs: number;
  private readonly resetFrames: number;
  /** Group commits since the last pass was requested. */
  private commits = 0;
  /** `PRAGMA data_version` at the last pass: it moves when another connection commits. */
  private dataVersion: number;
  /** When another connection was last seen writing (performance.now()); null once `soloAfterMs` passed. */
  private otherWriterSeenAt: number | null = null;
  private readonly maxPauseMs: number;
  /** Whether a pass was requested and has not answered yet. */
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  /** The connection's autocheckpoint before this took over, restored when it stops. */
  private readonly fallbackAutocheckpoint: number;
  /** When the current pause of the owner's writes began (performance.now()), or null. */
  private pausedSince: number | null = null;
  private readonly resumeWaiters: (() => void)[] = [];
  /**
   * The WAL size when the last pause ended, 0 once the WAL restarted; the next pause begins
   * `resetFrames` above it.
   */
  private logAtResume = 0;
  /** Pauses of the owner's writes so far. */
  pauses = 0;
  /** The WAL size (frames) the last pass reported. */
  walFrames = 0;

  /**
   * Starts the worker for `db` (a file database; not `:memory:`) and switches the connection's
   * autocheckpoint off until {@link close}.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.commitsPerPass = options.commitsPerPass ?? 50;
    this.soloAfterMs = options.soloAfterMs ?? 10_000;
    this.resetFrames = options.resetFrames ?? 4000;
    this.maxPauseMs = options.maxPauseMs ?? 50;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file: db.name, synchronous: options.synchronous, busyTimeoutMs: options.busyTimeoutMs },
    });
    this.worker.unref();
    this.worker.on("message", (msg: { ok: boolean; message?: string } & Partial<PassResult>) => {
      this.inFlight = false;
      if (msg.ok) this.answered(msg as PassResult);
      else this.fail(new Error(`WAL checkpoint failed: ${msg.message}`));
    });
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", () => {
      if (this.worker) this.fail(new Error("the WAL checkpoint worker exited"));
    });
    this.fallbackAutocheckpoint = Number(db.pragma("wal_autocheckpoint", { simple: true }));
    this.dataVersion = this.readDataVersion();
    db.pragma("wal_autocheckpoint = 0");
    this.timer = setInterval(() => this.requestPass(), this.intervalMs);
    this.timer.unref();
  }

  /** Called by the owner after each group commit: every `commitsPerPass` of them start a pass. */
  committed(): void {
    if (++this.commits >= this.commitsPerPass) this.requestPass();
  }

  /** Whether another process was seen writing the file recently (checkpoints are then shared). */
  get shared(): boolean {
    return this.otherWriterSeenAt !== null;
  }

  /** Whether the owner should hold its writes back now (the WAL is being caught up for a reset). */
  get paused(): boolean {
    return this.pausedSince !== null;
  }

  /** Resolves when the current pause ends (at once when there is none). */
  whenResumed(): Promise<void> {
    if (this.pausedSince === null) return Promise.resolve();
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  /** Stops the worker (waiting for a pass in progress) and turns autocheckpoint back on. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.stop();
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
      worker.once("exit", () => {
        clearTimeout(killer);
        resolve();
      });
      worker.postMessage("close");
    });
  }

  private requestPass(): void {
    if (!this.worker || this.inFlight) return;
    this.commits = 0;
    this.inFlight = true;
    this.worker.postMessage("pass");
  }

  private answered(result: PassResult): void {
    this.walFrames = result.log;
    this.noticeOtherWriters();
    // A pass copies the frames that were there when it began, while the writer goes on adding
    // more; only a pass that ran while the writes were held back leaves the WAL fully copied.
    // The writer restarted the WAL after the last pause.
    if (result.log < this.logAtResume) this.logAtResume = 0;
    if (this.pausedSince !== null) {
      const caughtUp = result.busy === 0 && result.checkpointed === result.log;
      // Caught up: the owner's next write transaction restarts the WAL. Or another process writes
      // too, or the pause ran out: go on, and try again when the WAL has grown as much again.
      if (caughtUp || this.otherWriterSeenAt !== null || performance.now() - this.pausedSince >= this.maxPauseMs) {
        this.logAtResume = result.log;
        this.resume();
      } else this.requestPass();
      return;
    }
    if (result.log >= this.logAtResume + this.resetFrames && this.otherWriterSeenAt === null) {
      this.pausedSince = performance.now();
      this.pauses++;
      this.requestPass();
    }
  }

  private readDataVersion(): number {
    return Number(this.db.pragma("data_version", { simple: true }));
  }

  /** Switches between checkpointing alone and sharing the file with other writers (see above). */
  private noticeOtherWriters(): void {
    if (!this.db.open) return;
    const version = this.readDataVersion();
    const now = performance.now();
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      if (this.otherWriterSeenAt === null) this.db.pragma(`wal_autocheckpoint = ${this.fallbackAutocheckpoint}`);
      this.otherWriterSeenAt = now;
    } else if (this.otherWriterSeenAt !== null && now - this.otherWriterSeenAt >= this.soloAfterMs) {
      this.otherWriterSeenAt = null;
      this.db.pragma("wal_autocheckpoint = 0");
    }
  }

  private resume(): void {
    this.pausedSince = null;
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.worker = null;
    this.resume();
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.fallbackAutocheckpoint}`);
  }

  private fail(error: Error): void {
    if (!this.worker) return;
    const worker = this.worker;
    this.stop();
    void worker.terminate();
    this.options.onError?.(error);
  }
}
