import type { ConversationHandle, Message } from "../../../client-sdk/src/index.js";
import { h } from "../shared/dom.js";

/** What the thread panel needs from the conversation view. */
export interface ThreadPanelHooks {
  /** A row for a message (the parent or a reply), built like the conversation's own rows. */
  row(message: Message): HTMLLIElement;
  /** The panel's close button was used. */
  onClose(): void;
  onError(message: string): void;
}

/**
 * One thread beside the conversation: its parent, its replies (a page of thread history first,
 * then live ones from the conversation's stream) and a composer that posts with `threadId`.
 * Thread replies appear only here; the main list shows the parent's reply count.
 */
export class ThreadPanel {
  readonly element: HTMLElement;
  private readonly list = h("ol", { class: "thread-replies", "aria-live": "polite" });
  private readonly count = h("li", { class: "thread-count" });
  private readonly input = h("textarea", { rows: 2, "aria-label": "Reply in thread", placeholder: "Reply in thread…", maxlength: 4000 });
  /** Reply rows by seq, in seq order in the list. */
  private readonly replies = new Map<number, HTMLLIElement>();
  private parentRow: HTMLLIElement;

  constructor(
    private readonly handle: ConversationHandle,
    private parent: Message,
    private readonly hooks: ThreadPanelHooks,
  ) {
    const close = h("button", { class: "thread-close", type: "button", "aria-label": "Close the thread" }, "×");
    const form = h("form", { class: "composer thread-composer" }, this.input, h("button", { class: "send", type: "submit" }, "Send"));
    this.parentRow = this.markParent(hooks.row(parent));
    this.list.append(this.parentRow, this.count);
    this.element = h("aside", { class: "thread-panel", "aria-label": "Thread", "data-thread-id": parent.id }, h("header", { class: "thread-head" }, h("h3", {}, "Thread"), close), this.list, form);
    this.showCount();
    close.addEventListener("click", () => hooks.onClose());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
      if (event.key === "Escape") hooks.onClose();
    });
  }

  /** The parent's id. */
  get threadId(): string {
    return this.parent.id;
  }

  /** Loads the thread's newest replies (the thread history page); live ones keep coming through {@link message}. */
  async open(): Promise<void> {
    this.input.focus();
    try {
      const page = await this.handle.threadHistory(this.parent.id, { limit: 100 });
      for (const reply of page.messages) this.add(reply);
    } catch (err) {
      this.hooks.onError(`Could not load the thread: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A new message of the conversation: shown when it belongs to this thread. */
  message(message: Message): void {
    if (message.threadId === this.parent.id) this.add(message);
  }

  /** A newer version of the parent (its reply count) or of a reply. */
  updated(message: Message): void {
    if (message.id === this.parent.id) {
      this.parent = message;
      const row = this.markParent(this.hooks.row(message));
      this.parentRow.replaceWith(row);
      this.parentRow = row;
      this.showCount();
    } else if (message.threadId === this.parent.id && this.replies.has(message.seq)) {
      const row = this.hooks.row(message);
      this.replies.get(message.seq)!.replaceWith(row);
      this.replies.set(message.seq, row);
    }
  }

  private add(reply: Message): void {
    if (this.replies.has(reply.seq)) return;
    const row = this.hooks.row(reply);
    const after = [...this.replies.keys()].filter((s) => s > reply.seq).sort((a, b) => a - b)[0];
    this.list.insertBefore(row, after === undefined ? null : this.replies.get(after)!);
    this.replies.set(reply.seq, row);
    this.list.scrollTop = this.list.scrollHeight;
  }

  private markParent(row: HTMLLIElement): HTMLLIElement {
    row.classList.add("thread-parent");
    return row;
  }

  private showCount(): void {
    const n = this.parent.replyCount ?? 0;
    this.count.textContent = n === 0 ? "No replies yet" : `${n} ${n === 1 ? "reply" : "replies"}`;
  }

  private send(): void {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = "";
    this.handle.send(text, { threadId: this.parent.id }).catch((err: unknown) => this.hooks.onError(`Not sent: ${err instanceof Error ? err.message : String(err)}`));
  }
}
