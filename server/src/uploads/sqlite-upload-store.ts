import { SqliteComponent, type SqliteDatabase } from "../store/sqlite-component.js";
import {
  explainAttachRefusal,
  type AttachOutcome,
  type MmsVariant,
  type UploadHolder,
  type UploadOwner,
  type UploadRecord,
  type UploadStore,
  type UploadThumbnail,
} from "./upload-store.js";

/** This component's row in `schema_versions` (the main store owns `PRAGMA user_version`). */
const COMPONENT = "uploads";

/**
 * Migrations of the upload tables; append, never edit a shipped entry. Times are epoch ms.
 * `expires_at` is set exactly while no message holds the upload; `delete_after` once its message
 * released it. The partial indexes serve the sweeper's two questions.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL, -- 'user' | 'backend'
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    thumbnail TEXT, -- JSON UploadThumbnail
    blob_original TEXT NOT NULL,
    blob_thumbnail TEXT,
    blob_mms TEXT,
    mms TEXT, -- JSON MmsVariant
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    conversation_id TEXT,
    message_id TEXT,
    delete_after INTEGER
  ) STRICT;
  CREATE INDEX uploads_unattached_expiry ON uploads (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX uploads_released ON uploads (delete_after) WHERE delete_after IS NOT NULL;
  CREATE TABLE upload_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  `,
];

/** The setting holding the link-signing key. */
const LINK_KEY_SETTING = "link-key";

interface Row {
  id: string;
  owner_kind: "user" | "backend";
  owner_id: string;
  name: string;
  mime_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  thumbnail: string | null;
  blob_original: string;
  blob_thumbnail: string | null;
  blob_mms: string | null;
  mms: string | null;
  created_at: number;
  expires_at: number | null;
  conversation_id: string | null;
  message_id: string | null;
  delete_after: number | null;
}

type InsertParams = Omit<Row, "conversation_id" | "message_id" | "delete_after"> & {
  conversation_id: string | null;
  message_id: string | null;
  delete_after: number | null;
};

/** Due: unattached past its expiry, or released past its retention. */
const DUE = "((expires_at IS NOT NULL AND expires_at <= @now) OR (delete_after IS NOT NULL AND delete_after <= @now))";

function prepareStatements(db: SqliteDatabase) {
  return {
    insert: db.prepare<InsertParams>(
      `INSERT INTO uploads (id, owner_kind, owner_id, name, mime_type, size, sha256, width, height, thumbnail, blob_original, blob_thumbnail,
         blob_mms, mms, created_at, expires_at, conversation_id, message_id, delete_after)
       VALUES (@id, @owner_kind, @owner_id, @name, @mime_type, @size, @sha256, @width, @height, @thumbnail, @blob_original, @blob_thumbnail,
         @blob_mms, @mms, @created_at, @expires_at, @conversation_id, @message_id, @delete_after)`,
    ),
    get: db.prepare<[string], Row>("SELECT * FROM uploads WHERE id = ?"),
    attach: db.prepare<{ id: string; now: number; conversationId: string; messageId: string }>(
      `UPDATE uploads SET conversation_id = @conversationId, message_id = @messageId, expires_at = NULL
       WHERE id = @id AND message_id IS NULL AND delete_after IS NULL AND expires_at > @now`,
    ),
    release: db.prepare<{ id: string; messageId: string; deleteAfter: number }>(
      "UPDATE uploads SET delete_after = @deleteAfter WHERE id = @id AND message_id = @messageId AND delete_after IS NULL",
    ),
    setMms: db.prepare<{ id: string; blob: string; mms: string }>("UPDATE uploads SET blob_mms = @blob, mms = @mms WHERE id = @id"),
    listDue: db.prepare<{ now: number; limit: number }, Row>(`SELECT * FROM uploads WHERE ${DUE} LIMIT @limit`),
    remove: db.prepare<{ id: string; now: number }>(`DELETE FROM uploads WHERE id = @id AND ${DUE}`),
    getSetting: db.prepare<[string], { value: string }>("SELECT value FROM upload_settings WHERE key = ?"),
    insertSettingIfAbsent: db.prepare<[string, string]>("INSERT INTO upload_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link UploadStore}: tables in the main SQLite file, on the main store's
 * connection. An attach is one conditional UPDATE, so processes sharing the file see one holder.
 */
export class SqliteUploadStore extends SqliteComponent<Statements> implements UploadStore {
  /** @param db the main store's connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteUploadStore");
  }

  /** Applies pending migrations (recorded in `schema_versions` under `uploads`). */
  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  create(record: UploadRecord): Promise<void> {
    return this.run(() => {
      this.q.insert.run(toRow(record));
    });
  }

  get(id: string): Promise<UploadRecord | null> {
    return this.run(() => {
      const row = this.q.get.get(id);
      return row ? toRecord(row) : null;
    });
  }

  attach(id: string, holder: UploadHolder, now: Date): Promise<AttachOutcome> {
    return this.run(() =>
      this.db
        .transaction((): AttachOutcome => {
          const { changes } = this.q.attach.run({ id, now: now.getTime(), conversationId: holder.conversationId, messageId: holder.messageId });
          if (changes === 1) return { kind: "attached" };
          const row = this.q.get.get(id);
          return explainAttachRefusal(row ? toRecord(row) : null, holder);
        })
        .immediate(),
    );
  }

  release(id: string, messageId: string, deleteAfter: Date): Promise<boolean> {
    return this.run(() => this.q.release.run({ id, messageId, deleteAfter: deleteAfter.getTime() }).changes === 1);
  }

  setMmsVariant(id: string, blobKey: string, variant: MmsVariant): Promise<UploadRecord | null> {
    return this.run(() => {
      this.q.setMms.run({ id, blob: blobKey, mms: JSON.stringify(variant) });
      const row = this.q.get.get(id);
      return row ? toRecord(row) : null;
    });
  }

  listDue(now: Date, limit: number): Promise<UploadRecord[]> {
    return this.run(() => this.q.listDue.all({ now: now.getTime(), limit }).map(toRecord));
  }

  remove(id: string, now: Date): Promise<boolean> {
    return this.run(() => this.q.remove.run({ id, now: now.getTime() }).changes === 1);
  }

  linkKey(candidate: string): Promise<string> {
    return this.run(() => {
      this.q.insertSettingIfAbsent.run(LINK_KEY_SETTING, candidate);
      return this.q.getSetting.get(LINK_KEY_SETTING)!.value;
    });
  }
}

function toRow(r: UploadRecord): InsertParams {
  return {
    id: r.id,
    owner_kind: r.owner.kind,
    owner_id: r.owner.kind === "user" ? r.owner.userId : r.owner.keyId,
    name: r.name,
    mime_type: r.mimeType,
    size: r.size,
    sha256: r.sha256,
    width: r.width ?? null,
    height: r.height ?? null,
    thumbnail: r.thumbnail ? JSON.stringify(r.thumbnail) : null,
    blob_original: r.blobs.original,
    blob_thumbnail: r.blobs.thumbnail ?? null,
    blob_mms: r.blobs.mms ?? null,
    mms: r.mms ? JSON.stringify(r.mms) : null,
    created_at: Date.parse(r.createdAt),
    expires_at: r.expiresAt === undefined ? null : Date.parse(r.expiresAt),
    conversation_id: r.attachedTo?.conversationId ?? null,
    message_id: r.attachedTo?.messageId ?? null,
    delete_after: r.deleteAfter === undefined ? null : Date.parse(r.deleteAfter),
  };
}

function toRecord(row: Row): UploadRecord {
  const owner: UploadOwner = row.owner_kind === "user" ? { kind: "user", userId: row.owner_id } : { kind: "backend", keyId: row.owner_id };
  const record: UploadRecord = {
    id: row.id,
    owner,
    name: row.name,
    mimeType: row.mime_type,
    size: row.size,
    sha256: row.sha256,
    blobs: { original: row.blob_original },
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.width !== null) record.width = row.width;
  if (row.height !== null) record.height = row.height;
  if (row.thumbnail !== null) record.thumbnail = JSON.parse(row.thumbnail) as UploadThumbnail;
  if (row.blob_thumbnail !== null) record.blobs.thumbnail = row.blob_thumbnail;
  if (row.blob_mms !== null) record.blobs.mms = row.blob_mms;
  if (row.mms !== null) record.mms = JSON.parse(row.mms) as MmsVariant;
  if (row.expires_at !== null) record.expiresAt = new Date(row.expires_at).toISOString();
  if (row.message_id !== null) record.attachedTo = { conversationId: row.conversation_id ?? "", messageId: row.message_id };
  if (row.delete_after !== null) record.deleteAfter = new Date(row.delete_after).toISOString();
  return record;
}
