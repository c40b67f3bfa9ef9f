import {
  ChatClient,
  LIMITS,
  SwitchboardClientError,
  type ConversationHandle,
  type Message,
  type PendingMessage,
  type SupportTicket,
} from "../../../client-sdk/src/index.js";
import { h, icon, ICONS, replaceChildren } from "../shared/dom.js";
import { shortTime } from "../shared/format.js";
import { AttachmentTray, takeComposed } from "../shared/attachment-tray.js";
import { flashRow, messageContent, ReplyTarget, type MessageActions } from "../shared/message-content.js";
import { MessageRows } from "../shared/message-rows.js";
import css from "./widget.css";
import type { WidgetSession } from "./widget-session.js";

/** Options of {@link SupportWidget}. */
export interface SupportWidgetOptions {
  /** The chat server's base URL. */
  serverUrl: string;
  /** The panel's title. Default "Chat with us". */
  title?: string;
}

/** An agent's typing indicator is dropped after this long without news (the server's expires too). */
const TYPING_HIDE_MS = 8_000;
/** Remembers, for this tab, that the panel was open, so a reload shows it open again. */
const OPEN_KEY = "switchboard.widget.open";

/**
 * The embeddable support widget: a launcher button and a chat panel in a Shadow DOM (the host
 * page's styles cannot reach in, ours cannot leak out), on top of the client SDK. Shows agent
 * typing, read receipts, agent availability, and the conversation's status.
 */
export class SupportWidget {
  private readonly host = h("div", { id: "switchboard-widget" });
  private readonly root: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly availability: HTMLDivElement;
  private readonly assignee: HTMLDivElement;
  private readonly connection: HTMLDivElement;
  private readonly notice: HTMLDivElement;
  private readonly list: HTMLOListElement;
  private readonly typingLine: HTMLDivElement;
  private readonly input: HTMLTextAreaElement;
  private readonly receipt = h("div", { class: "receipt" }, "Seen");
  private readonly tray: AttachmentTray;
  private readonly replyTarget = new ReplyTarget(() => this.input.focus());
  private readonly actions: MessageActions;
  private sending = false;

  private client?: ChatClient;
  private handle?: ConversationHandle;
  private ticket?: SupportTicket;
  private starting?: Promise<void>;
  /** Rendered messages by seq, then the ones still sending. */
  private readonly rows: MessageRows;
  /** Highest seq any agent has read. */
  private agentReadSeq = 0;
  /** Highest seq the visitor has read. */
  private myReadSeq = 0;
  private readonly typing = new Map<string, ReturnType<typeof setTimeout>>();
  private loadingOlder = false;
  private hasOlder = true;

  constructor(
    private readonly session: WidgetSession,
    private readonly options: SupportWidgetOptions,
  ) {
    this.root = this.host.attachShadow({ mode: "open" });
    adoptStyles(this.root, css);

    this.badge = h("span", { class: "badge", hidden: true });
    this.launcher = h("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false" }, icon(ICONS.chat), this.badge);
    this.availability = h("div", { class: "availability", "data-online": "false" }, h("span", { class: "dot" }), h("span", { class: "availability-text" }, "Connecting…"));
    this.assignee = h("div", { class: "assignee", hidden: true });
    this.connection = h("div", { class: "connection", hidden: true }, "Reconnecting…");
    this.notice = h("div", { class: "notice", role: "status", hidden: true });
    this.list = h("ol", { class: "messages", "aria-live": "polite" }, h("li", { class: "empty" }, "Hi! How can we help? Write us a message."));
    this.rows = new MessageRows(this.list, "mine");
    this.typingLine = h("div", { class: "typing", hidden: true });
    this.input = h("textarea", { rows: 1, placeholder: "Write a message…", "aria-label": "Message", maxlength: 4000 });
    const close = h("button", { class: "close", type: "button", "aria-label": "Close chat" }, icon(ICONS.close));
    this.tray = new AttachmentTray({ serverUrl: options.serverUrl, getToken: session.getToken, max: LIMITS.attachmentsMax });
    this.actions = {
      me: undefined,
      nameOf: (userId) => (userId === this.client?.userId ? "You" : (this.ticket?.names[userId] ?? "Support")),
      react: (message, emoji, add) => {
        const handle = this.handle;
        if (handle) (add ? handle.react(message.id, emoji) : handle.unreact(message.id, emoji)).catch((err: unknown) => this.showError(err));
      },
      reply: (message) => {
        this.replyTarget.set(message, this.actions.nameOf(message.senderId));
        this.input.focus();
      },
      showQuoted: (ref) => {
        const row = this.rows.get(ref.seq);
        if (row) flashRow(row);
      },
    };
    const form = h("form", { class: "composer" }, this.tray.button, this.input, h("button", { class: "send", type: "submit", "aria-label": "Send" }, icon(ICONS.send)));
    this.panel = h(
      "section",
      { class: "panel", role: "dialog", "aria-label": options.title ?? "Chat with us", hidden: true },
      h("header", { class: "header" }, h("div", { class: "heading" }, h("div", { class: "title" }, options.title ?? "Chat with us"), this.availability, this.assignee, this.connection), close),
      this.notice,
      this.list,
      this.typingLine,
      this.replyTarget.element,
      this.tray.element,
      form,
      h("div", { class: "footer" }, "Powered by Switchboard"),
    );
    this.root.append(this.panel, this.launcher);
    this.tray.listen(this.input, this.panel);

    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    close.addEventListener("click", () => this.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.send();
      }
    });
    this.input.addEventListener("input", () => {
      if (this.input.value.trim()) this.handle?.startTyping();
      else this.handle?.stopTyping();
    });
    this.input.addEventListener("blur", () => this.handle?.stopTyping());
    this.list.addEventListener("scroll", () => {
      if (this.list.scrollTop < 40) void this.loadOlder();
    });
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  /** Adds the widget to the page; reconnects at once when this browser already has a conversation. */
  mount(): void {
    document.body.appendChild(this.host);
    if (sessionStorage.getItem(OPEN_KEY) === "1") this.open();
    else if (this.session.hasConversation) void this.start();
  }

  /** Opens the panel (starting the session on first use). */
  open(): void {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat");
    sessionStorage.setItem(OPEN_KEY, "1");
    this.input.focus();
    this.scrollToEnd();
    void this.start().then(() => this.markRead());
  }

  close(): void {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", "Open chat");
    sessionStorage.removeItem(OPEN_KEY);
    this.handle?.stopTyping();
  }

  // ---- session and connection ----

  private start(): Promise<void> {
    this.starting ??= this.connect().catch((err: unknown) => {
      this.starting = undefined;
      this.showError(err);
    });
    return this.starting;
  }

  private async connect(): Promise<void> {
    const session = await this.session.start();
    this.applyTicket(session.ticket);
    this.applyAvailability(session.agentsOnline);
    const client = new ChatClient({ url: this.options.serverUrl, getToken: this.session.getToken });
    this.client = client;
    const handle = client.conversation(session.conversationId);
    this.handle = handle;

    client.on("state", ({ newState, oldState, code, reason }) => {
      this.connection.hidden = newState !== "connecting" || oldState === "disconnected";
      if (newState === "connected") void this.refreshTicket();
      if (newState === "disconnected" && code !== "disconnect_called") this.showError(new SwitchboardClientError(code, reason));
    });
    client.onServerEvent("support:updated", ({ ticket }) => {
      if (ticket.conversationId === handle.id) this.applyTicket(ticket);
    });
    client.onServerEvent("support:availability", ({ agentsOnline }) => this.applyAvailability(agentsOnline));

    handle.on("joined", (conversation) => {
      for (const member of conversation.members) {
        if (member.userId === client.userId) this.myReadSeq = Math.max(this.myReadSeq, member.lastReadSeq);
        else this.agentReadSeq = Math.max(this.agentReadSeq, member.lastReadSeq);
      }
      this.updateReceipt();
      this.updateBadge();
    });
    handle.on("message", (message) => this.onMessage(message));
    handle.on("message:updated", (message) => {
      this.rows.replace(message.seq, this.row(message));
      this.updateReceipt();
    });
    handle.on("pending", (pending) => this.renderPending(pending));
    handle.on("receipt", ({ userId, seq }) => {
      if (userId === client.userId) {
        this.myReadSeq = Math.max(this.myReadSeq, seq);
        this.updateBadge();
      } else {
        this.agentReadSeq = Math.max(this.agentReadSeq, seq);
        this.updateReceipt();
      }
    });
    handle.on("typing", ({ userId, isTyping }) => {
      if (userId !== client.userId) this.setTyping(userId, isTyping);
    });
    handle.on("error", (error) => this.showError(error));

    client.connect();
    await handle.join();
  }

  private async refreshTicket(): Promise<void> {
    if (!this.client || !this.handle) return;
    try {
      const { ticket, agentsOnline } = await this.client.request("support:get", { conversationId: this.handle.id });
      this.applyTicket(ticket);
      this.applyAvailability(agentsOnline);
    } catch {
      // Live events keep the header right; this was only a catch-up after a reconnect.
    }
  }

  // ---- rendering ----

  private onMessage(message: Message): void {
    this.session.markActive();
    this.renderMessage(message);
    if (message.senderId !== this.client?.userId) this.setTyping(message.senderId, false);
    this.scrollToEnd();
    this.markRead();
    this.updateBadge();
  }

  private renderMessage(message: Message): void {
    if (this.rows.has(message.seq)) return;
    this.list.querySelector(".empty")?.remove();
    this.rows.insert(message.seq, this.row(message));
    this.updateReceipt();
  }

  /** A message's row. Thread replies (started by an agent in the console) show inline, marked. */
  private row(message: Message): HTMLLIElement {
    const mine = message.senderId === this.client?.userId;
    this.actions.me = this.client?.userId;
    return h(
      "li",
      { class: `message ${mine ? "mine" : "theirs"}`, "data-seq": message.seq, "data-message-id": message.id },
      ...messageContent(message, this.actions),
      h("div", { class: "meta" }, `${this.actions.nameOf(message.senderId)} · ${shortTime(message.createdAt)}`, message.threadId && h("span", { class: "in-thread" }, " · in thread")),
    );
  }

  private renderPending(pending: readonly PendingMessage[]): void {
    if (this.rows.showPending(pending)) this.list.querySelector(".empty")?.remove();
    this.scrollToEnd();
  }


  /** "Seen" under the visitor's latest message an agent has read. */
  private updateReceipt(): void {
    const me = this.client?.userId;
    let target: HTMLLIElement | undefined;
    for (const message of this.handle?.messages ?? []) {
      if (message.senderId === me && message.seq <= this.agentReadSeq) target = this.rows.get(message.seq);
    }
    if (!target) this.receipt.remove();
    else if (this.receipt.parentElement !== target) target.appendChild(this.receipt);
  }

  private applyTicket(ticket: SupportTicket): void {
    this.ticket = ticket;
    const resolved = ticket.status === "resolved";
    if (resolved || !this.notice.classList.contains("error")) {
      this.notice.classList.remove("error");
      this.notice.hidden = !resolved;
      this.notice.textContent = resolved ? "This conversation was marked resolved. Write again any time to reopen it." : "";
    }
    const agent = ticket.assigneeId ? ticket.names[ticket.assigneeId] : undefined;
    this.assignee.hidden = !agent;
    this.assignee.textContent = agent ? `${agent} is helping you` : "";
  }

  private applyAvailability(agentsOnline: number): void {
    const online = agentsOnline > 0;
    this.availability.dataset.online = String(online);
    this.availability.querySelector(".availability-text")!.textContent = online
      ? "We're online"
      : "We're away. Leave a message and we'll reply here.";
  }

  private setTyping(userId: string, isTyping: boolean): void {
    clearTimeout(this.typing.get(userId));
    this.typing.delete(userId);
    if (isTyping) this.typing.set(userId, setTimeout(() => this.setTyping(userId, false), TYPING_HIDE_MS));
    const names = [...this.typing.keys()].map((id) => this.ticket?.names[id] ?? "An agent");
    this.typingLine.hidden = names.length === 0;
    this.typingLine.textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…`;
  }

  private updateBadge(): void {
    const me = this.client?.userId;
    const unread = (this.handle?.messages ?? []).filter((m) => m.senderId !== me && m.seq > this.myReadSeq).length;
    this.badge.hidden = unread === 0 || !this.panel.hidden;
    this.badge.textContent = unread > 9 ? "9+" : String(unread);
  }

  private showError(err: unknown): void {
    const error = SwitchboardClientError.from(err);
    this.notice.classList.add("error");
    this.notice.hidden = false;
    replaceChildren(this.notice, error.code === "forbidden" || error.code === "unauthorized" ? "Chat is not available on this page." : "Chat is unavailable right now. Try again in a moment.");
  }

  // ---- actions ----

  /** Sends the text and the tray's files (waiting for their uploads), as a reply when one is set. */
  private async send(): Promise<void> {
    const handle = this.handle;
    if (!handle || this.sending) return;
    this.sending = true;
    try {
      const composed = await takeComposed(this.input, this.tray, this.replyTarget);
      if (!composed) return;
      handle.stopTyping();
      handle.send(composed.text, composed.options).catch((err: unknown) => this.showError(err));
    } finally {
      this.sending = false;
    }
  }

  /** Reads up to the newest message while the panel is open and the page visible. */
  private markRead(): void {
    if (!this.handle || this.panel.hidden || document.visibilityState !== "visible") return;
    const newest = this.handle.lastSeq;
    if (newest <= this.myReadSeq) return;
    this.myReadSeq = newest;
    this.updateBadge();
    this.handle.markRead().catch(() => undefined);
  }

  private async loadOlder(): Promise<void> {
    if (!this.handle || this.loadingOlder || !this.hasOlder || this.rows.size === 0) return;
    this.loadingOlder = true;
    const height = this.list.scrollHeight;
    try {
      const page = await this.handle.history({ limit: 30 });
      this.hasOlder = page.hasMore;
      for (const message of page.messages) this.renderMessage(message);
      // Keep the message the visitor was looking at in place.
      this.list.scrollTop += this.list.scrollHeight - height;
    } catch {
      // Scrolling up again retries.
    } finally {
      this.loadingOlder = false;
    }
  }

  private scrollToEnd(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

/**
 * Styles the shadow root with a constructed stylesheet: unlike a `<style>` element, it needs no
 * `'unsafe-inline'` in the host page's CSP. Browsers without constructable stylesheets get a
 * `<style>` element, which a strict CSP will block (the widget then works unstyled).
 */
function adoptStyles(root: ShadowRoot, text: string): void {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    root.adoptedStyleSheets = [sheet];
    return;
  }
  root.appendChild(h("style", {}, text));
}
