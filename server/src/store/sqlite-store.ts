import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type {
  Attachment,
  Conversation,
  ConversationSummary,
  ConversationType,
  Member,
  Message,
  MessageType,
  User,
  UserRole,
} from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../core/errors.js";
import type {
  ApiKeyRecord,
  ApiKeyRotation,
  AppendResult,
  ConversationListQuery,
  HistoryQuery,
  MessagePage,
  MessagePatch,
  NewConversation,
  NewMessage,
  Store,
  UserInput,
} from "./store.js";
import { mapSqliteError, SqliteComponent, type SqliteDatabase } from "./sqlite-component.js";

/** Re-exported for the other SQLite drivers and callers that open the database here. */
export { mapSqliteError, type SqliteDatabase };

/** An open better-sqlite3 connection. */

/** How {@link openSqliteDatabase} configures the connection (the `Config.sqlite` slice). */
export interface SqliteOpenOptions {
  /**
   * `PRAGMA synchronous`. `FULL` (the configuration default) fsyncs the WAL on every commit, so an
   * acknowledged message survives power loss; `NORMAL` survives a process crash only.
   */
  synchronous: "FULL" | "NORMAL";
  /** How long a writer waits for another connection's or process's write lock (ms). */
  busyTimeoutMs: number;
}

/**
 * Opens (creating it and its directory when missing) the embedded database file and configures it
 * for Switchboard: `journal_mode=WAL` so readers never block the writer, the given `synchronous`
 * level, `busy_timeout` so several processes can share the file, and `foreign_keys=ON`.
 * Called once by the composition root; the result is handed to {@link SqliteStore}.
 * Throws `unavailable` when the file cannot be opened or WAL mode cannot be enabled.
 */
export function openSqliteDatabase(file: string, opts: SqliteOpenOptions): SqliteDatabase {
  if (opts.synchronous !== "FULL" && opts.synchronous !== "NORMAL") {
    throw new TypeError(`synchronous must be FULL or NORMAL, got ${String(opts.synchronous)}`);
  }
  const busyTimeoutMs = Math.max(0, Math.trunc(opts.busyTimeoutMs));
  const inMemory = file === ":memory:" || file === "";
  let db: SqliteDatabase;
  try {
    if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw new SwitchboardError(
      "unavailable",
      `Cannot open the SQLite database ${file}: ${errorMessage(err)}. Check that DATA_DIR exists and is writable.`,
      { cause: err },
    );
  }
  try {
    // busy_timeout first: switching to WAL needs a lock another starting process may hold.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal" && !inMemory) {
      throw new SwitchboardError(
        "unavailable",
        `SQLite refused WAL mode for ${file} (it reported "${String(mode)}"); put DATA_DIR on a local file system.`,
      );
    }
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma("foreign_keys = ON");
  } catch (err) {
    db.close();
    throw mapSqliteError(err, busyTimeoutMs);
  }
  return db;
}

/**
 * Schema migrations, applied in order by {@link SqliteStore.init}. `PRAGMA user_version` records how
 * many have run, so a later release appends an entry here and never edits a shipped one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT,
    phone TEXT,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    title TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    -- createdAt of the message with last_seq, else created_at; orders conversation lists.
    last_activity_at TEXT NOT NULL
  ) STRICT;

  -- A rowid table on purpose: ORDER BY rowid keeps members in the order they joined.
  CREATE TABLE members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
  ) STRICT;
  CREATE INDEX members_by_user ON members (user_id, conversation_id);

  CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    client_message_id TEXT,
    type TEXT NOT NULL,
    text TEXT NOT NULL,
    attachments TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
  ) STRICT;
  CREATE UNIQUE INDEX messages_idempotency ON messages (sender_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
  ) STRICT;
  `,
  // 2: message edits and deletes; API key rotation with a grace period for the previous secret.
  `
  ALTER TABLE messages ADD COLUMN edited_at TEXT;
  ALTER TABLE messages ADD COLUMN deleted_at TEXT;
  ALTER TABLE api_keys ADD COLUMN previous_hash TEXT;
  ALTER TABLE api_keys ADD COLUMN previous_key_expires_at TEXT;
  CREATE UNIQUE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;
  `,
];

interface UserRow {
  id: string;
  name: string | null;
  phone: string | null;
  role: string;
  created_at: string;
}
interface ConversationRow {
  id: string;
  type: string;
  title: string | null;
  last_seq: number;
  created_at: string;
  last_activity_at: string;
}
interface MemberRow {
  user_id: string;
  role: string;
  last_read_seq: number;
  joined_at: string;
}
interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_message_id: string | null;
  type: string;
  text: string;
  attachments: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}
interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  previous_hash: string | null;
  previous_key_expires_at: string | null;
}

const MESSAGE_COLUMNS = "id, conversation_id, seq, sender_id, client_message_id, type, text, attachments, created_at, edited_at, deleted_at";
/** What a new message fills in; edits and deletes come later through updateMessage. */
const INSERT_MESSAGE_COLUMNS = "id, conversation_id, seq, sender_id, client_message_id, type, text, attachments, created_at";

/** Every statement the store runs, prepared once in `init()` (after the schema exists). */
function prepareStatements(db: SqliteDatabase) {
  return {
    upsertUser: db.prepare<{ id: string; name: string | null; phone: string | null; role: string | null; now: string }, UserRow>(
      `INSERT INTO users (id, name, phone, role, created_at) VALUES (@id, @name, @phone, coalesce(@role, 'user'), @now)
       ON CONFLICT (id) DO UPDATE SET
         name = coalesce(excluded.name, users.name),
         phone = coalesce(excluded.phone, users.phone),
         role = coalesce(@role, users.role)
       RETURNING id, name, phone, role, created_at`,
    ),
    getUser: db.prepare<[string], UserRow>("SELECT id, name, phone, role, created_at FROM users WHERE id = ?"),

    insertConversation: db.prepare<[string, string, string | null, string, string]>(
      "INSERT INTO conversations (id, type, title, last_seq, created_at, last_activity_at) VALUES (?, ?, ?, 0, ?, ?)",
    ),
    getConversation: db.prepare<[string], ConversationRow>(
      "SELECT id, type, title, last_seq, created_at, last_activity_at FROM conversations WHERE id = ?",
    ),
    lastSeq: db.prepare<[string], { last_seq: number }>("SELECT last_seq FROM conversations WHERE id = ?"),
    advanceSenderRead: db.prepare<[number, string, string]>(
      "UPDATE members SET last_read_seq = MAX(last_read_seq, ?) WHERE conversation_id = ? AND user_id = ?",
    ),
    advanceConversation: db.prepare<[number, string, string]>(
      "UPDATE conversations SET last_seq = ?, last_activity_at = ? WHERE id = ?",
    ),
    listConversations: db.prepare<
      { userId: string; before: string; limit: number },
      ConversationRow & { my_last_read_seq: number }
    >(
      `SELECT c.id, c.type, c.title, c.last_seq, c.created_at, c.last_activity_at, m.last_read_seq AS my_last_read_seq
       FROM members m JOIN conversations c ON c.id = m.conversation_id
       WHERE m.user_id = @userId AND c.last_activity_at < @before
       ORDER BY c.last_activity_at DESC, c.id DESC
       LIMIT @limit`,
    ),

    insertMember: db.prepare<[string, string, string, string]>(
      `INSERT INTO members (conversation_id, user_id, role, last_read_seq, joined_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (conversation_id, user_id) DO NOTHING`,
    ),
    deleteMember: db.prepare<[string, string]>("DELETE FROM members WHERE conversation_id = ? AND user_id = ?"),
    members: db.prepare<[string], MemberRow>(
      "SELECT user_id, role, last_read_seq, joined_at FROM members WHERE conversation_id = ? ORDER BY rowid",
    ),
    member: db.prepare<[string, string], MemberRow>(
      "SELECT user_id, role, last_read_seq, joined_at FROM members WHERE conversation_id = ? AND user_id = ?",
    ),
    readState: db.prepare<[string, string], { last_read_seq: number; last_seq: number }>(
      `SELECT m.last_read_seq, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
       WHERE m.conversation_id = ? AND m.user_id = ?`,
    ),
    setReadSeq: db.prepare<[number, string, string]>(
      "UPDATE members SET last_read_seq = ? WHERE conversation_id = ? AND user_id = ?",
    ),
    contacts: db.prepare<[string, string, number], { user_id: string }>(
      `SELECT DISTINCT other.user_id FROM members mine
       JOIN members other ON other.conversation_id = mine.conversation_id
       WHERE mine.user_id = ? AND other.user_id <> ?
       ORDER BY other.user_id LIMIT ?`,
    ),

    insertMessage: db.prepare<
      [string, string, number, string, string | null, string, string, string | null, string]
    >(`INSERT INTO messages (${INSERT_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    messageById: db.prepare<[string, string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND id = ?`,
    ),
    updateMessage: db.prepare<{ text: string; attachments: string | null; editedAt: string | null; deletedAt: string | null; conversationId: string; id: string }>(
      `UPDATE messages SET text = @text, attachments = @attachments, edited_at = @editedAt, deleted_at = @deletedAt
       WHERE conversation_id = @conversationId AND id = @id`,
    ),
    messageByClientId: db.prepare<[string, string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_id = ? AND client_message_id = ?`,
    ),
    messageBySeq: db.prepare<[string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?`,
    ),
    // Sentinels instead of optional bounds keep one index range scan per direction.
    messagesAscending: db.prepare<{ conversationId: string; after: number; before: number; limit: number }, MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
       WHERE conversation_id = @conversationId AND seq > @after AND seq < @before
       ORDER BY seq ASC LIMIT @limit`,
    ),
    messagesDescending: db.prepare<{ conversationId: string; after: number; before: number; limit: number }, MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
       WHERE conversation_id = @conversationId AND seq > @after AND seq < @before
       ORDER BY seq DESC LIMIT @limit`,
    ),

    insertApiKey: db.prepare<[string, string, string, string, string, string, string | null, string | null]>(
      `INSERT INTO api_keys (id, name, prefix, hash, scopes, created_at, last_used_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    apiKeyByHash: db.prepare<{ hash: string }, ApiKeyRow>("SELECT * FROM api_keys WHERE hash = @hash OR previous_hash = @hash LIMIT 1"),
    // Expressions on the right read the row as it was, so previous_hash takes the old hash.
    rotateApiKey: db.prepare<[string, string, string, string], ApiKeyRow>(
      `UPDATE api_keys SET previous_hash = hash, hash = ?, prefix = ?, previous_key_expires_at = ?
       WHERE id = ? AND revoked_at IS NULL RETURNING *`,
    ),
    apiKeys: db.prepare<[], ApiKeyRow>("SELECT * FROM api_keys ORDER BY created_at, id"),
    revokeApiKey: db.prepare<[string, string]>("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
    // Monotonic, so a late touch from a slow request never moves lastUsedAt back.
    touchApiKey: db.prepare<[string, string, string]>(
      "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
    ),
    ping: db.prepare<[], { ok: number }>("SELECT 1 AS ok"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded, first-class {@link Store} driver: one SQLite file in WAL mode, shareable by several
 * processes on one machine.
 *
 * better-sqlite3 is synchronous, so calls in one process never interleave; across processes every
 * write that reads before it writes runs in `BEGIN IMMEDIATE`, which takes the file's write lock
 * before the first read and so serialises `seq` assignment. A writer waiting for the lock blocks
 * its event loop for up to `busy_timeout`, then fails with `unavailable`.
 *
 * @example
 * const store = new SqliteStore(openSqliteDatabase(path.join(config.dataDir, "switchboard.db"), config.sqlite));
 * await store.init();
 */
export class SqliteStore extends SqliteComponent<Statements> implements Store {

  /** @param db an open connection, normally from {@link openSqliteDatabase}; `close()` closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteStore");
  }

  /** Applies pending migrations (recorded in `PRAGMA user_version`) and prepares statements. */
  init(): Promise<void> {
    return this.run(() => {
      // IMMEDIATE so that processes starting together migrate one after the other.
      this.db
        .transaction(() => {
          const version = Number(this.db.pragma("user_version", { simple: true }));
          if (version > MIGRATIONS.length) {
            throw new SwitchboardError(
              "unavailable",
              `The SQLite database has schema version ${version}, newer than this Switchboard (${MIGRATIONS.length}); upgrade Switchboard or restore a backup.`,
            );
          }
          for (const sql of MIGRATIONS.slice(version)) this.db.exec(sql);
          if (version < MIGRATIONS.length) this.db.pragma(`user_version = ${MIGRATIONS.length}`);
        })
        .immediate();
      this.prepare(prepareStatements);
    });
  }

  ping(): Promise<void> {
    return this.run(() => {
      this.q.ping.get();
    });
  }

  close(): Promise<void> {
    return this.run(() => {
      if (this.db.open) this.db.close();
    });
  }

  upsertUser(input: UserInput, now: string): Promise<User> {
    return this.run(() => {
      const row = this.q.upsertUser.get({
        id: input.id,
        name: input.name ?? null,
        phone: input.phone ?? null,
        role: input.role ?? null,
        now,
      });
      if (!row) throw new Error("INSERT … RETURNING returned no row");
      return toUser(row);
    });
  }

  getUser(id: string): Promise<User | null> {
    return this.run(() => {
      const row = this.q.getUser.get(id);
      return row ? toUser(row) : null;
    });
  }

  createConversation(input: NewConversation): Promise<Conversation> {
    return this.run(() =>
      this.db
        .transaction(() => {
          if (this.q.getConversation.get(input.id)) {
            throw new SwitchboardError("conflict", `Conversation ${input.id} already exists.`);
          }
          this.q.insertConversation.run(input.id, input.type, input.title ?? null, input.createdAt, input.createdAt);
          // ON CONFLICT DO NOTHING: a repeated member keeps its first role instead of failing.
          for (const m of input.members) this.q.insertMember.run(input.id, m.userId, m.role, input.createdAt);
          return this.loadConversation(input.id);
        })
        .immediate(),
    ).then(orNotFound(input.id));
  }

  getConversation(id: string): Promise<Conversation | null> {
    // One read transaction so the members and lastSeq come from the same snapshot.
    return this.run(() => this.db.transaction(() => this.loadConversation(id)).deferred());
  }

  getMember(conversationId: string, userId: string): Promise<Member | null> {
    return this.run(() => {
      const row = this.q.member.get(conversationId, userId);
      return row ? toMember(row) : null;
    });
  }

  addMember(conversationId: string, userId: string, role: string, now: string): Promise<Conversation> {
    return this.run(() =>
      this.db
        .transaction(() => {
          this.requireConversation(conversationId);
          this.q.insertMember.run(conversationId, userId, role, now);
          return this.loadConversation(conversationId);
        })
        .immediate(),
    ).then(orNotFound(conversationId));
  }

  removeMember(conversationId: string, userId: string): Promise<Conversation> {
    return this.run(() =>
      this.db
        .transaction(() => {
          this.requireConversation(conversationId);
          this.q.deleteMember.run(conversationId, userId);
          return this.loadConversation(conversationId);
        })
        .immediate(),
    ).then(orNotFound(conversationId));
  }

  listConversations(userId: string, query: ConversationListQuery): Promise<ConversationSummary[]> {
    return this.run(() => {
      // Normalised so a cursor without milliseconds compares correctly with stored toISOString()
      // values; "\uffff" sorts after every timestamp, i.e. no upper bound.
      const before = query.before === undefined ? "\uffff" : canonicalTime(query.before);
      return this.db
        .transaction(() =>
          this.q.listConversations.all({ userId, before, limit: query.limit }).map((row): ConversationSummary => {
            const summary: ConversationSummary = {
              conversation: toConversation(row, this.q.members.all(row.id)),
              unreadCount: Math.max(0, row.last_seq - row.my_last_read_seq),
            };
            const last = row.last_seq > 0 ? this.q.messageBySeq.get(row.id, row.last_seq) : undefined;
            if (last) summary.lastMessage = toMessage(last);
            return summary;
          }),
        )
        .deferred();
    });
  }

  listContacts(userId: string, limit: number): Promise<string[]> {
    return this.run(() => this.q.contacts.all(userId, userId, limit).map((r) => r.user_id));
  }

  appendMessage(input: NewMessage): Promise<AppendResult> {
    return this.run(() =>
      // IMMEDIATE takes the write lock before reading last_seq: no other connection or process can
      // commit between that read and our insert, so seq is gapless and in commit order. The
      // idempotency lookup sits in the same transaction for the same reason.
      this.db
        .transaction((): AppendResult => {
          const conversation = this.q.lastSeq.get(input.conversationId);
          if (!conversation) throw conversationNotFound(input.conversationId);
          if (input.clientMessageId !== undefined) {
            const original = this.q.messageByClientId.get(input.senderId, input.clientMessageId);
            // Returned even when it belongs to another conversation; the service layer decides.
            if (original) return { kind: "duplicate", message: toMessage(original) };
          }
          const message = messageFrom(input, conversation.last_seq + 1);
          this.q.insertMessage.run(
            message.id,
            message.conversationId,
            message.seq,
            message.senderId,
            message.clientMessageId ?? null,
            message.type,
            message.text,
            message.attachments === undefined ? null : JSON.stringify(message.attachments),
            message.createdAt,
          );
          this.q.advanceConversation.run(message.seq, message.createdAt, message.conversationId);
          // Senders have read what they wrote: their own messages never count as unread.
          this.q.advanceSenderRead.run(message.seq, message.conversationId, message.senderId);
          return { kind: "created", message };
        })
        .immediate(),
    );
  }

  getMessages(conversationId: string, query: HistoryQuery): Promise<MessagePage> {
    return this.run(() => {
      const limit = Math.max(0, Math.trunc(query.limit));
      // One row past the page tells whether more exist, without a COUNT.
      const params = {
        conversationId,
        after: query.afterSeq ?? 0,
        before: query.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit: limit + 1,
      };
      // With afterSeq the page is the oldest above it; otherwise the newest below beforeSeq.
      const ascending = query.afterSeq !== undefined;
      const rows = (ascending ? this.q.messagesAscending : this.q.messagesDescending).all(params);
      const hasMore = rows.length > limit;
      const page = rows.slice(0, limit);
      if (!ascending) page.reverse();
      return { messages: page.map(toMessage), hasMore };
    });
  }

  getMessage(conversationId: string, messageId: string): Promise<Message | null> {
    return this.run(() => {
      const row = this.q.messageById.get(conversationId, messageId);
      return row ? toMessage(row) : null;
    });
  }

  getMessageByClientId(senderId: string, clientMessageId: string): Promise<Message | null> {
    return this.run(() => {
      const row = this.q.messageByClientId.get(senderId, clientMessageId);
      return row ? toMessage(row) : null;
    });
  }

  updateMessage(conversationId: string, messageId: string, patch: MessagePatch): Promise<Message | null> {
    return this.run(() =>
      // IMMEDIATE: the deleted check and the write are one step, so an edit racing a delete
      // (from another process) cannot resurrect the deleted content.
      this.db
        .transaction((): Message | null => {
          const row = this.q.messageById.get(conversationId, messageId);
          if (!row) return null;
          if (row.deleted_at !== null) throw messageDeleted(messageId, row.deleted_at);
          const next: MessageRow = {
            ...row,
            text: patch.text ?? row.text,
            attachments:
              patch.attachments === undefined
                ? row.attachments
                : patch.attachments === null || patch.attachments.length === 0
                  ? null
                  : JSON.stringify(patch.attachments),
            edited_at: patch.editedAt ?? row.edited_at,
            deleted_at: patch.deletedAt ?? row.deleted_at,
          };
          this.q.updateMessage.run({
            text: next.text,
            attachments: next.attachments,
            editedAt: next.edited_at,
            deletedAt: next.deleted_at,
            conversationId,
            id: messageId,
          });
          return toMessage(next);
        })
        .immediate(),
    );
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; moved: boolean }> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const state = this.q.readState.get(conversationId, userId);
          if (!state) {
            throw new SwitchboardError("not_found", `User ${userId} is not a member of conversation ${conversationId}.`);
          }
          // Capped at last_seq so a client cannot mark messages read that do not exist yet.
          const target = Math.min(seq, state.last_seq);
          if (target <= state.last_read_seq) return { lastReadSeq: state.last_read_seq, moved: false };
          this.q.setReadSeq.run(target, conversationId, userId);
          return { lastReadSeq: target, moved: true };
        })
        .immediate(),
    );
  }

  createApiKey(record: ApiKeyRecord): Promise<void> {
    return this.run(() => {
      this.q.insertApiKey.run(
        record.id,
        record.name,
        record.prefix,
        record.hash,
        JSON.stringify(record.scopes),
        record.createdAt,
        record.lastUsedAt ?? null,
        record.revokedAt ?? null,
      );
    });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.run(() => {
      const row = this.q.apiKeyByHash.get({ hash });
      return row ? toApiKey(row) : null;
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.run(() => this.q.apiKeys.all().map(toApiKey));
  }

  rotateApiKey(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | null> {
    return this.run(() => {
      const row = this.q.rotateApiKey.get(rotation.hash, rotation.prefix, rotation.previousKeyExpiresAt, id);
      return row ? toApiKey(row) : null;
    });
  }

  revokeApiKey(id: string, now: string): Promise<boolean> {
    return this.run(() => this.q.revokeApiKey.run(now, id).changes > 0);
  }

  touchApiKey(id: string, now: string): Promise<void> {
    return this.run(() => {
      this.q.touchApiKey.run(now, id, now);
    });
  }



  private requireConversation(id: string): void {
    if (!this.q.lastSeq.get(id)) throw conversationNotFound(id);
  }

  /** Call inside a transaction: the conversation row and its members must be one snapshot. */
  private loadConversation(id: string): Conversation | null {
    const row = this.q.getConversation.get(id);
    return row ? toConversation(row, this.q.members.all(id)) : null;
  }
}

function messageDeleted(messageId: string, deletedAt: string): SwitchboardError {
  return new SwitchboardError("conflict", `Message ${messageId} was deleted at ${deletedAt}; a deleted message cannot be changed.`);
}

function conversationNotFound(id: string): SwitchboardError {
  return new SwitchboardError("not_found", `Conversation ${id} does not exist.`);
}

/** Narrows a conversation re-read inside the transaction that checked it exists (null cannot happen there). */
function orNotFound(id: string) {
  return (conversation: Conversation | null): Conversation => {
    if (!conversation) throw conversationNotFound(id);
    return conversation;
  };
}

function canonicalTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new SwitchboardError("invalid_argument", `${JSON.stringify(iso)} is not an ISO-8601 time.`);
  return new Date(ms).toISOString();
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}


function toUser(r: UserRow): User {
  const user: User = { id: r.id, role: r.role as UserRole, createdAt: r.created_at };
  if (r.name !== null) user.name = r.name;
  if (r.phone !== null) user.phone = r.phone;
  return user;
}

function toMember(r: MemberRow): Member {
  return { userId: r.user_id, role: r.role, lastReadSeq: r.last_read_seq, joinedAt: r.joined_at };
}

function toConversation(r: ConversationRow, members: MemberRow[]): Conversation {
  const conversation: Conversation = {
    id: r.id,
    type: r.type as ConversationType,
    members: members.map(toMember),
    lastSeq: r.last_seq,
    createdAt: r.created_at,
  };
  if (r.title !== null) conversation.title = r.title;
  return conversation;
}

function toMessage(r: MessageRow): Message {
  const message: Message = {
    id: r.id,
    conversationId: r.conversation_id,
    seq: r.seq,
    senderId: r.sender_id,
    type: r.type as MessageType,
    text: r.text,
    createdAt: r.created_at,
  };
  if (r.client_message_id !== null) message.clientMessageId = r.client_message_id;
  if (r.attachments !== null) message.attachments = JSON.parse(r.attachments) as Attachment[];
  if (r.edited_at !== null) message.editedAt = r.edited_at;
  if (r.deleted_at !== null) {
    message.deletedAt = r.deleted_at;
    message.deleted = true;
  }
  return message;
}

function messageFrom(input: NewMessage, seq: number): Message {
  const message: Message = {
    id: input.id,
    conversationId: input.conversationId,
    seq,
    senderId: input.senderId,
    type: input.type,
    text: input.text,
    createdAt: input.createdAt,
  };
  if (input.clientMessageId !== undefined) message.clientMessageId = input.clientMessageId;
  if (input.attachments !== undefined) message.attachments = input.attachments;
  return message;
}

function toApiKey(r: ApiKeyRow): ApiKeyRecord {
  const record: ApiKeyRecord = {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: r.created_at,
  };
  if (r.last_used_at !== null) record.lastUsedAt = r.last_used_at;
  if (r.revoked_at !== null) record.revokedAt = r.revoked_at;
  if (r.previous_hash !== null) record.previousHash = r.previous_hash;
  if (r.previous_key_expires_at !== null) record.previousKeyExpiresAt = r.previous_key_expires_at;
  return record;
}
