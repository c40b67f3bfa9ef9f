import type { ClientToServerEvents, UserRole } from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../core/errors.js";
import { parse } from "../core/schemas.js";
import type { Logger } from "../logger.js";
import type { SupportService } from "../support/support-service.js";
import { supportAssignSchema, supportConversationSchema, supportInboxSchema, supportStatusChangeSchema } from "../support/support-schemas.js";
import type { SocketData, SwitchboardServer } from "./socket-gateway.js";

/**
 * The support desk's Socket.IO binding: the `support:*` events (thin: validate, call the
 * {@link SupportService}, answer), what visitors may not do, and the fan-out of desk events.
 * The gateway runs {@link SUPPORT_HANDLERS} like its own and calls {@link supportConnected} for every connection.
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

/** Who is asking, as the desk sees it. */
type Actor = { userId: string; role: UserRole };

/**
 * Why a visitor's connection may not send `event`, or undefined when it may. Read on every
 * event (auth:refresh may replace the principal), by the gateway before the handler runs.
 */
export function refusedForVisitor(role: UserRole, event: string): string | undefined {
  if (role !== "visitor" || !REFUSED_FOR_VISITORS.has(event)) return undefined;
  return `Visitors may not send ${event}: a visitor token is limited to its own support conversation.`;
}

/**
 * What a new connection's role means for the desk: agents join the team room and are counted for
 * availability, visitors join the visitors' room (agent availability).
 */
export function supportConnected(socket: SupportSocket, support: SupportService | undefined, log: () => Logger): void {
  const { userId, role } = socket.data.principal;
  switch (role) {
    case "agent":
      void socket.join(SUPPORT_AGENTS_ROOM);
      if (support) {
        support.agentConnected(userId).catch((err: unknown) => log().warn({ err }, "could not record the agent"));
        socket.on("disconnect", () => support.agentDisconnected());
      }
      break;
    case "visitor":
      void socket.join(SUPPORT_VISITORS_ROOM);
      break;
    case "user":
      break;
  }
}

/** The parts of a connection the support code uses. */
export interface SupportSocket {
  data: SocketData;
  join(room: string): unknown;
  on(event: "disconnect", listener: () => void): unknown;
}

const desk = (support: SupportService | undefined): SupportService => {
  if (!support) throw new SwitchboardError("unavailable", "The support desk is not running on this server.");
  return support;
};

/**
 * The `support:*` handlers, shared by every connection like the gateway's own (the gateway runs
 * them with its rate limit and coded acks). Without a service each answers `unavailable`.
 */
export const SUPPORT_HANDLERS: Record<(typeof SUPPORT_EVENTS)[number], (support: SupportService | undefined, actor: Actor, payload: unknown) => Promise<object>> = {
  "support:inbox": async (support, actor, payload) => desk(support).inbox(actor, parse(supportInboxSchema, payload ?? {})),
  "support:get": async (support, actor, payload) => desk(support).get(actor, parse(supportConversationSchema, payload).conversationId),
  "support:join": async (support, actor, payload) => desk(support).join(actor, parse(supportConversationSchema, payload).conversationId),
  "support:assign": async (support, actor, payload) => {
    const { conversationId, assigneeId } = parse(supportAssignSchema, payload);
    return desk(support).assign(actor, conversationId, assigneeId);
  },
  "support:status": async (support, actor, payload) => {
    const { conversationId, status } = parse(supportStatusChangeSchema, payload);
    return desk(support).setStatus(actor, conversationId, status);
  },
};

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
