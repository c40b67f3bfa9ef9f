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

/** Input of {@link Store.upsertUser}; absent optional fields keep their stored value. */
export interface UserInput {
  id: string;
  name?: string;
  phone?: string;
  email?: string;
  role?: UserRole;
}

/** Input of {@link Store.createConversation}. */
export interface NewConversation {
  id: string;
  type: ConversationType;
  title?: string;
  /** Members in order; duplicates are the caller's job to remove. */
  members: { userId: string; role: string }[];
  /** ISO-8601. */
  createdAt: string;
}

/** Input of {@link Store.appendMessage}: everything but `seq`, which the store assigns. */
export interface NewMessage {
  id: string;
  conversationId: string;
  senderId: string;
  clientMessageId?: string;
  type: MessageType;
  text: string;
  attachments?: Attachment[];
  /** The message this one answers: it must exist in the same conversation (else `invalid_argument`). */
  replyToId?: string;
  /**
   * The thread's parent: a top-level message of the same conversation (else `invalid_argument`).
   * The new message gets the thread's next `threadSeq`, and the parent's `replyCount`,
   * `lastReplyAt` and `rev` move in the same commit.
   */
  threadId?: string;
  /** ISO-8601. */
  createdAt: string;
}

/** Result of {@link Store.appendMessage}. */
export type AppendResult =
  /** A new message was committed with the next `seq`; `parent`: the thread's parent after the change. */
  | { kind: "created"; message: Message; parent?: Message }
  /** `(senderId, clientMessageId)` already existed: the original message, nothing written. */
  | { kind: "duplicate"; message: Message };

/**
 * Input of {@link Store.updateMessage}: the fields to change; absent fields keep their value.
 * `attachments: null` removes them. Every update takes the conversation's next revision
 * (see {@link Store.getChanges}); a deletion also removes the message's reactions.
 */
export interface MessagePatch {
  text?: string;
  attachments?: Attachment[] | null;
  /** ISO-8601. */
  editedAt?: string;
  /** ISO-8601; marks the message deleted (final: a deleted message takes no further patch). */
  deletedAt?: string;
}

/** A page of history, oldest first. */
export interface MessagePage {
  messages: Message[];
  /** More messages exist beyond the page in the direction of the query. */
  hasMore: boolean;
}

/**
 * History query. With `afterSeq`, the page is the oldest messages above it; with `beforeSeq`
 * only, the newest below it; with neither, the newest. Always returned oldest first.
 */
export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
  /** Only the replies of the thread under this message (still paged by the conversation's `seq`). */
  threadId?: string;
}

/** Input of {@link Store.addReaction} and {@link Store.removeReaction}. */
export interface ReactionInput {
  conversationId: string;
  messageId: string;
  userId: string;
  /** Already validated (one emoji or a `:shortcode:`). */
  emoji: string;
  /** ISO-8601; orders the users of one emoji (oldest first). */
  at: string;
}

/** Result of {@link Store.addReaction} and {@link Store.removeReaction}. */
export interface ReactionResult {
  /** False when nothing changed (the reaction was already there, or was not there to remove). */
  changed: boolean;
  /** The message's current version, with its `reactions` and `rev`. */
  message: Message;
}

/** Query of {@link Store.getChanges}. */
export interface ChangesQuery {
  /** Only messages whose latest change has a higher revision. */
  afterRev: number;
  limit: number;
}

/** Result of {@link Store.getChanges}. */
export interface ChangesPage {
  /** Current versions, in `rev` order. */
  messages: Message[];
  /** Every change up to this revision is covered; ask again from it while `hasMore`. */
  lastRev: number;
  hasMore: boolean;
}

/** Paging of a user's conversations, most recent activity first. */
export interface ConversationListQuery {
  limit: number;
  /** ISO-8601: only conversations whose last activity is strictly older. */
  before?: string;
  /** Conversations with more members than this list only the listing user's own membership (see {@link ConversationView}). */
  memberListLimit?: number;
}

/**
 * How a conversation is read for one user: with more than `memberListLimit` members, `members`
 * holds only `viewerId`'s own membership (none when it is not a member) and `membersPartial` is
 * set; `memberCount` is always the true size. A big room's members stay in the store.
 */
export interface ConversationView {
  viewerId: string;
  memberListLimit: number;
}

/** The view a listing asks for, if it set a limit. */
export function listView(userId: string, query: ConversationListQuery): ConversationView | undefined {
  return query.memberListLimit === undefined ? undefined : { viewerId: userId, memberListLimit: query.memberListLimit };
}

/**
 * `conversation` (every member listed) as sent when it has more than `memberListLimit` members:
 * only the members `keep` picks, the true `memberCount`, and `membersPartial`.
 */
export function partialMembers(conversation: Conversation, memberListLimit: number, keep: (m: Member) => boolean): Conversation {
  if (conversation.members.length <= memberListLimit) return conversation;
  return { ...conversation, members: conversation.members.filter(keep), memberCount: conversation.members.length, membersPartial: true };
}

/** A stored API key; the secret itself is never stored, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, shown in listings so people can tell keys apart. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  /** Hex SHA-256 of the secret replaced by the latest rotation, accepted until `previousKeyExpiresAt`. */
  previousHash?: string;
  /** ISO-8601: until when the secret replaced by the latest rotation keeps working. */
  previousKeyExpiresAt?: string;
}

/** Input of {@link Store.rotateApiKey}. */
export interface ApiKeyRotation {
  /** Hex SHA-256 of the new secret. */
  hash: string;
  /** The new secret's first characters. */
  prefix: string;
  /** ISO-8601: the current secret keeps working until then, as the previous one. */
  previousKeyExpiresAt: string;
}

/**
 * Persistence of users, conversations, messages and API keys.
 *
 * Contract (shown for every driver by `test/store-contract.ts`):
 * - `seq` is assigned per conversation as 1, 2, 3, … with no gap and no duplicate, commit order
 *   equals `seq` order, and a crash never burns a `seq`; this holds with several processes or
 *   nodes writing into one conversation at once.
 * - A message is durable when `appendMessage` resolves.
 * - History pages by key (`seq`), never by offset.
 * - Thread replies are ordinary messages of their conversation (they take its next `seq`) and
 *   also number 1, 2, 3, … within their thread (`threadSeq`), without gap.
 * - Each conversation counts revisions (`Conversation.lastRev`, 0 at first). Every change to an
 *   existing message (edit, deletion, reaction added or removed, thread reply added under it)
 *   takes the next revision and sets the message's `rev` in the same write, so `getChanges`
 *   finds everything that changed after a revision a client has seen.
 * - `replyTo` is resolved when a message is read: it quotes the parent's current version.
 * Errors are thrown as `SwitchboardError` (`not_found`, `conflict`, `invalid_argument`, `unavailable`).
 */
/** What {@link Store.listPresenceAudience} answers. */
export interface PresenceAudience {
  contacts: string[];
  largeConversationIds: string[];
}

export interface Store {
  /** Creates tables and indexes; idempotent. */
  init(): Promise<void>;
  /** Throws `unavailable` when the backing database cannot be reached. */
  ping(): Promise<void>;
  /** Releases connections and file handles. */
  close(): Promise<void>;

  /** Creates the user, or updates the fields given. */
  upsertUser(input: UserInput, now: string): Promise<User>;
  getUser(id: string): Promise<User | null>;

  /** Throws `conflict` when the id is taken. */
  createConversation(input: NewConversation): Promise<Conversation>;
  /** Every member, or with `view` only the viewer's own when the conversation is big (`memberCount` either way). */
  getConversation(id: string, view?: ConversationView): Promise<Conversation | null>;
  getMember(conversationId: string, userId: string): Promise<Member | null>;
  /**
   * Who has not read message `seq` yet: the ids of the members other than `exceptUserId` whose
   * read position is below `seq`, in the order they joined. Empty for a missing conversation.
   */
  listUnreadMembers(conversationId: string, seq: number, exceptUserId: string): Promise<string[]>;
  /** Idempotent: an existing member keeps its role and read position. Throws `not_found`. */
  addMember(conversationId: string, userId: string, role: string, now: string): Promise<Conversation>;
  /** Idempotent. Throws `not_found` when the conversation does not exist. */
  removeMember(conversationId: string, userId: string): Promise<Conversation>;
  /** The user's conversations, most recent activity first, with unread counts and last message. */
  listConversations(userId: string, query: ConversationListQuery): Promise<ConversationSummary[]>;
  /** Ids of every user who shares at least one conversation with `userId` (not including it). */
  listContacts(userId: string, limit: number): Promise<string[]>;
  /**
   * Who hears about `userId`'s presence: the users who share a conversation of at most
   * `roomLimit` members with them (at most `contactLimit`, not including `userId`), and the
   * conversations of `userId` with more members, which get occupancy counts instead.
   */
  listPresenceAudience(userId: string, roomLimit: number, contactLimit: number): Promise<PresenceAudience>;

  /**
   * Commits the message with the conversation's next `seq`, or returns the original when
   * `(senderId, clientMessageId)` exists. Throws `not_found` when the conversation is missing,
   * `forbidden` when `senderId` is not one of its members (checked before the retry lookup);
   * `invalid_argument` when `replyToId` or `threadId` names no message of the conversation, or
   * `threadId` names a thread reply; `conflict` when `replyToId` names a deleted message. With
   * `threadId`, the parent's `replyCount`, `lastReplyAt` and `rev` move with the commit and the
   * result's `parent` is its new version.
   */
  appendMessage(input: NewMessage): Promise<AppendResult>;
  /** A page of the conversation's history, or with `query.threadId` of one thread's replies. */
  getMessages(conversationId: string, query: HistoryQuery): Promise<MessagePage>;
  /**
   * The current versions of the conversation's messages changed after `query.afterRev`, oldest
   * change first. Answers an empty page (with `lastRev` = `afterRev`) for a missing conversation.
   */
  getChanges(conversationId: string, query: ChangesQuery): Promise<ChangesPage>;
  /**
   * Adds `userId`'s reaction `emoji` to a message: a new reaction takes the next revision and
   * updates the message's `reactions` in the same write; one already there changes nothing
   * (`changed: false`). Null when the conversation has no such message. Throws `conflict` for a
   * deleted message and `invalid_argument` when a new emoji would exceed
   * `LIMITS.reactionsDistinctMax` distinct ones on the message.
   */
  addReaction(input: ReactionInput): Promise<ReactionResult | null>;
  /** Takes a reaction back, like {@link addReaction}; one that is not there changes nothing. */
  removeReaction(input: ReactionInput): Promise<ReactionResult | null>;
  /** The message with `messageId` in that conversation, or null. */
  getMessage(conversationId: string, messageId: string): Promise<Message | null>;
  /** The message `senderId` sent with `clientMessageId` (in any conversation), or null. */
  getMessageByClientId(senderId: string, clientMessageId: string): Promise<Message | null>;
  /**
   * Applies `patch` to a message (its `id`, `seq`, sender and `createdAt` never change) and returns
   * the result; null when the conversation has no such message. Throws `conflict` when the message
   * is already deleted: a deletion is final.
   */
  updateMessage(conversationId: string, messageId: string, patch: MessagePatch): Promise<Message | null>;
  /**
   * Moves the member's `lastReadSeq` forward to `min(seq, lastSeq)`; never backwards.
   * Returns the resulting position and whether it moved. Throws `not_found` for a non-member.
   */
  markRead(conversationId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; moved: boolean }>;

  createApiKey(record: ApiKeyRecord): Promise<void>;
  /** The key whose current hash, or previous hash (see {@link rotateApiKey}), is `hash`; expiry is the caller's to check. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  /**
   * Gives an unrevoked key a new secret: its current hash becomes `previousHash` (replacing any
   * earlier one) until `previousKeyExpiresAt`. Returns the updated record, or null when there is
   * no such unrevoked key.
   */
  rotateApiKey(id: string, rotation: ApiKeyRotation): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Returns false when no such unrevoked key exists. */
  revokeApiKey(id: string, now: string): Promise<boolean>;
  touchApiKey(id: string, now: string): Promise<void>;
}
