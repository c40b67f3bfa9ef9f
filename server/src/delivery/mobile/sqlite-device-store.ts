import { SqliteComponent, type SqliteDatabase } from "../../store/sqlite-component.js";
import type { DevicePlatform, DeviceRecord, DeviceStore } from "./device-store.js";

/** This component's row in `schema_versions`: the main store owns `PRAGMA user_version`. */
const COMPONENT = "mobile_devices";

/** Migrations, applied in order; a later release appends an entry and never edits a shipped one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE mobile_devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    app_id TEXT,
    badge INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- One owner per token: a phone that changes accounts moves its token.
    UNIQUE (platform, token)
  ) STRICT;
  CREATE INDEX mobile_devices_by_user ON mobile_devices (user_id, platform, created_at);
  `,
];

interface DeviceRow {
  id: string;
  user_id: string;
  platform: string;
  token: string;
  app_id: string | null;
  badge: number | null;
  created_at: string;
  updated_at: string;
}

function prepareStatements(db: SqliteDatabase) {
  return {
    // A known token keeps its id and creation time but moves to the new owner and app; its
    // badge is forgotten (it described the old owner's unread count).
    save: db.prepare<Record<string, unknown>, DeviceRow>(
      `INSERT INTO mobile_devices (id, user_id, platform, token, app_id, created_at, updated_at)
       VALUES (@id, @userId, @platform, @token, @appId, @createdAt, @updatedAt)
       ON CONFLICT (platform, token) DO UPDATE SET
         badge = CASE WHEN user_id = excluded.user_id THEN badge ELSE NULL END,
         user_id = excluded.user_id, app_id = excluded.app_id, updated_at = excluded.updated_at
       RETURNING *`,
    ),
    byUser: db.prepare<[string], DeviceRow>("SELECT * FROM mobile_devices WHERE user_id = ? ORDER BY created_at, id"),
    byUserAndPlatform: db.prepare<[string, string], DeviceRow>("SELECT * FROM mobile_devices WHERE user_id = ? AND platform = ? ORDER BY created_at, id"),
    deleteForUser: db.prepare<[string, string]>("DELETE FROM mobile_devices WHERE user_id = ? AND token = ?"),
    deleteByToken: db.prepare<[string, string]>("DELETE FROM mobile_devices WHERE platform = ? AND token = ?"),
    setBadge: db.prepare<[number, string, string]>("UPDATE mobile_devices SET badge = ? WHERE platform = ? AND token = ?"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link DeviceStore}: table `mobile_devices` in the main store's SQLite file, under
 * its own migrations.
 *
 * @example
 * const devices = new SqliteDeviceStore(db);
 * await devices.init();
 */
export class SqliteDeviceStore extends SqliteComponent<Statements> implements DeviceStore {
  /** @param db the main store's open connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteDeviceStore");
  }

  /** Applies pending migrations (recorded in `schema_versions` under `mobile_devices`). */
  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  saveDevice(device: DeviceRecord): Promise<DeviceRecord> {
    return this.run(() => {
      const row = this.q.save.get({
        id: device.id,
        userId: device.userId,
        platform: device.platform,
        token: device.token,
        appId: device.appId ?? null,
        createdAt: device.createdAt,
        updatedAt: device.updatedAt,
      });
      if (!row) throw new Error("INSERT … RETURNING returned no row");
      return toDevice(row);
    });
  }

  listDevices(userId: string, platform?: DevicePlatform): Promise<DeviceRecord[]> {
    return this.run(() => (platform ? this.q.byUserAndPlatform.all(userId, platform) : this.q.byUser.all(userId)).map(toDevice));
  }

  deleteDevice(userId: string, token: string): Promise<boolean> {
    return this.run(() => this.q.deleteForUser.run(userId, token).changes > 0);
  }

  deleteDeviceByToken(platform: DevicePlatform, token: string): Promise<boolean> {
    return this.run(() => this.q.deleteByToken.run(platform, token).changes > 0);
  }

  setBadge(platform: DevicePlatform, token: string, badge: number): Promise<void> {
    return this.run(() => {
      this.q.setBadge.run(badge, platform, token);
    });
  }
}

function toDevice(r: DeviceRow): DeviceRecord {
  const device: DeviceRecord = { id: r.id, userId: r.user_id, platform: r.platform as DevicePlatform, token: r.token, createdAt: r.created_at, updatedAt: r.updated_at };
  if (r.app_id !== null) device.appId = r.app_id;
  if (r.badge !== null) device.badge = r.badge;
  return device;
}
