import {
  LIMITS,
  SwitchboardClientError,
  type ChatClient,
  type ConversationHandle,
  type Message,
  type PendingMessage,
  type PresenceInfo,
  type SupportAgent,
  type SupportTicket,
} from "../../../client-sdk/src/index.js";
import { h, replaceChildren } from "../shared/dom.js";
import { initials, shortTime, visitorName } from "../shared/format.js";
import { AttachmentTray, takeComposed } from "../shared/attachment-tray.js";
import { flashRow, messageContent, ReplyTarget, type MessageActions } from "../shared/message-content.js";
import { MessageRows } from "../shared/message-rows.js";
import { ThreadPanel } from "./thread-panel.js";

/** What the conversation view tells the desk. */
export interface ConversationViewHooks {
  /** The agent read the conversation up to `seq`. */
  onRead(conversationId: string, seq: number): void;
  /** Something failed that the agent should know about. */
  onError(message: string): void;
  /** The agent's token, for uploads. */
  getToken(): Promise<string>;
}

/** A visitor's typing indicator is dropped after this long without news. */
const TYPING_HIDE_MS = 8_000;

/**
 * One open support conversation in the console: history (older pages load on scroll), live
 * messages, the visitor's typing and presence, read receipts, a reply box, and the assignment
 * and status controls. Messages show their attachments, quotes and reactions; files attach by
 * the paperclip, a paste or a drop; a thread opens in a panel beside the conversation, and
 * thread replies stay out of the main list.
 */
export class ConversationView {
  readonly element: HTMLElement;
  private readonly handle: ConversationHandle;
  private readonly name = h("div", { class: "conv-name" });
  private readonly avatar = h("span", { class: "avatar large" });
  private readonly presenceLine = h("div", { class: "conv-presence" });
  private readonly assign = h("select", { class: "assign", "aria-label": "Assignee" });
  private readonly statusButton = h("button", { class: "status-button", type: "button" });
  private readonly statusPill = h("span", { class: "pill" });
  private readonly thread = h("ol", { class: "thread", "aria-live": "polite" });
  private readonly older = h("li", { class: "older" }, "Scroll up for older messages");
  private readonly typingLine = h("div", { class: "typing", hidden: true });
  private readonly input = h("textarea", { rows: 2, "aria-label": "Reply", maxlength: 4000 });
  private readonly receipt = h("div", { class: "receipt" }, "Seen");
  private readonly rows = new MessageRows(this.thread, "from-team mine");
  private readonly tray: AttachmentTray;
  private readonly replyTarget = new ReplyTarget(() => this.input.focus());
  private readonly actions: MessageActions;
  private readonly body: HTMLElement;
  private panel?: ThreadPanel;
  private sending = false;
  private readonly unsubscribe: (() => void)[] = [];
  private ticket: SupportTicket;
  private agents: SupportAgent[] = [];
  private visitorReadSeq = 0;
  private typingTimer?: ReturnType<typeof setTimeout>;
  private loadingOlder = false;
  private hasOlder = false;
  private closed = false;

  constructor(
    private readonly client: ChatClient,
    ticket: SupportTicket,
    agents: SupportAgent[],
    private readonly hooks: ConversationViewHooks,
  ) {
    this.ticket = ticket;
    this.handle = client.conversation(ticket.conversationId);
    this.tray = new AttachmentTray({ serverUrl: location.origin, getToken: hooks.getToken, max: LIMITS.attachmentsMax });
    this.actions = {
      me: client.userId,
      nameOf: (userId) => this.nameOf(userId),
      react: (message, emoji, add) => {
        (add ? this.handle.react(message.id, emoji) : this.handle.unreact(message.id, emoji)).catch((err: unknown) =>
          this.hooks.onError(`Reaction not saved: ${SwitchboardClientError.from(err).message}`),
        );
      },
      reply: (message) => {
        this.replyTarget.set(message, this.nameOf(message.senderId));
        this.input.focus();
      },
      openThread: (message) => void this.openThread(message),
      showQuoted: (ref) => {
        const row = this.rows.get(ref.seq);
        if (row) flashRow(row);
      },
    };
    const form = h("form", { class: "composer" }, this.tray.button, this.input, h("button", { class: "send", type: "submit" }, "Send"));
    this.body = h("div", { class: "conv-body" }, h("div", { class: "conv-main" }, this.thread, this.typingLine, this.replyTarget.element, this.tray.element, form));
    this.tray.listen(this.input, this.body);
    this.element = h(
      "div",
      { class: "conv", "data-conversation-id": ticket.conversationId },
      h(
        "header",
        { class: "conv-head" },
        h("div", { class: "who" }, this.avatar, h("div", {}, h("div", { class: "conv-title" }, this.name, this.statusPill), this.presenceLine)),
        h("div", { class: "actions" }, h("label", { class: "assign-label" }, "Assignee ", this.assign), this.statusButton),
      ),
      this.body,
    );
    this.thread.append(this.older);
    this.older.hidden = true;

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
    this.input.addEventListener("input", () => (this.input.value.trim() ? this.handle.startTyping() : this.handle.stopTyping()));
    this.input.addEventListener("blur", () => this.handle.stopTyping());
    this.thread.addEventListener("scroll", () => {
      if (this.thread.scrollTop < 40) void this.loadOlder();
    });
    this.assign.addEventListener("change", () => void this.changeAssignee(this.assign.value || null));
    this.statusButton.addEventListener("click", () => void this.changeStatus(this.ticket.status === "resolved" ? "open" : "resolved"));

    this.applyTicket(ticket);
    this.setAgents(agents);
  }

  get conversationId(): string {
    return this.ticket.conversationId;
  }

  /** Becomes a member if needed, joins, and shows the history. */
  async open(): Promise<void> {
    const h = this.handle;
    this.unsubscribe.push(
      h.on("message", (m) => this.onMessage(m)),
      h.on("message:updated", (m) => {
        this.rows.replace(m.seq, this.row(m));
        this.panel?.updated(m);
        this.updateReceipt();
      }),
      h.on("pending", (p) => this.renderPending(p)),
      h.on("receipt", ({ userId, seq }) => {
        if (userId !== this.ticket.visitorId) return;
        this.visitorReadSeq = Math.max(this.visitorReadSeq, seq);
        this.updateReceipt();
      }),
      h.on("typing", ({ userId, isTyping }) => {
        if (userId === this.ticket.visitorId) this.setTyping(isTyping);
      }),
      h.on("joined", (conversation) => {
        const visitor = conversation.members.find((m) => m.userId === this.ticket.visitorId);
        this.visitorReadSeq = Math.max(this.visitorReadSeq, visitor?.lastReadSeq ?? 0);
        this.updateReceipt();
      }),
      this.client.on("presence", (e) => {
        if (e.userId === this.ticket.visitorId) this.showPresence(e);
      }),
    );
    await this.client.request("support:join", { conversationId: this.conversationId });
    await h.join();
    // Messages delivered before our listeners (a handle reopened) are drawn from what it holds.
    for (const message of h.messages) this.renderMessage(message);
    this.hasOlder = (h.messages[0]?.seq ?? 1) > 1;
    this.older.hidden = !this.hasOlder;
    this.scrollToEnd();
    this.markRead();
    this.input.focus();
    const presence = await this.client.queryPresence([this.ticket.visitorId]).catch(() => undefined);
    const info = presence?.[this.ticket.visitorId];
    if (info) this.showPresence(info);
  }

  /** Stops following the conversation (another one was selected). */
  close(): void {
    this.closed = true;
    this.closeThread();
    for (const off of this.unsubscribe.splice(0)) off();
    clearTimeout(this.typingTimer);
    this.handle.stopTyping();
    void this.handle.leave().catch(() => undefined);
  }

  /** A newer view of the ticket (status, assignee, names). */
  applyTicket(ticket: SupportTicket): void {
    this.ticket = ticket;
    const name = visitorName(ticket);
    this.name.textContent = name;
    this.avatar.textContent = initials(name);
    this.input.placeholder = `Reply to ${name}…`;
    const resolved = ticket.status === "resolved";
    this.statusPill.className = `pill status-${ticket.status}`;
    this.statusPill.textContent = resolved ? "Resolved" : "Open";
    this.statusButton.textContent = resolved ? "Reopen" : "Resolve";
    this.statusButton.classList.toggle("primary", !resolved);
    this.assign.value = ticket.assigneeId ?? "";
  }

  /** The team, for the assignee list. */
  setAgents(agents: SupportAgent[]): void {
    this.agents = agents;
    const me = this.client.userId;
    replaceChildren(
      this.assign,
      h("option", { value: "" }, "Unassigned"),
      ...agents.map((a) => h("option", { value: a.userId }, `${a.name ?? a.userId}${a.userId === me ? " (you)" : ""}`)),
    );
    this.assign.value = this.ticket.assigneeId ?? "";
  }

  /** Reads up to the newest message while the page is visible. */
  markRead(): void {
    if (this.closed || document.visibilityState !== "visible") return;
    const seq = this.handle.lastSeq;
    if (seq === 0) return;
    this.hooks.onRead(this.conversationId, seq);
    this.handle.markRead().catch(() => undefined);
  }

  // ---- rendering ----

  private onMessage(message: Message): void {
    this.panel?.message(message);
    this.renderMessage(message);
    if (message.senderId === this.ticket.visitorId) this.setTyping(false);
    this.scrollToEnd();
    this.markRead();
  }

  private renderMessage(message: Message): void {
    // Thread replies live in the thread panel; the main list shows their parent's count.
    if (this.rows.has(message.seq) || message.threadId) return;
    this.rows.insert(message.seq, this.row(message));
    this.updateReceipt();
  }

  /** A message's row, in the main list or the thread panel. */
  private row(message: Message): HTMLLIElement {
    const fromVisitor = message.senderId === this.ticket.visitorId;
    const mine = message.senderId === this.client.userId;
    return h(
      "li",
      { class: `message ${fromVisitor ? "from-visitor" : "from-team"}${mine ? " mine" : ""}`, "data-seq": message.seq, "data-message-id": message.id },
      ...messageContent(message, this.actions),
      h("div", { class: "meta" }, `${this.nameOf(message.senderId)} · ${shortTime(message.createdAt)}`),
    );
  }

  private nameOf(userId: string): string {
    if (userId === this.ticket.visitorId) return visitorName(this.ticket);
    if (userId === this.client.userId) return "You";
    return this.ticket.names[userId] ?? this.agentName(userId);
  }

  private renderPending(pending: readonly PendingMessage[]): void {
    // A thread reply appears in the panel once stored; the main list never shows it.
    this.rows.showPending(pending.filter((p) => !p.threadId));
    this.scrollToEnd();
  }

  /** Opens the thread under `parent` beside the conversation (another open thread closes). */
  private async openThread(parent: Message): Promise<void> {
    if (this.panel?.threadId === parent.id) return;
    this.closeThread();
    const panel = new ThreadPanel(this.handle, parent, {
      row: (m) => this.row(m),
      onClose: () => this.closeThread(),
      onError: (message) => this.hooks.onError(message),
    });
    this.panel = panel;
    this.body.appendChild(panel.element);
    this.body.classList.add("with-thread");
    await panel.open();
  }

  private closeThread(): void {
    this.panel?.element.remove();
    this.panel = undefined;
    this.body.classList.remove("with-thread");
  }

  /** "Seen" under the latest team message the visitor has read. */
  private updateReceipt(): void {
    let target: HTMLLIElement | undefined;
    for (const message of this.handle.messages) {
      if (message.senderId !== this.ticket.visitorId && message.seq <= this.visitorReadSeq) target = this.rows.get(message.seq);
    }
    if (!target) this.receipt.remove();
    else if (this.receipt.parentElement !== target) target.appendChild(this.receipt);
  }

  private setTyping(isTyping: boolean): void {
    clearTimeout(this.typingTimer);
    this.typingLine.hidden = !isTyping;
    this.typingLine.textContent = isTyping ? `${visitorName(this.ticket)} is typing…` : "";
    if (isTyping) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_HIDE_MS);
  }

  private showPresence(info: PresenceInfo): void {
    const online = info.status === "online";
    this.presenceLine.dataset.status = info.status;
    this.presenceLine.textContent = online ? "Online now" : info.lastSeenAt ? `Offline · last seen ${shortTime(info.lastSeenAt)}` : "Offline";
  }

  private agentName(userId: string): string {
    return this.agents.find((a) => a.userId === userId)?.name ?? userId;
  }

  // ---- actions ----

  /** Sends the text and the tray's files (waiting for their uploads), as a reply when one is set. */
  private async send(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      const composed = await takeComposed(this.input, this.tray, this.replyTarget);
      if (!composed) return;
      this.handle.stopTyping();
      this.handle.send(composed.text, composed.options).catch((err: unknown) => this.hooks.onError(`Not sent: ${SwitchboardClientError.from(err).message}`));
    } finally {
      this.sending = false;
    }
  }

  private async changeAssignee(assigneeId: string | null): Promise<void> {
    try {
      const { ticket } = await this.client.request("support:assign", { conversationId: this.conversationId, assigneeId });
      this.applyTicket(ticket);
    } catch (err) {
      this.assign.value = this.ticket.assigneeId ?? "";
      this.hooks.onError(`Could not assign: ${SwitchboardClientError.from(err).message}`);
    }
  }

  private async changeStatus(status: "open" | "resolved"): Promise<void> {
    try {
      const { ticket } = await this.client.request("support:status", { conversationId: this.conversationId, status });
      this.applyTicket(ticket);
    } catch (err) {
      this.hooks.onError(`Could not change the status: ${SwitchboardClientError.from(err).message}`);
    }
  }

  private async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.hasOlder) return;
    this.loadingOlder = true;
    this.older.textContent = "Loading older messages…";
    const height = this.thread.scrollHeight;
    try {
      const page = await this.handle.history({ limit: 30 });
      for (const message of page.messages) this.renderMessage(message);
      this.hasOlder = page.hasMore;
      this.older.hidden = !page.hasMore;
      // Keep what the agent was reading in place.
      this.thread.scrollTop += this.thread.scrollHeight - height;
    } catch {
      // Scrolling up again retries.
    } finally {
      this.older.textContent = "Scroll up for older messages";
      this.loadingOlder = false;
    }
  }

  private scrollToEnd(): void {
    this.thread.scrollTop = this.thread.scrollHeight;
  }
}
