import {
  SwitchboardClientError,
  type AttachmentInput,
  type ChatClient,
  type ConversationHandle,
  type Message,
  type PendingMessage,
  type SendOptions,
} from "@switchboard/client-sdk";
import { ExternalStore, sameItems } from "./external-store.js";

/** Where the hooks' join of a conversation stands. */
export type JoinStatus =
  /** Not joined on the current connection yet: the first join, or a re-join after a reconnect. */
  | "joining"
  /** Joined on the current connection: live events flow. */
  | "joined"
  /** The join was refused (`forbidden`, `not_found`, …); see `error`. */
  | "error";

/** The message part of a conversation, as {@link useMessages} returns it. */
export interface MessagesSnapshot {
  /** Stored messages outside threads, oldest first; an unchanged message keeps its object. */
  readonly messages: readonly Message[];
  /** Sends not acknowledged yet (outside threads), oldest first: `queued` while offline, then `sending`. */
  readonly pending: readonly PendingMessage[];
  /** True while older messages may exist before the oldest held one (see `loadOlder()`). */
  readonly hasOlder: boolean;
  /** True while `loadOlder()` is reading a page. */
  readonly loadingOlder: boolean;
  readonly status: JoinStatus;
  /** Why the join failed, when `status` is `error`. */
  readonly error?: SwitchboardClientError;
}

/** Who is typing in a conversation (the current user excluded), in the order they started. */
export type TypingSnapshot = readonly string[];

/** Each member's read position: user id → the highest `seq` they have read. */
export type ReceiptsSnapshot = Readonly<Record<string, number>>;

/** The message snapshot used on the server and before a client exists. */
export const SERVER_MESSAGES: MessagesSnapshot = Object.freeze({
  messages: Object.freeze([]) as readonly Message[],
  pending: Object.freeze([]) as readonly PendingMessage[],
  hasOlder: false,
  loadingOlder: false,
  status: "joining",
});
/** The typing snapshot used on the server and before a client exists. */
export const SERVER_TYPING: TypingSnapshot = Object.freeze([]) as TypingSnapshot;
/** The receipts snapshot used on the server and before a client exists. */
export const SERVER_RECEIPTS: ReceiptsSnapshot = Object.freeze({});

/**
 * One conversation for the hooks: joins its handle while any component reads it (and leaves
 * when the last one unmounts), and keeps three independent snapshots (messages, typing,
 * receipts) so a component re-renders only when the part it reads changed.
 */
export class ConversationStore extends ExternalStore {
  /** The SDK handle (`client.conversation(id)`), shared with anything else using that id. */
  readonly handle: ConversationHandle;
  private messagesSnapshot: MessagesSnapshot = SERVER_MESSAGES;
  private typingSnapshot: TypingSnapshot = SERVER_TYPING;
  private receiptsSnapshot: ReceiptsSnapshot = SERVER_RECEIPTS;
  private olderExhausted = false;
  private loadingOlder: Promise<boolean> | undefined;
  private error: SwitchboardClientError | undefined;
  private offs: (() => void)[] = [];

  constructor(
    private readonly client: ChatClient,
    readonly id: string,
  ) {
    super();
    this.handle = client.conversation(id);
    this.derive();
  }

  // Unsubscribed, the store hears no events, but the handle may have moved on (another reader,
  // the app itself): re-derive so a first render is current. derive() keeps unchanged
  // snapshots by reference, as useSyncExternalStore requires of repeated reads.
  readonly getMessages = (): MessagesSnapshot => {
    if (!this.active) this.derive();
    return this.messagesSnapshot;
  };
  readonly getTyping = (): TypingSnapshot => this.typingSnapshot;
  readonly getReceipts = (): ReceiptsSnapshot => {
    if (!this.active) this.derive();
    return this.receiptsSnapshot;
  };

  /** Queues a message in the SDK's outbox; it shows in `pending` at once. */
  send = (text: string, options?: SendOptions): Promise<Message> => this.handle.send(text, options);

  /** Edits one of the user's own messages (see `ConversationHandle.edit`). */
  edit = (messageId: string, text: string, options?: { attachments?: AttachmentInput[] }): Promise<Message> =>
    this.handle.edit(messageId, text, options);

  /** Deletes one of the user's own messages (see `ConversationHandle.delete`). */
  deleteMessage = (messageId: string): Promise<Message> => this.handle.delete(messageId);

  /** Adds the user's reaction. */
  react = (messageId: string, emoji: string): Promise<Message> => this.handle.react(messageId, emoji);

  /** Takes the user's reaction back. */
  unreact = (messageId: string, emoji: string): Promise<Message> => this.handle.unreact(messageId, emoji);

  /** Marks the conversation read up to `seq` (default: the newest delivered message). */
  markRead = (seq?: number): Promise<void> => this.handle.markRead(seq);

  /** Tells the members the user is (or stopped) typing; call it on every keystroke, it is throttled. */
  setTyping = (isTyping: boolean): void => {
    if (isTyping) this.handle.startTyping();
    else this.handle.stopTyping();
  };

  /**
   * Reads the page of messages before the oldest held one and merges it in. Resolves with
   * whether more may exist; concurrent calls share one request.
   */
  loadOlder = (limit?: number): Promise<boolean> => {
    if (this.loadingOlder) return this.loadingOlder;
    if (!this.messagesSnapshot.hasOlder) return Promise.resolve(false);
    const loading = this.handle.history(limit === undefined ? {} : { limit }).then(
      (page) => {
        this.olderExhausted = !page.hasMore;
        return page.hasMore;
      },
      (err: unknown) => {
        throw SwitchboardClientError.from(err);
      },
    );
    this.loadingOlder = loading;
    this.update();
    const done = (): void => {
      this.loadingOlder = undefined;
      this.update();
    };
    loading.then(done, done);
    return loading;
  };

  protected start(): void {
    const h = this.handle;
    const refresh = (): void => this.update();
    this.offs = [
      h.on("message", (message) => {
        let changed = false;
        // The server moves a sender's read position to what they send, without a receipt.
        if ((this.receiptsSnapshot[message.senderId] ?? 0) < message.seq && this.isMember(message.senderId)) {
          this.receiptsSnapshot = { ...this.receiptsSnapshot, [message.senderId]: message.seq };
          changed = true;
        }
        if (this.derive() || changed) this.notify();
      }),
      h.on("message:updated", refresh),
      h.on("pending", refresh),
      h.on("joined", () => {
        this.error = undefined;
        this.update();
      }),
      h.on("updated", refresh),
      h.on("error", (error) => {
        this.error = error;
        this.update();
      }),
      h.on("receipt", (event) => {
        if ((this.receiptsSnapshot[event.userId] ?? 0) >= event.seq) return;
        this.receiptsSnapshot = { ...this.receiptsSnapshot, [event.userId]: event.seq };
        this.notify();
      }),
      h.on("typing", (event) => {
        if (event.userId === this.client.userId) return;
        const typing = this.typingSnapshot.includes(event.userId);
        if (typing === event.isTyping) return;
        this.typingSnapshot = event.isTyping
          ? [...this.typingSnapshot, event.userId]
          : this.typingSnapshot.filter((u) => u !== event.userId);
        this.notify();
      }),
      this.client.on("state", (change) => {
        // The server forgets typing with the socket; a stale "is typing…" would never clear.
        if (change.newState !== "connected" && this.typingSnapshot.length > 0) this.typingSnapshot = SERVER_TYPING;
        this.update();
      }),
    ];
    this.error = undefined;
    // Failures arrive as the handle's `error` event too, which sets `status`.
    h.join().catch(() => undefined);
    this.update();
  }

  protected stop(): void {
    for (const off of this.offs.splice(0)) off();
    this.handle.leave().catch(() => undefined);
    this.typingSnapshot = SERVER_TYPING;
    this.update();
  }

  private isMember(userId: string): boolean {
    return this.handle.conversation?.members.some((m) => m.userId === userId) ?? false;
  }

  /** Re-derives the snapshots and notifies when one of them changed. */
  private update(): void {
    if (this.derive()) this.notify();
  }

  /** Re-derives every snapshot from the handle, keeping unchanged parts by reference. */
  private derive(): boolean {
    const h = this.handle;
    const all = h.messages;
    const prev = this.messagesSnapshot;
    let messages: readonly Message[] = all.some((m) => m.threadId !== undefined) ? all.filter((m) => m.threadId === undefined) : all;
    if (sameItems(messages, prev.messages)) messages = prev.messages;
    const pending = keepPending(
      h.pending.filter((p) => p.threadId === undefined),
      prev.pending,
    );
    const hasOlder = !this.olderExhausted && (all[0]?.seq ?? 1) > 1;
    const status: JoinStatus = this.error ? "error" : h.joined ? "joined" : "joining";
    let changed = false;
    if (
      messages !== prev.messages ||
      pending !== prev.pending ||
      hasOlder !== prev.hasOlder ||
      (this.loadingOlder !== undefined) !== prev.loadingOlder ||
      status !== prev.status ||
      this.error !== prev.error
    ) {
      this.messagesSnapshot = {
        messages,
        pending,
        hasOlder,
        loadingOlder: this.loadingOlder !== undefined,
        status,
        ...(this.error ? { error: this.error } : {}),
      };
      changed = true;
    }
    const members = h.conversation?.members;
    if (members) {
      let receipts: Record<string, number> | undefined;
      for (const member of members) {
        if ((this.receiptsSnapshot[member.userId] ?? -1) >= member.lastReadSeq) continue;
        receipts ??= { ...this.receiptsSnapshot };
        receipts[member.userId] = member.lastReadSeq;
      }
      if (receipts) {
        this.receiptsSnapshot = receipts;
        changed = true;
      }
    }
    return changed;
  }
}

/** `next` with each entry replaced by its previous object when nothing in it changed. */
export function keepPending(next: readonly PendingMessage[], prev: readonly PendingMessage[]): readonly PendingMessage[] {
  const byId = new Map(prev.map((p) => [p.clientMessageId, p]));
  const kept = next.map((p) => {
    const old = byId.get(p.clientMessageId);
    return old && old.status === p.status ? old : p;
  });
  return sameItems(kept, prev) ? prev : kept;
}
