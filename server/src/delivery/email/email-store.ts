/**
 * Persistence of the email channel: the ledger of what happened to addresses (hard bounces,
 * unsubscribes; only ever appended, like the SMS consent ledger) and the email threads (one per
 * user and conversation: the key the reply and bounce addresses carry, and the `Message-ID`s sent
 * so far, which the next email's `In-Reply-To` and `References` point at). An interface here,
 * drivers beside it (`sqlite-email-store.ts`, `mongo-email-store.ts`), contract in
 * `test/email-store-contract.ts`.
 */

/** What the ledger records about an address. */
export type EmailLedgerAction =
  /** Mail to the address cannot be delivered for good (a DSN with a 5.x.x status, or a 5xx at send time): no more email to it. */
  | "hard_bounce"
  /** The user asked for no more email about one conversation (the `List-Unsubscribe` link). */
  | "unsubscribe";

/** One entry of the email ledger. */
export interface EmailLedgerEntry {
  /** Lower-cased. */
  address: string;
  action: EmailLedgerAction;
  /**
   * `dsn`: a delivery status notification reached the bounce address; `smtp`: the SMTP server
   * refused the recipient with a 5xx while we sent; `one_click`: the RFC 8058 POST of a mail
   * client; `link`: the confirmation page's button.
   */
  source: "dsn" | "smtp" | "one_click" | "link";
  /** The user the address belonged to when it happened. */
  userId?: string;
  /** With `unsubscribe`: the conversation whose emails stop. */
  conversationId?: string;
  /** The DSN's status and diagnostic, or the SMTP server's answer. */
  note?: string;
  /** ISO-8601. */
  at: string;
}

/** The emails about one conversation to one user, which mail clients show as one thread. */
export interface EmailThread {
  /** 12 lower-case hex digits, random: the key the signed reply and bounce addresses carry. */
  id: string;
  userId: string;
  conversationId: string;
  /** `Message-ID`s (with angle brackets) of the emails sent in the thread, oldest first; the first is always kept. */
  references: string[];
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
}

/** How many `Message-ID`s a thread keeps: the first and the latest ones (a long `References` header helps no client). */
export const EMAIL_THREAD_MAX_REFERENCES = 20;

/**
 * The email channel's persistence.
 *
 * Contract (shown for every driver by `test/email-store-contract.ts`):
 * - `ensureThread` keeps one thread per (userId, conversationId), also when nodes race: the first
 *   writer's id wins and every caller gets it.
 * - `recordSent` appends a `Message-ID`, keeping the first and the latest ones up to
 *   {@link EMAIL_THREAD_MAX_REFERENCES}.
 * - The ledger only grows; `isBounced` and `isUnsubscribed` answer from it.
 */
export interface EmailStore {
  /** Creates tables, collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Nothing to release: the database connection belongs to the main store. */
  close(): Promise<void>;

  appendLedger(entry: EmailLedgerEntry): Promise<void>;
  /** The address's entries, oldest first. */
  listLedger(address: string): Promise<EmailLedgerEntry[]>;
  /** Whether the address hard-bounced. */
  isBounced(address: string): Promise<boolean>;
  /** Whether the user unsubscribed from the conversation's emails. */
  isUnsubscribed(userId: string, conversationId: string): Promise<boolean>;

  /** The thread of (userId, conversationId), created with `id` when there is none. */
  ensureThread(userId: string, conversationId: string, id: string, now: string): Promise<EmailThread>;
  getThread(id: string): Promise<EmailThread | null>;
  /** Appends the `Message-ID` of an email just sent in the thread; returns the thread after the change (null: no such thread). */
  recordSent(threadId: string, messageId: string, now: string): Promise<EmailThread | null>;
}

/** The first reference and the newest ones, at most {@link EMAIL_THREAD_MAX_REFERENCES} in all. */
export function trimReferences(references: readonly string[]): string[] {
  if (references.length <= EMAIL_THREAD_MAX_REFERENCES) return [...references];
  return [references[0], ...references.slice(references.length - (EMAIL_THREAD_MAX_REFERENCES - 1))];
}
