import { SqliteComponent, type SqliteDatabase } from "../store/sqlite-component.js";
import type { SupportStatus } from "../../../client-sdk/src/protocol.js";
import type { SupportStore, SupportTicketPatch, SupportTicketQuery, SupportTicketRecord, WidgetKeyRecord } from "./support-store.js";

/** This component's row in `schema_versions` (the main store owns `PRAGMA user_version`). */
const COMPONENT = "support";

/** Migrations of the support tables; append, never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE support_tickets (
    conversation_id TEXT PRIMARY KEY,
    visitor_id TEXT NOT NULL,
    widget_key_id TEXT NOT NULL,
    identified INTEGER NOT NULL,
    status TEXT NOT NULL, -- 'open' | 'resolved'
    assignee_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_message_at TEXT
  ) STRICT;
  -- The inbox: tickets with a message, latest first.
  CREATE INDEX support_tickets_inbox ON support_tickets (last_message_at DESC, conversation_id DESC)
    WHERE last_message_at IS NOT NULL;

  CREATE TABLE support_agents (
    user_id TEXT PRIMARY KEY,
    added_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE widget_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    allowed_origins TEXT NOT NULL, -- JSON array
    identity_secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  `,
];

interface TicketRow {
  conversation_id: string;
  visitor_id: string;
  widget_key_id: string;
  identified: number;
  status: string;
  assignee_id: string | null;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

interface WidgetKeyRow {
  id: string;
  name: string;
  allowed_origins: string;
  identity_secret: string;
  created_at: string;
  revoked_at: string | null;
}

const TICKET_COLUMNS = "conversation_id, visitor_id, widget_key_id, identified, status, assignee_id, created_at, updated_at, last_message_at";

function prepareStatements(db: SqliteDatabase) {
  return {
    insertTicket: db.prepare<TicketRow>(
      `INSERT INTO support_tickets (${TICKET_COLUMNS})
       VALUES (@conversation_id, @visitor_id, @widget_key_id, @identified, @status, @assignee_id, @created_at, @updated_at, @last_message_at)
       ON CONFLICT (conversation_id) DO NOTHING`,
    ),
    getTicket: db.prepare<[string], TicketRow>(`SELECT ${TICKET_COLUMNS} FROM support_tickets WHERE conversation_id = ?`),
    updateTicket: db.prepare<{ id: string; status: string | null; setAssignee: number; assignee: string | null; lastMessageAt: string | null; updatedAt: string }>(
      `UPDATE support_tickets SET
         status = COALESCE(@status, status),
         assignee_id = CASE WHEN @setAssignee = 1 THEN @assignee ELSE assignee_id END,
         last_message_at = CASE
           WHEN @lastMessageAt IS NULL THEN last_message_at
           WHEN last_message_at IS NULL OR last_message_at < @lastMessageAt THEN @lastMessageAt
           ELSE last_message_at END,
         updated_at = CASE WHEN updated_at < @updatedAt THEN @updatedAt ELSE updated_at END
       WHERE conversation_id = @id`,
    ),
    listTickets: db.prepare<{ status: string | null; before: string | null; limit: number }, TicketRow>(
      `SELECT ${TICKET_COLUMNS} FROM support_tickets
       WHERE last_message_at IS NOT NULL
         AND (@status IS NULL OR status = @status)
         AND (@before IS NULL OR last_message_at < @before)
       ORDER BY last_message_at DESC, conversation_id DESC
       LIMIT @limit`,
    ),
    addAgent: db.prepare<[string, string]>("INSERT INTO support_agents (user_id, added_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING"),
    isAgent: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM support_agents WHERE user_id = ?"),
    listAgents: db.prepare<[number], { user_id: string }>("SELECT user_id FROM support_agents ORDER BY added_at, user_id LIMIT ?"),
    insertKey: db.prepare<WidgetKeyRow>(
      `INSERT INTO widget_keys (id, name, allowed_origins, identity_secret, created_at, revoked_at)
       VALUES (@id, @name, @allowed_origins, @identity_secret, @created_at, @revoked_at)`,
    ),
    getKey: db.prepare<[string], WidgetKeyRow>("SELECT * FROM widget_keys WHERE id = ?"),
    listKeys: db.prepare<[], WidgetKeyRow>("SELECT * FROM widget_keys ORDER BY created_at, id"),
    revokeKey: db.prepare<[string, string]>("UPDATE widget_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link SupportStore}: tables in the main SQLite file, on the main store's
 * connection (the composition root passes the same `Database`), migrated under `support`.
 */
export class SqliteSupportStore extends SqliteComponent<Statements> implements SupportStore {

  /** @param db the main store's connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteSupportStore");
  }

  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  createTicket(record: SupportTicketRecord): Promise<SupportTicketRecord> {
    return this.run(() => {
      this.q.insertTicket.run({
        conversation_id: record.conversationId,
        visitor_id: record.visitorId,
        widget_key_id: record.widgetKeyId,
        identified: record.identified ? 1 : 0,
        status: record.status,
        assignee_id: record.assigneeId ?? null,
        created_at: record.createdAt,
        updated_at: record.updatedAt,
        last_message_at: record.lastMessageAt ?? null,
      });
      return toTicket(this.q.getTicket.get(record.conversationId)!);
    });
  }

  getTicket(conversationId: string): Promise<SupportTicketRecord | null> {
    return this.run(() => {
      const row = this.q.getTicket.get(conversationId);
      return row ? toTicket(row) : null;
    });
  }

  updateTicket(conversationId: string, patch: SupportTicketPatch): Promise<SupportTicketRecord | null> {
    return this.run(() => {
      const { changes } = this.q.updateTicket.run({
        id: conversationId,
        status: patch.status ?? null,
        setAssignee: patch.assigneeId === undefined ? 0 : 1,
        assignee: patch.assigneeId ?? null,
        lastMessageAt: patch.lastMessageAt ?? null,
        updatedAt: patch.updatedAt,
      });
      if (changes === 0) return null;
      return toTicket(this.q.getTicket.get(conversationId)!);
    });
  }

  listTickets(query: SupportTicketQuery): Promise<SupportTicketRecord[]> {
    return this.run(() =>
      this.q.listTickets.all({ status: query.status ?? null, before: query.before ?? null, limit: query.limit }).map(toTicket),
    );
  }

  addAgent(userId: string, now: string): Promise<void> {
    return this.run(() => {
      this.q.addAgent.run(userId, now);
    });
  }

  isAgent(userId: string): Promise<boolean> {
    return this.run(() => this.q.isAgent.get(userId) !== undefined);
  }

  listAgents(limit: number): Promise<string[]> {
    return this.run(() => this.q.listAgents.all(limit).map((r) => r.user_id));
  }

  createWidgetKey(record: WidgetKeyRecord): Promise<void> {
    return this.run(() => {
      this.q.insertKey.run({
        id: record.id,
        name: record.name,
        allowed_origins: JSON.stringify(record.allowedOrigins),
        identity_secret: record.identitySecret,
        created_at: record.createdAt,
        revoked_at: record.revokedAt ?? null,
      });
    });
  }

  getWidgetKey(id: string): Promise<WidgetKeyRecord | null> {
    return this.run(() => {
      const row = this.q.getKey.get(id);
      return row ? toWidgetKey(row) : null;
    });
  }

  listWidgetKeys(): Promise<WidgetKeyRecord[]> {
    return this.run(() => this.q.listKeys.all().map(toWidgetKey));
  }

  revokeWidgetKey(id: string, now: string): Promise<boolean> {
    return this.run(() => this.q.revokeKey.run(now, id).changes > 0);
  }


}

function toTicket(r: TicketRow): SupportTicketRecord {
  const ticket: SupportTicketRecord = {
    conversationId: r.conversation_id,
    visitorId: r.visitor_id,
    widgetKeyId: r.widget_key_id,
    identified: r.identified === 1,
    status: r.status as SupportStatus,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.assignee_id !== null) ticket.assigneeId = r.assignee_id;
  if (r.last_message_at !== null) ticket.lastMessageAt = r.last_message_at;
  return ticket;
}

function toWidgetKey(r: WidgetKeyRow): WidgetKeyRecord {
  const key: WidgetKeyRecord = {
    id: r.id,
    name: r.name,
    allowedOrigins: JSON.parse(r.allowed_origins) as string[],
    identitySecret: r.identity_secret,
    createdAt: r.created_at,
  };
  if (r.revoked_at !== null) key.revokedAt = r.revoked_at;
  return key;
}
