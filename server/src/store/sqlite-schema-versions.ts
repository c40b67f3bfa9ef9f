import { SwitchboardError } from "../core/errors.js";
import type { SqliteDatabase } from "./sqlite-component.js";

/**
 * Schema migrations of a component that keeps its own tables in the main SQLite file (idempotency
 * keys, webhooks, …). `PRAGMA user_version` belongs to the main store, so each component records
 * how many of its migrations have run in one row of the shared `schema_versions` table, keyed by
 * its name. A later release appends to its list and never edits a shipped entry.
 *
 * Runs in one `BEGIN IMMEDIATE` transaction, so processes starting together on one file migrate
 * one after the other. Throws `unavailable` when the file holds a newer schema than `migrations`.
 *
 * @param component a stable name, such as `idempotency`.
 * @param migrations SQL scripts, applied in order.
 */
export function migrateComponent(db: SqliteDatabase, component: string, migrations: readonly string[]): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT");
    const row = db.prepare<[string], { version: number }>("SELECT version FROM schema_versions WHERE component = ?").get(component);
    const version = row?.version ?? 0;
    if (version > migrations.length) {
      throw new SwitchboardError(
        "unavailable",
        `The SQLite database has ${component} schema version ${version}, newer than this Switchboard (${migrations.length}); upgrade Switchboard or restore a backup.`,
      );
    }
    for (const sql of migrations.slice(version)) db.exec(sql);
    if (version < migrations.length) {
      db.prepare<[string, number]>(
        "INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version",
      ).run(component, migrations.length);
    }
  }).immediate();
}
