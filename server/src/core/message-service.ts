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

/** Sending, history and read positions. */
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

  /** Moves the user's read position forward (never back) and tells the conversation. */
  async markRead(userId: string, conversationId: string, seq: number): Promise<{ lastReadSeq: number }> {
    await this.conversations.requireMember(conversationId, userId);
    const { lastReadSeq, moved } = await this.store.markRead(conversationId, userId, seq);
    if (moved) this.events.publish({ type: "receipt.read", conversationId, userId, seq: lastReadSeq });
    return { lastReadSeq };
  }
}
