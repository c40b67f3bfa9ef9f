import type { Attachment, Message, ReplyRef } from "../../../client-sdk/src/index.js";
import { h, type Child } from "./dom.js";

/** The quick picks of the reaction bar's "+" button. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"] as const;

/** What a rendered message can do; each handler is optional, and its button is shown only with it. */
export interface MessageActions {
  /** The viewer's user id: their reactions are highlighted, and a click on them takes them back. */
  me: string | undefined;
  /** Display name of a sender (for quotes). */
  nameOf(userId: string): string;
  /** Toggle the viewer's `emoji` on the message: `add` false means take it back. */
  react?(message: Message, emoji: string, add: boolean): void;
  /** Make the message the composer's reply target. */
  reply?(message: Message): void;
  /** Open the message's thread. */
  openThread?(message: Message): void;
  /** The quoted message was clicked. */
  showQuoted?(ref: ReplyRef): void;
}

/** `2.4 MB`, `980 KB`, `12 B`. */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return "";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A one-line summary for inbox previews: the text, else what is attached. */
export function previewText(message: Pick<Message, "text" | "deleted" | "attachments">): string {
  if (message.deleted) return "Message deleted";
  if (message.text) return message.text;
  const count = message.attachments?.length ?? 0;
  if (count === 0) return "";
  const pictures = message.attachments!.every((a) => a.thumbnail);
  return `📎 ${count === 1 ? (pictures ? "Photo" : (message.attachments![0]!.name ?? "File")) : `${count} ${pictures ? "photos" : "files"}`}`;
}

/**
 * The inside of a message row, shared by the widget and the console: the quote it answers, the
 * text (no bubble when the message has only attachments), the attachments, the reactions, and
 * the action buttons (react, reply, thread). Everything enters as text or attributes.
 */
export function messageContent(message: Message, actions: MessageActions): Child[] {
  const attachments = message.deleted ? [] : (message.attachments ?? []);
  const showText = message.deleted || message.text !== "" || attachments.length === 0;
  return [
    message.replyTo && quote(message.replyTo, actions),
    showText && h("div", { class: "bubble" }, message.deleted ? "Message deleted" : message.text),
    attachments.length > 0 && h("div", { class: "attachments" }, ...attachments.map(attachmentView)),
    !message.deleted && reactionBar(message, actions),
  ];
}

/** A picture as its thumbnail linking to the original; any other file as a link with name and size. */
function attachmentView(attachment: Attachment): HTMLElement {
  const name = attachment.name ?? "attachment";
  const thumb = attachment.thumbnail;
  if (thumb) {
    // width/height reserve the thumbnail's box before it loads, so the list does not jump.
    return h(
      "a",
      { class: "attachment-image", href: attachment.url, target: "_blank", rel: "noopener", title: name, "aria-label": `Open ${name}` },
      h("img", { src: thumb.url, width: thumb.width, height: thumb.height, alt: name, loading: "lazy", decoding: "async" }),
    );
  }
  return h(
    "a",
    { class: "attachment-file", href: attachment.url, target: "_blank", rel: "noopener" },
    h("span", { class: "file-icon", "aria-hidden": "true" }, "📄"),
    h("span", { class: "file-name" }, name),
    attachment.size !== undefined && h("span", { class: "file-size" }, formatSize(attachment.size)),
  );
}

/** The quoted message above a reply; clicking it asks to show the original. */
function quote(ref: ReplyRef, actions: MessageActions): HTMLElement {
  const excerpt = ref.deleted ? "Message deleted" : ref.excerpt || (ref.attachmentCount ? `📎 ${ref.attachmentCount === 1 ? "Attachment" : `${ref.attachmentCount} attachments`}` : "");
  const box = h(
    "button",
    { class: `quote${ref.deleted ? " deleted" : ""}`, type: "button", "data-quoted-seq": ref.seq, "aria-label": `Replying to ${actions.nameOf(ref.senderId)}: ${excerpt}. Show the message` },
    h("span", { class: "quote-sender" }, actions.nameOf(ref.senderId)),
    h("span", { class: "quote-excerpt" }, excerpt),
  );
  box.addEventListener("click", () => actions.showQuoted?.(ref));
  return box;
}

/** Reaction chips with counts (pressed when the viewer is among them), then the actions. */
function reactionBar(message: Message, actions: MessageActions): HTMLElement {
  const bar = h("div", { class: "reaction-bar" });
  for (const reaction of message.reactions ?? []) {
    const mine = actions.me !== undefined && reaction.userIds.includes(actions.me);
    const chip = h(
      "button",
      { class: `reaction${mine ? " mine" : ""}`, type: "button", "aria-pressed": String(mine), "data-emoji": reaction.emoji, "aria-label": `${reaction.emoji} ${reaction.count}${mine ? ", yours: take it back" : ""}` },
      h("span", { class: "reaction-emoji" }, reaction.emoji),
      h("span", { class: "reaction-count" }, reaction.count),
    );
    chip.addEventListener("click", () => actions.react?.(message, reaction.emoji, !mine));
    bar.appendChild(chip);
  }
  const tools = h("span", { class: "message-actions" });
  if (actions.react) {
    const picker = h("span", { class: "reaction-picker", role: "group", "aria-label": "Quick reactions", hidden: true });
    const add = h("button", { class: "add-reaction", type: "button", "aria-label": "Add a reaction", "aria-expanded": "false", title: "React" }, "+");
    const toggle = (open: boolean) => {
      picker.hidden = !open;
      add.setAttribute("aria-expanded", String(open));
    };
    add.addEventListener("click", () => {
      toggle(picker.hidden);
      if (!picker.hidden) picker.querySelector("button")?.focus();
    });
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        toggle(false);
        add.focus();
      }
    });
    for (const emoji of QUICK_REACTIONS) {
      const pick = h("button", { class: "pick", type: "button", "aria-label": `React with ${emoji}`, "data-emoji": emoji }, emoji);
      pick.addEventListener("click", () => {
        toggle(false);
        const mine = message.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(actions.me ?? "") ?? false;
        actions.react?.(message, emoji, !mine);
      });
      picker.appendChild(pick);
    }
    tools.append(add, picker);
  }
  if (actions.reply) {
    const reply = h("button", { class: "reply-action", type: "button", "aria-label": "Reply with a quote" }, "Reply");
    reply.addEventListener("click", () => actions.reply?.(message));
    tools.appendChild(reply);
  }
  if (actions.openThread && !message.threadId) {
    const thread = h("button", { class: "thread-action", type: "button", "aria-label": "Reply in thread" }, "Reply in thread");
    thread.addEventListener("click", () => actions.openThread?.(message));
    tools.appendChild(thread);
  }
  bar.appendChild(tools);
  if (actions.openThread && message.replyCount) {
    const count = h("button", { class: "thread-link", type: "button" }, `${message.replyCount} ${message.replyCount === 1 ? "reply" : "replies"}`);
    count.addEventListener("click", () => actions.openThread?.(message));
    bar.appendChild(count);
  }
  return bar;
}

/**
 * The reply target above a composer: "Replying to <sender>" and an excerpt, with a button to
 * cancel. `value` is the message the next send answers.
 */
export class ReplyTarget {
  readonly element: HTMLDivElement;
  private readonly label = h("span", { class: "reply-target-sender" });
  private readonly excerpt = h("span", { class: "reply-target-excerpt" });
  private target?: Message;

  constructor(onCancel: () => void) {
    const cancel = h("button", { class: "reply-cancel", type: "button", "aria-label": "Cancel the reply" }, "×");
    this.element = h("div", { class: "reply-target", hidden: true }, h("span", { class: "reply-target-text" }, this.label, this.excerpt), cancel);
    cancel.addEventListener("click", () => {
      this.clear();
      onCancel();
    });
  }

  get value(): Message | undefined {
    return this.target;
  }

  set(message: Message, senderName: string): void {
    this.target = message;
    this.label.textContent = `Replying to ${senderName}`;
    this.excerpt.textContent = previewText(message);
    this.element.hidden = false;
  }

  clear(): void {
    this.target = undefined;
    this.element.hidden = true;
  }
}

/** Scrolls a row into view and flashes it (the target of a clicked quote). */
export function flashRow(row: HTMLElement): void {
  row.scrollIntoView({ block: "center", behavior: "smooth" });
  row.classList.remove("flash");
  // Restarts the animation when the same row is shown twice in a row.
  void row.offsetWidth;
  row.classList.add("flash");
}
