import type { SupportStatus } from "../../../client-sdk/src/protocol.js";

/**
 * What the support desk keeps beside the main store: one record per support conversation (its
 * visitor, status and assignee), the team's agents, and widget keys. The conversation itself,
 * its members and messages stay in the main `Store`, unchanged.
 */

/** A support conversation's desk state; the conversation shares its id. */
export interface SupportTicketRecord {
  conversationId: string;
  /** The visitor's user id. */
  visitorId: string;
  /** The widget key the conversation was started through. */
  widgetKeyId: string;
  /** The visitor's identity was verified with a `userHash`. */
  identified: boolean;
  status: SupportStatus;
  assigneeId?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  /** ISO-8601 time of the latest message; absent before the first (such tickets stay out of the inbox). */
  lastMessageAt?: string;
}

/** Fields {@link SupportStore.updateTicket} may change; absent fields keep their value. */
export interface SupportTicketPatch {
  status?: SupportStatus;
  /** `null` unassigns. */
  assigneeId?: string | null;
  /** Only ever moves forward: an older value than the stored one is ignored. */
  lastMessageAt?: string;
  updatedAt: string;
}

/** Paging of the inbox: tickets with a message, latest message first. */
export interface SupportTicketQuery {
  status?: SupportStatus;
  limit: number;
  /** ISO-8601: only tickets whose latest message is strictly older. */
  before?: string;
}

/** A widget key: public (it is in the host page), it says which origins may start visitor sessions. */
export interface WidgetKeyRecord {
  /** The public key itself, `wk_…`. */
  id: string;
  name: string;
  /** Browser origins allowed to use the key; empty: the server's own origin only; `*`: any. */
  allowedOrigins: string[];
  /** HMAC-SHA256 key for identity verification (`userHash`); shown to the admin, never to browsers. */
  identitySecret: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601; a revoked key starts no sessions. */
  revokedAt?: string;
}

/**
 * Persistence of the support desk. Drivers: `sqlite-support-store.ts` (tables in the main SQLite
 * file) and `mongo-support-store.ts`; `test/support-store-contract.ts` checks both.
 * Errors are thrown as `SwitchboardError` (`unavailable`).
 */
export interface SupportStore {
  /** Creates tables and indexes; idempotent. */
  init(): Promise<void>;

  /** Stores the ticket unless one exists for its conversation; returns the stored one either way. */
  createTicket(record: SupportTicketRecord): Promise<SupportTicketRecord>;
  getTicket(conversationId: string): Promise<SupportTicketRecord | null>;
  /** Applies the patch; null when there is no such ticket. */
  updateTicket(conversationId: string, patch: SupportTicketPatch): Promise<SupportTicketRecord | null>;
  /** Tickets that have a message, latest message first (ties by conversation id). */
  listTickets(query: SupportTicketQuery): Promise<SupportTicketRecord[]>;

  /** Records `userId` as an agent of the team (idempotent). */
  addAgent(userId: string, now: string): Promise<void>;
  isAgent(userId: string): Promise<boolean>;
  /** Agent ids, oldest first. */
  listAgents(limit: number): Promise<string[]>;

  /** Throws `conflict` when the id is taken. */
  createWidgetKey(record: WidgetKeyRecord): Promise<void>;
  getWidgetKey(id: string): Promise<WidgetKeyRecord | null>;
  /** Every key, revoked ones included, oldest first. */
  listWidgetKeys(): Promise<WidgetKeyRecord[]>;
  /** False when no such unrevoked key exists. */
  revokeWidgetKey(id: string, now: string): Promise<boolean>;
}
