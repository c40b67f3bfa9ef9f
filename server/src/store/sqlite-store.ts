import fs from "node:fs";
import path from "node:path";
import Database, { type Statement } from "better-sqlite3";
import type {
  Attachment,
  Conversation,
  ConversationSummary,
  ConversationType,
  Member,
  Message,
  MessageType,
  ReactionSummary,
  User,
  UserRole,
} from "../../../client-sdk/src/protocol.js";
import { LIMITS, replyExcerpt } from "../../../client-sdk/src/protocol.js";
import { notAMember, SwitchboardError } from "../core/errors.js";
import type {
  ApiKeyRecord,
  ApiKeyRotation,
  AppendResult,
  ChangesPage,
  ChangesQuery,
  ConversationListQuery,
  HistoryQuery,
  MessagePage,
  MessagePatch,
  NewConversation,
  NewMessage,
  PresenceAudience,
  ReactionInput,
  ReactionResult,
  Store,
  UserInput,
  ConversationView,
} from "./store.js";
import { listView } from "./store.js";
import { WalCheckpointer, type WalCheckpointerOptions } from "./sqlite-checkpointer.js";
import { mapSqliteError, SqliteComponent, type SqliteDatabase } from "./sqlite-component.js";

/** Re-exported for the other SQLite drivers and callers that open the database here. */
export { mapSqliteError, type SqliteDatabase };

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
 * `PRAGMA journal_mode = WAL`, retried while another process holds the lock. On a fresh file,
 * processes starting at the same moment race for the switch, and SQLite answers the loser
 * SQLITE_BUSY at once without calling the busy handler (measured: 2 of 160 opens, 4 processes
 * opening 40 fresh files together), so `busy_timeout` alone does not cover it. Found when the
 * benchmark started two nodes together and one refused to start.
 */
function switchToWal(db: SqliteDatabase, busyTimeoutMs: number): unknown {
  const deadline = Date.now() + busyTimeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return db.pragma("journal_mode = WAL", { simple: true });
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= deadline) throw err;
      // Opening is synchronous (the composition root waits for it), so this waits in place.
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
    }
  }
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
    const mode = switchToWal(db, busyTimeoutMs);
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
  // 3: replies, threads, reactions and per-conversation revisions (the change feed).
  `
  ALTER TABLE conversations ADD COLUMN last_rev INTEGER NOT NULL DEFAULT 0;
  -- The conversation revision of the message's latest change; 0 while it never changed.
  ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
  ALTER TABLE messages ADD COLUMN thread_id TEXT;
  ALTER TABLE messages ADD COLUMN thread_seq INTEGER;
  -- On a thread's parent: its latest thread_seq, and when that reply was written.
  ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN last_reply_at TEXT;
  -- JSON ReactionSummary[], kept in step with the reactions table in the same transaction.
  ALTER TABLE messages ADD COLUMN reactions TEXT;
  CREATE INDEX messages_by_rev ON messages (conversation_id, rev);
  CREATE INDEX messages_by_thread ON messages (thread_id, seq) WHERE thread_id IS NOT NULL;
  CREATE UNIQUE INDEX messages_thread_seq ON messages (thread_id, thread_seq) WHERE thread_id IS NOT NULL;

  -- id orders a message's reactions oldest first: an INTEGER PRIMARY KEY survives VACUUM, a bare rowid may not.
  CREATE TABLE reactions (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (message_id, emoji, user_id)
  ) STRICT;
  -- Ends in the implicit id, so one emoji's users come out oldest first without a sort.
  CREATE INDEX reactions_by_emoji ON reactions (message_id, emoji);
  `,
  // 4: the address email notifications go to.
  `
  ALTER TABLE users ADD COLUMN email TEXT;
  `,
];

interface UserRow {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
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
  last_rev: number;
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
  rev: number;
  reply_to_id: string | null;
  thread_id: string | null;
  thread_seq: number | null;
  reply_count: number;
  last_reply_at: string | null;
  reactions: string | null;
}
/** A message row with the message it quotes (`reply_to_id`) joined in; the quoted_ columns are null without one. */
interface MessageReadRow extends MessageRow {
  quoted_seq: number | null;
  quoted_sender_id: string | null;
  /** The quoted text's first characters (enough for the excerpt). */
  quoted_text: string | null;
  quoted_attachment_count: number | null;
  quoted_deleted_at: string | null;
}
/** What appendMessage checks of a message named by `replyToId` or `threadId`. */
interface ParentRow {
  conversation_id: string;
  thread_id: string | null;
  deleted_at: string | null;
  reply_count: number;
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

/**
 * Every read of messages: the row, and the message it quotes joined in, so `replyTo` always shows
 * the quoted message's current text or its deletion. `substr` keeps only what the excerpt needs.
 */
const MESSAGE_SELECT = `SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.type, m.text, m.attachments,
    m.created_at, m.edited_at, m.deleted_at, m.rev, m.reply_to_id, m.thread_id, m.thread_seq, m.reply_count, m.last_reply_at, m.reactions,
    q.seq AS quoted_seq, q.sender_id AS quoted_sender_id, substr(q.text, 1, ${LIMITS.replyExcerptLength}) AS quoted_text,
    json_array_length(q.attachments) AS quoted_attachment_count, q.deleted_at AS quoted_deleted_at
  FROM messages m LEFT JOIN messages q ON q.id = m.reply_to_id`;
/**
 * A page of a conversation's history, oldest above `@after` or newest below `@before`, bound by
 * name (`conversationId`, `after`, `before`, `limit`). Exported so the benchmark can show SQLite's
 * query plan for exactly these statements (a range scan of `UNIQUE (conversation_id, seq)`).
 */
export const HISTORY_PAGE_SQL = {
  ascending: `${MESSAGE_SELECT}
       WHERE m.conversation_id = @conversationId AND m.seq > @after AND m.seq < @before
       ORDER BY m.seq ASC LIMIT @limit`,
  descending: `${MESSAGE_SELECT}
       WHERE m.conversation_id = @conversationId AND m.seq > @after AND m.seq < @before
       ORDER BY m.seq DESC LIMIT @limit`,
} as const;
/** What a new message fills in; edits, deletes, reactions and thread counters come later. */
const INSERT_MESSAGE_COLUMNS = "id, conversation_id, seq, sender_id, client_message_id, type, text, attachments, created_at, reply_to_id, thread_id, thread_seq";
const CONVERSATION_COLUMNS = "id, type, title, last_seq, created_at, last_activity_at, last_rev";

/** Every statement the store runs, prepared once in `init()` (after the schema exists). */
function prepareStatements(db: SqliteDatabase) {
  return {
    upsertUser: db.prepare<{ id: string; name: string | null; phone: string | null; email: string | null; role: string | null; now: string }, UserRow>(
      `INSERT INTO users (id, name, phone, email, role, created_at) VALUES (@id, @name, @phone, @email, coalesce(@role, 'user'), @now)
       ON CONFLICT (id) DO UPDATE SET
         name = coalesce(excluded.name, users.name),
         phone = coalesce(excluded.phone, users.phone),
         email = coalesce(excluded.email, users.email),
         role = coalesce(@role, users.role)
       RETURNING id, name, phone, email, role, created_at`,
    ),
    getUser: db.prepare<[string], UserRow>("SELECT id, name, phone, email, role, created_at FROM users WHERE id = ?"),

    insertConversation: db.prepare<[string, string, string | null, string, string]>(
      "INSERT INTO conversations (id, type, title, last_seq, created_at, last_activity_at) VALUES (?, ?, ?, 0, ?, ?)",
    ),
    getConversation: db.prepare<[string], ConversationRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ?`),
    lastSeq: db.prepare<[string], { last_seq: number }>("SELECT last_seq FROM conversations WHERE id = ?"),
    appendCheck: db.prepare<
      { conversationId: string; senderId: string; clientMessageId: string | null },
      { last_seq: number; is_member: number; duplicate_id: string | null }
    >(
      `SELECT c.last_seq,
         EXISTS (SELECT 1 FROM members WHERE conversation_id = c.id AND user_id = @senderId) AS is_member,
         (SELECT id FROM messages WHERE sender_id = @senderId AND client_message_id = @clientMessageId) AS duplicate_id
       FROM conversations c WHERE c.id = @conversationId`,
    ),
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
      `SELECT c.id, c.type, c.title, c.last_seq, c.created_at, c.last_activity_at, c.last_rev, m.last_read_seq AS my_last_read_seq
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
    membersUpTo: db.prepare<[string, number], MemberRow>(
      "SELECT user_id, role, last_read_seq, joined_at FROM members WHERE conversation_id = ? ORDER BY rowid LIMIT ?",
    ),
    memberCount: db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM members WHERE conversation_id = ?"),
    unreadMembers: db
      .prepare<[string, string, number], string>("SELECT user_id FROM members WHERE conversation_id = ? AND user_id <> ? AND last_read_seq < ? ORDER BY rowid")
      .pluck(),
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
    // The size is counted only up to the limit + 1 (the caller's first bind), so a user in a
    // 10,000-member room does not make every connect walk 10,000 index entries.
    memberConversationSizes: db.prepare<[number, string], { conversation_id: string; size: number }>(
      `SELECT mine.conversation_id,
              (SELECT COUNT(*) FROM (SELECT 1 FROM members c WHERE c.conversation_id = mine.conversation_id LIMIT ?)) AS size
       FROM members mine WHERE mine.user_id = ?`,
    ),
    // The conversations arrive as one JSON array: one statement prepared once, whatever their number
    // (an IN list of placeholders was prepared again on every connect).
    membersOf: db.prepare<[string, string, number], { user_id: string }>(
      `SELECT DISTINCT user_id FROM members
       WHERE conversation_id IN (SELECT value FROM json_each(?)) AND user_id <> ? ORDER BY user_id LIMIT ?`,
    ),
    contacts: db.prepare<[string, string, number], { user_id: string }>(
      `SELECT DISTINCT other.user_id FROM members mine
       JOIN members other ON other.conversation_id = mine.conversation_id
       WHERE mine.user_id = ? AND other.user_id <> ?
       ORDER BY other.user_id LIMIT ?`,
    ),

    insertMessage: db.prepare<
      [string, string, number, string, string | null, string, string, string | null, string, string | null, string | null, number | null]
    >(`INSERT INTO messages (${INSERT_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    messageById: db.prepare<[string, string], MessageReadRow>(`${MESSAGE_SELECT} WHERE m.conversation_id = ? AND m.id = ?`),
    parentById: db.prepare<[string], ParentRow>("SELECT conversation_id, thread_id, deleted_at, reply_count FROM messages WHERE id = ?"),
    updateMessage: db.prepare<{
      text: string;
      attachments: string | null;
      editedAt: string | null;
      deletedAt: string | null;
      reactions: string | null;
      rev: number;
      conversationId: string;
      id: string;
    }>(
      `UPDATE messages SET text = @text, attachments = @attachments, edited_at = @editedAt, deleted_at = @deletedAt,
         reactions = @reactions, rev = @rev
       WHERE conversation_id = @conversationId AND id = @id`,
    ),
    // The revision counter: read and moved inside the IMMEDIATE transaction of the change it numbers.
    nextRev: db.prepare<[string], { last_rev: number }>("UPDATE conversations SET last_rev = last_rev + 1 WHERE id = ? RETURNING last_rev"),
    advanceThread: db.prepare<{ id: string; replyCount: number; at: string; rev: number }>(
      "UPDATE messages SET reply_count = @replyCount, last_reply_at = @at, rev = @rev WHERE id = @id",
    ),
    messageByClientId: db.prepare<[string, string], MessageReadRow>(`${MESSAGE_SELECT} WHERE m.sender_id = ? AND m.client_message_id = ?`),
    messageBySeq: db.prepare<[string, number], MessageReadRow>(`${MESSAGE_SELECT} WHERE m.conversation_id = ? AND m.seq = ?`),
    // Sentinels instead of optional bounds keep one index range scan per direction.
    messagesAscending: db.prepare<{ conversationId: string; after: number; before: number; limit: number }, MessageReadRow>(HISTORY_PAGE_SQL.ascending),
    messagesDescending: db.prepare<{ conversationId: string; after: number; before: number; limit: number }, MessageReadRow>(HISTORY_PAGE_SQL.descending),
    threadAscending: db.prepare<{ conversationId: string; threadId: string; after: number; before: number; limit: number }, MessageReadRow>(
      `${MESSAGE_SELECT}
       WHERE m.thread_id = @threadId AND m.conversation_id = @conversationId AND m.seq > @after AND m.seq < @before
       ORDER BY m.seq ASC LIMIT @limit`,
    ),
    threadDescending: db.prepare<{ conversationId: string; threadId: string; after: number; before: number; limit: number }, MessageReadRow>(
      `${MESSAGE_SELECT}
       WHERE m.thread_id = @threadId AND m.conversation_id = @conversationId AND m.seq > @after AND m.seq < @before
       ORDER BY m.seq DESC LIMIT @limit`,
    ),
    changes: db.prepare<{ conversationId: string; afterRev: number; limit: number }, MessageReadRow>(
      `${MESSAGE_SELECT} WHERE m.conversation_id = @conversationId AND m.rev > @afterRev ORDER BY m.rev ASC LIMIT @limit`,
    ),
    lastRev: db.prepare<[string], { last_rev: number }>("SELECT last_rev FROM conversations WHERE id = ?"),

    insertReaction: db.prepare<[string, string, string, string]>(
      `INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (message_id, emoji, user_id) DO NOTHING`,
    ),
    deleteReaction: db.prepare<[string, string, string]>("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?"),
    deleteReactions: db.prepare<[string]>("DELETE FROM reactions WHERE message_id = ?"),
    // In order of first use: the oldest reaction of each emoji still present.
    reactionCounts: db.prepare<[string], { emoji: string; count: number }>(
      "SELECT emoji, COUNT(*) AS count FROM reactions WHERE message_id = ? GROUP BY emoji ORDER BY MIN(id)",
    ),
    reactionUsers: db.prepare<[string, string, number], { user_id: string }>(
      "SELECT user_id FROM reactions WHERE message_id = ? AND emoji = ? ORDER BY id LIMIT ?",
    ),
    setReactions: db.prepare<[string | null, number, string]>("UPDATE messages SET reactions = ?, rev = ? WHERE id = ?"),

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
 * The most writes (appends, user upserts) one group commit holds. Large enough that 50–200
 * concurrent senders share one fsync; small enough that one batch's write lock (and event-loop
 * time) stays in the low milliseconds.
 */
export const APPEND_BATCH_MAX = 256;

/** Optional collaborators of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Called after each group commit (see {@link SqliteStore.appendMessage}) with how many writes
   * (appends and user upserts) it held, failed ones included, and how long the transaction took,
   * COMMIT included (under FULL the WAL's fsync follows it off the event loop and is not). For
   * metrics and tests; it must not throw.
   */
  onGroupCommit?: (commit: { size: number; durationMs: number; committed: boolean }) => void;
  /**
   * Called after each fdatasync of the WAL under FULL (see {@link SqliteStore.flushWrites}) with how
   * many group commits it covered and how long it took; the acks of those commits waited for it.
   * For metrics and tests; it must not throw.
   */
  onWalSync?: (sync: { batches: number; durationMs: number; ok: boolean }) => void;
  /**
   * Run WAL checkpoints on a worker thread instead of inside commits on the event loop (see
   * {@link WalCheckpointer}); ignored for `:memory:`. The server turns this on; without it SQLite
   * checkpoints in the commit that crosses 1,000 WAL pages (its default).
   */
  backgroundCheckpoints?: WalCheckpointerOptions;
}

/** Thrown inside a group commit to roll it back when a write failed after it had written. */
const PARTIAL_WRITE = Symbol("partial write");

/** How one write of a group commit ended. */
type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A group commit that has committed, with each write's outcome. */
interface CommittedBatch {
  batch: readonly PendingWrite[];
  outcomes: WriteOutcome[];
}

/** A write waiting for its group commit: an append or a user upsert. */
interface PendingWrite {
  work: () => unknown;
  resolve: (result: never) => void;
  reject: (error: unknown) => void;
}

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
  /** Writes waiting for the next group commit (see {@link appendMessage}). */
  private readonly pendingWrites: PendingWrite[] = [];
  private writeFlushScheduled = false;
  /** Runs one write of a group commit in a savepoint of its own (built once, not per write). */
  private readonly inSavepoint: (work: () => unknown) => unknown;
  /** Whether the group-commit write running now has begun writing (see {@link commitBatch}). */
  private writing = false;
  /** Checkpoints off the event loop, when {@link SqliteStoreOptions.backgroundCheckpoints} asks. */
  readonly checkpointer: WalCheckpointer | null;
  /**
   * Under `synchronous=FULL` on a file: the two pragmas a flush switches between, since its group
   * commits run NORMAL and fsync the WAL afterwards off the event loop (see {@link flushWrites}).
   */
  private readonly deferredSync: { normal: Statement; full: Statement } | null;
  /** Whether an fdatasync of the WAL is out (see {@link syncWal}). */
  private syncing = false;
  /** The `-wal` file, opened for fdatasync on the first flush. */
  private walFd: number | null = null;
  private readonly syncedWaiters: (() => void)[] = [];

  /**
   * @param db an open connection, normally from {@link openSqliteDatabase}; `close()` closes it.
   * @param options observers, see {@link SqliteStoreOptions}.
   */
  constructor(
    db: SqliteDatabase,
    private readonly options: SqliteStoreOptions = {},
  ) {
    super(db, "SqliteStore");
    this.inSavepoint = db.transaction((work: () => unknown) => work());
    this.checkpointer = options.backgroundCheckpoints && !db.memory ? new WalCheckpointer(db, options.backgroundCheckpoints) : null;
    // 2 is FULL, 3 EXTRA; only FULL is configurable (openSqliteDatabase).
    const full = Number(db.pragma("synchronous", { simple: true })) === 2;
    this.deferredSync = full && !db.memory ? { normal: db.prepare("PRAGMA synchronous = NORMAL"), full: db.prepare("PRAGMA synchronous = FULL") } : null;
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

  async close(): Promise<void> {
    // Stopped first: it may be between passes, and appends still waiting must not wait for it.
    await this.checkpointer?.close();
    // Appends already accepted are committed, synced and settled before the file closes.
    if (this.db.open) this.flushWrites();
    await this.walSynced();
    if (this.walFd !== null) fs.closeSync(this.walFd);
    this.walFd = null;
    return this.run(() => {
      if (this.db.open) this.db.close();
    });
  }

  /**
   * Joins the group commit of appends (see {@link appendMessage}): a burst of first connections
   * shares one transaction and one fsync instead of a commit each on the event loop. The promise
   * settles after the COMMIT, so a caller that awaits it reads its own write.
   */
  upsertUser(input: UserInput, now: string): Promise<User> {
    return this.enqueueWrite(() => {
      this.startWriting();
      const row = this.q.upsertUser.get({
        id: input.id,
        name: input.name ?? null,
        phone: input.phone ?? null,
        email: input.email ?? null,
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

  getConversation(id: string, view?: ConversationView): Promise<Conversation | null> {
    // One read transaction so the members and lastSeq come from the same snapshot.
    return this.run(() => this.db.transaction(() => this.loadConversation(id, view)).deferred());
  }

  getMember(conversationId: string, userId: string): Promise<Member | null> {
    return this.run(() => {
      const row = this.q.member.get(conversationId, userId);
      return row ? toMember(row) : null;
    });
  }

  listUnreadMembers(conversationId: string, seq: number, exceptUserId: string): Promise<string[]> {
    return this.run(() => this.q.unreadMembers.all(conversationId, exceptUserId, seq));
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
              conversation: this.withMembers(row, listView(userId, query)),
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

  listPresenceAudience(userId: string, roomLimit: number, contactLimit: number): Promise<PresenceAudience> {
    return this.run(() => {
      const small: string[] = [];
      const largeConversationIds: string[] = [];
      for (const row of this.q.memberConversationSizes.all(roomLimit + 1, userId)) {
        (row.size > roomLimit ? largeConversationIds : small).push(row.conversation_id);
      }
      if (small.length === 0) return { contacts: [], largeConversationIds };
      const contacts = this.q.membersOf.all(JSON.stringify(small), userId, contactLimit).map((r) => r.user_id);
      return { contacts, largeConversationIds };
    });
  }

  /**
   * Group commit: the append joins the batch of every write (appends and user upserts) made in the
   * same event-loop turn (up to {@link APPEND_BATCH_MAX}), and the batch is committed as one
   * `BEGIN IMMEDIATE … COMMIT` in the next turn, so with `synchronous=FULL` one fsync covers them
   * all. Each write runs in a savepoint of its own: one that fails (a missing conversation, a bad
   * `replyToId`) is rolled back alone and rejects alone. The promise settles only after the COMMIT
   * that holds the message has returned, so an acknowledged message is durable as before.
   */
  appendMessage(input: NewMessage): Promise<AppendResult> {
    return this.enqueueWrite(() => this.appendOne(input));
  }

  /** Queues `work` for the next group commit; see {@link appendMessage}. */
  private enqueueWrite<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ work, resolve: resolve as (result: never) => void, reject });
      if (!this.writeFlushScheduled) {
        this.writeFlushScheduled = true;
        setImmediate(() => this.flushWrites());
      }
    });
  }

  /**
   * Commits the waiting writes in batches of at most {@link APPEND_BATCH_MAX}, then settles each one.
   * While the checkpointer holds writes back for a WAL reset (a few milliseconds), it waits.
   *
   * Under `synchronous=FULL` the COMMIT's fsync would block the event loop (0.3-2 ms per batch,
   * measured). So the batches run NORMAL (the commit writes the WAL without syncing it), then one
   * fdatasync of the WAL on the thread pool covers every batch committed before it began, and only
   * then are their writes settled. An ack still follows durability: what fdatasync returns from is on
   * disk, WAL frames in order, and SQLite itself still syncs the WAL header when it restarts the WAL
   * (it does under NORMAL too). The committed rows are visible to reads on this node about a
   * millisecond before they are durable; nothing is announced or acknowledged before.
   */
  private flushWrites(): void {
    this.writeFlushScheduled = false;
    if (this.checkpointer?.paused && this.db.open) {
      this.writeFlushScheduled = true;
      void this.checkpointer.whenResumed().then(() => this.flushWrites());
      return;
    }
    if (this.pendingWrites.length === 0) return;
    // While an fsync is out, writes committed now could not be acknowledged before the next one
    // anyway: they wait and commit as one batch when it returns (fewer, larger commits; the event
    // loop meanwhile reads and checks the sends that keep arriving).
    if (this.syncing && this.db.open) return;
    // A closed database fails every waiting write at its first statement, without the pragmas.
    const deferSync = this.db.open ? this.deferredSync : null;
    deferSync?.normal.run();
    let committed: CommittedBatch[];
    try {
      committed = this.commitPending();
    } finally {
      if (this.db.open) deferSync?.full.run();
    }
    if (deferSync) this.syncWal(committed);
    else for (const batch of committed) this.settle(batch, null);
  }

  /** The loop of {@link flushWrites}: commits every waiting write and returns the batches that committed. */
  private commitPending(): CommittedBatch[] {
    const committed: CommittedBatch[] = [];
    while (this.pendingWrites.length > 0) {
      const batch = this.pendingWrites.splice(0, APPEND_BATCH_MAX);
      const started = performance.now();
      let outcomes: WriteOutcome[];
      try {
        // Savepoints cost two statements per write, so a batch runs without them first; only when a
        // write fails after it had written something is the batch rolled back and run again with a
        // savepoint around each write, so that the failed one is rolled back alone.
        outcomes = this.commitBatch(batch, false) ?? this.commitBatch(batch, true)!;
      } catch (err) {
        // Nothing of the batch was committed: every write of it fails, none is acknowledged.
        const error = mapSqliteError(err, this.busyTimeoutMs);
        this.options.onGroupCommit?.({ size: batch.length, durationMs: performance.now() - started, committed: false });
        for (const p of batch) p.reject(error);
        continue;
      }
      this.options.onGroupCommit?.({ size: batch.length, durationMs: performance.now() - started, committed: true });
      this.checkpointer?.committed();
      committed.push({ batch, outcomes });
    }
    return committed;
  }

  /** Settles a committed batch: each write by its outcome, or all by `syncError` when not durable. */
  private settle({ batch, outcomes }: CommittedBatch, syncError: unknown): void {
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (syncError !== null) p.reject(syncError);
      else if (outcome.ok) p.resolve(outcome.value as never);
      else p.reject(mapSqliteError(outcome.error, this.busyTimeoutMs));
    });
  }

  /**
   * One fdatasync of the WAL for the batches of one flush, then settles them. Writes arriving
   * meanwhile wait for it (see {@link flushWrites}), so one fsync is out at a time.
   */
  private syncWal(covered: CommittedBatch[]): void {
    if (covered.length === 0) {
      for (const resolve of this.syncedWaiters.splice(0)) resolve();
      return;
    }
    this.syncing = true;
    const started = performance.now();
    const done = (err: NodeJS.ErrnoException | null) => {
      this.syncing = false;
      this.options.onWalSync?.({ batches: covered.length, durationMs: performance.now() - started, ok: err === null });
      const error =
        err === null
          ? null
          : new SwitchboardError(
              "unavailable",
              `The message was written but could not be flushed to disk (fdatasync of the SQLite WAL failed: ${err.message}), so it may not survive a power loss. Check the disk under DATA_DIR; a retry with the same clientMessageId is answered with the stored message once the disk works.`,
              { cause: err },
            );
      for (const committed of covered) this.settle(committed, error);
      // The writes that arrived during the fsync (see flushWrites); committing them starts the next.
      // (A flush already scheduled then finds nothing; close() relies on this one.)
      if (this.pendingWrites.length > 0) this.flushWrites();
      if (!this.syncing) for (const resolve of this.syncedWaiters.splice(0)) resolve();
    };
    try {
      this.walFd ??= fs.openSync(`${this.db.name}-wal`, "r");
    } catch (err) {
      done(err as NodeJS.ErrnoException);
      return;
    }
    fs.fdatasync(this.walFd, done);
  }

  /** Resolves once every committed batch has been synced and settled. */
  private walSynced(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  /**
   * Runs a batch's writes in one `BEGIN IMMEDIATE … COMMIT`, in arrival order, and returns each
   * one's outcome. IMMEDIATE takes the write lock before reading last_seq: no other connection or
   * process can commit between that read and our inserts, so seq is gapless and in commit order,
   * and seq order is arrival order.
   *
   * Without `isolated`, a write that throws before {@link startWriting} (a missing conversation, a
   * stranger, a bad `replyToId`: every check comes before the first write) has changed nothing and
   * fails alone; one that throws after it rolls the whole transaction back and the result is null,
   * for the caller to run the batch again `isolated`, each write in a savepoint of its own.
   */
  private commitBatch(batch: readonly PendingWrite[], isolated: boolean): WriteOutcome[] | null {
    const outcomes: WriteOutcome[] = [];
    try {
      this.db
        .transaction(() => {
          for (const { work } of batch) {
            this.writing = false;
            try {
              // A nested better-sqlite3 transaction is a SAVEPOINT: a throw rolls back this write only.
              outcomes.push({ ok: true, value: isolated ? this.inSavepoint(work) : work() });
            } catch (error) {
              // An error that made SQLite roll the whole transaction back (I/O, full disk) fails the batch.
              if (!this.db.inTransaction) throw error;
              if (!isolated && this.writing) throw PARTIAL_WRITE;
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (err) {
      if (err === PARTIAL_WRITE) return null;
      throw err;
    }
    return outcomes;
  }

  /**
   * Called by a group-commit write right before its first write statement; what it throws before
   * this needs no rollback (see {@link commitBatch}).
   */
  private startWriting(): void {
    this.writing = true;
  }

  /** One append, inside the batch's write transaction. */
  private appendOne(input: NewMessage): AppendResult {
    // One statement for the three checks every append makes (statements, not rows, are the cost).
    const check = this.q.appendCheck.get({
      conversationId: input.conversationId,
      senderId: input.senderId,
      clientMessageId: input.clientMessageId ?? null,
    });
    if (!check) throw conversationNotFound(input.conversationId);
    if (!check.is_member) throw notAMember(input.conversationId);
    if (check.duplicate_id !== null) {
      const original = this.q.messageByClientId.get(input.senderId, input.clientMessageId!);
      // Returned even when it belongs to another conversation; the service layer decides.
      if (original) return { kind: "duplicate", message: toMessage(original) };
    }
    if (input.replyToId !== undefined) this.requireQuotable(input.conversationId, input.replyToId);
    // The thread's next threadSeq is read under the same write lock as seq, so it is gapless too.
    const threadSeq = input.threadId === undefined ? undefined : this.requireThreadParent(input.conversationId, input.threadId).reply_count + 1;
    const seq = check.last_seq + 1;
    const attachments = input.attachments === undefined ? null : JSON.stringify(input.attachments);
    this.startWriting();
    this.q.insertMessage.run(
      input.id,
      input.conversationId,
      seq,
      input.senderId,
      input.clientMessageId ?? null,
      input.type,
      input.text,
      attachments,
      input.createdAt,
      input.replyToId ?? null,
      input.threadId ?? null,
      threadSeq ?? null,
    );
    this.q.advanceConversation.run(seq, input.createdAt, input.conversationId);
    // Senders have read what they wrote: their own messages never count as unread.
    this.q.advanceSenderRead.run(seq, input.conversationId, input.senderId);
    let parent: Message | undefined;
    if (input.threadId !== undefined && threadSeq !== undefined) {
      // The parent changed (its reply count): that is a revision, committed with the reply.
      const rev = this.nextRev(input.conversationId);
      this.q.advanceThread.run({ id: input.threadId, replyCount: threadSeq, at: input.createdAt, rev });
      parent = this.readMessage(input.conversationId, input.threadId);
    }
    // A reply carries its quote, which the read joins in; anything else is known without a read.
    const message =
      input.replyToId === undefined ? createdMessage(input, seq, attachments, threadSeq) : this.readMessage(input.conversationId, input.id);
    return parent ? { kind: "created", message, parent } : { kind: "created", message };
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
      const rows =
        query.threadId === undefined
          ? (ascending ? this.q.messagesAscending : this.q.messagesDescending).all(params)
          : (ascending ? this.q.threadAscending : this.q.threadDescending).all({ ...params, threadId: query.threadId });
      const hasMore = rows.length > limit;
      const page = rows.slice(0, limit);
      if (!ascending) page.reverse();
      return { messages: page.map(toMessage), hasMore };
    });
  }

  getChanges(conversationId: string, query: ChangesQuery): Promise<ChangesPage> {
    return this.run(() =>
      // One read transaction: lastRev and the rows come from the same snapshot, so a page that
      // reaches the end covers exactly up to lastRev.
      this.db
        .transaction((): ChangesPage => {
          const limit = Math.max(0, Math.trunc(query.limit));
          const conversation = this.q.lastRev.get(conversationId);
          if (!conversation) return { messages: [], lastRev: query.afterRev, hasMore: false };
          const rows = this.q.changes.all({ conversationId, afterRev: query.afterRev, limit: limit + 1 });
          const hasMore = rows.length > limit;
          const page = rows.slice(0, limit).map(toMessage);
          const lastRev = hasMore ? page.at(-1)?.rev ?? query.afterRev : Math.max(query.afterRev, conversation.last_rev);
          return { messages: page, lastRev, hasMore };
        })
        .deferred(),
    );
  }

  getMessage(conversationId: string, messageId: string): Promise<Message | null> {
    return this.run(() => {
      const row = this.q.messageById.get(conversationId, messageId);
      return row ? toMessage(row) : null;
    });
  }

  addReaction(input: ReactionInput): Promise<ReactionResult | null> {
    return this.changeReaction(input, "add");
  }

  removeReaction(input: ReactionInput): Promise<ReactionResult | null> {
    return this.changeReaction(input, "remove");
  }

  /**
   * Both reaction writes: the reaction row, the message's summary and its revision change in
   * one IMMEDIATE transaction, so the summary never disagrees with the rows and the revision
   * order is the commit order.
   */
  private changeReaction(input: ReactionInput, action: "add" | "remove"): Promise<ReactionResult | null> {
    return this.run(() =>
      this.db
        .transaction((): ReactionResult | null => {
          const row = this.q.messageById.get(input.conversationId, input.messageId);
          if (!row) return null;
          if (row.deleted_at !== null) {
            throw new SwitchboardError("conflict", `Message ${input.messageId} was deleted at ${row.deleted_at}; it takes no reactions.`);
          }
          const summary = parseReactions(row.reactions);
          if (action === "add") {
            if (!summary.some((r) => r.emoji === input.emoji) && summary.length >= LIMITS.reactionsDistinctMax) {
              throw new SwitchboardError(
                "invalid_argument",
                `emoji: message ${input.messageId} already has ${LIMITS.reactionsDistinctMax} different reactions, the most allowed; react with one of those instead.`,
              );
            }
            const changed = this.q.insertReaction.run(input.messageId, input.emoji, input.userId, input.at).changes > 0;
            if (!changed) return { changed: false, message: toMessage(row) };
          } else {
            const changed = this.q.deleteReaction.run(input.messageId, input.emoji, input.userId).changes > 0;
            if (!changed) return { changed: false, message: toMessage(row) };
          }
          const next = this.summarizeReactions(input.messageId, summary, input.emoji);
          this.q.setReactions.run(next.length ? JSON.stringify(next) : null, this.nextRev(input.conversationId), input.messageId);
          return { changed: true, message: this.readMessage(input.conversationId, input.messageId) };
        })
        .immediate(),
    );
  }

  /**
   * The summary after a change of `touched`: counts and order from the rows (cheap: the index
   * covers them), user lists reused from `previous` for every other emoji.
   */
  private summarizeReactions(messageId: string, previous: ReactionSummary[], touched: string): ReactionSummary[] {
    const kept = new Map(previous.map((r) => [r.emoji, r.userIds]));
    return this.q.reactionCounts.all(messageId).map(({ emoji, count }) => ({
      emoji,
      count,
      userIds:
        emoji !== touched && kept.has(emoji)
          ? kept.get(emoji)!
          : this.q.reactionUsers.all(messageId, emoji, LIMITS.reactionUsersListed).map((r) => r.user_id),
    }));
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
          const deleting = patch.deletedAt !== undefined;
          // A deleted message keeps nothing of what people did with it, its reactions included.
          if (deleting) this.q.deleteReactions.run(messageId);
          const next: MessageReadRow = {
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
            reactions: deleting ? null : row.reactions,
            rev: this.nextRev(conversationId),
          };
          this.q.updateMessage.run({
            text: next.text,
            attachments: next.attachments,
            editedAt: next.edited_at,
            deletedAt: next.deleted_at,
            reactions: next.reactions,
            rev: next.rev,
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

  /** Call inside the write transaction of the change it numbers: the conversation's next revision. */
  private nextRev(conversationId: string): number {
    const row = this.q.nextRev.get(conversationId);
    if (!row) throw conversationNotFound(conversationId);
    return row.last_rev;
  }

  /** A message known to exist (written or checked in the same transaction). */
  private readMessage(conversationId: string, id: string): Message {
    const row = this.q.messageById.get(conversationId, id);
    if (!row) throw new Error(`message ${id} vanished inside its own transaction`);
    return toMessage(row);
  }

  /** Throws unless `replyToId` names a live message of the conversation. */
  private requireQuotable(conversationId: string, replyToId: string): void {
    const quoted = this.q.parentById.get(replyToId);
    if (!quoted || quoted.conversation_id !== conversationId) throw notInConversation("replyTo", replyToId, conversationId);
    if (quoted.deleted_at !== null) {
      throw new SwitchboardError("conflict", `replyTo: message ${replyToId} was deleted at ${quoted.deleted_at}; a deleted message cannot be quoted.`);
    }
  }

  /** The thread's parent: a top-level message of the conversation (deleted ones keep their thread). */
  private requireThreadParent(conversationId: string, threadId: string): ParentRow {
    const parent = this.q.parentById.get(threadId);
    if (!parent || parent.conversation_id !== conversationId) throw notInConversation("threadId", threadId, conversationId);
    if (parent.thread_id !== null) {
      throw new SwitchboardError(
        "invalid_argument",
        `threadId: message ${threadId} is itself a reply in thread ${parent.thread_id}; threads do not nest, post into thread ${parent.thread_id} instead.`,
      );
    }
    return parent;
  }

  /** Call inside a transaction: the conversation row and its members must be one snapshot. */
  private loadConversation(id: string, view?: ConversationView): Conversation | null {
    const row = this.q.getConversation.get(id);
    return row ? this.withMembers(row, view) : null;
  }

  /**
   * Call inside a transaction. With `view`, at most `memberListLimit` + 1 members are read: a
   * small conversation is answered by that one query, a big one is counted and its viewer's row read.
   */
  private withMembers(row: ConversationRow, view?: ConversationView): Conversation {
    if (!view) return toConversation(row, this.q.members.all(row.id));
    const first = this.q.membersUpTo.all(row.id, view.memberListLimit + 1);
    if (first.length <= view.memberListLimit) return toConversation(row, first);
    const own = this.q.member.get(row.id, view.viewerId);
    return { ...toConversation(row, own ? [own] : []), memberCount: this.q.memberCount.get(row.id)?.n ?? 0, membersPartial: true };
  }
}

function messageDeleted(messageId: string, deletedAt: string): SwitchboardError {
  return new SwitchboardError("conflict", `Message ${messageId} was deleted at ${deletedAt}; a deleted message cannot be changed.`);
}

function notInConversation(field: "replyTo" | "threadId", messageId: string, conversationId: string): SwitchboardError {
  return new SwitchboardError("invalid_argument", `${field}: message ${messageId} does not exist in conversation ${conversationId}.`);
}

function parseReactions(json: string | null): ReactionSummary[] {
  return json === null ? [] : (JSON.parse(json) as ReactionSummary[]);
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
  if (r.email !== null) user.email = r.email;
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
    memberCount: members.length,
    lastSeq: r.last_seq,
    createdAt: r.created_at,
    lastRev: r.last_rev,
  };
  if (r.title !== null) conversation.title = r.title;
  return conversation;
}

/**
 * The message {@link SqliteStore.appendMessage} just inserted, as {@link toMessage} would read it
 * back (no reply quote: a reply is read back): a new message has no revision, edits or reactions.
 */
function createdMessage(input: NewMessage, seq: number, attachments: string | null, threadSeq: number | undefined): Message {
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
  // Parsed from the stored JSON, so that it is the same copy a read would give, not the caller's object.
  if (attachments !== null) message.attachments = JSON.parse(attachments) as Attachment[];
  if (input.threadId !== undefined && threadSeq !== undefined) {
    message.threadId = input.threadId;
    message.threadSeq = threadSeq;
  }
  return message;
}

function toMessage(r: MessageReadRow): Message {
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
  if (r.rev > 0) message.rev = r.rev;
  if (r.reply_to_id !== null && r.quoted_seq !== null) {
    // The same quote replyRefOf() makes of a whole message, from the joined columns.
    const quoted = { messageId: r.reply_to_id, seq: r.quoted_seq, senderId: r.quoted_sender_id ?? "" };
    message.replyTo =
      r.quoted_deleted_at !== null
        ? { ...quoted, excerpt: "", deleted: true }
        : { ...quoted, excerpt: replyExcerpt(r.quoted_text ?? ""), ...(r.quoted_attachment_count ? { attachmentCount: r.quoted_attachment_count } : {}) };
  }
  if (r.thread_id !== null && r.thread_seq !== null) {
    message.threadId = r.thread_id;
    message.threadSeq = r.thread_seq;
  }
  if (r.reply_count > 0) message.replyCount = r.reply_count;
  if (r.last_reply_at !== null) message.lastReplyAt = r.last_reply_at;
  if (r.reactions !== null && r.deleted_at === null) {
    const reactions = parseReactions(r.reactions);
    if (reactions.length) message.reactions = reactions;
  }
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
