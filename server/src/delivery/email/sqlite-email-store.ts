import { SqliteComponent, type SqliteDatabase } from "../../store/sqlite-component.js";
import { trimReferences, type EmailLedgerEntry, type EmailStore, type EmailThread } from "./email-store.js";

/** The name the email tables' migrations are counted under in `schema_versions`. */
const COMPONENT = "email";

/** Migrations of the email tables; a later release appends an entry and never edits a shipped one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE email_ledger (
    id INTEGER PRIMARY KEY, -- insertion order breaks ties between entries of the same millisecond
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    user_id TEXT,
    conversation_id TEXT,
    note TEXT,
    at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX email_ledger_by_address ON email_ledger (address, action);
  CREATE INDEX email_ledger_unsubscribes ON email_ledger (user_id, conversation_id) WHERE action = 'unsubscribe';

  CREATE TABLE email_threads (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    refs TEXT NOT NULL, -- JSON array of Message-IDs, oldest first
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, conversation_id)
  ) STRICT;
  `,
];

interface LedgerRow {
  address: string;
  action: string;
  source: string;
  user_id: string | null;
  conversation_id: string | null;
  note: string | null;
  at: string;
}

interface ThreadRow {
  id: string;
  user_id: string;
  conversation_id: string;
  refs: string;
  created_at: string;
  updated_at: string;
}

function prepareStatements(db: SqliteDatabase) {
  return {
    append: db.prepare<Record<string, string | null>>(
      `INSERT INTO email_ledger (address, action, source, user_id, conversation_id, note, at)
       VALUES (@address, @action, @source, @userId, @conversationId, @note, @at)`,
    ),
    list: db.prepare<[string], LedgerRow>("SELECT * FROM email_ledger WHERE address = ? ORDER BY id"),
    bounced: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM email_ledger WHERE address = ? AND action = 'hard_bounce' LIMIT 1"),
    unsubscribed: db.prepare<[string, string], { one: number }>(
      "SELECT 1 AS one FROM email_ledger WHERE user_id = ? AND conversation_id = ? AND action = 'unsubscribe' LIMIT 1",
    ),
    insertThread: db.prepare<[string, string, string, string, string]>(
      "INSERT INTO email_threads (id, user_id, conversation_id, refs, created_at, updated_at) VALUES (?, ?, ?, '[]', ?, ?) ON CONFLICT DO NOTHING",
    ),
    threadFor: db.prepare<[string, string], ThreadRow>("SELECT * FROM email_threads WHERE user_id = ? AND conversation_id = ?"),
    thread: db.prepare<[string], ThreadRow>("SELECT * FROM email_threads WHERE id = ?"),
    saveRefs: db.prepare<[string, string, string]>("UPDATE email_threads SET refs = ?, updated_at = ? WHERE id = ?"),
  };
}
type Statements = ReturnType<typeof prepareStatements>;

/**
 * {@link EmailStore} in the main SQLite file, under its own migrations (`schema_versions`
 * component `email`). One connection per process and `BEGIN IMMEDIATE` writes make
 * `ensureThread` and `recordSent` safe across the processes of one file.
 */
export class SqliteEmailStore extends SqliteComponent<Statements> implements EmailStore {
  /** @param db the main store's open connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteEmailStore");
  }

  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  appendLedger(entry: EmailLedgerEntry): Promise<void> {
    return this.run(() => {
      this.q.append.run({
        address: entry.address,
        action: entry.action,
        source: entry.source,
        userId: entry.userId ?? null,
        conversationId: entry.conversationId ?? null,
        note: entry.note ?? null,
        at: entry.at,
      });
    });
  }

  listLedger(address: string): Promise<EmailLedgerEntry[]> {
    return this.run(() => this.q.list.all(address).map(toEntry));
  }

  isBounced(address: string): Promise<boolean> {
    return this.run(() => this.q.bounced.get(address) !== undefined);
  }

  isUnsubscribed(userId: string, conversationId: string): Promise<boolean> {
    return this.run(() => this.q.unsubscribed.get(userId, conversationId) !== undefined);
  }

  ensureThread(userId: string, conversationId: string, id: string, now: string): Promise<EmailThread> {
    return this.run(() => {
      this.q.insertThread.run(id, userId, conversationId, now, now);
      const row = this.q.threadFor.get(userId, conversationId);
      if (!row) throw new Error("email thread vanished right after it was written");
      return toThread(row);
    });
  }

  getThread(id: string): Promise<EmailThread | null> {
    return this.run(() => {
      const row = this.q.thread.get(id);
      return row ? toThread(row) : null;
    });
  }

  recordSent(threadId: string, messageId: string, now: string): Promise<EmailThread | null> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const row = this.q.thread.get(threadId);
          if (!row) return null;
          const refs = trimReferences([...(JSON.parse(row.refs) as string[]), messageId]);
          this.q.saveRefs.run(JSON.stringify(refs), now, threadId);
          return { ...toThread(row), references: refs, updatedAt: now };
        })
        .immediate(),
    );
  }
}

function toEntry(r: LedgerRow): EmailLedgerEntry {
  const entry: EmailLedgerEntry = { address: r.address, action: r.action as EmailLedgerEntry["action"], source: r.source as EmailLedgerEntry["source"], at: r.at };
  if (r.user_id !== null) entry.userId = r.user_id;
  if (r.conversation_id !== null) entry.conversationId = r.conversation_id;
  if (r.note !== null) entry.note = r.note;
  return entry;
}

function toThread(r: ThreadRow): EmailThread {
  return { id: r.id, userId: r.user_id, conversationId: r.conversation_id, references: JSON.parse(r.refs) as string[], createdAt: r.created_at, updatedAt: r.updated_at };
}
