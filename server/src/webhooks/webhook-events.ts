import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { ChatEvent } from "../core/chat-events.js";
import { sortableId } from "../core/sortable-id.js";
import type { WebhookEvent, WebhookEventType } from "./webhook-store.js";

/**
 * The webhook event for a core event, or null when it is not one receivers get (typing,
 * presence, idempotent repeats).
 *
 * Event ids are derived from what happened, not drawn at random: a core event announced twice
 * (a retried send is announced again) maps to the same id, which the store records once.
 *
 * Payloads (`data`):
 * - `message.created`, `message.updated`, `message.deleted`: the `Message` (a thread reply's
 *   `message.created` carries `threadId`; the parent's new reply count is no event of its own)
 * - `reaction.added`, `reaction.removed`: `{ conversationId, messageId, seq, userId, emoji, reactions }`
 * - `message.read`: `{ conversationId, userId, seq }`
 * - `conversation.created`: the `Conversation`
 * - `member.added`, `member.removed`: `{ conversationId, userId, member, conversation }`
 * - `delivery.updated`: the `Delivery` (an offline notification by Web Push or SMS) with its timeline
 */
export function toWebhookEvent(event: ChatEvent, now: string): WebhookEvent | null {
  switch (event.type) {
    case "message.created":
      return make("message.created", `message.created:${event.message.id}`, event.message.createdAt, event.message);
    case "message.updated": {
      const { message, change } = event;
      switch (change) {
        case "deleted":
          return make("message.deleted", `message.deleted:${message.id}`, message.deletedAt ?? now, message);
        case "edited":
          return make("message.updated", `message.updated:${message.id}:${message.editedAt ?? now}`, message.editedAt ?? now, message);
        // The reply's own message.created (with threadId and threadSeq) already tells receivers;
        // the parent's moved counters would be a second event per reply, and no edit at all.
        case "thread":
          return null;
        default: {
          const exhaustive: never = change;
          return exhaustive;
        }
      }
    }
    case "reaction.changed": {
      const { message } = event;
      const type = event.action === "added" ? "reaction.added" : "reaction.removed";
      // rev orders the changes of one message: adding, removing and adding again are three events.
      return make(type, `${type}:${message.id}:${event.userId}:${event.emoji}:${message.rev ?? 0}`, now, {
        conversationId: message.conversationId,
        messageId: message.id,
        seq: message.seq,
        userId: event.userId,
        emoji: event.emoji,
        reactions: message.reactions ?? [],
      });
    }
    case "receipt.read":
      return make("message.read", `message.read:${event.conversationId}:${event.userId}:${event.seq}`, now, {
        conversationId: event.conversationId,
        userId: event.userId,
        seq: event.seq,
      });
    case "conversation.updated": {
      const { change, conversation } = event;
      if (!change) return null;
      switch (change.kind) {
        case "created":
          return make("conversation.created", `conversation.created:${conversation.id}`, conversation.createdAt, conversation);
        case "member_added":
        case "member_removed": {
          const type = change.kind === "member_added" ? "member.added" : "member.removed";
          // joinedAt tells one membership of a user from a later one after leaving and rejoining.
          return make(type, `${type}:${conversation.id}:${change.member.userId}:${change.member.joinedAt}`, change.kind === "member_added" ? change.member.joinedAt : now, {
            conversationId: conversation.id,
            userId: change.member.userId,
            member: change.member,
            conversation,
          });
        }
        default: {
          const exhaustive: never = change;
          return exhaustive;
        }
      }
    }
    case "delivery.updated": {
      const { delivery } = event;
      // Each timeline entry is one change: a repeated announcement of the same state is one event.
      const last = delivery.events.at(-1);
      return make("delivery.updated", `delivery.updated:${delivery.id}:${delivery.status}:${delivery.events.length}`, last?.at ?? delivery.updatedAt, delivery);
    }
    case "typing":
    case "presence.changed":
    case "presence.occupancy":
      return null;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

function make(type: WebhookEventType, key: string, timestamp: string, data: unknown): WebhookEvent {
  return { id: `evt_${createHash("sha256").update(key).digest("hex").slice(0, 32)}`, type, timestamp, data };
}

/** `whe_<uuid>`. */
export function newEndpointId(): string {
  return `whe_${randomUUID().replaceAll("-", "")}`;
}

/**
 * `whd_` + the time in base 36 (fixed width) + random hex: ids sort by creation, which is what
 * the delivery log pages by, and never collide across nodes.
 */
export function newDeliveryId(): string {
  return sortableId("whd_");
}

/** A fresh signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks format). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
