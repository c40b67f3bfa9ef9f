import { MongoServerError, type Collection, type Db, type WriteConcernSettings } from "mongodb";
import { runMongo } from "../../store/mongo-store.js";
import { EMAIL_THREAD_MAX_REFERENCES, type EmailLedgerEntry, type EmailStore, type EmailThread } from "./email-store.js";

/** Options of {@link MongoEmailStore}. */
export interface MongoEmailStoreOptions {
  /** Default `{ w: "majority", journal: true }`: a recorded bounce survives a failover. */
  writeConcern?: WriteConcernSettings;
}

interface LedgerDoc extends EmailLedgerEntry {
  /** Epoch ms of `at`, then insertion order by `_id` (an ObjectId). */
  atMs: number;
}

interface ThreadDoc {
  _id: string;
  userId: string;
  conversationId: string;
  references: string[];
  createdAt: string;
  updatedAt: string;
}

/**
 * {@link EmailStore} on MongoDB: collections `emailLedger` and `emailThreads`. The unique index on
 * (userId, conversationId) decides which node's thread id wins a race; `recordSent` is one
 * `$push` with `$slice`, after the first reference is kept by a second, conditional update.
 */
export class MongoEmailStore implements EmailStore {
  private readonly ledger: Collection<LedgerDoc>;
  private readonly threads: Collection<ThreadDoc>;

  /** @param db a database of an already-connected client, which this store never closes. */
  constructor(db: Db, options: MongoEmailStoreOptions = {}) {
    const collectionOptions = { writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true }, ignoreUndefined: true };
    this.ledger = db.collection<LedgerDoc>("emailLedger", collectionOptions);
    this.threads = db.collection<ThreadDoc>("emailThreads", collectionOptions);
  }

  init(): Promise<void> {
    return runMongo(async () => {
      await Promise.all([
        this.ledger.createIndexes([
          { key: { address: 1, action: 1, atMs: 1, _id: 1 }, name: "address_action" },
          { key: { userId: 1, conversationId: 1 }, name: "unsubscribes", partialFilterExpression: { action: "unsubscribe" } },
        ]),
        this.threads.createIndexes([{ key: { userId: 1, conversationId: 1 }, name: "user_conversation", unique: true }]),
      ]);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  appendLedger(entry: EmailLedgerEntry): Promise<void> {
    return runMongo(async () => {
      await this.ledger.insertOne({ ...entry, atMs: Date.parse(entry.at) });
    });
  }

  listLedger(address: string): Promise<EmailLedgerEntry[]> {
    return runMongo(async () => {
      const docs = await this.ledger.find({ address }, { projection: { _id: 0, atMs: 0 } }).sort({ atMs: 1, _id: 1 }).toArray();
      return docs.map((d) => {
        const entry: EmailLedgerEntry = { address: d.address, action: d.action, source: d.source, at: d.at };
        if (d.userId != null) entry.userId = d.userId;
        if (d.conversationId != null) entry.conversationId = d.conversationId;
        if (d.note != null) entry.note = d.note;
        return entry;
      });
    });
  }

  isBounced(address: string): Promise<boolean> {
    return runMongo(async () => (await this.ledger.findOne({ address, action: "hard_bounce" }, { projection: { _id: 1 } })) !== null);
  }

  isUnsubscribed(userId: string, conversationId: string): Promise<boolean> {
    return runMongo(async () => (await this.ledger.findOne({ userId, conversationId, action: "unsubscribe" }, { projection: { _id: 1 } })) !== null);
  }

  ensureThread(userId: string, conversationId: string, id: string, now: string): Promise<EmailThread> {
    return runMongo(async () => {
      try {
        await this.threads.updateOne(
          { userId, conversationId },
          { $setOnInsert: { _id: id, userId, conversationId, references: [], createdAt: now, updatedAt: now } },
          { upsert: true },
        );
      } catch (err) {
        // Two nodes upserting at once: the loser's insert hits the unique index; the winner's row stands.
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      }
      const doc = await this.threads.findOne({ userId, conversationId });
      if (!doc) throw new Error("email thread vanished right after it was written");
      return toThread(doc);
    });
  }

  getThread(id: string): Promise<EmailThread | null> {
    return runMongo(async () => {
      const doc = await this.threads.findOne({ _id: id });
      return doc ? toThread(doc) : null;
    });
  }

  recordSent(threadId: string, messageId: string, now: string): Promise<EmailThread | null> {
    return runMongo(async () => {
      const before = await this.threads.findOne({ _id: threadId });
      if (!before) return null;
      // The first reference roots the thread in every client: keep it, then the newest ones.
      const kept = [...before.references, messageId];
      const references = kept.length <= EMAIL_THREAD_MAX_REFERENCES ? kept : [kept[0], ...kept.slice(kept.length - (EMAIL_THREAD_MAX_REFERENCES - 1))];
      const after = await this.threads.findOneAndUpdate({ _id: threadId }, { $set: { references, updatedAt: now } }, { returnDocument: "after" });
      return after ? toThread(after) : null;
    });
  }
}

function toThread(d: ThreadDoc): EmailThread {
  return { id: d._id, userId: d.userId, conversationId: d.conversationId, references: d.references, createdAt: d.createdAt, updatedAt: d.updatedAt };
}
