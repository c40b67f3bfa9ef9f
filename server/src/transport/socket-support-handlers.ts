import type { ClientToServerEvents } from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../core/errors.js";
import { parse } from "../core/schemas.js";
import type { Logger } from "../logger.js";
import type { SupportService } from "../support/support-service.js";
import { supportAssignSchema, supportConversationSchema, supportInboxSchema, supportStatusChangeSchema } from "../support/support-schemas.js";
import type { SocketData, SwitchboardServer } from "./socket-gateway.js";

/**
 * The support desk's Socket.IO binding: the `support:*` events (thin: validate, call the
 * {@link SupportService}, answer), what visitors may not do, and the fan-out of desk events.
 * The gateway calls {@link registerSupportHandlers} for every connection.
 */

/** The client → server events handled here; the gateway counts them as known. */
export const SUPPORT_EVENTS = [
  "support:inbox",
  "support:get",
  "support:join",
  "support:assign",
  "support:status",
] as const satisfies readonly (keyof ClientToServerEvents)[];

/** Room of every agent connection: the team inbox's live updates. */
export const SUPPORT_AGENTS_ROOM = "support:agents";
/** Room of every visitor connection: agent availability. */
export const SUPPORT_VISITORS_ROOM = "support:visitors";

/**
 * Events a visitor's connection may not send. A visitor token is scoped to the visitor's own
 * support conversation: everything else is already refused by membership, but these two do not
 * need one (starting conversations with anyone, probing anyone's presence).
 */
const REFUSED_FOR_VISITORS = new Set<string>(["conversation:create", "presence:query"] satisfies (keyof ClientToServerEvents)[]);

/** The gateway's handler registration: rate limit, run, coded ack (see `socket-gateway.ts`). */
export type HandlerRegistrar = <E extends keyof ClientToServerEvents>(event: E, run: (payload: unknown) => Promise<object>) => void;

/** The parts of a connection the support handlers use. */
export interface SupportSocket {
  data: SocketData;
  join(room: string): unknown;
  use(fn: (packet: unknown[], next: (err?: Error) => void) => void): unknown;
  on(event: "disconnect", listener: () => void): unknown;
}

/**
 * Registers the `support:*` handlers on one connection and applies the role's rules: visitors
 * are refused {@link REFUSED_FOR_VISITORS}; agents join the team room and are counted for
 * availability. Without a service, every `support:*` event answers `unavailable`.
 */
export function registerSupportHandlers(options: { socket: SupportSocket; handle: HandlerRegistrar; support: SupportService | undefined; log: Logger }): void {
  const { socket, handle, support, log } = options;
  const actor = () => ({ userId: socket.data.principal.userId, role: socket.data.principal.role });
  const desk = (): SupportService => {
    if (!support) throw new SwitchboardError("unavailable", "The support desk is not running on this server.");
    return support;
  };

  // Read on every packet: auth:refresh may replace the principal.
  socket.use((packet, next) => {
    const [event] = packet;
    if (socket.data.principal.role !== "visitor" || typeof event !== "string" || !REFUSED_FOR_VISITORS.has(event)) return next();
    const ack = packet.at(-1);
    if (typeof ack === "function") {
      ack({ ok: false, error: { code: "forbidden", message: `Visitors may not send ${event}: a visitor token is limited to its own support conversation.` } });
    }
  });

  switch (actor().role) {
    case "agent":
      void socket.join(SUPPORT_AGENTS_ROOM);
      if (support) {
        support.agentConnected(actor().userId).catch((err: unknown) => log.warn({ err }, "could not record the agent"));
        socket.on("disconnect", () => support.agentDisconnected());
      }
      break;
    case "visitor":
      void socket.join(SUPPORT_VISITORS_ROOM);
      break;
    case "user":
      break;
  }

  handle("support:inbox", async (payload) => desk().inbox(actor(), parse(supportInboxSchema, payload ?? {})));

  handle("support:get", async (payload) => desk().get(actor(), parse(supportConversationSchema, payload).conversationId));

  handle("support:join", async (payload) => desk().join(actor(), parse(supportConversationSchema, payload).conversationId));

  handle("support:assign", async (payload) => {
    const { conversationId, assigneeId } = parse(supportAssignSchema, payload);
    return desk().assign(actor(), conversationId, assigneeId);
  });

  handle("support:status", async (payload) => {
    const { conversationId, status } = parse(supportStatusChangeSchema, payload);
    return desk().setStatus(actor(), conversationId, status);
  });
}

/**
 * Sends the desk's events to clients: a ticket change to every agent and to its visitor, an
 * availability change to every agent and visitor. Returns the function that stops it.
 */
export function attachSupportFanout(io: SwitchboardServer, support: SupportService, userRoom: (userId: string) => string): () => void {
  return support.events.subscribe((event) => {
    switch (event.type) {
      case "ticket.updated":
        io.to([SUPPORT_AGENTS_ROOM, userRoom(event.ticket.visitorId)]).emit("support:updated", { ticket: event.ticket });
        return;
      case "availability":
        io.to([SUPPORT_AGENTS_ROOM, SUPPORT_VISITORS_ROOM]).emit("support:availability", { agentsOnline: event.agentsOnline });
        return;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  });
}
