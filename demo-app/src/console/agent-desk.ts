import {
  ChatClient,
  SwitchboardClientError,
  type PresenceStatus,
  type SupportAgent,
  type SupportStatus,
  type SupportTicket,
} from "../../../client-sdk/src/index.js";
import { h, replaceChildren } from "../shared/dom.js";
import { initials, shortTime, visitorName } from "../shared/format.js";
import { previewText } from "../shared/message-content.js";
import { ConversationView } from "./conversation-view.js";

/** The signed-in demo agent. */
export interface Agent {
  id: string;
  name: string;
}

/** The elements of the desk in `index.html`. */
export interface DeskElements {
  list: HTMLUListElement;
  filters: HTMLElement;
  team: HTMLElement;
  conversation: HTMLElement;
  toast: HTMLElement;
}

type Filter = SupportStatus | "all";

interface InboxRow {
  ticket: SupportTicket;
  /** This agent's read position. */
  lastReadSeq: number;
}

/** Visitors' presence is re-read this often (live updates come only for conversations an agent has opened). */
const PRESENCE_POLL_MS = 20_000;

/**
 * The agent console after sign-in: the team inbox (unread counts, status, assignee, visitor
 * presence, live through `support:updated`), the team's availability, and the open
 * conversation. Everything goes through the client SDK.
 */
export class AgentDesk {
  private readonly client: ChatClient;
  private readonly getToken: () => Promise<string>;
  private readonly rows = new Map<string, InboxRow>();
  private readonly presence = new Map<string, PresenceStatus>();
  private agents: SupportAgent[] = [];
  private filter: Filter = "open";
  private view?: ConversationView;
  private presenceTimer?: ReturnType<typeof setInterval>;
  private inboxReload?: ReturnType<typeof setTimeout>;
  private toastTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly agent: Agent,
    getToken: () => Promise<string>,
    private readonly el: DeskElements,
  ) {
    this.client = new ChatClient({ url: location.origin, getToken });
    this.getToken = getToken;
  }

  /** Connects and keeps the inbox live. */
  start(): void {
    const { client } = this;
    client.on("state", ({ newState, code, reason }) => {
      document.body.dataset.connection = newState;
      if (newState === "connected") void this.loadInbox();
      if (newState === "disconnected" && code !== "disconnect_called") this.toast(`Disconnected: ${reason}`);
    });
    client.onServerEvent("support:updated", ({ ticket }) => this.onTicket(ticket));
    // The team's online states changed: the inbox answer carries them.
    client.onServerEvent("support:availability", () => this.scheduleInboxReload());
    client.on("presence", ({ userId, status }) => {
      this.presence.set(userId, status);
      this.renderInbox();
    });
    for (const button of Array.from(this.el.filters.querySelectorAll<HTMLButtonElement>("button[data-filter]"))) {
      button.addEventListener("click", () => {
        this.filter = button.dataset.filter as Filter;
        this.renderInbox();
      });
    }
    document.addEventListener("visibilitychange", () => this.view?.markRead());
    this.presenceTimer = setInterval(() => void this.refreshPresence(), PRESENCE_POLL_MS);
    client.connect();
  }

  /** Disconnects (sign out). */
  stop(): void {
    clearInterval(this.presenceTimer);
    this.view?.close();
    this.client.disconnect();
  }

  // ---- inbox ----

  private async loadInbox(): Promise<void> {
    try {
      const { entries, agents } = await this.client.request("support:inbox", { limit: 100 });
      for (const entry of entries) {
        const known = this.rows.get(entry.ticket.conversationId);
        this.rows.set(entry.ticket.conversationId, { ticket: entry.ticket, lastReadSeq: Math.max(entry.lastReadSeq, known?.lastReadSeq ?? 0) });
      }
      this.agents = agents;
      this.view?.setAgents(agents);
      this.renderInbox();
      this.renderTeam();
      await this.refreshPresence();
    } catch (err) {
      this.toast(`Inbox: ${SwitchboardClientError.from(err).message}`);
    }
  }

  private scheduleInboxReload(): void {
    clearTimeout(this.inboxReload);
    this.inboxReload = setTimeout(() => void this.loadInbox(), 200);
  }

  private onTicket(ticket: SupportTicket): void {
    // Tickets without a message stay out of the inbox, as the server lists them.
    if (!ticket.lastMessageAt && !this.rows.has(ticket.conversationId)) return;
    const known = this.rows.get(ticket.conversationId);
    this.rows.set(ticket.conversationId, { ticket, lastReadSeq: known?.lastReadSeq ?? 0 });
    if (this.view?.conversationId === ticket.conversationId) this.view.applyTicket(ticket);
    if (!known) void this.refreshPresence();
    this.renderInbox();
  }

  private async refreshPresence(): Promise<void> {
    const ids = [...new Set([...this.rows.values()].map((r) => r.ticket.visitorId))].slice(0, 200);
    if (ids.length === 0 || this.client.state !== "connected") return;
    try {
      const presence = await this.client.queryPresence(ids);
      for (const [userId, info] of Object.entries(presence)) this.presence.set(userId, info.status);
      this.renderInbox();
    } catch {
      // Shown as last known; the next poll tries again.
    }
  }

  private renderInbox(): void {
    const all = [...this.rows.values()].sort((a, b) => (b.ticket.lastMessageAt ?? "").localeCompare(a.ticket.lastMessageAt ?? ""));
    const counts = { open: 0, resolved: 0, all: all.length };
    for (const row of all) counts[row.ticket.status]++;
    for (const button of Array.from(this.el.filters.querySelectorAll<HTMLButtonElement>("button[data-filter]"))) {
      const filter = button.dataset.filter as Filter;
      button.setAttribute("aria-selected", String(filter === this.filter));
      button.querySelector(".count")!.textContent = String(counts[filter]);
    }
    const shown = all.filter((row) => this.filter === "all" || row.ticket.status === this.filter);
    replaceChildren(
      this.el.list,
      ...shown.map((row) => this.renderRow(row)),
      shown.length === 0 && h("li", { class: "inbox-empty" }, this.filter === "resolved" ? "Nothing resolved yet." : "No conversations yet. Write in the widget on the demo page."),
    );
  }

  private renderRow({ ticket, lastReadSeq }: InboxRow): HTMLLIElement {
    const name = visitorName(ticket);
    const active = this.view?.conversationId === ticket.conversationId;
    const unread = active ? 0 : Math.max(0, ticket.lastSeq - lastReadSeq);
    const last = ticket.lastMessage;
    const preview = last ? `${last.senderId === ticket.visitorId ? "" : `${last.senderId === this.agent.id ? "You" : (ticket.names[last.senderId] ?? "Agent")}: `}${previewText(last)}` : "";
    const assignee = ticket.assigneeId ? (ticket.assigneeId === this.agent.id ? "You" : (ticket.names[ticket.assigneeId] ?? ticket.assigneeId)) : "Unassigned";
    const button = h(
      "button",
      {
        class: `entry${active ? " active" : ""}${unread > 0 ? " unread" : ""}`,
        type: "button",
        "data-conversation-id": ticket.conversationId,
        "data-status": ticket.status,
      },
      h("span", { class: "avatar" }, initials(name), h("span", { class: "presence", "data-status": this.presence.get(ticket.visitorId) ?? "offline" })),
      h(
        "span",
        { class: "entry-body" },
        h("span", { class: "entry-top" }, h("span", { class: "entry-name" }, name), h("span", { class: "entry-time" }, ticket.lastMessageAt ? shortTime(ticket.lastMessageAt) : "")),
        h("span", { class: "entry-preview" }, preview),
        h(
          "span",
          { class: "entry-tags" },
          h("span", { class: `pill status-${ticket.status}` }, ticket.status === "resolved" ? "Resolved" : "Open"),
          h("span", { class: `pill assignee${ticket.assigneeId ? "" : " none"}` }, assignee),
        ),
      ),
      unread > 0 && h("span", { class: "unread-count", "aria-label": `${unread} unread` }, unread > 99 ? "99+" : String(unread)),
    );
    button.addEventListener("click", () => void this.select(ticket.conversationId));
    return h("li", {}, button);
  }

  private renderTeam(): void {
    replaceChildren(
      this.el.team,
      h("h3", {}, "Team"),
      ...this.agents.map((a) =>
        h(
          "div",
          { class: "agent", "data-status": a.online ? "online" : "offline" },
          h("span", { class: "dot" }),
          `${a.name ?? a.userId}${a.userId === this.agent.id ? " (you)" : ""}`,
          h("span", { class: "agent-state" }, a.online ? "online" : "away"),
        ),
      ),
    );
  }

  // ---- the open conversation ----

  private async select(conversationId: string): Promise<void> {
    if (this.view?.conversationId === conversationId) return;
    const row = this.rows.get(conversationId);
    if (!row) return;
    this.view?.close();
    const view = new ConversationView(this.client, row.ticket, this.agents, {
      onRead: (id, seq) => {
        const read = this.rows.get(id);
        if (read && seq > read.lastReadSeq) {
          read.lastReadSeq = seq;
          this.renderInbox();
        }
      },
      onError: (message) => this.toast(message),
      getToken: this.getToken,
    });
    this.view = view;
    replaceChildren(this.el.conversation, view.element);
    this.renderInbox();
    try {
      await view.open();
    } catch (err) {
      this.toast(`Could not open the conversation: ${SwitchboardClientError.from(err).message}`);
    }
  }

  private toast(message: string): void {
    clearTimeout(this.toastTimer);
    this.el.toast.textContent = message;
    this.el.toast.hidden = false;
    this.toastTimer = setTimeout(() => (this.el.toast.hidden = true), 6000);
  }
}
