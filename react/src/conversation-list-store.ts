import {
  keepOwnMembership,
  SwitchboardClientError,
  type ChatClient,
  type Conversation,
  type ConversationSummary,
  type Message,
} from "@switchboard/client-sdk";
import { ExternalStore } from "./external-store.js";

/** The current user's conversations, as {@link useConversations} returns them. */
export interface ConversationsSnapshot {
  /** Most recent activity first; an unchanged summary keeps its object. */
  readonly conversations: readonly ConversationSummary[];
  /** True until the first list has been read. */
  readonly loading: boolean;
  /** Why the last read failed, if it did. */
  readonly error?: SwitchboardClientError;
}

/** The snapshot used on the server and before a client exists. */
export const SERVER_CONVERSATIONS: ConversationsSnapshot = Object.freeze({
  conversations: Object.freeze([]) as readonly ConversationSummary[],
  loading: true,
});

/**
 * The conversation list with unread counts. Read with `conversation:list` when a component
 * first reads it, after every reconnect and on `refresh()`; kept current in between from what
 * the client hears: messages of joined conversations (the server sends `message:new` only to
 * sockets that joined), the user's own read receipts, and `conversation:updated`.
 */
export class ConversationListStore extends ExternalStore {
  private snapshot: ConversationsSnapshot = SERVER_CONVERSATIONS;
  private offs: (() => void)[] = [];
  /** Bumped per read, so a slow answer cannot overwrite a newer one. */
  private readSerial = 0;

  constructor(private readonly client: ChatClient) {
    super();
  }

  readonly getSnapshot = (): ConversationsSnapshot => this.snapshot;

  /** Reads the list again from the server. */
  refresh = async (): Promise<void> => {
    const serial = ++this.readSerial;
    try {
      const read = await this.client.listConversations();
      if (serial !== this.readSerial) return;
      const previous = new Map(this.snapshot.conversations.map((s) => [s.conversation.id, s]));
      const conversations = read.map((s) => {
        const old = previous.get(s.conversation.id);
        return old && JSON.stringify(old) === JSON.stringify(s) ? old : s;
      });
      this.set({ conversations, loading: false });
    } catch (err) {
      if (serial !== this.readSerial) return;
      this.set({ ...this.snapshot, error: SwitchboardClientError.from(err) });
      throw SwitchboardClientError.from(err);
    }
  };

  protected start(): void {
    const c = this.client;
    const quietRefresh = (): void => void this.refresh().catch(() => undefined);
    this.offs = [
      c.on("state", (change) => {
        if (change.newState === "connected") quietRefresh();
      }),
      c.on("message", (message) => this.onMessage(message)),
      c.on("message:updated", (message) => {
        this.replace(message.conversationId, (s) => (s.lastMessage?.id === message.id ? { ...s, lastMessage: message } : s));
      }),
      c.on("receipt", (event) => {
        if (event.userId !== c.userId) return;
        this.replace(event.conversationId, (s) => withConversation(s, readUpTo(s.conversation, event.userId, event.seq), c.userId));
      }),
      c.on("conversation:updated", (conversation) => {
        if (!this.snapshot.conversations.some((s) => s.conversation.id === conversation.id)) {
          quietRefresh();
          return;
        }
        this.replace(conversation.id, (s) =>
          withConversation(s, keepOwnMembership({ ...conversation, lastSeq: Math.max(conversation.lastSeq, s.conversation.lastSeq) }, s.conversation, c.userId), c.userId),
        );
      }),
    ];
    if (c.state === "connected") quietRefresh();
  }

  protected stop(): void {
    for (const off of this.offs.splice(0)) off();
    this.readSerial++;
  }

  private onMessage(message: Message): void {
    const list = this.snapshot.conversations;
    const index = list.findIndex((s) => s.conversation.id === message.conversationId);
    if (index < 0) {
      // A conversation the list has not seen yet (just created, or just added to).
      void this.refresh().catch(() => undefined);
      return;
    }
    const summary = list[index]!;
    // Catch-up after a reconnect re-delivers what the list read already counted.
    if (message.seq <= summary.conversation.lastSeq) return;
    const me = this.client.userId;
    let conversation: Conversation = { ...summary.conversation, lastSeq: message.seq };
    // The server moves the sender's read position to what they send: one's own messages are never unread.
    if (message.senderId === me) conversation = readUpTo(conversation, me, message.seq);
    const next = withConversation({ ...summary, lastMessage: message }, conversation, me);
    this.set({ ...this.snapshot, conversations: [next, ...list.slice(0, index), ...list.slice(index + 1)] });
  }

  private replace(conversationId: string, change: (s: ConversationSummary) => ConversationSummary): void {
    const list = this.snapshot.conversations;
    const index = list.findIndex((s) => s.conversation.id === conversationId);
    if (index < 0) return;
    const next = change(list[index]!);
    if (next === list[index]) return;
    this.set({ ...this.snapshot, conversations: list.map((s, i) => (i === index ? next : s)) });
  }

  private set(snapshot: ConversationsSnapshot): void {
    this.snapshot = snapshot;
    this.notify();
  }
}

/** `summary` with `conversation`, its unread count computed the way the server does. */
function withConversation(summary: ConversationSummary, conversation: Conversation, me: string | undefined): ConversationSummary {
  const lastRead = conversation.members.find((m) => m.userId === me)?.lastReadSeq;
  // Without a user id (an opaque token) the server's count can only be advanced by what arrives.
  const unreadCount =
    lastRead === undefined
      ? summary.unreadCount + Math.max(0, conversation.lastSeq - summary.conversation.lastSeq)
      : Math.max(0, conversation.lastSeq - lastRead);
  return { ...summary, conversation, unreadCount };
}

function readUpTo(conversation: Conversation, userId: string, seq: number): Conversation {
  return {
    ...conversation,
    members: conversation.members.map((m) => (m.userId === userId ? { ...m, lastReadSeq: Math.max(m.lastReadSeq, seq) } : m)),
  };
}
