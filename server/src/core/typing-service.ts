import type { ChatEvents } from "./chat-events.js";
import type { ConversationService } from "./conversation-service.js";

/**
 * Typing indicators. Each one expires by itself after `ttlMs` unless renewed, so a client that
 * vanishes mid-sentence never leaves "is typing…" behind.
 */
export class TypingService {
  private readonly active = new Map<string, { timer: NodeJS.Timeout; connectionId: string }>();

  constructor(
    private readonly conversations: ConversationService,
    private readonly events: ChatEvents,
    private readonly ttlMs: number,
  ) {}

  async start(userId: string, conversationId: string, connectionId: string): Promise<void> {
    await this.conversations.requireMember(conversationId, userId);
    const key = `${conversationId}\u0000${userId}`;
    const existing = this.active.get(key);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.expire(key, conversationId, userId), this.ttlMs);
    timer.unref();
    this.active.set(key, { timer, connectionId });
    // Renewals are not re-announced: listeners already show the indicator.
    if (!existing) this.events.publish({ type: "typing", conversationId, userId, isTyping: true });
  }

  async stop(userId: string, conversationId: string): Promise<void> {
    await this.conversations.requireMember(conversationId, userId);
    this.expire(`${conversationId}\u0000${userId}`, conversationId, userId);
  }

  /** Stops every indicator a closed connection started. */
  connectionClosed(connectionId: string): void {
    for (const [key, entry] of this.active) {
      if (entry.connectionId !== connectionId) continue;
      const [conversationId, userId] = key.split("\u0000");
      this.expire(key, conversationId, userId);
    }
  }

  /** A member who sent a message has stopped typing. */
  messageSent(userId: string, conversationId: string): void {
    this.expire(`${conversationId}\u0000${userId}`, conversationId, userId);
  }

  close(): void {
    for (const { timer } of this.active.values()) clearTimeout(timer);
    this.active.clear();
  }

  private expire(key: string, conversationId: string, userId: string): void {
    const entry = this.active.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.active.delete(key);
    this.events.publish({ type: "typing", conversationId, userId, isTyping: false });
  }
}
