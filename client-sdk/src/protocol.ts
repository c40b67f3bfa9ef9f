/**
 * The Switchboard wire protocol, v1 (PROTOCOL.md sections 3 and 4).
 *
 * This module is the single source of truth for event names, payloads and acknowledgements.
 * The server imports it as types only; the SDK uses it to type its socket.
 */

/** Stable error codes carried by every failed ack, `connect_error` data and HTTP error body. */
export const ERROR_CODES = [
  "unauthorized",
  "forbidden",
  "not_found",
  "invalid_argument",
  "payload_too_large",
  "rate_limited",
  "conflict",
  "unavailable",
  "internal",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error half of every acknowledgement. */
export interface WireError {
  code: ErrorCode;
  message: string;
  /** Present with `rate_limited`: how long to wait before trying again. */
  retryAfterMs?: number;
}

/** Every client → server event is acknowledged with this tagged union. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: WireError };

/** The acknowledgement callback of an event whose success carries `T`. */
export type AckCallback<T> = (result: Ack<T>) => void;

export type UserRole = "user" | "agent" | "visitor";
export type ConversationType = "direct" | "group" | "support";
export type MessageType = "text" | "system";
export type PresenceStatus = "online" | "offline";

export interface User {
  id: string;
  name?: string;
  phone?: string;
  /** Extension: where email notifications go (and replies by email come from). */
  email?: string;
  role: UserRole;
  createdAt: string;
}

export interface Member {
  userId: string;
  role: string;
  lastReadSeq: number;
  joinedAt: string;
}

export interface Conversation {
  id: string;
  type: ConversationType;
  title?: string;
  /**
   * Every member, except where {@link Conversation.membersPartial} is set: then only some (see
   * there).
   */
  members: Member[];
  lastSeq: number;
  createdAt: string;
  /** Extension: how many members the conversation has (`members` may list fewer, see `membersPartial`). */
  memberCount?: number;
  /**
   * Extension: set when `members` does not list everyone. A conversation with more members than
   * the server's `CONVERSATION_MEMBER_LIST_LIMIT` (default 100) is sent to clients with only the
   * receiving user's own membership (join and list answers), or only the member just added
   * (`conversation:updated`), so a 10,000-member room does not ship 10,000 members on every join.
   * `memberCount` is the true size; the HTTP API's `GET /v1/conversations/:id` lists everyone.
   */
  membersPartial?: boolean;
  /** Extension: the highest message revision of the conversation (see {@link Message.rev}); 0 before any change. */
  lastRev?: number;
}

/**
 * An attachment of a message: either a plain reference to a file hosted elsewhere (`url` as
 * given by the sender), or a file uploaded to Switchboard (`uploadId`), whose `url` is a signed
 * download link that expires at `urlExpiresAt` (history, joins and `GET /v1/uploads/:id` hand out
 * fresh ones).
 */
export interface Attachment {
  /** Plain: the URL the sender gave. Uploaded: a signed, expiring download URL of the original. */
  url: string;
  /** Extension: the upload (`up_…`) behind this attachment; absent for plain URL attachments. */
  uploadId?: string;
  name?: string;
  /** Uploaded: the type detected from the bytes, never the one the client claimed. */
  mimeType?: string;
  /** Bytes. */
  size?: number;
  /** Extension: pixel size of an uploaded image. */
  width?: number;
  height?: number;
  /** Extension: a small preview of an uploaded image (at most 320 px on its longer side). */
  thumbnail?: AttachmentThumbnail;
  /** Extension: ISO-8601 expiry of `url` and `thumbnail.url` (uploaded attachments only). */
  urlExpiresAt?: string;
}

/** Extension: the thumbnail of an uploaded image. */
export interface AttachmentThumbnail {
  /** Signed, expiring download URL (see {@link Attachment.urlExpiresAt}). */
  url: string;
  width: number;
  height: number;
  mimeType: string;
}

/**
 * What a sender puts in `attachments`: a plain URL reference, or `{ uploadId }` of a file they
 * uploaded (`POST /v1/uploads`); the server fills in the rest from the upload.
 */
export type AttachmentInput = { url: string; name?: string; mimeType?: string; size?: number } | { uploadId: string };

/** Extension: what a reply quotes of the message it answers (resolved when read, so edits and deletions show). */
export interface ReplyRef {
  messageId: string;
  seq: number;
  senderId: string;
  /** The start of the quoted message's text (at most `LIMITS.replyExcerptLength` characters); "" when deleted. */
  excerpt: string;
  /** Present (and `true`) when the quoted message has been deleted since. */
  deleted?: true;
  /** How many attachments the quoted message has (a picture-only message has an empty excerpt). */
  attachmentCount?: number;
}

/** Extension: the reactions of one emoji on a message. */
export interface ReactionSummary {
  emoji: string;
  /** How many users reacted with it; exact. */
  count: number;
  /** Who reacted, oldest first; at most `LIMITS.reactionUsersListed` of them (`count` may be higher). */
  userIds: string[];
}

export interface Message {
  id: string;
  conversationId: string;
  /** Assigned by the server: 1, 2, 3, … per conversation, gapless and in commit order. */
  seq: number;
  senderId: string;
  clientMessageId?: string;
  type: MessageType;
  text: string;
  attachments?: Attachment[];
  /** ISO-8601. */
  createdAt: string;
  /** Extension: ISO-8601 time of the latest edit; absent when never edited. */
  editedAt?: string;
  /** Extension: ISO-8601 time of the deletion; a deleted message keeps its `id` and `seq`. */
  deletedAt?: string;
  /** Extension: present (and `true`) on a deleted message, whose `text` is "" and which has no attachments. */
  deleted?: true;
  /**
   * Extension: the conversation revision of this message's latest change (edit, delete, reaction,
   * a new thread reply); absent or 0 when it never changed. A higher `rev` is a later version, and
   * `message:changes` with `afterRev` returns what changed while a client was away.
   */
  rev?: number;
  /** Extension: the message this one answers, quoted. */
  replyTo?: ReplyRef;
  /**
   * Extension: the id of the thread's parent message when this message is a thread reply. Thread
   * replies are ordinary messages of the conversation: they take the next `seq` like any other.
   */
  threadId?: string;
  /** Extension: 1, 2, 3, … within the thread (gapless), on thread replies. */
  threadSeq?: number;
  /** Extension: on a thread's parent, how many replies the thread has. */
  replyCount?: number;
  /** Extension: on a thread's parent, ISO-8601 time of its latest reply. */
  lastReplyAt?: string;
  /** Extension: reactions, one entry per emoji, in the order they were first used. */
  reactions?: ReactionSummary[];
}

export interface ConversationSummary {
  conversation: Conversation;
  unreadCount: number;
  lastMessage?: Message;
}

export interface PresenceInfo {
  status: PresenceStatus;
  lastSeenAt?: string;
}

// ---- client → server payloads ----

export interface ConversationCreatePayload {
  type: ConversationType;
  memberIds: string[];
  title?: string;
}
export interface ConversationListPayload {
  limit?: number;
  /** An ISO-8601 time: only conversations whose last activity is strictly older (paging). */
  before?: string;
}
export interface ConversationJoinPayload {
  conversationId: string;
  afterSeq?: number;
}
export interface ConversationLeavePayload {
  conversationId: string;
}
export interface MessageSendPayload {
  conversationId: string;
  clientMessageId: string;
  /** May be "" when the message has attachments. */
  text: string;
  attachments?: AttachmentInput[];
  /** Extension: the id of a message of the same conversation this one answers (quoted as `replyTo`). */
  replyTo?: string;
  /** Extension: post into the thread of this top-level message of the conversation. */
  threadId?: string;
}
export interface MessageHistoryPayload {
  conversationId: string;
  beforeSeq?: number;
  afterSeq?: number;
  limit?: number;
  /** Extension: only the replies of this thread (still paged by `seq`). */
  threadId?: string;
}
/** Extension: what changed (edits, deletions, reactions, thread counts) since revision `afterRev`. */
export interface MessageChangesPayload {
  conversationId: string;
  afterRev: number;
  limit?: number;
}
/** Extension: add or remove the user's reaction on a message. */
export interface ReactionPayload {
  conversationId: string;
  messageId: string;
  emoji: string;
}
/** Extension: replaces the text (and, when given, the attachments) of the sender's own message. */
export interface MessageEditPayload {
  conversationId: string;
  messageId: string;
  text: string;
  /** Replaces the attachments when present (`[]` removes them); absent keeps them. */
  attachments?: AttachmentInput[];
}
/** Extension: deletes the sender's own message; it keeps its `id` and `seq`, its content is removed. */
export interface MessageDeletePayload {
  conversationId: string;
  messageId: string;
}
export interface MessageReadPayload {
  conversationId: string;
  seq: number;
}
export interface TypingPayload {
  conversationId: string;
}
export interface PresenceQueryPayload {
  userIds: string[];
}
export interface AuthRefreshPayload {
  token: string;
}

// ---- ack results ----

export interface ConversationResult {
  conversation: Conversation;
}
export interface ConversationListResult {
  conversations: ConversationSummary[];
}
export interface JoinResult {
  conversation: Conversation;
  messages: Message[];
  hasMore: boolean;
}
export interface MessageResult {
  message: Message;
}
export interface HistoryResult {
  messages: Message[];
  hasMore: boolean;
}
/** Extension: the current versions of the messages changed after `afterRev`, in `rev` order. */
export interface ChangesResult {
  messages: Message[];
  /** The highest revision covered by this answer; ask again from it while `hasMore`. */
  lastRev: number;
  hasMore: boolean;
}
/** The result of events that answer nothing but success. */
export type EmptyResult = Record<never, never>;
export interface PresenceResult {
  presence: Record<string, PresenceInfo>;
}
export interface AuthRefreshResult {
  /** ISO-8601 expiry of the new token. */
  expiresAt: string;
}

/** Events the client emits; each takes an acknowledgement (typing events need none). */
export interface ClientToServerEvents {
  "conversation:create": (p: ConversationCreatePayload, ack: AckCallback<ConversationResult>) => void;
  "conversation:list": (p: ConversationListPayload, ack: AckCallback<ConversationListResult>) => void;
  "conversation:join": (p: ConversationJoinPayload, ack: AckCallback<JoinResult>) => void;
  "conversation:leave": (p: ConversationLeavePayload, ack: AckCallback<EmptyResult>) => void;
  "message:send": (p: MessageSendPayload, ack: AckCallback<MessageResult>) => void;
  "message:history": (p: MessageHistoryPayload, ack: AckCallback<HistoryResult>) => void;
  "message:read": (p: MessageReadPayload, ack: AckCallback<EmptyResult>) => void;
  /** Extension: the current message after the edit. */
  "message:edit": (p: MessageEditPayload, ack: AckCallback<MessageResult>) => void;
  /** Extension: the message as deleted; deleting it again answers the same. */
  "message:delete": (p: MessageDeletePayload, ack: AckCallback<MessageResult>) => void;
  /** Extension: messages changed since a revision (catching up on edits, deletions, reactions after a reconnect). */
  "message:changes": (p: MessageChangesPayload, ack: AckCallback<ChangesResult>) => void;
  /** Extension: react; reacting twice with the same emoji counts once. Answers the message's current version. */
  "reaction:add": (p: ReactionPayload, ack: AckCallback<MessageResult>) => void;
  /** Extension: take the user's reaction back (removing one that is not there succeeds). */
  "reaction:remove": (p: ReactionPayload, ack: AckCallback<MessageResult>) => void;
  "typing:start": (p: TypingPayload, ack?: AckCallback<EmptyResult>) => void;
  "typing:stop": (p: TypingPayload, ack?: AckCallback<EmptyResult>) => void;
  "presence:query": (p: PresenceQueryPayload, ack: AckCallback<PresenceResult>) => void;
  "auth:refresh": (p: AuthRefreshPayload, ack: AckCallback<AuthRefreshResult>) => void;
  /** Extension (support desk, agents only): the team inbox of support conversations. */
  "support:inbox": (p: SupportInboxPayload, ack: AckCallback<SupportInboxResult>) => void;
  /** Extension (support desk): one support conversation; an agent may ask for any, a visitor for their own. */
  "support:get": (p: SupportConversationPayload, ack: AckCallback<SupportTicketResult>) => void;
  /** Extension (support desk, agents only): become a member (role `agent`), so `conversation:join` and sends work. */
  "support:join": (p: SupportConversationPayload, ack: AckCallback<SupportTicketResult>) => void;
  /** Extension (support desk, agents only): assign to an agent (who becomes a member), or `null` to unassign. */
  "support:assign": (p: SupportAssignPayload, ack: AckCallback<SupportTicketResult>) => void;
  /** Extension (support desk, agents only): set `open` or `resolved`. */
  "support:status": (p: SupportStatusPayload, ack: AckCallback<SupportTicketResult>) => void;
}

export interface ReceiptReadEvent {
  conversationId: string;
  userId: string;
  seq: number;
}
export interface TypingEvent {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}
/** Extension: see `presence:occupancy`. */
export interface PresenceOccupancyEvent {
  conversationId: string;
  /** Members with a live connection anywhere in the cluster. */
  online: number;
  /** Members of the conversation. */
  members: number;
}
export interface PresenceUpdateEvent {
  userId: string;
  status: PresenceStatus;
  lastSeenAt?: string;
}
/**
 * Sent when the server knows live events may have been missed (for example after a cluster
 * fault); the client should re-fetch with `afterSeq` for every conversation it has joined.
 */
export interface ResyncEvent {
  reason: string;
}
/** Sent just before the server closes a connection on purpose (token expiry, shutdown). */
export interface SessionEndEvent {
  code: ErrorCode;
  message: string;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  "message:new": (m: Message) => void;
  /** Extension: a message was edited or deleted; the payload is its full current version. */
  "message:updated": (m: Message) => void;
  "receipt:read": (e: ReceiptReadEvent) => void;
  typing: (e: TypingEvent) => void;
  "presence:update": (e: PresenceUpdateEvent) => void;
  /**
   * Extension: how many members of a large conversation (more than the server's
   * `PRESENCE_ROOM_LIMIT`) are online, instead of a `presence:update` per member; at most one per
   * second per conversation, to the connections that joined it. Ask `presence:query` for names.
   */
  "presence:occupancy": (e: PresenceOccupancyEvent) => void;
  "conversation:updated": (e: ConversationResult) => void;
  /** Extension: re-fetch history with `afterSeq`, live events may have been missed. */
  resync: (e: ResyncEvent) => void;
  /** Extension: the server is about to close this connection, and why. */
  "session:end": (e: SessionEndEvent) => void;
  /** Extension (support desk): a support conversation changed (status, assignee, a new message); to agents and its visitor. */
  "support:updated": (e: SupportUpdatedEvent) => void;
  /** Extension (support desk): how many agents are online changed; to agents and visitors. */
  "support:availability": (e: SupportAvailabilityEvent) => void;
}

/** Data carried by a refused handshake's `connect_error`. */
export interface ConnectErrorData {
  code: ErrorCode;
  message: string;
}

/** Limits the server enforces; the SDK checks them before sending to fail fast. */
export const LIMITS = {
  /** Maximum message text length, in UTF-16 code units. */
  textMaxLength: 4000,
  /** Maximum attachments per message. */
  attachmentsMax: 10,
  /** Extension: most distinct emoji one message may carry. */
  reactionsDistinctMax: 20,
  /** Extension: longest reaction, in UTF-16 code units (one emoji, or a `:shortcode:`). */
  reactionMaxLength: 64,
  /** Extension: user ids listed per emoji in `reactions` (the count stays exact). */
  reactionUsersListed: 100,
  /** Extension: longest quoted excerpt in `replyTo`. */
  replyExcerptLength: 140,
  /** Maximum `clientMessageId` length. */
  clientMessageIdMaxLength: 128,
  /** Maximum length of user, conversation and message ids. */
  idMaxLength: 128,
  /** Maximum conversation title length. */
  titleMaxLength: 200,
  /** Maximum members of a conversation, given when creating it or added later. */
  membersMax: 10_000,
  /** Maximum messages per history page (and per join). */
  pageMax: 100,
  /** Maximum user ids per presence query. */
  presenceQueryMax: 200,
  /** Socket.IO `maxHttpBufferSize`: the largest single frame the server accepts. */
  maxFrameBytes: 64 * 1024,
} as const;

// ---- helpers derived from the event maps (additions; nothing above changes) ----

/** Client → server events that are always acknowledged (every event except the typing ones). */
export type RequestEvent = {
  [E in keyof ClientToServerEvents]-?: undefined extends Parameters<ClientToServerEvents[E]>[1] ? never : E;
}[keyof ClientToServerEvents];

/** The payload of client → server event `E`. */
export type RequestPayload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];

/** What a successful acknowledgement of event `E` carries (without the `ok` tag). */
export type RequestResult<E extends keyof ClientToServerEvents> =
  NonNullable<Parameters<ClientToServerEvents[E]>[1]> extends AckCallback<infer T> ? T : never;

/**
 * Extension: the quote of `message` that a reply to it shows as `replyTo`: the start of its
 * current text (at most `LIMITS.replyExcerptLength` UTF-16 code units, never cutting an emoji's
 * surrogate pair in half), or `deleted: true` and "" once it is deleted. The server resolves
 * every `replyTo` with it when a message is read; the SDK uses it to update held quotes locally.
 */
export function replyRefOf(message: Pick<Message, "id" | "seq" | "senderId" | "text" | "attachments" | "deleted">): ReplyRef {
  const ref: ReplyRef = { messageId: message.id, seq: message.seq, senderId: message.senderId, excerpt: "" };
  if (message.deleted) {
    ref.deleted = true;
    return ref;
  }
  ref.excerpt = replyExcerpt(message.text);
  if (message.attachments?.length) ref.attachmentCount = message.attachments.length;
  return ref;
}

/** The start of `text` as {@link replyRefOf} quotes it. */
export function replyExcerpt(text: string): string {
  const max = LIMITS.replyExcerptLength;
  if (text.length <= max) return text;
  // A high surrogate as the last unit kept would leave half an emoji behind.
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** True when `value` is one of {@link ERROR_CODES}; for validating codes that cross the wire. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

// ---- support desk (extension: the widget and the agent console of demo-app/) ----

/** Extension: the state of a support conversation; a visitor's new message reopens a resolved one. */
export type SupportStatus = "open" | "resolved";

/** Extension: a support conversation (`type: "support"`) as the team inbox and the visitor's widget see it. */
export interface SupportTicket {
  conversationId: string;
  /** The visitor's user id. */
  visitorId: string;
  /** True when the visitor's identity was verified with a `userHash` (see `POST /v1/widget/sessions`). */
  identified: boolean;
  status: SupportStatus;
  /** The agent the conversation is assigned to; absent while unassigned. */
  assigneeId?: string;
  /** Display names of the visitor and the agents involved, by user id (only those known). */
  names: Record<string, string>;
  /** The conversation's highest `seq`. */
  lastSeq: number;
  lastMessage?: Message;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601 time of the last change of status or assignee, or of the last message. */
  updatedAt: string;
  /** ISO-8601 time of the latest message; absent before the first. */
  lastMessageAt?: string;
}

/** Extension: one row of the team inbox, for the agent who asked. */
export interface SupportInboxEntry {
  ticket: SupportTicket;
  /** The asking agent's read position (0 when they never opened the conversation). */
  lastReadSeq: number;
  /** `ticket.lastSeq - lastReadSeq`. */
  unreadCount: number;
}

/** Extension: an agent of the team. */
export interface SupportAgent {
  userId: string;
  name?: string;
  online: boolean;
}

export interface SupportInboxPayload {
  /** Only conversations in this state. Default: both. */
  status?: SupportStatus;
  /** Page size, 1 to 100. Default 50. */
  limit?: number;
  /** An ISO-8601 time: only conversations whose last message is strictly older (paging). */
  before?: string;
}
export interface SupportConversationPayload {
  conversationId: string;
}
export interface SupportAssignPayload {
  conversationId: string;
  /** An agent's user id, or `null` to unassign. */
  assigneeId: string | null;
}
export interface SupportStatusPayload {
  conversationId: string;
  status: SupportStatus;
}
export interface SupportInboxResult {
  /** Conversations with at least one message, latest message first. */
  entries: SupportInboxEntry[];
  /** The team (up to 200 agents), online ones first. */
  agents: SupportAgent[];
}
export interface SupportTicketResult {
  ticket: SupportTicket;
  /** How many agents are online now. */
  agentsOnline: number;
}
export interface SupportUpdatedEvent {
  ticket: SupportTicket;
}
export interface SupportAvailabilityEvent {
  agentsOnline: number;
}
