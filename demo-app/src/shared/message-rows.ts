import type { Message, PendingMessage } from "../../../client-sdk/src/index.js";
import { h } from "./dom.js";

/** What a message bubble shows: its text, or a marker once it was deleted. */
export function bubbleText(message: Message): string {
  return message.deleted ? "Message deleted" : message.text;
}

/**
 * The rows of a message list, shared by the widget and the console: stored messages in `seq`
 * order (history pages arrive older than what is shown), then the messages still sending.
 */
export class MessageRows {
  private readonly stored = new Map<number, HTMLLIElement>();
  private readonly sending = new Map<string, HTMLLIElement>();

  /**
   * @param list the `<ul>`/`<ol>` the rows live in.
   * @param sendingClass classes of a row still sending, besides `message pending`.
   */
  constructor(
    private readonly list: HTMLElement,
    private readonly sendingClass: string,
  ) {}

  /** Stored messages shown. */
  get size(): number {
    return this.stored.size;
  }

  has(seq: number): boolean {
    return this.stored.has(seq);
  }

  get(seq: number): HTMLLIElement | undefined {
    return this.stored.get(seq);
  }

  /** Puts a stored message's row at its `seq` position, above the rows still sending. */
  insert(seq: number, row: HTMLLIElement): void {
    this.stored.set(seq, row);
    const after = [...this.stored.keys()].filter((s) => s > seq).sort((a, b) => a - b)[0];
    const before = after === undefined ? this.sending.values().next().value : this.stored.get(after);
    this.list.insertBefore(row, before ?? null);
  }

  /** Shows the edited or deleted version of a message already listed (its text only). */
  update(message: Message): void {
    this.stored.get(message.seq)?.querySelector(".bubble")?.replaceChildren(bubbleText(message));
  }

  /** Puts a new rendering of a listed message in place of the old one (a new version: reactions, replies, edits). */
  replace(seq: number, row: HTMLLIElement): void {
    const old = this.stored.get(seq);
    if (!old) return;
    old.replaceWith(row);
    this.stored.set(seq, row);
  }

  /** Shows exactly the messages of `pending` as sending, in order. Returns whether a row was added. */
  showPending(pending: readonly PendingMessage[]): boolean {
    const live = new Set(pending.map((p) => p.clientMessageId));
    for (const [id, row] of this.sending) {
      if (!live.has(id)) {
        row.remove();
        this.sending.delete(id);
      }
    }
    let added = false;
    for (const p of pending) {
      if (this.sending.has(p.clientMessageId)) continue;
      const files = p.attachments?.length ?? 0;
      const text = p.text || `📎 ${files === 1 ? "1 file" : `${files} files`}`;
      const row = h("li", { class: `message ${this.sendingClass} pending` }, h("div", { class: "bubble" }, text), h("div", { class: "meta" }, "Sending…"));
      this.sending.set(p.clientMessageId, row);
      this.list.appendChild(row);
      added = true;
    }
    return added;
  }
}
