import Database from "better-sqlite3";
import { SwitchboardError } from "../core/errors.js";
import { migrateComponent } from "./sqlite-schema-versions.js";

/** An open better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/**
 * What every SQLite driver (the main store, support, webhooks, idempotency) has in common: one
 * shared better-sqlite3 connection, statements prepared once after migrations, and synchronous
 * work turned into promises with errors mapped to `SwitchboardError`.
 *
 * @typeParam S the driver's prepared statements.
 */
export abstract class SqliteComponent<S> {
  private statements?: S;
  /** The connection's `busy_timeout`, quoted in `unavailable` messages. */
  protected readonly busyTimeoutMs: number;

  /**
   * @param db an open connection, normally from `openSqliteDatabase`.
   * @param name the driver's class name, for the message when it is used before `init()`.
   */
  constructor(
    protected readonly db: SqliteDatabase,
    private readonly name: string,
  ) {
    this.busyTimeoutMs = Number(db.pragma("busy_timeout", { simple: true })) || 0;
  }

  /** Prepares the statements once; call at the end of `init()`, after migrations. */
  protected prepare(build: (db: SqliteDatabase) => S): void {
    this.statements ??= build(this.db);
  }

  /** The prepared statements; throws when `init()` was not awaited. */
  protected get q(): S {
    if (!this.statements) throw new Error(`${this.name}.init() must be awaited before the store is used`);
    return this.statements;
  }

  /**
   * The `init()` of a component that keeps its own tables in the main store's file (webhooks,
   * idempotency keys, support, offline delivery): applies its pending migrations, recorded in
   * `schema_versions` under `component`, then prepares its statements.
   */
  protected migrateAndPrepare(component: string, migrations: readonly string[], build: (db: SqliteDatabase) => S): Promise<void> {
    return this.run(() => {
      migrateComponent(this.db, component, migrations);
      this.prepare(build);
    });
  }

  /** Runs synchronous database work as a promise, with errors mapped to SwitchboardError. */
  protected run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(mapSqliteError(err, this.busyTimeoutMs));
    }
  }
}

/**
 * Maps better-sqlite3 failures to the error family. Lock timeouts and I/O trouble become
 * `unavailable` with a message that tells the operator what to look at; a unique-key clash becomes
 * `conflict`; anything else is rethrown as is (the edge turns it into `internal`).
 */
export function mapSqliteError(err: unknown, busyTimeoutMs: number): unknown {
  if (err instanceof SwitchboardError) return err;
  if (err instanceof Database.SqliteError) {
    const code = err.code;
    const unavailable = (message: string) => new SwitchboardError("unavailable", message, { cause: err });
    if (code === "SQLITE_BUSY_SNAPSHOT") {
      return unavailable("Another process wrote to the SQLite database during this read; retry the request.");
    }
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
      return unavailable(
        `The SQLite database stayed locked by another connection or process for longer than busy_timeout (${busyTimeoutMs} ms); look for a stuck process or a long transaction on the file, or raise SQLITE_BUSY_TIMEOUT_MS.`,
      );
    }
    if (code === "SQLITE_FULL") return unavailable("The disk holding the SQLite database is full; free space in DATA_DIR.");
    if (code.startsWith("SQLITE_READONLY")) {
      return unavailable("The SQLite database is read-only; check the permissions of DATA_DIR and its files.");
    }
    if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN")) {
      return unavailable(`The SQLite database hit an I/O error (${code}); check the disk and DATA_DIR.`);
    }
    if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
      return unavailable(`The SQLite database file is damaged (${code}); restore it from a backup.`);
    }
    if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
      return new SwitchboardError("conflict", "A record with the same id already exists.", { cause: err });
    }
    return err;
  }
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new SwitchboardError("unavailable", "The SQLite store is closed (the server is shutting down).", { cause: err });
  }
  return err;
}
