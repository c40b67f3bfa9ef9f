import { randomUUID } from "node:crypto";
import type { Attachment, Message, MessageType } from "../../../client-sdk/src/protocol.js";
import { LIMITS } from "../../../client-sdk/src/protocol.js";
import type { MessagePage, Store } from "../store/store.js";
import type { Actor } from "./actor.js";
import type { ChatEvents } from "./chat-events.js";
import type { ConversationService } from "./conversation-service.js";
import { SwitchboardError } from "./errors.js";

/** Input of {@link MessageService.send}. */
export interface SendInput {
  conversationId: string;
  /** For a backend actor, the member it sends as; a user actor always sends as itself. */
  senderId?: string;
  clientMessageId?: string;
  type?: MessageType;
  text: string;
  attachments?: Attachment[];
}

/** Input of {@link MessageService.edit}. */
export interface EditInput {
  conversationId: string;
  messageId: string;
  text: string;
  /** Replaces the attachments when present (`[]` removes them); absent keeps them. */
  attachments?: Attachment[];
}

/** Sending, editing, deleting, history and read positions. */
export class MessageService {
  constructor(
    private readonly store: Store,
    private readonly conversations: ConversationService,
    private readonly events: ChatEvents,
  ) {}

  /**
   * Stores a message and announces it. Resolves only once the store has made it durable.
   * A retry with the same `(senderId, clientMessageId)` returns the original and stores nothing.
   */
  async send(actor: Actor, input: SendInput): Promise<{ message: Message; created: boolean }> {
    const senderId = actor.kind === "user" ? actor.userId : input.senderId;
    if (!senderId) throw new SwitchboardError("invalid_argument", "senderId is required.");
    if (actor.kind === "user" && input.type === "system") {
      throw new SwitchboardError("forbidden", "Only a backend with an API key can send system messages.");
    }
    await this.conversations.requireMember(input.conversationId, senderId);
    const result = await this.store.appendMessage({
      id: `m_${randomUUID()}`,
      conversationId: input.conversationId,
      senderId,
      ...(input.clientMessageId ? { clientMessageId: input.clientMessageId } : {}),
      type: input.type ?? "text",
      text: input.text,
      ...(input.attachments?.length ? { attachments: input.attachments } : {}),
      createdAt: new Date().toISOString(),
    });
    if (result.message.conversationId !== input.conversationId) {
      throw new SwitchboardError(
        "conflict",
        `clientMessageId ${JSON.stringify(input.clientMessageId)} was already used by ${senderId} in another conversation; use a fresh id per message.`,
      );
    }
    // Announced again on a duplicate too: if the first attempt's broadcast was lost (the node
    // died between commit and fan-out), the retry delivers it; clients de-duplicate by seq.
    this.events.publish({ type: "message.created", message: result.message });
    return { message: result.message, created: result.kind === "created" };
  }

  /**
   * Replaces a message's text (and attachments, when given) and announces the new version.
   * A user may edit only their own text messages, while a member; a backend may edit any
   * message. Throws `not_found`, `forbidden`, or `conflict` when the message was deleted.
   */
  async edit(actor: Actor, input: EditInput): Promise<Message> {
    await this.requireOwnMessage(actor, input.conversationId, input.messageId, "edit");
    const message = await this.store.updateMessage(input.conversationId, input.messageId, {
      text: input.text,
      ...(input.attachments === undefined ? {} : { attachments: input.attachments }),
      editedAt: new Date().toISOString(),
    });
    if (!message) throw messageNotFound(input.conversationId, input.messageId);
    this.events.publish({ type: "message.updated", message, change: "edited" });
    return message;
  }

  /**
   * Deletes a message: it keeps its `id` and `seq` (history has no gap), its text becomes ""
   * and its attachments are removed. Same permissions as {@link edit}. Deleting a deleted
   * message answers it as it is, so a retried delete succeeds.
   */
  async delete(actor: Actor, conversationId: string, messageId: string): Promise<Message> {
    const current = await this.requireOwnMessage(actor, conversationId, messageId, "delete");
    const message = current.deleted ? current : await this.markDeleted(conversationId, messageId);
    // Announced again on a repeated delete, like a repeated send: it may follow a lost broadcast.
    this.events.publish({ type: "message.updated", message, change: "deleted" });
    return message;
  }

  /** A page of history, oldest first. */
  async history(actor: Actor, conversationId: string, query: { afterSeq?: number; beforeSeq?: number; limit?: number }): Promise<MessagePage> {
    if (actor.kind === "user") await this.conversations.requireMember(conversationId, actor.userId);
    else await this.conversations.get(actor, conversationId);
    if (query.afterSeq !== undefined && query.beforeSeq !== undefined && query.beforeSeq <= query.afterSeq + 1) {
      return { messages: [], hasMore: false };
    }
    return this.store.getMessages(conversationId, {
      limit: Math.min(query.limit ?? 50, LIMITS.pageMax),
      ...(query.afterSeq === undefined ? {} : { afterSeq: query.afterSeq }),
      ...(query.beforeSeq === undefined ? {} : { beforeSeq: query.beforeSeq }),
    });
  }

  /** Stores the deletion; a delete that loses a race with another one answers the winner's result. */
  private async markDeleted(conversationId: string, messageId: string): Promise<Message> {
    let message: Message | null;
    try {
      message = await this.store.updateMessage(conversationId, messageId, { text: "", attachments: null, deletedAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof SwitchboardError && err.code === "conflict")) throw err;
      message = await this.store.getMessage(conversationId, messageId);
    }
    if (!message) throw messageNotFound(conversationId, messageId);
    return message;
  }

  /** The message, after checking that `actor` may change it. */
  private async requireOwnMessage(actor: Actor, conversationId: string, messageId: string, action: "edit" | "delete"): Promise<Message> {
    if (actor.kind === "user") await this.conversations.requireMember(conversationId, actor.userId);
    else await this.conversations.get(actor, conversationId);
    const message = await this.store.getMessage(conversationId, messageId);
    if (!message) throw messageNotFound(conversationId, messageId);
    if (actor.kind === "user") {
      if (message.senderId !== actor.userId) throw new SwitchboardError("forbidden", `Only the sender may ${action} message ${messageId}.`);
      if (message.type === "system") throw new SwitchboardError("forbidden", `System messages can be changed only by a backend with an API key.`);
    }
    if (action === "edit" && message.deleted) {
      throw new SwitchboardError("conflict", `Message ${messageId} was deleted at ${message.deletedAt}; a deleted message cannot be edited.`);
    }
    return message;
  }

  /** Moves the user's read position forward (never back) and tells the conversation. */
  async markRead(userId: string, conversationId: string, seq: number): Promise<{ lastReadSeq: number }> {
    await this.conversations.requireMember(conversationId, userId);
    const { lastReadSeq, moved } = await this.store.markRead(conversationId, userId, seq);
    if (moved) this.events.publish({ type: "receipt.read", conversationId, userId, seq: lastReadSeq });
    return { lastReadSeq };
  }
}

function messageNotFound(conversationId: string, messageId: string): SwitchboardError {
  return new SwitchboardError("not_found", `Message ${messageId} does not exist in conversation ${conversationId}.`);
}
