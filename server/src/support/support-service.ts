import { createHash, randomBytes } from "node:crypto";
import type {
  Conversation,
  Message,
  SupportAgent,
  SupportInboxPayload,
  SupportInboxResult,
  SupportStatus,
  SupportTicket,
  SupportTicketResult,
  UserRole,
} from "../../../client-sdk/src/protocol.js";
import { LIMITS } from "../../../client-sdk/src/protocol.js";
import type { ChatEvents } from "../core/chat-events.js";
import type { ConversationService } from "../core/conversation-service.js";
import { SwitchboardError } from "../core/errors.js";
import type { PresenceService } from "../core/presence-service.js";
import type { Store } from "../store/store.js";
import { SupportEvents, type SupportTicketChange } from "./support-events.js";
import type { SupportStore, SupportTicketRecord, WidgetKeyRecord } from "./support-store.js";
import { userHashMatches } from "./widget-identity.js";

/** Who asks: the support desk's rules depend on the token's role. */
export interface SupportActor {
  userId: string;
  role: UserRole;
}

/** Input of {@link SupportService.startVisitorSession}. */
export interface VisitorSessionInput {
  widgetKey: string;
  /** The anonymous visitor id the widget stored (`v_…`); a fresh one is made when absent. */
  visitorId?: string;
  /** The customer's own user id, for a logged-in customer; needs `userHash`. */
  userId?: string;
  /** Hex `HMAC-SHA256(identitySecret, userId)`. */
  userHash?: string;
  /** Display name shown to agents. */
  name?: string;
  /** The request's `Origin` header; absent for non-browser callers. */
  origin?: string;
  /** The request's `Host` header, for keys limited to the server's own origin. */
  host?: string;
}

/** Result of {@link SupportService.startVisitorSession}; the transport mints the token for `userId`. */
export interface VisitorSession {
  /** The visitor's user id in Switchboard (the token's `sub`). */
  userId: string;
  /** The anonymous visitor id to keep (absent for identified customers). */
  visitorId?: string;
  name?: string;
  conversationId: string;
  ticket: SupportTicket;
  agentsOnline: number;
}

/** A widget key as listed: everything but the identity secret. */
export type WidgetKeyInfo = Omit<WidgetKeyRecord, "identitySecret">;

/** Options of {@link SupportService}. */
export interface SupportServiceOptions {
  /** The server's own origin (`PUBLIC_URL`'s): what a widget key without allowed origins accepts. */
  publicOrigin: string;
  /** Keys that start no sessions whatever the store says (the demo key outside demo mode). Default none. */
  disabledWidgetKeys?: readonly string[];
  /** How long after an agent connected availability is re-counted. Default 250 ms (the registry write comes first). */
  connectCheckMs?: number;
  /** How long after an agent's connection closed it is re-counted. Default 3500 ms (past presence's offline grace, so a reload does not flap). */
  disconnectCheckMs?: number;
  /** Told about failures of background work (ticket updates after a message, availability counts). Default: ignored. */
  onError?: (err: unknown, task: "message" | "availability") => void;
}

/** Anonymous visitor ids the widget keeps in localStorage: unguessable, so they work as the visitor's secret. */
const VISITOR_ID = /^v_[A-Za-z0-9_-]{16,64}$/;
/** Every support conversation id starts so; other conversations skip the desk's work at once. */
const CONVERSATION_PREFIX = "sup_";
/** Presence queries take at most this many ids; the team is listed up to it. */
const AGENTS_MAX = LIMITS.presenceQueryMax;
/** Widget origins are cached this long for CORS preflights and handshakes. */
const ORIGIN_CACHE_MS = 10_000;

/**
 * The support desk: visitors' support conversations with the team, the agents' inbox,
 * assignment and status, and agent availability. Built on the core services (a support
 * conversation is an ordinary `support` conversation; agents become members when they open one),
 * with its own records in a {@link SupportStore}. Knows no transport.
 */
export class SupportService {
  /** Ticket changes and availability, for the transports. */
  readonly events = new SupportEvents();

  private readonly options: Required<Omit<SupportServiceOptions, "onError">> & Pick<SupportServiceOptions, "onError">;
  /** Per-conversation chains: a ticket's changes are applied and announced in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private availabilityTimer?: NodeJS.Timeout;
  private lastAgentsOnline?: number;
  private originCache?: { at: number; any: boolean; origins: Set<string> };
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly support: SupportStore,
    private readonly conversations: ConversationService,
    private readonly presence: PresenceService,
    options: SupportServiceOptions,
  ) {
    this.options = { connectCheckMs: 250, disconnectCheckMs: 3500, disabledWidgetKeys: [], ...options };
  }

  /** Follows messages of support conversations: the inbox order, and a visitor's message reopens. */
  attach(events: ChatEvents): () => void {
    return events.subscribe((event) => {
      if (event.type !== "message.created" || !event.message.conversationId.startsWith(CONVERSATION_PREFIX)) return;
      const { message } = event;
      this.enqueue(message.conversationId, () => this.onMessage(message)).catch((err: unknown) => this.options.onError?.(err, "message"));
    });
  }

  /** Stops background timers (shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.availabilityTimer);
  }

  // ---- widget keys ----

  /** Creates a widget key with a fresh identity secret (returned here, and readable by admins later). */
  async createWidgetKey(input: { name: string; allowedOrigins?: string[]; id?: string }): Promise<WidgetKeyRecord> {
    const record: WidgetKeyRecord = {
      id: input.id ?? `wk_${randomBytes(18).toString("base64url")}`,
      name: input.name,
      allowedOrigins: [...new Set(input.allowedOrigins ?? [])],
      identitySecret: randomBytes(32).toString("hex"),
      createdAt: new Date().toISOString(),
    };
    await this.support.createWidgetKey(record);
    this.originCache = undefined;
    return record;
  }

  /** The key with `id` (identity secret included), unless it does not exist. */
  async getWidgetKey(id: string): Promise<WidgetKeyRecord> {
    const key = await this.support.getWidgetKey(id);
    if (!key) throw new SwitchboardError("not_found", `Widget key ${id} does not exist.`);
    return key;
  }

  /** Every widget key, revoked ones included, without identity secrets. */
  async listWidgetKeys(): Promise<WidgetKeyInfo[]> {
    return (await this.support.listWidgetKeys()).map(({ identitySecret: _secret, ...info }) => info);
  }

  /** Revokes a key: it starts no new sessions (tokens already issued run out within their TTL). */
  async revokeWidgetKey(id: string): Promise<void> {
    if (!(await this.support.revokeWidgetKey(id, new Date().toISOString()))) {
      throw new SwitchboardError("not_found", `Widget key ${id} does not exist or is already revoked.`);
    }
    this.originCache = undefined;
  }

  /**
   * Whether some active widget key lets pages of `origin` start visitor sessions: for CORS
   * preflights (which carry no key) and Socket.IO handshakes from host pages. Cached briefly.
   */
  async isWidgetOrigin(origin: string): Promise<boolean> {
    const now = Date.now();
    if (!this.originCache || now - this.originCache.at > ORIGIN_CACHE_MS) {
      const keys = (await this.support.listWidgetKeys()).filter((k) => !k.revokedAt && !this.options.disabledWidgetKeys.includes(k.id));
      this.originCache = {
        at: now,
        any: keys.some((k) => k.allowedOrigins.includes("*")),
        origins: new Set(keys.flatMap((k) => k.allowedOrigins)),
      };
    }
    return this.originCache.any || this.originCache.origins.has(origin);
  }

  // ---- agents ----

  /** Records `userId` as an agent of the team (idempotent); agents are also recorded when they connect. */
  registerAgent(userId: string): Promise<void> {
    return this.support.addAgent(userId, new Date().toISOString());
  }

  /** An agent's connection opened: remember them as one of the team, and re-count availability soon. */
  async agentConnected(userId: string): Promise<void> {
    await this.registerAgent(userId);
    this.scheduleAvailability(this.options.connectCheckMs);
  }

  /** An agent's connection closed: re-count availability once presence has settled. */
  agentDisconnected(): void {
    this.scheduleAvailability(this.options.disconnectCheckMs);
  }

  /** How many agents of the team are online, cluster-wide. */
  async agentsOnline(): Promise<number> {
    return (await this.team()).filter((a) => a.online).length;
  }

  // ---- visitors ----

  /**
   * Starts (or resumes) a visitor's session through a widget key: checks the key and the page's
   * origin, verifies a claimed identity, and makes sure the visitor's support conversation
   * exists. Throws `not_found` (unknown or revoked key), `forbidden` (origin not allowed),
   * `unauthorized` (a `userId` without a matching `userHash`) or `invalid_argument`.
   */
  async startVisitorSession(input: VisitorSessionInput): Promise<VisitorSession> {
    const key = await this.support.getWidgetKey(input.widgetKey);
    if (!key || key.revokedAt || this.options.disabledWidgetKeys.includes(key.id)) throw new SwitchboardError("not_found", `Widget key ${input.widgetKey} does not exist or was revoked.`);
    if (input.origin !== undefined && !this.originAllowed(key, input.origin, input.host)) {
      throw new SwitchboardError("forbidden", `Widget key ${key.id} may not be used from ${input.origin}; add the origin to the key's allowedOrigins.`);
    }

    let userId: string;
    let visitorId: string | undefined;
    if (input.userId !== undefined) {
      // Without the hash anyone could claim to be any customer and read their conversation.
      if (input.userHash === undefined || !userHashMatches(key.identitySecret, input.userId, input.userHash)) {
        throw new SwitchboardError("unauthorized", "userHash does not match userId: compute HMAC-SHA256(identitySecret, userId) as hex on your backend.");
      }
      userId = `customer:${input.userId}`;
    } else {
      if (input.visitorId !== undefined && !VISITOR_ID.test(input.visitorId)) {
        throw new SwitchboardError("invalid_argument", "visitorId must be an id this server issued (v_ and 16-64 letters, digits, _ or -).");
      }
      visitorId = input.visitorId ?? `v_${randomBytes(16).toString("base64url")}`;
      userId = `visitor:${visitorId}`;
    }

    const now = new Date().toISOString();
    const existingUser = await this.store.getUser(userId);
    if (!existingUser || existingUser.role !== "visitor" || (input.name !== undefined && existingUser.name !== input.name)) {
      await this.store.upsertUser({ id: userId, role: "visitor", ...(input.name !== undefined ? { name: input.name } : {}) }, now);
    }

    const conversationId = supportConversationId(userId);
    const conversation = await this.ensureConversation(conversationId, userId);
    const record = await this.support.createTicket({
      conversationId,
      visitorId: userId,
      widgetKeyId: key.id,
      identified: input.userId !== undefined,
      status: "open",
      createdAt: now,
      updatedAt: now,
    });
    const [ticket, agentsOnline] = await Promise.all([this.view(record, conversation), this.agentsOnline()]);
    const name = input.name ?? existingUser?.name;
    return { userId, ...(visitorId ? { visitorId } : {}), ...(name ? { name } : {}), conversationId, ticket, agentsOnline };
  }

  // ---- tickets ----

  /** One ticket: agents may read any, a visitor only their own. */
  async get(actor: SupportActor, conversationId: string): Promise<SupportTicketResult> {
    const record = await this.requireTicket(conversationId);
    if (actor.role === "visitor") {
      if (record.visitorId !== actor.userId) throw new SwitchboardError("forbidden", `Conversation ${conversationId} is not yours.`);
    } else {
      requireAgent(actor);
    }
    const [ticket, agentsOnline] = await Promise.all([this.view(record), this.agentsOnline()]);
    return { ticket, agentsOnline };
  }

  /** The team inbox for `actor` (an agent): tickets with a message, latest first, with their unread counts. */
  async inbox(actor: SupportActor, query: SupportInboxPayload): Promise<SupportInboxResult> {
    requireAgent(actor);
    const records = await this.support.listTickets({
      limit: query.limit ?? 50,
      ...(query.status ? { status: query.status } : {}),
      ...(query.before ? { before: query.before } : {}),
    });
    const names = new NameCache(this.store);
    const [entries, agents] = await Promise.all([
      Promise.all(
        records.map(async (record) => {
          const conversation = await this.store.getConversation(record.conversationId);
          const ticket = await this.view(record, conversation ?? undefined, undefined, names);
          const lastReadSeq = conversation?.members.find((m) => m.userId === actor.userId)?.lastReadSeq ?? 0;
          return { ticket, lastReadSeq, unreadCount: Math.max(0, ticket.lastSeq - lastReadSeq) };
        }),
      ),
      this.team(names),
    ]);
    return { entries, agents };
  }

  /** Makes the agent a member (role `agent`) so they can join, read and reply. Idempotent. */
  async join(actor: SupportActor, conversationId: string): Promise<SupportTicketResult> {
    requireAgent(actor);
    const conversation = await this.store.getConversation(conversationId);
    // Opening a conversation again changes nothing, so it is not announced again.
    if (conversation?.members.some((m) => m.userId === actor.userId)) return this.get(actor, conversationId);
    return this.change(conversationId, "joined", async (record) => {
      await this.conversations.addMember(conversationId, actor.userId, "agent");
      return record;
    });
  }

  /** Assigns the ticket to an agent of the team (who becomes a member), or unassigns it with `null`. */
  async assign(actor: SupportActor, conversationId: string, assigneeId: string | null): Promise<SupportTicketResult> {
    requireAgent(actor);
    if (assigneeId !== null && assigneeId !== actor.userId && !(await this.support.isAgent(assigneeId))) {
      throw new SwitchboardError("invalid_argument", `${assigneeId} is not an agent of the team (agents are recorded when they first connect).`);
    }
    return this.change(conversationId, "assignee", async (record) => {
      if (assigneeId !== null) await this.conversations.addMember(conversationId, assigneeId, "agent");
      return (await this.support.updateTicket(conversationId, { assigneeId, updatedAt: new Date().toISOString() })) ?? record;
    });
  }

  /** Sets `open` or `resolved`. */
  async setStatus(actor: SupportActor, conversationId: string, status: SupportStatus): Promise<SupportTicketResult> {
    requireAgent(actor);
    return this.change(conversationId, "status", async (record) => {
      if (record.status === status) return record;
      return (await this.support.updateTicket(conversationId, { status, updatedAt: new Date().toISOString() })) ?? record;
    });
  }

  // ---- internals ----

  /** Applies a change in the ticket's queue, then announces the ticket as it is after it. */
  private async change(
    conversationId: string,
    change: SupportTicketChange,
    apply: (record: SupportTicketRecord) => Promise<SupportTicketRecord>,
  ): Promise<SupportTicketResult> {
    const ticket = await this.enqueue(conversationId, async () => {
      const record = await apply(await this.requireTicket(conversationId));
      const view = await this.view(record);
      this.events.publish({ type: "ticket.updated", ticket: view, change });
      return view;
    });
    return { ticket, agentsOnline: await this.agentsOnline() };
  }

  private async onMessage(message: Message): Promise<void> {
    const record = await this.support.getTicket(message.conversationId);
    if (!record) return;
    const reopen = record.status === "resolved" && message.senderId === record.visitorId;
    const updated = await this.support.updateTicket(message.conversationId, {
      lastMessageAt: message.createdAt,
      updatedAt: new Date().toISOString(),
      ...(reopen ? { status: "open" as const } : {}),
    });
    if (!updated) return;
    const view = await this.view(updated, undefined, message);
    this.events.publish({ type: "ticket.updated", ticket: view, change: reopen ? "status" : "message" });
  }

  /** Runs `task` after every earlier task of the same conversation. */
  private enqueue<T>(conversationId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.queues.set(conversationId, settled);
    void settled.then(() => {
      if (this.queues.get(conversationId) === settled) this.queues.delete(conversationId);
    });
    return run;
  }

  private async requireTicket(conversationId: string): Promise<SupportTicketRecord> {
    const record = await this.support.getTicket(conversationId);
    if (!record) throw new SwitchboardError("not_found", `Support conversation ${conversationId} does not exist.`);
    return record;
  }

  private async ensureConversation(conversationId: string, userId: string): Promise<Conversation> {
    const existing = await this.store.getConversation(conversationId);
    if (existing) return existing;
    try {
      return await this.conversations.create({ kind: "backend" }, { id: conversationId, type: "support", memberIds: [userId] });
    } catch (err) {
      // Two sessions of one visitor started at once: the other created it.
      if (err instanceof SwitchboardError && err.code === "conflict") {
        const winner = await this.store.getConversation(conversationId);
        if (winner) return winner;
      }
      throw err;
    }
  }

  /** The ticket as clients see it: desk state, the conversation's progress, and display names. */
  private async view(record: SupportTicketRecord, conversation?: Conversation, lastMessage?: Message, names = new NameCache(this.store)): Promise<SupportTicket> {
    const conv = conversation ?? (await this.store.getConversation(record.conversationId));
    const last = lastMessage ?? (conv && conv.lastSeq > 0 ? (await this.store.getMessages(record.conversationId, { limit: 1 })).messages.at(-1) : undefined);
    const people = new Set([record.visitorId, ...(record.assigneeId ? [record.assigneeId] : [])]);
    for (const member of conv?.members ?? []) if (member.role === "agent") people.add(member.userId);
    const named: Record<string, string> = {};
    await Promise.all(
      [...people].map(async (id) => {
        const name = await names.get(id);
        if (name) named[id] = name;
      }),
    );
    return {
      conversationId: record.conversationId,
      visitorId: record.visitorId,
      identified: record.identified,
      status: record.status,
      ...(record.assigneeId ? { assigneeId: record.assigneeId } : {}),
      names: named,
      lastSeq: Math.max(conv?.lastSeq ?? 0, last?.seq ?? 0),
      ...(last ? { lastMessage: last } : {}),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(record.lastMessageAt ? { lastMessageAt: record.lastMessageAt } : {}),
    };
  }

  /** The team with names and presence, online agents first. */
  private async team(names = new NameCache(this.store)): Promise<SupportAgent[]> {
    const ids = await this.support.listAgents(AGENTS_MAX);
    if (ids.length === 0) return [];
    const presence = await this.presence.query(ids);
    const agents = await Promise.all(
      ids.map(async (userId): Promise<SupportAgent> => {
        const name = await names.get(userId);
        return { userId, ...(name ? { name } : {}), online: presence[userId]?.status === "online" };
      }),
    );
    return agents.sort((a, b) => Number(b.online) - Number(a.online));
  }

  private originAllowed(key: WidgetKeyRecord, origin: string, host: string | undefined): boolean {
    if (key.allowedOrigins.includes("*") || key.allowedOrigins.includes(origin)) return true;
    if (key.allowedOrigins.length > 0) return false;
    // No list: the server's own pages only, like ALLOWED_ORIGINS' default.
    if (origin === this.options.publicOrigin) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /** Counts online agents after `delayMs` (coalescing calls) and announces a change. */
  private scheduleAvailability(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.availabilityTimer);
    this.availabilityTimer = setTimeout(() => {
      this.agentsOnline().then(
        (agentsOnline) => {
          if (this.closed || agentsOnline === this.lastAgentsOnline) return;
          this.lastAgentsOnline = agentsOnline;
          this.events.publish({ type: "availability", agentsOnline });
        },
        (err: unknown) => this.options.onError?.(err, "availability"),
      );
    }, delayMs);
    this.availabilityTimer.unref();
  }
}

/** The id of the support conversation of visitor `userId`: one per visitor, whatever the widget key. */
export function supportConversationId(userId: string): string {
  return `${CONVERSATION_PREFIX}${createHash("sha256").update(userId).digest("hex").slice(0, 32)}`;
}

function requireAgent(actor: SupportActor): void {
  if (actor.role !== "agent") throw new SwitchboardError("forbidden", "Only agents (role `agent` in their token) may do this.");
}

/** Display names looked up once per request. */
class NameCache {
  private readonly names = new Map<string, Promise<string | undefined>>();

  constructor(private readonly store: Store) {}

  get(userId: string): Promise<string | undefined> {
    let name = this.names.get(userId);
    if (!name) {
      name = this.store.getUser(userId).then((u) => u?.name);
      this.names.set(userId, name);
    }
    return name;
  }
}
