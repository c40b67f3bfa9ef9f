import type { Server, Socket } from "socket.io";
import type {
  ClientToServerEvents,
  Conversation,
  ConnectErrorData,
  ServerToClientEvents,
} from "../../../client-sdk/src/protocol.js";
import type { UserPrincipal } from "../auth/principal.js";
import type { TokenService } from "../auth/token-service.js";
import type { ChatEvents, ConversationChange } from "../core/chat-events.js";
import type { ConversationService } from "../core/conversation-service.js";
import { partialMembers } from "../store/store.js";
import { SwitchboardError, toSwitchboardError } from "../core/errors.js";
import type { MessageService } from "../core/message-service.js";
import type { PresenceService } from "../core/presence-service.js";
import {
  authRefreshSchema,
  conversationCreateSchema,
  conversationJoinSchema,
  conversationLeaveSchema,
  conversationListSchema,
  messageChangesSchema,
  messageDeleteSchema,
  messageEditSchema,
  messageHistorySchema,
  messageReadSchema,
  messageSendSchema,
  parse,
  presenceQuerySchema,
  reactionSchema,
  typingSchema,
} from "../core/schemas.js";
import type { TypingService } from "../core/typing-service.js";
import type { UserService } from "../core/user-service.js";
import type { RateLimit } from "../limits/rate-limit.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { InflightTracker } from "./inflight-tracker.js";
import type { SupportService } from "../support/support-service.js";
import { refusedForVisitor, SUPPORT_HANDLERS, supportConnected } from "./socket-support-handlers.js";
import { coalesceWrites } from "./write-coalescing.js";

/** Per-connection state kept in `socket.data`. */
export interface SocketData {
  principal: UserPrincipal;
  /** Conversations whose live events this socket receives. */
  joined: Set<string>;
  /** What the shared event handlers need of this connection; set once it is accepted. */
  connection: ConnectionContext;
}

/** Events exchanged between nodes (none yet: everything rides rooms). */
export type InterServerEvents = Record<string, never>;

export type SwitchboardServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type SwitchboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What the gateway needs, built by the composition root. */
export interface GatewayDeps {
  io: SwitchboardServer;
  tokens: TokenService;
  users: UserService;
  conversations: ConversationService;
  messages: MessageService;
  presence: PresenceService;
  typing: TypingService;
  events: ChatEvents;
  limits: { socketEvents: RateLimit; messages: RateLimit };
  joinedConversationsPerSocket: number;
  inflight: InflightTracker;
  logger: Logger;
  /** Connection, event outcome, ack latency and message counts; none recorded when absent. */
  metrics?: Metrics;
  /** The support desk behind the `support:*` events; absent: they answer `unavailable`. */
  support?: SupportService;
}

/** Room of every connection of one user. */
export const userRoom = (userId: string) => `user:${userId}`;
/** Room of the connections that joined one conversation. */
export const conversationRoom = (conversationId: string) => `conv:${conversationId}`;

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The Socket.IO binding: authenticates handshakes, maps each client event onto a service call
 * with a coded ack, and fans the core's events out to rooms (across nodes through the adapter).
 * Returns a function that detaches it from the core's events.
 */
export function attachSocketGateway(deps: GatewayDeps): () => void {
  const { io, tokens, logger } = deps;

  io.use(async (socket, next) => {
    try {
      const principal = await tokens.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
      socket.data.principal = principal;
      socket.data.joined = new Set();
      next();
    } catch (err) {
      const e = toSwitchboardError(err);
      logger.info({ code: e.code, reason: e.message, address: socket.handshake.address }, "handshake refused");
      const refusal = new Error(e.message) as Error & { data: ConnectErrorData };
      refusal.data = { code: e.code, message: e.message };
      next(refusal);
    }
  });

  io.engine.on("connection", coalesceWrites);
  io.on("connection", (socket) => onConnection(deps, socket));

  return deps.events.subscribe((event) => {
    switch (event.type) {
      case "message.created":
        io.to(conversationRoom(event.message.conversationId)).emit("message:new", event.message);
        return;
      case "message.updated":
      case "reaction.changed":
        io.to(conversationRoom(event.message.conversationId)).emit("message:updated", event.message);
        return;
      case "receipt.read":
        io.to(conversationRoom(event.conversationId)).emit("receipt:read", {
          conversationId: event.conversationId,
          userId: event.userId,
          seq: event.seq,
        });
        return;
      case "typing":
        io.to(conversationRoom(event.conversationId))
          .except(userRoom(event.userId))
          .emit("typing", { conversationId: event.conversationId, userId: event.userId, isTyping: event.isTyping });
        return;
      case "presence.changed":
        // An empty room list would mean "everyone" to Socket.IO.
        if (event.audience.length === 0) return;
        io.to(event.audience.map(userRoom)).emit("presence:update", {
          userId: event.userId,
          status: event.status,
          ...(event.lastSeenAt ? { lastSeenAt: event.lastSeenAt } : {}),
        });
        return;
      case "presence.occupancy":
        // To the connections that joined the conversation: those looking at it.
        io.to(conversationRoom(event.conversationId)).emit("presence:occupancy", {
          conversationId: event.conversationId,
          online: event.online,
          members: event.members,
        });
        return;
      case "conversation.updated": {
        const { conversation, removedUserIds } = event;
        for (const userId of removedUserIds) io.in(userRoom(userId)).socketsLeave(conversationRoom(conversation.id));
        const audience = [...conversation.members.map((m) => m.userId), ...removedUserIds];
        io.to(audience.map(userRoom)).emit("conversation:updated", { conversation: forClients(conversation, event.change, deps.conversations.memberListLimit) });
        return;
      }
      // Offline notifications concern backends (webhooks, the deliveries route), not live clients.
      case "delivery.updated":
        return;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  });
}

/**
 * A change broadcast to every member: above `memberListLimit` members, without the member list
 * (only the member just added), or a 10,000-member room would send 10,000 members to each of
 * 10,000 users for every change. Clients keep their own membership from the join.
 */
export function forClients(conversation: Conversation, change: ConversationChange | undefined, memberListLimit: number): Conversation {
  const added = change?.kind === "member_added" ? change.member.userId : undefined;
  return partialMembers(conversation, memberListLimit, (m) => m.userId === added);
}

/**
 * What the shared handlers need of one connection, kept in `socket.data.connection`: one object
 * per connection, its behaviour on the prototype, instead of closures per event and per timer (a
 * heap snapshot of 2,000 idle connections counted 60 closures and 29 contexts per connection,
 * about 5 KB, before handlers were shared). Its logger is made on first use: most connections
 * never log at the default level, and a pino child costs its bindings on every connection.
 */
class ConnectionContext {
  private logger?: Logger;
  private expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly deps: GatewayDeps,
    readonly socket: SwitchboardSocket,
    readonly userId: string,
  ) {}

  get log(): Logger {
    return (this.logger ??= this.deps.logger.child({ socketId: this.socket.id, userId: this.userId }));
  }

  /** (Re)arms the token-expiry timer: at start and after `auth:refresh`. */
  scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    const delay = Math.min(Math.max(this.socket.data.principal.expiresAt - Date.now(), 0), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(onTokenExpiry, delay, this);
  }

  /** The connection closed: stop its timer and tell presence and typing. */
  closed(reason: string): void {
    const { metrics, typing, presence } = this.deps;
    clearTimeout(this.expiryTimer);
    metrics?.connectionClosed();
    typing.connectionClosed(this.socket.id);
    void presence.disconnected(this.userId, this.socket.id).catch((err) => this.log.warn({ err }, "presence update failed"));
    if (this.deps.logger.isLevelEnabled("debug")) this.log.debug({ reason }, "disconnected");
  }
}

/** A connection's token-expiry timer fired (shared by every connection; no closure per timer). */
function onTokenExpiry(c: ConnectionContext): void {
  if (c.socket.data.principal.expiresAt > Date.now()) return c.scheduleExpiry();
  c.log.info("token expired while connected; closing the connection");
  c.socket.emit("session:end", { code: "unauthorized", message: "Token expired: reconnect with a fresh token, or send auth:refresh before expiry." });
  c.socket.disconnect(true);
}

/** One client event's work: validate, call the core, return the ack's fields. */
type EventHandler = (c: ConnectionContext, payload: unknown) => Promise<object>;

/**
 * Runs a handler: rate limit, the visitor check, run, and answer with `{ ok: true, ...result }` or a coded error.
 * Unknown failures are logged here with the event name and answered as `internal`.
 */
async function runHandler(c: ConnectionContext, event: string, run: EventHandler, payload: unknown, ack?: unknown): Promise<void> {
  const { deps, socket } = c;
  const reply = typeof ack === "function" ? (ack as (r: unknown) => void) : undefined;
  const done = deps.inflight.begin();
  const started = performance.now();
  try {
    await deps.limits.socketEvents.consume(socket.id);
    // Read on every event: auth:refresh may replace the principal.
    const refused = refusedForVisitor(socket.data.principal.role, event);
    if (refused) throw new SwitchboardError("forbidden", refused);
    const result = await run(c, payload);
    reply?.({ ok: true, ...result });
    deps.metrics?.socketEvent(event, "ok", (performance.now() - started) / 1000);
  } catch (err) {
    const e = toSwitchboardError(err);
    if (e.code === "internal") c.log.error({ err, event }, "event handler failed");
    else if (deps.logger.isLevelEnabled("debug")) c.log.debug({ event, code: e.code, reason: e.message }, "event refused");
    reply?.({ ok: false, error: e.toWire() });
    deps.metrics?.socketEvent(event, e.code, (performance.now() - started) / 1000);
  } finally {
    done();
  }
}

/** The gateway's client events, shared by every connection (each reads its own context). */
const HANDLERS: Partial<Record<keyof ClientToServerEvents, EventHandler>> = {
  "conversation:create": async ({ deps, userId }, payload) => {
    const input = parse(conversationCreateSchema, payload);
    return { conversation: await deps.conversations.create({ kind: "user", userId }, input) };
  },

  "conversation:list": async ({ deps, userId }, payload) => {
    const input = parse(conversationListSchema, payload ?? {});
    return { conversations: await deps.conversations.list(userId, input) };
  },

  "conversation:join": async ({ deps, socket, userId }, payload) => {
    const { conversationId, afterSeq } = parse(conversationJoinSchema, payload);
    const joined = socket.data.joined;
    if (!joined.has(conversationId) && joined.size >= deps.joinedConversationsPerSocket) {
      throw new SwitchboardError(
        "invalid_argument",
        `This connection has joined ${joined.size} conversations, the most allowed; leave one first.`,
      );
    }
    const room = conversationRoom(conversationId);
    try {
      // The room is joined before history is read, so nothing falls between the two.
      return await deps.conversations.join(userId, conversationId, afterSeq, () => {
        joined.add(conversationId);
        void socket.join(room);
      });
    } catch (err) {
      joined.delete(conversationId);
      void socket.leave(room);
      throw err;
    }
  },

  "conversation:leave": async ({ socket }, payload) => {
    const { conversationId } = parse(conversationLeaveSchema, payload);
    socket.data.joined.delete(conversationId);
    await socket.leave(conversationRoom(conversationId));
    return {};
  },

  "message:send": async ({ deps, userId }, payload) => {
    const input = parse(messageSendSchema, payload);
    await deps.limits.messages.consume(userId);
    const { message, created } = await deps.messages.send({ kind: "user", userId }, input);
    if (created) deps.metrics?.messageStored("socket");
    deps.typing.messageSent(userId, input.conversationId);
    return { message };
  },

  // Edits and deletes fan out like sends, so they count against the same per-user budget.
  "message:edit": async ({ deps, userId }, payload) => {
    const input = parse(messageEditSchema, payload);
    await deps.limits.messages.consume(userId);
    return { message: await deps.messages.edit({ kind: "user", userId }, input) };
  },

  "message:delete": async ({ deps, userId }, payload) => {
    const { conversationId, messageId } = parse(messageDeleteSchema, payload);
    await deps.limits.messages.consume(userId);
    return { message: await deps.messages.delete({ kind: "user", userId }, conversationId, messageId) };
  },

  "message:history": async ({ deps, userId }, payload) => {
    const { conversationId, ...query } = parse(messageHistorySchema, payload);
    return deps.messages.history({ kind: "user", userId }, conversationId, query);
  },

  "message:changes": async ({ deps, userId }, payload) => {
    const { conversationId, ...query } = parse(messageChangesSchema, payload);
    return deps.messages.changes({ kind: "user", userId }, conversationId, query);
  },

  // Reactions fan out like edits, so they spend the same per-user message budget.
  "reaction:add": async ({ deps, userId }, payload) => {
    const input = parse(reactionSchema, payload);
    await deps.limits.messages.consume(userId);
    return { message: await deps.messages.react({ kind: "user", userId }, input) };
  },

  "reaction:remove": async ({ deps, userId }, payload) => {
    const input = parse(reactionSchema, payload);
    await deps.limits.messages.consume(userId);
    return { message: await deps.messages.unreact({ kind: "user", userId }, input) };
  },

  "message:read": async ({ deps, userId }, payload) => {
    const { conversationId, seq } = parse(messageReadSchema, payload);
    await deps.messages.markRead(userId, conversationId, seq);
    return {};
  },

  "typing:start": async ({ deps, socket, userId }, payload) => {
    await deps.typing.start(userId, parse(typingSchema, payload).conversationId, socket.id);
    return {};
  },

  "typing:stop": async ({ deps, userId }, payload) => {
    await deps.typing.stop(userId, parse(typingSchema, payload).conversationId);
    return {};
  },

  "presence:query": async ({ deps }, payload) => {
    const { userIds } = parse(presenceQuerySchema, payload);
    return { presence: await deps.presence.query(userIds) };
  },

  "auth:refresh": async (c, payload) => {
    const { deps, socket, userId } = c;
    const fresh = await deps.tokens.verify(parse(authRefreshSchema, payload).token);
    if (fresh.userId !== userId) {
      throw new SwitchboardError("forbidden", "auth:refresh must carry a token for the same user; reconnect to switch users.");
    }
    socket.data.principal = fresh;
    c.scheduleExpiry();
    return { expiresAt: new Date(fresh.expiresAt).toISOString() };
  },
};

for (const [event, run] of Object.entries(SUPPORT_HANDLERS)) {
  HANDLERS[event as keyof typeof SUPPORT_HANDLERS] = async ({ deps, socket }, payload) => {
    const { userId, role } = socket.data.principal;
    return run(deps.support, { userId, role }, payload);
  };
}

/**
 * Every client event of every connection arrives here: one catch-all listener (Socket.IO calls
 * it with the socket as `this` and the event's arguments, the ack last), so a connection
 * registers one listener instead of one per event (each a key of its emitter's listener table).
 * Arguments are read as a per-event listener would: the payload first, the ack second.
 */
function onClientEvent(this: SwitchboardSocket, event: string, ...args: unknown[]): void {
  const c = this.data.connection;
  const run = Object.hasOwn(HANDLERS, event) ? HANDLERS[event as keyof typeof HANDLERS] : undefined;
  if (!run) return onUnknownEvent(c, event, args);
  void runHandler(c, event, run, args[0], args[1]);
}

/** Every connection's `disconnect` listener. */
function onDisconnect(this: SwitchboardSocket, reason: string): void {
  this.data.connection.closed(reason);
}

/** Answers an event no handler knows. */
function onUnknownEvent(c: ConnectionContext, event: string, args: unknown[]): void {
  c.deps.metrics?.socketEvent(event, "invalid_argument");
  const ack = args.at(-1);
  if (typeof ack === "function") {
    ack({ ok: false, error: { code: "invalid_argument", message: `Unknown event ${JSON.stringify(event).slice(0, 80)}.` } });
  }
}

function onConnection(deps: GatewayDeps, socket: SwitchboardSocket): void {
  const { presence, users, logger, metrics } = deps;
  const principal = socket.data.principal;
  const userId = principal.userId;
  const connection = new ConnectionContext(deps, socket, userId);
  socket.data.connection = connection;
  if (logger.isLevelEnabled("debug")) connection.log.debug("connected");
  metrics?.connectionOpened();

  void socket.join(userRoom(userId));
  void users.ensureFromToken(principal).catch((err) => connection.log.warn({ err }, "could not record the user from the token"));
  void presence.connected(userId, socket.id).catch((err) => connection.log.warn({ err }, "presence update failed"));
  connection.scheduleExpiry();

  supportConnected(socket, deps.support, () => connection.log);
  socket.onAny(onClientEvent);
  socket.on("disconnect", onDisconnect);
}

