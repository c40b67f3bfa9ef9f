import { TypedEmitter } from "./emitter.js";
import { SwitchboardClientError } from "./errors.js";
import {
  LIMITS,
  replyRefOf,
  type AttachmentInput,
  type Conversation,
  type HistoryResult,
  type Message,
  type ReceiptReadEvent,
  type ReplyRef,
  type RequestEvent,
  type RequestPayload,
  type RequestResult,
  type TypingEvent,
  type TypingPayload,
} from "./protocol.js";
import { timeOrderedUuid } from "./random-id.js";

/** How often `typing:start` is re-sent while the user keeps typing; the server expires it after a few seconds. */
const TYPING_THROTTLE_MS = 3_000;

/** A send failing with `internal` is retried this many times before it is rejected. */
const MAX_INTERNAL_RETRIES = 3;

/**
 * A history page that returns nothing new while a gap is still open is retried this many
 * times (with backoff) before the gap is given up on: a message can be announced live a moment
 * before a lagging replica lets history see it.
 */
const MAX_GAP_STALLS = 5;

/**
 * The shared connection as a conversation handle sees it.
 * @internal Implemented by {@link ChatClient}; not part of the public API.
 */
export interface ConversationHost {
  /** Increments on every accepted handshake; a join is only valid in the generation it was made in. */
  readonly generation: number;
  /** True while the socket is connected. */
  readonly connected: boolean;
  /** The user id (`sub`) of the current token, when it is a JWT. */
  readonly userId: string | undefined;
  /** Sends an acknowledged event; rejects with a {@link SwitchboardClientError}. */
  request<E extends RequestEvent>(event: E, payload: RequestPayload<E>): Promise<RequestResult<E>>;
  /** Sends a fire-and-forget event (typing). */
  notify(event: "typing:start" | "typing:stop", payload: TypingPayload): void;
  /** The backoff delay before retry number `attempt` (from 0). */
  retryDelay(attempt: number): number;
  /** Called for every message the handle delivers, so the client can re-emit it. */
  delivered(message: Message): void;
  /** Called for every `message:updated` the handle emits, so the client can re-emit it. */
  updated(message: Message): void;
}

/**
 * What the client drives on a handle.
 * @internal Handed to the client by the handle's constructor; not part of the public API.
 */
export interface ConversationSink {
  /** True while the application wants this conversation's live events. */
  readonly active: boolean;
  connected(): void;
  message(message: Message): void;
  /** A `message:updated` (an edit, a delete, a reaction, a thread reply) for this conversation. */
  messageUpdated(message: Message): void;
  receipt(event: ReceiptReadEvent): void;
  typing(event: TypingEvent): void;
  updated(conversation: Conversation): void;
  resync(): void;
}

/** Options of {@link ConversationHandle.send}. */
export interface SendOptions {
  /**
   * Attachments: plain URL references, or `{ uploadId }` of files uploaded with
   * `POST /v1/uploads`. Default none. With attachments, `text` may be "".
   */
  attachments?: AttachmentInput[];
  /** The id of a message of this conversation that this one answers; it is quoted as `replyTo`. Default none. */
  replyTo?: string;
  /** Post into the thread under this top-level message. Default: the conversation itself. */
  threadId?: string;
  /**
   * The idempotency key. Default: a fresh random UUID. Pass your own to keep it across app
   * restarts (for example when the outbox is persisted), so a resend never duplicates.
   */
  clientMessageId?: string;
}

/** Options of {@link ConversationHandle.history}. */
export interface HistoryOptions {
  /** Only messages with a lower `seq`. Default: the oldest `seq` this handle holds (the next older page). */
  beforeSeq?: number;
  /** Page size, at most `LIMITS.pageMax`. Default: the server's default. */
  limit?: number;
}

/**
 * Options of {@link ConversationHandle.threadHistory}. Thread replies page by the
 * conversation's `seq`: with `afterSeq` the oldest replies above it, otherwise the newest
 * below `beforeSeq` (or the newest of all).
 */
export interface ThreadHistoryOptions {
  /** Only replies with a lower `seq`. Default none. */
  beforeSeq?: number;
  /** Only replies with a higher `seq` (reading a thread forward). Default none. */
  afterSeq?: number;
  /** Page size, at most `LIMITS.pageMax`. Default: the server's default (50). */
  limit?: number;
}

/** An outgoing message that has not been acknowledged yet, for optimistic UI. */
export interface PendingMessage {
  clientMessageId: string;
  conversationId: string;
  text: string;
  attachments?: AttachmentInput[];
  /** The message it answers, as given to `send()`. */
  replyTo?: string;
  /** The thread it goes into, as given to `send()`. */
  threadId?: string;
  /** When `send()` was called, ISO-8601 by the local clock. */
  queuedAt: string;
  /** `queued`: waiting for the connection, the join or a retry delay; `sending`: on the wire. */
  status: "queued" | "sending";
}

/** Events of a {@link ConversationHandle}. */
export type ConversationHandleEvents = {
  /** Every message once, in `seq` order, with nothing missing (older pages from `history()` excluded). */
  message: Message;
  /**
   * A message this handle holds changed; the payload is its current version, which has replaced
   * the old one in {@link ConversationHandle.messages}. Emitted once per version, whether it came
   * live, in a history page or from the change feed after a reconnect: an edit, a deletion
   * (`deleted: true`, `text` ""), reactions, a thread parent's `replyCount`, or a reply's
   * `replyTo` quote after the quoted message was edited or deleted.
   */
  "message:updated": Message;
  /** A member read up to `seq`. */
  receipt: ReceiptReadEvent;
  /** A member started or stopped typing. */
  typing: TypingEvent;
  /** The outbox changed; the payload is the same list as {@link ConversationHandle.pending}. */
  pending: readonly PendingMessage[];
  /** A join (the first one or a re-join after a reconnect) completed. */
  joined: Conversation;
  /** The server announced a change of members, title or status. */
  updated: Conversation;
  /** The conversation could not be joined or synced (`forbidden`, `not_found`, …); live events stop. */
  error: SwitchboardClientError;
};

interface OutboxEntry {
  readonly pending: PendingMessage;
  /** Consecutive failed attempts, for the backoff. */
  attempts: number;
  internalErrors: number;
  resolve(message: Message): void;
  reject(error: SwitchboardClientError): void;
}

interface JoinWaiter {
  resolve(conversation: Conversation): void;
  reject(error: SwitchboardClientError): void;
}

/**
 * One conversation over the client's shared connection (get it with `client.conversation(id)`;
 * the same id always gives the same handle).
 *
 * After `join()` it delivers every message exactly once and in `seq` order: it re-joins with
 * `afterSeq` after every reconnect, fills any gap in the live stream from history before
 * delivering what comes after it, and drops duplicates by `seq`. `send()` goes through an
 * ordered outbox that survives disconnects and retries idempotently.
 */
export class ConversationHandle extends TypedEmitter<ConversationHandleEvents> {
  /** The conversation id. */
  readonly id: string;

  private readonly host: ConversationHost;
  private wantJoined = false;
  /** The host generation this handle joined in; -1 when it has not joined on the current socket. */
  private joinedGeneration = -1;
  /**
   * The highest `seq` delivered; every message from the first join's page up to it has been
   * delivered. `undefined` until the first join sets the baseline.
   */
  private frontier: number | undefined;
  /** Received messages above `frontier + 1`, held back until the gap below them is filled. */
  private readonly ahead = new Map<number, Message>();
  /** The conversation's `lastSeq` as last reported by the server: catch-up reads at least up to it. */
  private catchUpTo = 0;
  /**
   * The change watermark: every change with a revision up to it is reflected in what this handle
   * holds. Set from the first join's `lastRev` (read by the server before the messages), moved
   * only by `message:changes` answers; `undefined` against a server without revisions.
   */
  private revWatermark: number | undefined;
  /** A `message:changes` round is due (after a re-join or a `resync`). */
  private changesDue = false;
  /** Forces one more history read even without a known gap (`hasMore`, a `resync`). */
  private forceCatchUp = false;
  private gapStalls = 0;
  private syncing = false;
  private readonly joinWaiters: JoinWaiter[] = [];

  private readonly known = new Map<number, Message>();
  private sortedCache: Message[] | undefined;
  private _conversation: Conversation | undefined;

  private readonly outbox: OutboxEntry[] = [];
  private flushing = false;

  private lastReadSent = 0;
  private typingSentAt = 0;
  private typingActive = false;

  /**
   * @internal Use `client.conversation(id)`.
   * @param link receives the sink through which the client drives this handle
   */
  constructor(id: string, host: ConversationHost, link: (sink: ConversationSink) => void) {
    super();
    this.id = id;
    this.host = host;
    // A closure instead of public methods keeps the client-only entry points out of the API.
    const isActive = (): boolean => this.wantJoined;
    link({
      get active() {
        return isActive();
      },
      connected: () => this.onConnected(),
      message: (message) => this.onLiveMessage(message),
      messageUpdated: (message) => this.applyUpdate(message),
      receipt: (event) => this.emit("receipt", event),
      typing: (event) => this.emit("typing", event),
      updated: (conversation) => {
        this._conversation = keepOwnMembership(conversation, this._conversation, this.host.userId);
        this.emit("updated", conversation);
      },
      resync: () => {
        if (!this.wantJoined) return;
        this.forceCatchUp = true;
        this.changesDue = this.revWatermark !== undefined;
        void this.sync();
      },
    });
  }

  /** The conversation as of the last join or `conversation:updated`; `undefined` before the first join. */
  get conversation(): Conversation | undefined {
    return this._conversation;
  }

  /** True while joined on the current connection (live events flowing). */
  get joined(): boolean {
    return this.wantJoined && this.host.connected && this.joinedGeneration === this.host.generation;
  }

  /** The highest `seq` delivered through the `message` event; 0 before any. */
  get lastSeq(): number {
    return this.frontier ?? 0;
  }

  /** Every message this handle holds (delivered ones and older pages from `history()`), in `seq` order. */
  get messages(): readonly Message[] {
    this.sortedCache ??= [...this.known.values()].sort((a, b) => a.seq - b.seq);
    return this.sortedCache;
  }

  /** Outgoing messages not yet acknowledged by the server, oldest first. */
  get pending(): readonly PendingMessage[] {
    return this.outbox.map((entry) => ({ ...entry.pending }));
  }

  /**
   * Starts receiving this conversation's live events. Resolves with the conversation once
   * joined (waiting for the connection if needed; it is re-joined automatically after every
   * reconnect); rejects with `forbidden` / `not_found` when the user may not join, or `conflict`
   * when `leave()` is called first.
   */
  join(): Promise<Conversation> {
    this.wantJoined = true;
    if (this.joined && this._conversation) return Promise.resolve(this._conversation);
    const joined = new Promise<Conversation>((resolve, reject) => this.joinWaiters.push({ resolve, reject }));
    void this.sync();
    return joined;
  }

  /**
   * Stops live events (membership is unchanged). Messages still in the outbox keep being sent.
   * A later `join()` resumes from the last delivered `seq`, so nothing in between is missed.
   */
  async leave(): Promise<void> {
    if (!this.wantJoined) return;
    const wasJoined = this.joined;
    this.stopTyping();
    this.wantJoined = false;
    this.joinedGeneration = -1;
    // Held-back messages will be read again from history by the next join.
    this.ahead.clear();
    this.forceCatchUp = false;
    this.rejectJoinWaiters(new SwitchboardClientError("conflict", "leave() was called before the join completed"));
    if (!wasJoined) return;
    try {
      await this.host.request("conversation:leave", { conversationId: this.id });
    } catch (err) {
      const error = SwitchboardClientError.from(err);
      // A dropped connection already ended the subscription, which is what leave() wanted.
      if (error.code !== "unavailable") throw error;
    }
    // Flushing was gated on the join; without it the outbox may go straight out.
    void this.flush();
  }

  /**
   * Queues a message and resolves with it once the server has stored it. Sends go out one at
   * a time in call order, only while connected and (if `join()` was called) joined; an
   * `unavailable` answer or an ack timeout is retried with the SAME `clientMessageId` (the
   * server deduplicates), `rate_limited` waits `retryAfterMs`. Rejects with a
   * {@link SwitchboardClientError} on permanent errors (`invalid_argument`,
   * `payload_too_large`, `forbidden`, `not_found`, `unauthorized`, `conflict`), and the next
   * message goes on.
   */
  send(text: string, options: SendOptions = {}): Promise<Message> {
    const invalid = validateSend(text, options);
    if (invalid) return Promise.reject(invalid);
    return new Promise<Message>((resolve, reject) => {
      this.outbox.push({
        pending: {
          clientMessageId: options.clientMessageId ?? timeOrderedUuid(),
          conversationId: this.id,
          text,
          ...(options.attachments ? { attachments: options.attachments } : {}),
          ...(options.replyTo ? { replyTo: options.replyTo } : {}),
          ...(options.threadId ? { threadId: options.threadId } : {}),
          queuedAt: new Date().toISOString(),
          status: "queued",
        },
        attempts: 0,
        internalErrors: 0,
        resolve,
        reject,
      });
      this.emitPending();
      void this.flush();
    });
  }

  /**
   * Edits one of the user's own messages (the server answers `forbidden` for anyone else's, and
   * `conflict` for a deleted one). Not queued: rejects with `unavailable` while offline. Resolves
   * with the new version, which also replaces the old one here and is emitted as `message:updated`.
   * @param options.attachments replaces the attachments (`[]` removes them); default: keep them.
   */
  async edit(messageId: string, text: string, options: { attachments?: AttachmentInput[] } = {}): Promise<Message> {
    const invalid = validateSend(text, options);
    if (invalid) throw invalid;
    const { message } = await this.host.request("message:edit", {
      conversationId: this.id,
      messageId,
      text,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    this.applyUpdate(message);
    return message;
  }

  /**
   * Deletes one of the user's own messages: it keeps its `seq`, its text becomes "" and
   * `deleted` is `true`. Deleting it again succeeds. Not queued: rejects with `unavailable`
   * while offline. Resolves with the deleted version, also emitted as `message:updated`.
   */
  async delete(messageId: string): Promise<Message> {
    const { message } = await this.host.request("message:delete", { conversationId: this.id, messageId });
    this.applyUpdate(message);
    return message;
  }

  /**
   * Adds the user's reaction `emoji` (one emoji, or a `:shortcode:`) to a message of this
   * conversation; reacting twice with the same emoji counts once. Not queued: rejects with
   * `unavailable` while offline, `conflict` for a deleted message, `invalid_argument` for a new
   * emoji beyond `LIMITS.reactionsDistinctMax` on the message. Resolves with the message's
   * current version, which also replaces the held one (emitted as `message:updated` once).
   */
  async react(messageId: string, emoji: string): Promise<Message> {
    return this.changeReaction("reaction:add", messageId, emoji);
  }

  /** Takes the user's reaction back, like {@link react}; taking back one that is not there succeeds. */
  async unreact(messageId: string, emoji: string): Promise<Message> {
    return this.changeReaction("reaction:remove", messageId, emoji);
  }

  private async changeReaction(event: "reaction:add" | "reaction:remove", messageId: string, emoji: string): Promise<Message> {
    if (typeof emoji !== "string" || emoji.length === 0 || emoji.length > LIMITS.reactionMaxLength) {
      throw new SwitchboardClientError("invalid_argument", `emoji must be 1 to ${LIMITS.reactionMaxLength} characters`);
    }
    const { message } = await this.host.request(event, { conversationId: this.id, messageId, emoji });
    this.applyUpdate(message);
    return message;
  }

  /**
   * Fetches a page of one thread's replies (the messages whose `threadId` is `threadId`, oldest
   * first). The page is returned, not merged into {@link messages} nor emitted as `message`
   * events: replies reach the conversation's stream in `seq` order like any message. Newer
   * versions of messages this handle holds replace them (emitted as `message:updated`).
   */
  async threadHistory(threadId: string, options: ThreadHistoryOptions = {}): Promise<HistoryResult> {
    const page = await this.host.request("message:history", {
      conversationId: this.id,
      threadId,
      ...(options.beforeSeq !== undefined ? { beforeSeq: options.beforeSeq } : {}),
      ...(options.afterSeq !== undefined ? { afterSeq: options.afterSeq } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    for (const message of page.messages) this.applyUpdate(message);
    return { messages: page.messages, hasMore: page.hasMore };
  }

  /**
   * Fetches a page of older messages (before the oldest one held, by default) and merges it
   * into {@link messages}. Older pages are returned, not emitted as `message` events, which
   * stay in ascending `seq` order.
   */
  async history(options: HistoryOptions = {}): Promise<HistoryResult> {
    const beforeSeq = options.beforeSeq ?? this.messages[0]?.seq;
    if (beforeSeq !== undefined && beforeSeq <= 1) return { messages: [], hasMore: false };
    const page = await this.host.request("message:history", {
      conversationId: this.id,
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    let aboveFrontier = false;
    for (const message of page.messages) {
      if (this.frontier === undefined || message.seq <= this.frontier) {
        this.remember(message);
      } else {
        // Newer than what was delivered: it belongs to the ordered stream, not to the archive.
        this.accept(message);
        aboveFrontier = true;
      }
    }
    if (aboveFrontier) this.advance();
    return { messages: page.messages, hasMore: page.hasMore };
  }

  /**
   * Marks the conversation read up to `seq` (default: the highest delivered `seq`). Does
   * nothing when that is not higher than what this handle already sent, since the server's
   * `lastReadSeq` only moves forward.
   */
  async markRead(seq?: number): Promise<void> {
    const target = seq ?? this.frontier ?? 0;
    if (target <= this.lastReadSent) return;
    const previous = this.lastReadSent;
    // Claimed before the round trip so rapid calls do not send the same seq twice.
    this.lastReadSent = target;
    try {
      await this.host.request("message:read", { conversationId: this.id, seq: target });
    } catch (err) {
      if (this.lastReadSent === target) this.lastReadSent = previous;
      throw SwitchboardClientError.from(err);
    }
  }

  /**
   * Tells the members the user is typing. Call it on every keystroke: `typing:start` is sent at
   * most every ~3 s, which keeps the server's few-second indicator alive. Dropped while offline.
   */
  startTyping(): void {
    this.typingActive = true;
    if (!this.host.connected) return;
    const now = Date.now();
    if (now - this.typingSentAt < TYPING_THROTTLE_MS) return;
    this.typingSentAt = now;
    this.host.notify("typing:start", { conversationId: this.id });
  }

  /** Tells the members the user stopped typing (only if `startTyping()` was called since). */
  stopTyping(): void {
    if (!this.typingActive) return;
    this.typingActive = false;
    this.typingSentAt = 0;
    if (this.host.connected) this.host.notify("typing:stop", { conversationId: this.id });
  }

  // ---- driven by the client ----

  private onConnected(): void {
    // The server forgot the typing state with the old socket.
    this.typingSentAt = 0;
    this.typingActive = false;
    if (this.wantJoined) void this.sync();
    else void this.flush();
  }

  private onLiveMessage(message: Message): void {
    this.accept(message);
    this.advance();
  }

  // ---- ordered delivery ----

  /** Holds `message` until everything below it is delivered; drops what was delivered already. */
  private accept(message: Message): void {
    if (this.frontier !== undefined && message.seq <= this.frontier) return;
    this.ahead.set(message.seq, message);
  }

  /** Delivers what became contiguous, then starts a gap fetch if something is still held back. */
  private advance(): void {
    this.drain();
    if (this.ahead.size > 0 && this.wantJoined) void this.sync();
  }

  private drain(): void {
    if (this.frontier === undefined) return;
    for (const seq of this.ahead.keys()) if (seq <= this.frontier) this.ahead.delete(seq);
    for (let next = this.ahead.get(this.frontier + 1); next; next = this.ahead.get(this.frontier + 1)) {
      this.ahead.delete(next.seq);
      this.frontier = next.seq;
      this.gapStalls = 0;
      const current = this.withCurrentQuote(next);
      this.remember(current);
      this.emit("message", current);
      this.host.delivered(current);
    }
  }

  /** Keeps `message`; a newer version of a held one (from history) replaces it and is announced. */
  private remember(message: Message): void {
    const held = this.known.get(message.seq);
    if (held && !isNewerVersion(message, held)) return;
    this.known.set(message.seq, message);
    this.sortedCache = undefined;
    if (!held) return;
    this.announceUpdate(message);
    if (quotedContentChanged(held, message)) this.requote(message);
  }

  private announceUpdate(message: Message): void {
    this.emit("message:updated", message);
    this.host.updated(message);
  }

  /**
   * A newer version of a held message (an edit, a delete, a reaction, a thread count, live or
   * from the change feed). A message not delivered yet is replaced where it waits (it is then
   * delivered once, in its latest version); one not held at all is ignored: history and joins
   * always answer the current version.
   */
  private applyUpdate(message: Message): void {
    if (message.conversationId !== this.id) return;
    const waiting = this.ahead.get(message.seq);
    if (waiting) {
      if (waiting.id === message.id && isNewerVersion(message, waiting)) {
        this.ahead.set(message.seq, message);
        if (quotedContentChanged(waiting, message)) this.requote(message);
      }
      return;
    }
    const held = this.known.get(message.seq);
    if (held?.id === message.id) this.remember(message);
  }

  /**
   * The server resolves a reply's quote when it reads the reply; it does not announce every
   * reply again when the quoted message changes. So the handle updates the quotes it holds
   * itself, from the quoted message's newest version (announcing held replies once each).
   */
  private requote(quoted: Message): void {
    const ref = replyRefOf(quoted);
    for (const [seq, reply] of this.known) {
      if (reply.replyTo?.messageId !== quoted.id || sameReplyRef(reply.replyTo, ref)) continue;
      const next = { ...reply, replyTo: ref };
      this.known.set(seq, next);
      this.sortedCache = undefined;
      this.announceUpdate(next);
    }
    for (const [seq, reply] of this.ahead) {
      if (reply.replyTo?.messageId === quoted.id && !sameReplyRef(reply.replyTo, ref)) this.ahead.set(seq, { ...reply, replyTo: ref });
    }
  }

  /** `message` with its quote of a held message that was deleted since the quote was read (a deletion is final). */
  private withCurrentQuote(message: Message): Message {
    const quote = message.replyTo;
    if (!quote || quote.deleted) return message;
    const quoted = this.known.get(quote.seq);
    return quoted?.id === quote.messageId && quoted.deleted ? { ...message, replyTo: replyRefOf(quoted) } : message;
  }

  /**
   * The one loop that talks to the server about this conversation's stream: join (again)
   * when the socket changed, then read history while a gap is open. One loop at a time keeps
   * joins and history reads from racing each other; anything that needs it just calls sync().
   */
  private async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    let failures = 0;
    try {
      while (this.wantJoined && this.host.connected) {
        const generation = this.host.generation;
        try {
          if (this.joinedGeneration !== generation) await this.joinOnce(generation);
          else if (this.needsCatchUp()) await this.catchUpOnce();
          // After the seq catch-up: every message held by then gets its changes applied.
          else if (this.changesDue) await this.changesOnce();
          else break;
          failures = 0;
        } catch (err) {
          const error = SwitchboardClientError.from(err);
          // A new socket means a new join anyway; the loop condition decides.
          if (generation !== this.host.generation || !this.host.connected) continue;
          switch (error.code) {
            case "unavailable":
            case "internal":
            case "rate_limited":
              await sleep(error.retryAfterMs ?? this.host.retryDelay(failures++));
              break;
            case "unauthorized":
            case "forbidden":
            case "not_found":
            case "invalid_argument":
            case "payload_too_large":
            case "conflict":
              this.fail(error);
              return;
          }
        }
      }
    } finally {
      this.syncing = false;
    }
    if (this.joined) void this.flush();
  }

  private async joinOnce(generation: number): Promise<void> {
    const afterSeq = this.frontier;
    const result = await this.host.request("conversation:join", {
      conversationId: this.id,
      ...(afterSeq !== undefined ? { afterSeq } : {}),
    });
    if (!this.wantJoined) {
      // leave() ran while the join was in flight: undo the subscription the server just made.
      if (generation === this.host.generation) {
        this.host.request("conversation:leave", { conversationId: this.id }).catch(() => undefined);
      }
      return;
    }
    this._conversation = result.conversation;
    if (this.revWatermark === undefined) {
      // The first join: the page is current, so only changes after this revision can be missing later.
      this.revWatermark = result.conversation.lastRev;
    } else {
      // A re-join: whatever changed while this handle was away comes from the change feed.
      this.changesDue = true;
    }
    // Without afterSeq the server answers with the newest page; whatever precedes it is history().
    this.frontier ??= result.messages[0] ? result.messages[0].seq - 1 : result.conversation.lastSeq;
    this.catchUpTo = Math.max(this.catchUpTo, result.conversation.lastSeq);
    if (afterSeq !== undefined && result.hasMore) this.forceCatchUp = true;
    const me = this.host.userId;
    const member = me === undefined ? undefined : result.conversation.members.find((m) => m.userId === me);
    if (member) this.lastReadSent = Math.max(this.lastReadSent, member.lastReadSeq);
    for (const message of result.messages) this.accept(message);
    if (generation !== this.host.generation) return;
    this.joinedGeneration = generation;
    this.drain();
    const waiters = this.joinWaiters.splice(0);
    for (const waiter of waiters) waiter.resolve(result.conversation);
    this.emit("joined", result.conversation);
  }

  private needsCatchUp(): boolean {
    if (this.frontier === undefined) return false;
    return this.forceCatchUp || this.frontier < this.catchUpTo || this.ahead.size > 0;
  }

  private async catchUpOnce(): Promise<void> {
    this.forceCatchUp = false;
    const before = this.frontier ?? 0;
    const page = await this.host.request("message:history", {
      conversationId: this.id,
      afterSeq: before,
      limit: LIMITS.pageMax,
    });
    for (const message of page.messages) this.accept(message);
    this.drain();
    if (page.hasMore) {
      this.forceCatchUp = true;
      return;
    }
    if (this.frontier !== before) return;
    // The server has nothing after the frontier: a stale lastSeq hint is simply done.
    this.catchUpTo = Math.min(this.catchUpTo, before);
    if (this.ahead.size === 0) return;
    if (++this.gapStalls < MAX_GAP_STALLS) {
      throw new SwitchboardClientError("unavailable", `messages after seq ${before} are not readable yet`);
    }
    // seq is gapless by contract, so this is a server fault; deliver the rest rather than stall forever.
    const resumeAt = Math.min(...this.ahead.keys());
    this.emit(
      "error",
      new SwitchboardClientError("internal", `messages ${before + 1}..${resumeAt - 1} could not be fetched; skipped`),
    );
    this.frontier = resumeAt - 1;
    this.drain();
  }

  /** One page of `message:changes` from the watermark, applied to what the handle holds. */
  private async changesOnce(): Promise<void> {
    this.changesDue = false;
    const afterRev = this.revWatermark ?? 0;
    const page = await this.host.request("message:changes", { conversationId: this.id, afterRev, limit: LIMITS.pageMax });
    for (const message of page.messages) this.applyUpdate(message);
    // Forward only: a late answer of an older round cannot move the watermark back.
    this.revWatermark = Math.max(this.revWatermark ?? 0, page.lastRev);
    if (page.hasMore) this.changesDue = true;
  }

  private fail(error: SwitchboardClientError): void {
    this.wantJoined = false;
    this.joinedGeneration = -1;
    this.ahead.clear();
    this.rejectJoinWaiters(error);
    this.emit("error", error);
    // Queued sends are no longer gated on a join; each will get its own answer from the server.
    void this.flush();
  }

  private rejectJoinWaiters(error: SwitchboardClientError): void {
    for (const waiter of this.joinWaiters.splice(0)) waiter.reject(error);
  }

  // ---- outbox ----

  private canFlush(): boolean {
    return this.host.connected && (!this.wantJoined || this.joined);
  }

  /** Sends the outbox strictly in order: the next message only after the previous one's ack. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length > 0 && this.canFlush()) {
        const entry = this.outbox[0]!;
        entry.pending.status = "sending";
        this.emitPending();
        let retryInMs: number;
        try {
          const { message } = await this.host.request("message:send", {
            conversationId: this.id,
            clientMessageId: entry.pending.clientMessageId,
            text: entry.pending.text,
            ...(entry.pending.attachments ? { attachments: entry.pending.attachments } : {}),
            ...(entry.pending.replyTo ? { replyTo: entry.pending.replyTo } : {}),
            ...(entry.pending.threadId ? { threadId: entry.pending.threadId } : {}),
          });
          this.outbox.shift();
          this.emitPending();
          entry.resolve(message);
          // Our own message takes its place in the ordered stream like any other.
          if (this.wantJoined) {
            this.accept(message);
            this.advance();
          }
          continue;
        } catch (err) {
          const error = SwitchboardClientError.from(err);
          switch (error.code) {
            case "unavailable":
              retryInMs = this.host.retryDelay(entry.attempts++);
              break;
            case "rate_limited":
              retryInMs = error.retryAfterMs ?? this.host.retryDelay(entry.attempts++);
              break;
            case "internal":
              if (++entry.internalErrors > MAX_INTERNAL_RETRIES) {
                this.dropHead(entry, error);
                continue;
              }
              retryInMs = this.host.retryDelay(entry.attempts++);
              break;
            case "unauthorized":
            case "forbidden":
            case "not_found":
            case "invalid_argument":
            case "payload_too_large":
            case "conflict":
              this.dropHead(entry, error);
              continue;
          }
        }
        entry.pending.status = "queued";
        this.emitPending();
        await sleep(retryInMs);
      }
    } finally {
      this.flushing = false;
    }
  }

  private dropHead(entry: OutboxEntry, error: SwitchboardClientError): void {
    this.outbox.shift();
    this.emitPending();
    entry.reject(error);
  }

  private emitPending(): void {
    this.emit("pending", this.pending);
  }
}

/** Checks the limits the server enforces, so a bad send fails at once instead of after a round trip. */
function validateSend(text: string, options: SendOptions): SwitchboardClientError | undefined {
  if (typeof text !== "string") return new SwitchboardClientError("invalid_argument", "text must be a string");
  if (text.trim().length === 0 && !options.attachments?.length) {
    return new SwitchboardClientError("invalid_argument", "text must not be empty (unless the message has attachments)");
  }
  if (text.length > LIMITS.textMaxLength) {
    return new SwitchboardClientError("payload_too_large", `text is longer than ${LIMITS.textMaxLength} characters`);
  }
  if (options.attachments && options.attachments.length > LIMITS.attachmentsMax) {
    return new SwitchboardClientError("invalid_argument", `at most ${LIMITS.attachmentsMax} attachments`);
  }
  const id = options.clientMessageId;
  if (id !== undefined && (id.length === 0 || id.length > LIMITS.clientMessageIdMaxLength)) {
    return new SwitchboardClientError(
      "invalid_argument",
      `clientMessageId must be 1 to ${LIMITS.clientMessageIdMaxLength} characters`,
    );
  }
  return undefined;
}

/**
 * Whether `next` is a later version of the same message than `held` (the live event, an ack, a
 * history page and the change feed can bring versions in any order). A deletion is final: no
 * version brings the content back. Otherwise the higher `rev` is the later version; between
 * versions of equal `rev` (servers before revisions) a deletion, then `editedAt`, decides.
 */
function isNewerVersion(next: Message, held: Message): boolean {
  if (held.deleted && !next.deleted) return false;
  const nextRev = next.rev ?? 0;
  const heldRev = held.rev ?? 0;
  if (nextRev !== heldRev) return nextRev > heldRev;
  if (next.deleted && !held.deleted) return true;
  return (next.editedAt ?? "") > (held.editedAt ?? "");
}

/** Whether what a quote of the message shows (its text, attachments, deletion) differs between the versions. */
function quotedContentChanged(before: Message, after: Message): boolean {
  return before.text !== after.text || !!before.deleted !== !!after.deleted || (before.attachments?.length ?? 0) !== (after.attachments?.length ?? 0);
}

function sameReplyRef(a: ReplyRef, b: ReplyRef): boolean {
  return a.excerpt === b.excerpt && !!a.deleted === !!b.deleted && (a.attachmentCount ?? 0) === (b.attachmentCount ?? 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A big conversation's `conversation:updated` lists no members (`membersPartial`): the user's
 * own membership (its read position) is carried over from what the client knew before.
 */
export function keepOwnMembership(next: Conversation, previous: Conversation | undefined, me: string | undefined): Conversation {
  if (!next.membersPartial || me === undefined || next.members.some((m) => m.userId === me)) return next;
  const own = previous?.members.find((m) => m.userId === me);
  return own ? { ...next, members: [own, ...next.members] } : next;
}
