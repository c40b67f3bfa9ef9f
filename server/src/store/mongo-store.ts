import { setTimeout as sleep } from "node:timers/promises";
import {
  MongoClientClosedError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  type Collection,
  type Db,
  type Filter,
  type UpdateFilter,
  type WriteConcernSettings,
} from "mongodb";
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
import { LIMITS, replyRefOf } from "../../../client-sdk/src/protocol.js";
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
import { listView, partialMembers } from "./store.js";

/** Options of {@link MongoStore}. */
export interface MongoStoreOptions {
  /**
   * Write concern of every write. Default `{ w: "majority", journal: true }`: an acknowledged
   * message is on disk on a majority of the replica set and survives a failover.
   */
  writeConcern?: WriteConcernSettings;
  /**
   * How many times `appendMessage` tries to claim the next `seq` while other nodes keep winning
   * the race for the same conversation, before failing with `unavailable`. Default 20.
   */
  maxAppendAttempts?: number;
}

interface UserDoc {
  _id: string;
  name?: string;
  phone?: string;
  email?: string;
  role: UserRole;
  createdAt: string;
}

interface MemberDoc {
  userId: string;
  role: string;
  lastReadSeq: number;
  joinedAt: string;
}

interface ConversationDoc {
  _id: string;
  type: ConversationType;
  title?: string;
  /** Embedded, with a multikey index on `members.userId`: one document answers membership checks. */
  members: MemberDoc[];
  /** Advanced after each insert; may lag the messages collection after a crash (see appendMessage). */
  lastSeq: number;
  createdAt: string;
  /** `createdAt` of the message with `lastSeq`, else the conversation's `createdAt`. */
  lastActivityAt: string;
  /**
   * The revision counter: every change to a message claims the next value here with `$inc`
   * before writing it to the message (absent on conversations that never had a change).
   */
  lastRev?: number;
}

interface MessageDoc {
  _id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMessageId?: string;
  type: MessageType;
  text: string;
  attachments?: Attachment[];
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
  /** The conversation revision of the latest change; written with `$max`, so it never moves back. */
  rev?: number;
  replyToId?: string;
  threadId?: string;
  threadSeq?: number;
  /** On a thread's parent: the highest `threadSeq` (with `$max`) and its reply's `createdAt`. */
  replyCount?: number;
  lastReplyAt?: string;
  /** A summary recomputed from the `reactions` collection after each reaction change. */
  reactions?: ReactionSummary[];
  /** The revision the stored `reactions` summary was computed at: an older recompute never overwrites a newer one. */
  reactionsRev?: number;
}

/** One user's reaction; the unique `(messageId, emoji, userId)` index arbitrates "at most one each". */
interface ReactionDoc {
  messageId: string;
  conversationId: string;
  emoji: string;
  userId: string;
  createdAt: string;
}

/** What a reply's quote needs of the message it quotes. */
type QuotedDoc = Pick<MessageDoc, "_id" | "seq" | "senderId" | "text" | "attachments" | "deletedAt">;
const QUOTED_PROJECTION = { _id: 1, seq: 1, senderId: 1, text: 1, attachments: 1, deletedAt: 1 } as const;

interface ApiKeyDoc {
  _id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  previousHash?: string;
  previousKeyExpiresAt?: string;
}

const DUPLICATE_KEY = 11000;
/** Server errors that mean "not now" (failover, shutdown) rather than "wrong request". */
const TRANSIENT_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * The MongoDB {@link Store} driver, for deployments that already run MongoDB or need several
 * machines. Works on a standalone server as well as a replica set: nothing needs transactions.
 *
 * Collections: `users`, `conversations` (members embedded), `messages`, `reactions`, `apiKeys`.
 *
 * Revisions without transactions: a change claims the conversation's next revision with
 * `findOneAndUpdate({ _id }, { $inc: { lastRev: 1 } })`, then writes it to the message with
 * `$max`. Claims are unique and a message's `rev` never moves back, but two nodes changing one
 * conversation in the same instant may commit their revisions out of order; a client reading
 * `getChanges` between the two commits then moves its watermark past the later-committed lower
 * revision and misses that change until the message changes again or the client reads history
 * (live `message:updated` events still carry it). The SQLite driver has no such window.
 *
 * @example
 * const client = await new MongoClient(config.mongodbUri).connect();
 * const store = new MongoStore(client.db());
 * await store.init();
 */
export class MongoStore implements Store {
  private readonly users: Collection<UserDoc>;
  private readonly conversations: Collection<ConversationDoc>;
  private readonly messages: Collection<MessageDoc>;
  private readonly reactions: Collection<ReactionDoc>;
  private readonly apiKeys: Collection<ApiKeyDoc>;
  private readonly maxAppendAttempts: number;
  /** Tail of each conversation's in-process append chain (see `appendMessage`). */
  private readonly appendTails = new Map<string, Promise<void>>();

  /**
   * @param db a database of an already-connected client; `close()` closes that client.
   * @param options see {@link MongoStoreOptions}.
   */
  constructor(
    private readonly db: Db,
    options: MongoStoreOptions = {},
  ) {
    const collectionOptions = {
      writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true },
      // Defence in depth: an optional field left undefined must be absent, never stored as null.
      ignoreUndefined: true,
    };
    this.users = db.collection<UserDoc>("users", collectionOptions);
    this.conversations = db.collection<ConversationDoc>("conversations", collectionOptions);
    this.messages = db.collection<MessageDoc>("messages", collectionOptions);
    this.reactions = db.collection<ReactionDoc>("reactions", collectionOptions);
    this.apiKeys = db.collection<ApiKeyDoc>("apiKeys", collectionOptions);
    this.maxAppendAttempts = Math.max(1, options.maxAppendAttempts ?? 20);
  }

  /** Creates every index (idempotent: MongoDB ignores an identical existing index). */
  init(): Promise<void> {
    return runMongo(async () => {
      await Promise.all([
        this.messages.createIndexes([
          // The arbiter of seq assignment: two writers can never both commit the same seq.
          { key: { conversationId: 1, seq: 1 }, name: "conversation_seq", unique: true },
          {
            key: { senderId: 1, clientMessageId: 1 },
            name: "sender_client_message_id",
            unique: true,
            partialFilterExpression: { clientMessageId: { $exists: true } },
          },
          // getChanges: the changed messages of a conversation in revision order.
          { key: { conversationId: 1, rev: 1 }, name: "conversation_rev", partialFilterExpression: { rev: { $gt: 0 } } },
          // Thread history, and the arbiter of threadSeq as conversation_seq is of seq.
          { key: { threadId: 1, seq: 1 }, name: "thread_seq_order", partialFilterExpression: { threadId: { $exists: true } } },
          { key: { threadId: 1, threadSeq: 1 }, name: "thread_seq", unique: true, partialFilterExpression: { threadId: { $exists: true } } },
        ]),
        this.reactions.createIndexes([
          // At most one reaction per (message, emoji, user), however many nodes race.
          { key: { messageId: 1, emoji: 1, userId: 1 }, name: "message_emoji_user", unique: true },
          // The recompute of a message's summary reads its reactions oldest first.
          { key: { messageId: 1, createdAt: 1 }, name: "message_created" },
        ]),
        this.conversations.createIndexes([
          // Multikey: serves getMember, listConversations (sorted by activity) and listContacts.
          { key: { "members.userId": 1, lastActivityAt: -1, _id: -1 }, name: "member_activity" },
        ]),
        this.apiKeys.createIndexes([
          { key: { hash: 1 }, name: "hash", unique: true },
          {
            key: { previousHash: 1 },
            name: "previous_hash",
            unique: true,
            partialFilterExpression: { previousHash: { $exists: true } },
          },
        ]),
      ]);
    });
  }

  ping(): Promise<void> {
    return runMongo(async () => {
      await this.db.command({ ping: 1 });
    });
  }

  close(): Promise<void> {
    return runMongo(() => this.db.client.close());
  }

  upsertUser(input: UserInput, now: string): Promise<User> {
    return runMongo(async () => {
      const set: Partial<UserDoc> = {};
      if (input.name !== undefined) set.name = input.name;
      if (input.phone !== undefined) set.phone = input.phone;
      if (input.email !== undefined) set.email = input.email;
      if (input.role !== undefined) set.role = input.role;
      const setOnInsert: Partial<UserDoc> = { createdAt: now };
      // A field may appear in only one of $set and $setOnInsert.
      if (input.role === undefined) setOnInsert.role = "user";
      const update: UpdateFilter<UserDoc> = { $setOnInsert: setOnInsert };
      if (Object.keys(set).length > 0) update.$set = set;
      const upsert = () =>
        this.users.findOneAndUpdate({ _id: input.id }, update, { upsert: true, returnDocument: "after" });
      let doc;
      try {
        doc = await upsert();
      } catch (err) {
        // Two concurrent upserts of a new id: one inserts, the other hits the _id index; the
        // retry then finds the document and updates it.
        if (!isDuplicateKey(err)) throw err;
        doc = await upsert();
      }
      if (!doc) throw new Error("findOneAndUpdate with upsert returned no document");
      return toUser(doc);
    });
  }

  getUser(id: string): Promise<User | null> {
    return runMongo(async () => {
      const doc = await this.users.findOne({ _id: id });
      return doc ? toUser(doc) : null;
    });
  }

  createConversation(input: NewConversation): Promise<Conversation> {
    return runMongo(async () => {
      const seen = new Set<string>();
      const members: MemberDoc[] = [];
      for (const m of input.members) {
        // The first occurrence wins, as in the SQLite driver.
        if (seen.has(m.userId)) continue;
        seen.add(m.userId);
        members.push({ userId: m.userId, role: m.role, lastReadSeq: 0, joinedAt: input.createdAt });
      }
      const doc: ConversationDoc = {
        _id: input.id,
        type: input.type,
        members,
        lastSeq: 0,
        createdAt: input.createdAt,
        lastActivityAt: input.createdAt,
      };
      if (input.title !== undefined) doc.title = input.title;
      try {
        await this.conversations.insertOne(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw new SwitchboardError("conflict", `Conversation ${input.id} already exists.`);
        throw err;
      }
      return toConversation(doc, 0, 0);
    });
  }

  getConversation(id: string, view?: ConversationView): Promise<Conversation | null> {
    return runMongo(async () => {
      const [doc, top, rev] = await Promise.all([this.conversations.findOne({ _id: id }), this.highestSeq(id), this.highestRev(id)]);
      return doc ? toConversation(doc, top, rev, view) : null;
    });
  }

  getMember(conversationId: string, userId: string): Promise<Member | null> {
    return runMongo(async () => {
      const doc = await this.conversations.findOne(
        { _id: conversationId, "members.userId": userId },
        { projection: { members: { $elemMatch: { userId } } } },
      );
      const member = doc?.members.find((m) => m.userId === userId);
      return member ? toMember(member) : null;
    });
  }

  listUnreadMembers(conversationId: string, seq: number, exceptUserId: string): Promise<string[]> {
    return runMongo(async () => {
      // Filtered on the server: a big room's members who have read stay there.
      const rows = await this.conversations
        .aggregate<{ _id: string }>([
          { $match: { _id: conversationId } },
          { $unwind: "$members" },
          { $match: { "members.userId": { $ne: exceptUserId }, "members.lastReadSeq": { $lt: seq } } },
          { $project: { _id: "$members.userId" } },
        ])
        .toArray();
      return rows.map((r) => r._id);
    });
  }

  addMember(conversationId: string, userId: string, role: string, now: string): Promise<Conversation> {
    return runMongo(async () => {
      const member: MemberDoc = { userId, role, lastReadSeq: 0, joinedAt: now };
      // The $ne guard makes the push atomic and idempotent: an existing member is left untouched.
      await this.conversations.updateOne(
        { _id: conversationId, "members.userId": { $ne: userId } },
        { $push: { members: member } },
      );
      return this.requireConversation(conversationId);
    });
  }

  removeMember(conversationId: string, userId: string): Promise<Conversation> {
    return runMongo(async () => {
      await this.conversations.updateOne({ _id: conversationId }, { $pull: { members: { userId } } });
      return this.requireConversation(conversationId);
    });
  }

  listConversations(userId: string, query: ConversationListQuery): Promise<ConversationSummary[]> {
    return runMongo(async () => {
      const filter: Filter<ConversationDoc> = { "members.userId": userId };
      // Normalised so a cursor without milliseconds compares correctly with stored toISOString() values.
      if (query.before !== undefined) filter.lastActivityAt = { $lt: canonicalTime(query.before) };
      const docs = await this.conversations
        .find(filter)
        .sort({ lastActivityAt: -1, _id: -1 })
        .limit(query.limit)
        .toArray();
      return Promise.all(
        docs.map(async (doc): Promise<ConversationSummary> => {
          // The newest message is authoritative for lastSeq: the conversation's copy can lag.
          const [last, rev] = await Promise.all([
            this.messages.findOne({ conversationId: doc._id }, { sort: { seq: -1 } }),
            this.highestRev(doc._id),
          ]);
          const conversation = toConversation(doc, last?.seq ?? 0, rev, listView(userId, query));
          const me = doc.members.find((m) => m.userId === userId);
          const summary: ConversationSummary = {
            conversation,
            unreadCount: Math.max(0, conversation.lastSeq - (me?.lastReadSeq ?? 0)),
          };
          if (last) summary.lastMessage = await this.resolveOne(last);
          return summary;
        }),
      );
    });
  }

  listPresenceAudience(userId: string, roomLimit: number, contactLimit: number): Promise<PresenceAudience> {
    return runMongo(async () => {
      // The sizes first, without the member arrays: a big room's 10,000 members stay on the server.
      const sizes = await this.conversations
        .aggregate<{ _id: string; size: number }>([{ $match: { "members.userId": userId } }, { $project: { _id: 1, size: { $size: "$members" } } }])
        .toArray();
      const small = sizes.filter((c) => c.size <= roomLimit).map((c) => c._id);
      const largeConversationIds = sizes.filter((c) => c.size > roomLimit).map((c) => c._id);
      if (small.length === 0) return { contacts: [], largeConversationIds };
      const rows = await this.conversations
        .aggregate<{ _id: string }>([
          { $match: { _id: { $in: small } } },
          { $unwind: "$members" },
          { $match: { "members.userId": { $ne: userId } } },
          { $group: { _id: "$members.userId" } },
          { $sort: { _id: 1 } },
          { $limit: contactLimit },
        ])
        .toArray();
      return { contacts: rows.map((r) => r._id), largeConversationIds };
    });
  }

  listContacts(userId: string, limit: number): Promise<string[]> {
    return runMongo(async () => {
      const rows = await this.conversations
        .aggregate<{ _id: string }>([
          { $match: { "members.userId": userId } },
          { $unwind: "$members" },
          { $match: { "members.userId": { $ne: userId } } },
          { $group: { _id: "$members.userId" } },
          { $sort: { _id: 1 } },
          { $limit: limit },
        ])
        .toArray();
      return rows.map((r) => r._id);
    });
  }

  /**
   * Why this is gapless, in commit order and crash-safe without transactions:
   *
   * A writer reads the highest committed `seq` N of the conversation from the messages collection
   * (majority read concern, so N cannot be rolled back by a failover) and inserts its message with
   * N + 1. The unique `(conversationId, seq)` index lets exactly one concurrent writer commit N + 1;
   * the others get a duplicate-key error, re-read and retry. Because a writer only picks N + 1
   * after it has seen N committed, commit order equals seq order, and nothing is reserved ahead of
   * the insert, so a crash at any point never burns a seq: either the message is in the
   * collection (and the next writer sees it) or it is not (and the next writer takes its seq).
   *
   * The conversation's `lastSeq` and `lastActivityAt` are advanced afterwards, forward only. A crash
   * between the two writes leaves them stale until the next append, which is why readers take
   * `lastSeq` from the newest message rather than from the conversation document.
   *
   * Within this process, appends to one conversation are queued so they do not race one another
   * (which would only cost retries); the index arbitrates between processes and machines.
   */
  appendMessage(input: NewMessage): Promise<AppendResult> {
    return runMongo(() => this.serialize(input.conversationId, () => this.claimNextSeq(input)));
  }

  getMessages(conversationId: string, query: HistoryQuery): Promise<MessagePage> {
    return runMongo(async () => {
      const limit = Math.max(0, Math.trunc(query.limit));
      const seq: { $gt?: number; $lt?: number } = {};
      if (query.afterSeq !== undefined) seq.$gt = query.afterSeq;
      if (query.beforeSeq !== undefined) seq.$lt = query.beforeSeq;
      // With afterSeq the page is the oldest above it; otherwise the newest below beforeSeq.
      const ascending = query.afterSeq !== undefined;
      const filter: Filter<MessageDoc> = { conversationId };
      if (Object.keys(seq).length > 0) filter.seq = seq;
      // `$exists` spelled out so the planner can pick the partial thread index.
      if (query.threadId !== undefined) filter.threadId = { $eq: query.threadId, $exists: true };
      // One document past the page tells whether more exist, without a count.
      const docs = await this.messages
        .find(filter)
        .sort({ seq: ascending ? 1 : -1 })
        .limit(limit + 1)
        .toArray();
      const hasMore = docs.length > limit;
      const page = docs.slice(0, limit);
      if (!ascending) page.reverse();
      return { messages: await this.resolve(page), hasMore };
    });
  }

  getChanges(conversationId: string, query: ChangesQuery): Promise<ChangesPage> {
    return runMongo(async () => {
      const limit = Math.max(0, Math.trunc(query.limit));
      const docs = await this.messages
        .find({ conversationId, rev: { $gt: query.afterRev } })
        .sort({ rev: 1 })
        .limit(limit + 1)
        .toArray();
      const hasMore = docs.length > limit;
      const page = await this.resolve(docs.slice(0, limit));
      // The highest revision actually committed, never the claimed counter: a revision claimed
      // but not yet written is not skipped by the client's next watermark (see the class comment
      // for the out-of-order case this cannot cover).
      const lastRev = Math.max(query.afterRev, page.at(-1)?.rev ?? 0);
      return { messages: page, lastRev, hasMore };
    });
  }

  getMessage(conversationId: string, messageId: string): Promise<Message | null> {
    return runMongo(async () => {
      const doc = await this.messages.findOne({ _id: messageId, conversationId });
      return doc ? this.resolveOne(doc) : null;
    });
  }

  getMessageByClientId(senderId: string, clientMessageId: string): Promise<Message | null> {
    return runMongo(async () => {
      const doc = await this.messages.findOne({ senderId, clientMessageId });
      return doc ? this.resolveOne(doc) : null;
    });
  }

  updateMessage(conversationId: string, messageId: string, patch: MessagePatch): Promise<Message | null> {
    return runMongo(async () => {
      const set: Partial<MessageDoc> = {};
      const unset: Partial<Record<keyof MessageDoc, "">> = {};
      if (patch.text !== undefined) set.text = patch.text;
      if (patch.attachments === null || patch.attachments?.length === 0) unset.attachments = "";
      else if (patch.attachments !== undefined) set.attachments = patch.attachments;
      if (patch.editedAt !== undefined) set.editedAt = patch.editedAt;
      if (patch.deletedAt !== undefined) {
        set.deletedAt = patch.deletedAt;
        // A deleted message keeps nothing of what people did with it, its reactions included.
        unset.reactions = "";
      }
      const existing = await this.messages.findOne({ _id: messageId, conversationId }, { projection: { deletedAt: 1 } });
      if (!existing) return null;
      if (existing.deletedAt !== undefined) throw messageDeleted(messageId, existing.deletedAt);
      // Claimed before the write (a claim whose write then fails is skipped harmlessly).
      const rev = await this.claimRev(conversationId);
      const update: UpdateFilter<MessageDoc> = { $max: { rev } };
      if (Object.keys(set).length > 0) update.$set = set;
      if (Object.keys(unset).length > 0) update.$unset = unset;
      // The deletedAt guard makes "a deletion is final" one atomic step with the write.
      const filter: Filter<MessageDoc> = { _id: messageId, conversationId, deletedAt: { $exists: false } };
      const doc = await this.messages.findOneAndUpdate(filter, update, { returnDocument: "after" });
      if (!doc) {
        const now = await this.messages.findOne({ _id: messageId, conversationId }, { projection: { deletedAt: 1 } });
        if (!now) return null;
        throw messageDeleted(messageId, now.deletedAt);
      }
      // After the deletedAt write: a reaction racing the deletion may leave a row behind, which
      // nothing shows (deleted messages have no reactions) and a later deletion sweep can drop.
      if (patch.deletedAt !== undefined) await this.reactions.deleteMany({ messageId });
      return this.resolveOne(doc);
    });
  }

  addReaction(input: ReactionInput): Promise<ReactionResult | null> {
    return runMongo(async () => {
      const current = await this.messages.findOne({ _id: input.messageId, conversationId: input.conversationId });
      if (!current) return null;
      if (current.deletedAt !== undefined) throw reactionOnDeleted(input.messageId, current.deletedAt);
      const present = (current.reactions ?? []).some((r) => r.emoji === input.emoji);
      if (!present && (current.reactions?.length ?? 0) >= LIMITS.reactionsDistinctMax) {
        // The stored summary may lag the collection: ask the collection before refusing. Two
        // first uses of different new emoji racing at the limit may both pass (documented).
        const distinct = await this.reactions.distinct("emoji", { messageId: input.messageId });
        if (!distinct.includes(input.emoji) && distinct.length >= LIMITS.reactionsDistinctMax) throw tooManyEmoji(input.messageId);
      }
      try {
        await this.reactions.insertOne({
          messageId: input.messageId,
          conversationId: input.conversationId,
          emoji: input.emoji,
          userId: input.userId,
          createdAt: input.at,
        });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Already there: reacting twice counts once, and changes nothing.
        return { changed: false, message: await this.resolveOne(current) };
      }
      return { changed: true, message: await this.refreshReactions(input) };
    });
  }

  removeReaction(input: ReactionInput): Promise<ReactionResult | null> {
    return runMongo(async () => {
      const current = await this.messages.findOne({ _id: input.messageId, conversationId: input.conversationId });
      if (!current) return null;
      if (current.deletedAt !== undefined) throw reactionOnDeleted(input.messageId, current.deletedAt);
      const { deletedCount } = await this.reactions.deleteOne({ messageId: input.messageId, emoji: input.emoji, userId: input.userId });
      if (deletedCount === 0) return { changed: false, message: await this.resolveOne(current) };
      return { changed: true, message: await this.refreshReactions(input) };
    });
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; moved: boolean }> {
    return runMongo(async () => {
      // Capped at the newest committed seq so a client cannot mark unsent messages read.
      const target = Math.min(seq, await this.highestSeq(conversationId));
      // $max keeps the position monotonic under concurrent receipts; the "before" image tells
      // whether this call moved it.
      const before = await this.conversations.findOneAndUpdate(
        { _id: conversationId, "members.userId": userId },
        { $max: { "members.$.lastReadSeq": target } },
        { returnDocument: "before", projection: { members: { $elemMatch: { userId } } } },
      );
      const previous = before?.members.find((m) => m.userId === userId);
      if (!previous) {
        throw new SwitchboardError("not_found", `User ${userId} is not a member of conversation ${conversationId}.`);
      }
      return target > previous.lastReadSeq
        ? { lastReadSeq: target, moved: true }
        : { lastReadSeq: previous.lastReadSeq, moved: false };
    });
  }

  createApiKey(record: ApiKeyRecord): Promise<void> {
    return runMongo(async () => {
      const doc: ApiKeyDoc = {
        _id: record.id,
        name: record.name,
        prefix: record.prefix,
        hash: record.hash,
        scopes: record.scopes,
        createdAt: record.createdAt,
      };
      if (record.lastUsedAt !== undefined) doc.lastUsedAt = record.lastUsedAt;
      if (record.revokedAt !== undefined) doc.revokedAt = record.revokedAt;
      try {
        await this.apiKeys.insertOne(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw new SwitchboardError("conflict", "An API key with the same id or hash already exists.");
        throw err;
      }
    });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return runMongo(async () => {
      const doc = await this.apiKeys.findOne({ $or: [{ hash }, { previousHash: hash }] });
      return doc ? toApiKey(doc) : null;
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return runMongo(async () => {
      const docs = await this.apiKeys.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
      return docs.map(toApiKey);
    });
  }

  rotateApiKey(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | null> {
    return runMongo(async () => {
      // A pipeline update reads the document as it was: previousHash takes the old hash atomically.
      const doc = await this.apiKeys.findOneAndUpdate(
        { _id: id, revokedAt: { $exists: false } },
        [
          {
            $set: {
              previousHash: "$hash",
              hash: rotation.hash,
              prefix: rotation.prefix,
              previousKeyExpiresAt: rotation.previousKeyExpiresAt,
            },
          },
        ],
        { returnDocument: "after" },
      );
      return doc ? toApiKey(doc) : null;
    });
  }

  revokeApiKey(id: string, now: string): Promise<boolean> {
    return runMongo(async () => {
      const res = await this.apiKeys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: now } });
      return res.modifiedCount > 0;
    });
  }

  touchApiKey(id: string, now: string): Promise<void> {
    return runMongo(async () => {
      // $max: a late touch from a slow request never moves lastUsedAt back. Best effort, so an
      // acknowledgement from the primary alone is enough on this hot path.
      await this.apiKeys.updateOne({ _id: id }, { $max: { lastUsedAt: now } }, { writeConcern: { w: 1 } });
    });
  }

  /** One attempt loop of {@link appendMessage}; runs alone for its conversation in this process. */
  private async claimNextSeq(input: NewMessage): Promise<AppendResult> {
    const [exists, top] = await Promise.all([
      this.conversations.findOne({ _id: input.conversationId }, { projection: { _id: 1, members: { $elemMatch: { userId: input.senderId } } } }),
      this.highestSeq(input.conversationId),
    ]);
    if (!exists) throw new SwitchboardError("not_found", `Conversation ${input.conversationId} does not exist.`);
    if (!exists.members?.length) throw notAMember(input.conversationId);
    if (input.replyToId !== undefined) await this.requireQuotable(input.conversationId, input.replyToId);
    if (input.threadId !== undefined) await this.requireThreadParent(input.conversationId, input.threadId);
    let last = top;
    // threadSeq is claimed exactly like seq: the highest committed one plus one, arbitrated by the
    // unique (threadId, threadSeq) index, so it is gapless and in commit order within the thread.
    let lastThreadSeq = input.threadId === undefined ? 0 : await this.highestThreadSeq(input.threadId);
    for (let attempt = 1; ; attempt++) {
      const doc = toMessageDoc(input, last + 1, input.threadId === undefined ? undefined : lastThreadSeq + 1);
      try {
        await this.messages.insertOne(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Which unique index fired is not relied upon: check idempotency first, so a retried
        // send resolves to its original whatever else collided.
        const original = await this.findByClientMessageId(input);
        // Returned even when it belongs to another conversation; the service layer decides.
        if (original) return { kind: "duplicate", message: await this.resolveOne(original) };
        if ((await this.messages.countDocuments({ _id: input.id }, { limit: 1 })) > 0) {
          throw new SwitchboardError("conflict", `Message id ${input.id} is already taken.`);
        }
        // Another node committed this seq first.
        if (attempt >= this.maxAppendAttempts) {
          throw new SwitchboardError(
            "unavailable",
            `Could not assign a sequence number in conversation ${input.conversationId} after ${attempt} attempts: other nodes kept writing to it. Retry shortly.`,
          );
        }
        // Full jitter keeps racing nodes from colliding again in lockstep.
        await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
        last = await this.highestSeq(input.conversationId);
        if (input.threadId !== undefined) lastThreadSeq = await this.highestThreadSeq(input.threadId);
        continue;
      }
      // $max keeps all three monotonic whatever order racing nodes apply them in; ISO-8601
      // strings of one format compare like the times they denote. Senders have read what they
      // wrote, so their own messages never count as unread.
      await this.conversations.updateOne(
        { _id: input.conversationId },
        { $max: { lastSeq: doc.seq, lastActivityAt: doc.createdAt, "members.$[sender].lastReadSeq": doc.seq } },
        { arrayFilters: [{ "sender.userId": doc.senderId }] },
      );
      const message = await this.resolveOne(doc);
      if (input.threadId === undefined || doc.threadSeq === undefined) return { kind: "created", message };
      // The parent's counters follow the reply (not atomically with it: a crash in between
      // leaves them one reply behind until the thread's next reply; $max makes racing nodes agree).
      const rev = await this.claimRev(input.conversationId);
      const parent = await this.messages.findOneAndUpdate(
        { _id: input.threadId },
        { $max: { replyCount: doc.threadSeq, lastReplyAt: doc.createdAt, rev } },
        { returnDocument: "after" },
      );
      return parent ? { kind: "created", message, parent: await this.resolveOne(parent) } : { kind: "created", message };
    }
  }

  /**
   * After a reaction row changed: claims a revision, recomputes the message's summary from the
   * collection and writes both, guarded by `reactionsRev` so a slower recompute that read older
   * rows never replaces a newer summary. A later claim is made after this change's row write, so
   * the recompute holding the highest revision has seen every row written before it.
   */
  private async refreshReactions(input: ReactionInput): Promise<Message> {
    const rev = await this.claimRev(input.conversationId);
    const summary = await this.reactions
      .aggregate<ReactionSummary & { first: string }>([
        { $match: { messageId: input.messageId } },
        { $sort: { createdAt: 1, _id: 1 } },
        { $group: { _id: "$emoji", count: { $sum: 1 }, first: { $min: "$createdAt" }, userIds: { $push: "$userId" } } },
        { $sort: { first: 1, _id: 1 } },
        { $project: { _id: 0, emoji: "$_id", count: 1, userIds: { $slice: ["$userIds", LIMITS.reactionUsersListed] } } },
      ])
      .toArray();
    await this.messages.updateOne(
      {
        _id: input.messageId,
        deletedAt: { $exists: false },
        $or: [{ reactionsRev: { $exists: false } }, { reactionsRev: { $lt: rev } }],
      },
      { $set: { reactions: summary.map(({ emoji, count, userIds }) => ({ emoji, count, userIds })), reactionsRev: rev }, $max: { rev } },
    );
    const doc = await this.messages.findOne({ _id: input.messageId });
    if (!doc) throw new SwitchboardError("not_found", `Message ${input.messageId} does not exist in conversation ${input.conversationId}.`);
    return this.resolveOne(doc);
  }

  /** Claims the conversation's next revision (see the class comment). */
  private async claimRev(conversationId: string): Promise<number> {
    const doc = await this.conversations.findOneAndUpdate(
      { _id: conversationId },
      { $inc: { lastRev: 1 } },
      { returnDocument: "after", projection: { lastRev: 1 } },
    );
    if (!doc?.lastRev) throw new SwitchboardError("not_found", `Conversation ${conversationId} does not exist.`);
    return doc.lastRev;
  }

  /** The highest revision written to a message of the conversation (0 before any change). */
  private async highestRev(conversationId: string): Promise<number> {
    const top = await this.messages.findOne(
      { conversationId, rev: { $gt: 0 } },
      { sort: { rev: -1 }, projection: { rev: 1 }, readConcern: { level: "majority" } },
    );
    return top?.rev ?? 0;
  }

  /** Messages with their `replyTo` resolved: one query for the quoted messages of the whole page. */
  private async resolve(docs: MessageDoc[]): Promise<Message[]> {
    const ids = [...new Set(docs.flatMap((d) => (d.replyToId === undefined || d.replyToId === null ? [] : [d.replyToId])))];
    const quoted = ids.length
      ? new Map((await this.messages.find({ _id: { $in: ids } }, { projection: QUOTED_PROJECTION }).toArray()).map((q) => [q._id, q as QuotedDoc]))
      : new Map<string, QuotedDoc>();
    return docs.map((d) => toMessage(d, d.replyToId ? quoted.get(d.replyToId) : undefined));
  }

  private async resolveOne(doc: MessageDoc): Promise<Message> {
    return (await this.resolve([doc]))[0]!;
  }

  /** Throws unless `replyToId` names a live message of the conversation. */
  private async requireQuotable(conversationId: string, replyToId: string): Promise<void> {
    const quoted = await this.messages.findOne({ _id: replyToId }, { projection: { conversationId: 1, deletedAt: 1 } });
    if (!quoted || quoted.conversationId !== conversationId) throw notInConversation("replyTo", replyToId, conversationId);
    if (quoted.deletedAt !== undefined && quoted.deletedAt !== null) {
      throw new SwitchboardError("conflict", `replyTo: message ${replyToId} was deleted at ${quoted.deletedAt}; a deleted message cannot be quoted.`);
    }
  }

  /** Throws unless `threadId` names a top-level message of the conversation (deleted ones keep their thread). */
  private async requireThreadParent(conversationId: string, threadId: string): Promise<void> {
    const parent = await this.messages.findOne({ _id: threadId }, { projection: { conversationId: 1, threadId: 1 } });
    if (!parent || parent.conversationId !== conversationId) throw notInConversation("threadId", threadId, conversationId);
    if (parent.threadId !== undefined && parent.threadId !== null) {
      throw new SwitchboardError(
        "invalid_argument",
        `threadId: message ${threadId} is itself a reply in thread ${parent.threadId}; threads do not nest, post into thread ${parent.threadId} instead.`,
      );
    }
  }

  /** The highest committed threadSeq of a thread, 0 before its first reply. */
  private async highestThreadSeq(threadId: string): Promise<number> {
    const top = await this.messages.findOne(
      { threadId: { $eq: threadId, $exists: true } },
      { sort: { threadSeq: -1 }, projection: { threadSeq: 1 }, readConcern: { level: "majority" } },
    );
    return top?.threadSeq ?? 0;
  }

  /** The highest committed seq of a conversation, 0 when it has no messages. */
  private async highestSeq(conversationId: string): Promise<number> {
    const top = await this.messages.findOne(
      { conversationId },
      { sort: { seq: -1 }, projection: { seq: 1 }, readConcern: { level: "majority" } },
    );
    return top?.seq ?? 0;
  }

  private async findByClientMessageId(input: NewMessage): Promise<MessageDoc | null> {
    if (input.clientMessageId === undefined) return null;
    return this.messages.findOne({ senderId: input.senderId, clientMessageId: input.clientMessageId });
  }

  private async requireConversation(id: string): Promise<Conversation> {
    const [doc, top, rev] = await Promise.all([this.conversations.findOne({ _id: id }), this.highestSeq(id), this.highestRev(id)]);
    if (!doc) throw new SwitchboardError("not_found", `Conversation ${id} does not exist.`);
    return toConversation(doc, top, rev);
  }

  /** Chains `task` after every earlier task of the same key in this process. */
  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.appendTails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.appendTails.set(key, tail);
    // Forget the chain once it drains, so idle conversations cost no memory.
    void tail.then(() => {
      if (this.appendTails.get(key) === tail) this.appendTails.delete(key);
    });
    return result;
  }

}

function messageDeleted(messageId: string, deletedAt: string | undefined): SwitchboardError {
  return new SwitchboardError("conflict", `Message ${messageId} was deleted at ${deletedAt ?? "an earlier time"}; a deleted message cannot be changed.`);
}

function reactionOnDeleted(messageId: string, deletedAt: string): SwitchboardError {
  return new SwitchboardError("conflict", `Message ${messageId} was deleted at ${deletedAt}; it takes no reactions.`);
}

function tooManyEmoji(messageId: string): SwitchboardError {
  return new SwitchboardError(
    "invalid_argument",
    `emoji: message ${messageId} already has ${LIMITS.reactionsDistinctMax} different reactions, the most allowed; react with one of those instead.`,
  );
}

function notInConversation(field: "replyTo" | "threadId", messageId: string, conversationId: string): SwitchboardError {
  return new SwitchboardError("invalid_argument", `${field}: message ${messageId} does not exist in conversation ${conversationId}.`);
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

function canonicalTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new SwitchboardError("invalid_argument", `${JSON.stringify(iso)} is not an ISO-8601 time.`);
  return new Date(ms).toISOString();
}

/**
 * Maps driver failures to the error family: an unreachable server, a failover in progress or an
 * unconfirmed majority write become `unavailable` with a message for the operator (the driver's
 * own error, which may name hosts, stays in `cause` for the log); anything else is rethrown as is
 * (the edge turns it into `internal`).
 */
/** Runs driver work with its errors mapped to SwitchboardError; shared by every MongoDB driver. */
export async function runMongo<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw mapMongoError(err);
  }
}

export function mapMongoError(err: unknown): unknown {
  if (err instanceof SwitchboardError) return err;
  const unavailable = (message: string) => new SwitchboardError("unavailable", message, { cause: err });
  if (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoServerClosedError
  ) {
    return unavailable("MongoDB cannot be reached; check MONGODB_URI and the database server's health.");
  }
  if (err instanceof MongoOperationTimeoutError) {
    return unavailable("MongoDB did not answer in time; check the database server's load and health.");
  }
  if (err instanceof MongoWriteConcernError) {
    return unavailable(
      "MongoDB did not confirm the write on a majority of the replica set; check that enough members are up.",
    );
  }
  if (
    err instanceof MongoError &&
    (err.hasErrorLabel(MongoErrorLabel.RetryableWriteError) ||
      err.hasErrorLabel(MongoErrorLabel.TransientTransactionError) ||
      (typeof err.code === "number" && TRANSIENT_SERVER_CODES.has(err.code)))
  ) {
    return unavailable("MongoDB is failing over or shutting down; the request can be retried shortly.");
  }
  return err;
}

function toUser(d: UserDoc): User {
  const user: User = { id: d._id, role: d.role, createdAt: d.createdAt };
  if (d.name !== undefined && d.name !== null) user.name = d.name;
  if (d.phone !== undefined && d.phone !== null) user.phone = d.phone;
  if (d.email !== undefined && d.email !== null) user.email = d.email;
  return user;
}

function toMember(d: MemberDoc): Member {
  return { userId: d.userId, role: d.role, lastReadSeq: d.lastReadSeq, joinedAt: d.joinedAt };
}

/**
 * @param highestSeq the newest message's seq, authoritative over the document's possibly lagging copy.
 * @param highestRev the highest revision written to a message: unlike the claimed counter, a
 *   client may take it as its watermark without skipping a change still being written.
 */
/**
 * With `view`, a big conversation keeps only the viewer's membership. The document (members
 * embedded) is read whole either way; what `view` saves here is the answer's size.
 */
function toConversation(d: ConversationDoc, highestSeq: number, highestRev: number, view?: ConversationView): Conversation {
  const conversation: Conversation = {
    id: d._id,
    type: d.type,
    members: d.members.map(toMember),
    memberCount: d.members.length,
    lastSeq: Math.max(d.lastSeq, highestSeq),
    createdAt: d.createdAt,
    lastRev: highestRev,
  };
  if (d.title !== undefined && d.title !== null) conversation.title = d.title;
  return view ? partialMembers(conversation, view.memberListLimit, (m) => m.userId === view.viewerId) : conversation;
}

function toMessageDoc(input: NewMessage, seq: number, threadSeq: number | undefined): MessageDoc {
  const doc: MessageDoc = {
    _id: input.id,
    conversationId: input.conversationId,
    seq,
    senderId: input.senderId,
    type: input.type,
    text: input.text,
    createdAt: input.createdAt,
  };
  if (input.clientMessageId !== undefined) doc.clientMessageId = input.clientMessageId;
  if (input.attachments !== undefined) doc.attachments = input.attachments;
  if (input.replyToId !== undefined) doc.replyToId = input.replyToId;
  if (input.threadId !== undefined && threadSeq !== undefined) {
    doc.threadId = input.threadId;
    doc.threadSeq = threadSeq;
  }
  return doc;
}

/** @param quoted the message `d` quotes (`replyToId`), when it has one. */
function toMessage(d: MessageDoc, quoted?: QuotedDoc): Message {
  const message: Message = {
    id: d._id,
    conversationId: d.conversationId,
    seq: d.seq,
    senderId: d.senderId,
    type: d.type,
    text: d.text,
    createdAt: d.createdAt,
  };
  if (d.clientMessageId !== undefined && d.clientMessageId !== null) message.clientMessageId = d.clientMessageId;
  if (d.attachments !== undefined && d.attachments !== null) message.attachments = d.attachments;
  if (d.editedAt !== undefined && d.editedAt !== null) message.editedAt = d.editedAt;
  const deleted = d.deletedAt !== undefined && d.deletedAt !== null;
  if (deleted) {
    message.deletedAt = d.deletedAt;
    message.deleted = true;
  }
  if (d.rev) message.rev = d.rev;
  if (quoted) {
    const ref = replyRefOf({
      id: quoted._id,
      seq: quoted.seq,
      senderId: quoted.senderId,
      text: quoted.text,
      ...(quoted.attachments ? { attachments: quoted.attachments } : {}),
      ...(quoted.deletedAt !== undefined && quoted.deletedAt !== null ? { deleted: true as const } : {}),
    });
    message.replyTo = ref;
  }
  if (d.threadId !== undefined && d.threadId !== null && d.threadSeq !== undefined && d.threadSeq !== null) {
    message.threadId = d.threadId;
    message.threadSeq = d.threadSeq;
  }
  if (d.replyCount) message.replyCount = d.replyCount;
  if (d.lastReplyAt !== undefined && d.lastReplyAt !== null) message.lastReplyAt = d.lastReplyAt;
  if (!deleted && d.reactions?.length) message.reactions = d.reactions;
  return message;
}

function toApiKey(d: ApiKeyDoc): ApiKeyRecord {
  const record: ApiKeyRecord = {
    id: d._id,
    name: d.name,
    prefix: d.prefix,
    hash: d.hash,
    scopes: d.scopes,
    createdAt: d.createdAt,
  };
  if (d.lastUsedAt !== undefined && d.lastUsedAt !== null) record.lastUsedAt = d.lastUsedAt;
  if (d.revokedAt !== undefined && d.revokedAt !== null) record.revokedAt = d.revokedAt;
  if (d.previousHash !== undefined && d.previousHash !== null) record.previousHash = d.previousHash;
  if (d.previousKeyExpiresAt !== undefined && d.previousKeyExpiresAt !== null) record.previousKeyExpiresAt = d.previousKeyExpiresAt;
  return record;
}
