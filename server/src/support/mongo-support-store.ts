import { MongoServerError, type Collection, type Db, type Filter, type WriteConcernSettings } from "mongodb";
import type { SupportStatus } from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../core/errors.js";
import { runMongo } from "../store/mongo-store.js";
import type { SupportStore, SupportTicketPatch, SupportTicketQuery, SupportTicketRecord, WidgetKeyRecord } from "./support-store.js";

interface TicketDoc {
  _id: string;
  visitorId: string;
  widgetKeyId: string;
  identified: boolean;
  status: SupportStatus;
  assigneeId?: string | null;
  createdAt: string;
  updatedAt: string;
  lastMessageAt?: string | null;
}

interface AgentDoc {
  _id: string;
  addedAt: string;
}

interface WidgetKeyDoc {
  _id: string;
  name: string;
  allowedOrigins: string[];
  identitySecret: string;
  createdAt: string;
  revokedAt?: string | null;
}

const DUPLICATE_KEY = 11000;

/**
 * The MongoDB {@link SupportStore}: collections `supportTickets`, `supportAgents` and `widgetKeys`
 * in the main database, written with the main store's write concern.
 */
export class MongoSupportStore implements SupportStore {
  private readonly tickets: Collection<TicketDoc>;
  private readonly agents: Collection<AgentDoc>;
  private readonly keys: Collection<WidgetKeyDoc>;

  /**
   * @param db the main store's database (its client is owned and closed by the composition root).
   * @param options.writeConcern default `{ w: "majority", journal: true }`, like the main store.
   */
  constructor(db: Db, options: { writeConcern?: WriteConcernSettings } = {}) {
    const settings = { writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true }, ignoreUndefined: true };
    this.tickets = db.collection<TicketDoc>("supportTickets", settings);
    this.agents = db.collection<AgentDoc>("supportAgents", settings);
    this.keys = db.collection<WidgetKeyDoc>("widgetKeys", settings);
  }

  init(): Promise<void> {
    return runMongo(async () => {
      await this.tickets.createIndexes([
        {
          key: { lastMessageAt: -1, _id: -1 },
          name: "inbox",
          partialFilterExpression: { lastMessageAt: { $type: "string" } },
        },
      ]);
    });
  }

  createTicket(record: SupportTicketRecord): Promise<SupportTicketRecord> {
    return runMongo(async () => {
      const { conversationId, ...rest } = record;
      // $setOnInsert: a second start of the same visitor's session keeps the stored state.
      await this.tickets.updateOne({ _id: conversationId }, { $setOnInsert: rest }, { upsert: true }).catch((err: unknown) => {
        // Two upserts of one new _id can race; the loser's is a duplicate key, and the doc exists.
        if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      });
      return toTicket((await this.tickets.findOne({ _id: conversationId }))!);
    });
  }

  getTicket(conversationId: string): Promise<SupportTicketRecord | null> {
    return runMongo(async () => {
      const doc = await this.tickets.findOne({ _id: conversationId });
      return doc ? toTicket(doc) : null;
    });
  }

  updateTicket(conversationId: string, patch: SupportTicketPatch): Promise<SupportTicketRecord | null> {
    return runMongo(async () => {
      const set: Partial<TicketDoc> = {};
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.assigneeId !== undefined) set.assigneeId = patch.assigneeId;
      // $max keeps both times monotonic whatever order concurrent updates land in (ISO strings sort by time).
      const max: Partial<TicketDoc> = { updatedAt: patch.updatedAt };
      if (patch.lastMessageAt !== undefined) max.lastMessageAt = patch.lastMessageAt;
      const doc = await this.tickets.findOneAndUpdate(
        { _id: conversationId },
        { ...(Object.keys(set).length > 0 ? { $set: set } : {}), $max: max },
        { returnDocument: "after" },
      );
      return doc ? toTicket(doc) : null;
    });
  }

  listTickets(query: SupportTicketQuery): Promise<SupportTicketRecord[]> {
    return runMongo(async () => {
      const filter: Filter<TicketDoc> = { lastMessageAt: query.before ? { $type: "string", $lt: query.before } : { $type: "string" } };
      if (query.status) filter.status = query.status;
      const docs = await this.tickets.find(filter).sort({ lastMessageAt: -1, _id: -1 }).limit(query.limit).toArray();
      return docs.map(toTicket);
    });
  }

  addAgent(userId: string, now: string): Promise<void> {
    return runMongo(async () => {
      await this.agents.updateOne({ _id: userId }, { $setOnInsert: { addedAt: now } }, { upsert: true }).catch((err: unknown) => {
        if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      });
    });
  }

  isAgent(userId: string): Promise<boolean> {
    return runMongo(async () => (await this.agents.countDocuments({ _id: userId }, { limit: 1 })) > 0);
  }

  listAgents(limit: number): Promise<string[]> {
    return runMongo(async () => (await this.agents.find().sort({ addedAt: 1, _id: 1 }).limit(limit).toArray()).map((d) => d._id));
  }

  createWidgetKey(record: WidgetKeyRecord): Promise<void> {
    return runMongo(async () => {
      const { id, ...rest } = record;
      try {
        await this.keys.insertOne({ _id: id, ...rest });
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) {
          throw new SwitchboardError("conflict", `Widget key ${id} already exists.`, { cause: err });
        }
        throw err;
      }
    });
  }

  getWidgetKey(id: string): Promise<WidgetKeyRecord | null> {
    return runMongo(async () => {
      const doc = await this.keys.findOne({ _id: id });
      return doc ? toWidgetKey(doc) : null;
    });
  }

  listWidgetKeys(): Promise<WidgetKeyRecord[]> {
    return runMongo(async () => (await this.keys.find().sort({ createdAt: 1, _id: 1 }).toArray()).map(toWidgetKey));
  }

  revokeWidgetKey(id: string, now: string): Promise<boolean> {
    return runMongo(async () => {
      const result = await this.keys.updateOne({ _id: id, $or: [{ revokedAt: { $exists: false } }, { revokedAt: null }] }, { $set: { revokedAt: now } });
      return result.modifiedCount > 0;
    });
  }
}


function toTicket(d: TicketDoc): SupportTicketRecord {
  const ticket: SupportTicketRecord = {
    conversationId: d._id,
    visitorId: d.visitorId,
    widgetKeyId: d.widgetKeyId,
    identified: d.identified,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (d.assigneeId) ticket.assigneeId = d.assigneeId;
  if (d.lastMessageAt) ticket.lastMessageAt = d.lastMessageAt;
  return ticket;
}

function toWidgetKey(d: WidgetKeyDoc): WidgetKeyRecord {
  const key: WidgetKeyRecord = {
    id: d._id,
    name: d.name,
    allowedOrigins: d.allowedOrigins,
    identitySecret: d.identitySecret,
    createdAt: d.createdAt,
  };
  if (d.revokedAt) key.revokedAt = d.revokedAt;
  return key;
}
