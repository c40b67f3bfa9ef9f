import { SwitchboardClientError, type ChatClient, type Message, type PendingMessage, type SendOptions } from "@switchboard/client-sdk";
import { keepPending, type ConversationStore } from "./conversation-store.js";
import { ExternalStore, sameItems } from "./external-store.js";

/** One thread, as {@link useThread} returns it. */
export interface ThreadSnapshot {
  /** The top-level message the thread hangs under, when the conversation's handle holds it. */
  readonly parent?: Message;
  /** The replies read so far, oldest first; an unchanged reply keeps its object. */
  readonly replies: readonly Message[];
  /** Replies sent into this thread and not acknowledged yet. */
  readonly pending: readonly PendingMessage[];
  /** True while older replies may exist before the oldest held one. */
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
  /** True once the newest page of replies has been read. */
  readonly loaded: boolean;
  /** Why reading the thread failed, if it did. */
  readonly error?: SwitchboardClientError;
}

/** The snapshot used on the server and before a client exists. */
export const SERVER_THREAD: ThreadSnapshot = Object.freeze({
  replies: Object.freeze([]) as readonly Message[],
  pending: Object.freeze([]) as readonly PendingMessage[],
  hasOlder: false,
  loadingOlder: false,
  loaded: false,
});

/**
 * One thread of a conversation. The handle only keeps the replies that reach its window, so
 * this store reads the thread's own pages (`threadHistory`) and keeps them, merged with the
 * replies the joined handle delivers live and with live `message:updated` events.
 */
export class ThreadStore extends ExternalStore {
  private snapshot: ThreadSnapshot = SERVER_THREAD;
  /** Replies read from the thread's pages or heard live, by `seq`. */
  private readonly read = new Map<number, Message>();
  private hasOlder = false;
  private loaded = false;
  /** Bumped on every start and stop, so a page read for an earlier set of readers is dropped. */
  private session = 0;
  private loadingOlder: Promise<boolean> | undefined;
  private error: SwitchboardClientError | undefined;
  private offs: (() => void)[] = [];

  constructor(
    private readonly client: ChatClient,
    private readonly conversation: ConversationStore,
    readonly threadId: string,
  ) {
    super();
    this.derive();
  }

  readonly getSnapshot = (): ThreadSnapshot => {
    // Unsubscribed, nothing updates the snapshot: re-derive (unchanged parts keep their references).
    if (!this.active) this.derive();
    return this.snapshot;
  };

  /** Posts a reply into this thread through the conversation's outbox. */
  send = (text: string, options: Omit<SendOptions, "threadId"> = {}): Promise<Message> =>
    this.conversation.handle.send(text, { ...options, threadId: this.threadId });

  /** Reads the page of replies before the oldest held one; resolves with whether more may exist. */
  loadOlder = (limit?: number): Promise<boolean> => {
    if (this.loadingOlder) return this.loadingOlder;
    if (!this.hasOlder) return Promise.resolve(false);
    const oldest = Math.min(...this.read.keys());
    const loading = this.fetchPage({ beforeSeq: oldest, ...(limit !== undefined ? { limit } : {}) });
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
    const refresh = (): void => this.update();
    const handle = this.conversation.handle;
    this.offs = [
      // Reading the conversation store holds its join, so live replies reach the handle.
      this.conversation.subscribe(refresh),
      // The conversation's own snapshot leaves thread replies out, so it may not notify for them.
      handle.on("message", refresh),
      handle.on("message:updated", refresh),
      handle.on("pending", refresh),
      this.client.onServerEvent("message:updated", (message) => {
        if (message.conversationId !== this.conversation.id || message.threadId !== this.threadId) return;
        if (this.keep(message)) this.update();
      }),
    ];
    const session = ++this.session;
    this.fetchPage({}).then(
      () => {
        if (session !== this.session) return;
        this.loaded = true;
        this.update();
      },
      (err: unknown) => {
        if (session !== this.session) return;
        this.error = SwitchboardClientError.from(err);
        this.update();
      },
    );
    this.update();
  }

  protected stop(): void {
    this.session++;
    for (const off of this.offs.splice(0)) off();
    // Nothing is heard while nobody reads the thread: the next reader reads its pages afresh.
    this.read.clear();
    this.loaded = false;
    this.hasOlder = false;
    this.derive();
  }

  private async fetchPage(options: { beforeSeq?: number; limit?: number }): Promise<boolean> {
    const session = this.session;
    // While connecting, the request waits for the connection (within the SDK's ack timeout).
    const page = await this.conversation.handle.threadHistory(this.threadId, options);
    // A page read for readers who all left belongs to nobody: the next reader reads afresh.
    if (session !== this.session) return page.hasMore;
    for (const message of page.messages) this.keep(message);
    // Only the page furthest back decides whether anything older is left.
    if (options.beforeSeq !== undefined || !this.loaded) this.hasOlder = page.hasMore;
    this.error = undefined;
    return page.hasMore;
  }

  /** Keeps `message` unless a newer version of it is held; returns whether it changed anything. */
  private keep(message: Message): boolean {
    const held = this.read.get(message.seq);
    if (held && (held.rev ?? 0) >= (message.rev ?? 0)) return false;
    this.read.set(message.seq, message);
    return true;
  }

  private update(): void {
    if (this.derive()) this.notify();
  }

  private derive(): boolean {
    const handle = this.conversation.handle;
    let parent: Message | undefined;
    for (const message of handle.messages) {
      if (message.id === this.threadId) parent = message;
      else if (message.threadId === this.threadId) this.keep(message);
    }
    const prev = this.snapshot;
    let replies: readonly Message[] = [...this.read.values()].sort((a, b) => a.seq - b.seq);
    if (sameItems(replies, prev.replies)) replies = prev.replies;
    const pending = keepPending(
      handle.pending.filter((p) => p.threadId === this.threadId),
      prev.pending,
    );
    const loadingOlder = this.loadingOlder !== undefined;
    if (
      parent === prev.parent &&
      replies === prev.replies &&
      pending === prev.pending &&
      this.hasOlder === prev.hasOlder &&
      loadingOlder === prev.loadingOlder &&
      this.loaded === prev.loaded &&
      this.error === prev.error
    ) {
      return false;
    }
    this.snapshot = {
      ...(parent ? { parent } : {}),
      replies,
      pending,
      hasOlder: this.hasOlder,
      loadingOlder,
      loaded: this.loaded,
      ...(this.error ? { error: this.error } : {}),
    };
    return true;
  }
}
