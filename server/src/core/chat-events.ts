import type { Conversation, Member, Message, PresenceStatus } from "../../../client-sdk/src/protocol.js";
import type { Delivery } from "../delivery/delivery-store.js";

/**
 * What the core announces after a state change. Transports (the socket gateway, later webhooks
 * and the offline fallback) subscribe; the core never knows who listens.
 */
export type ChatEvent =
  | { type: "message.created"; message: Message }
  /**
   * A message changed; `message` is its full current version. `thread`: a thread reply was added
   * under it (its `replyCount` moved); `reacted`: see `reaction.changed`, announced instead.
   */
  | { type: "message.updated"; message: Message; change: "edited" | "deleted" | "thread" }
  /** A user added or removed a reaction; `message` is the current version with its `reactions`. */
  | { type: "reaction.changed"; message: Message; userId: string; emoji: string; action: "added" | "removed" }
  | { type: "receipt.read"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string; isTyping: boolean }
  /** `audience`: the users who share a conversation with `userId`. */
  | { type: "presence.changed"; userId: string; status: PresenceStatus; lastSeenAt?: string; audience: string[] }
  /** How many members of a large conversation are online (see `PresenceOptions.roomLimit`). */
  | { type: "presence.occupancy"; conversationId: string; online: number; members: number }
  /**
   * `removedUserIds`: members who just left and must stop receiving the conversation's events.
   * `change`: what happened, when something did (absent for an idempotent repeat); webhooks use it.
   */
  | { type: "conversation.updated"; conversation: Conversation; removedUserIds: string[]; change?: ConversationChange }
  /** An offline notification (Web Push or SMS) was planned, sent, cancelled or got a provider receipt. */
  | { type: "delivery.updated"; delivery: Delivery };

/** What a `conversation.updated` event changed. */
export type ConversationChange =
  | { kind: "created" }
  /** `member`: the new membership as stored. */
  | { kind: "member_added"; member: Member }
  /** `member`: the membership as it was just before it ended. */
  | { kind: "member_removed"; member: Member };

/** A listener; a listener that throws is logged by the bus and does not stop the others. */
export type ChatEventListener = (event: ChatEvent) => void;

/** A minimal synchronous publish/subscribe hub for {@link ChatEvent}s. */
export class ChatEvents {
  private readonly listeners = new Set<ChatEventListener>();

  constructor(private readonly onListenerError: (err: unknown, event: ChatEvent) => void) {}

  /** Subscribes; returns the function that unsubscribes. */
  subscribe(listener: ChatEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: ChatEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
