import { createHash, randomUUID } from "node:crypto";
import type { Conversation, ConversationSummary, ConversationType, JoinResult, Member } from "../../../client-sdk/src/protocol.js";
import { LIMITS } from "../../../client-sdk/src/protocol.js";
import type { Store } from "../store/store.js";
import type { Actor } from "./actor.js";
import type { ChatEvents } from "./chat-events.js";
import { notAMember, SwitchboardError } from "./errors.js";

/** Input of {@link ConversationService.create}. */
export interface CreateConversationInput {
  /** Chosen by a backend; generated when absent. Users cannot choose ids. */
  id?: string;
  type: ConversationType;
  title?: string;
  memberIds: string[];
}

/**
 * Conversations and membership. Every read or write on behalf of a user passes
 * {@link requireMember}, so non-members can never see or touch a conversation.
 */
export class ConversationService {
  /**
   * Conversations with more members than this reach users (join and list answers) with only
   * their own membership (`CONVERSATION_MEMBER_LIST_LIMIT`).
   */
  readonly memberListLimit: number;

  constructor(
    private readonly store: Store,
    private readonly events: ChatEvents,
    options: { memberListLimit?: number } = {},
  ) {
    this.memberListLimit = options.memberListLimit ?? 100;
  }

  /**
   * Creates a conversation. A user creating one is always a member (its `owner`). A `direct`
   * conversation has exactly two members and is unique per pair: creating it again returns it.
   */
  async create(actor: Actor, input: CreateConversationInput): Promise<Conversation> {
    const memberIds = [...new Set(actor.kind === "user" ? [actor.userId, ...input.memberIds] : input.memberIds)];
    if (memberIds.length > LIMITS.membersMax) {
      throw new SwitchboardError("invalid_argument", `A conversation can be created with at most ${LIMITS.membersMax} members.`);
    }
    let id = input.id;
    if (input.type === "direct") {
      if (memberIds.length !== 2) {
        throw new SwitchboardError("invalid_argument", "A direct conversation has exactly two distinct members; use type `group` for more.");
      }
      id ??= directConversationId(memberIds[0], memberIds[1]);
      const existing = await this.store.getConversation(id);
      if (existing) return existing;
    }
    const conversation = await this.store.createConversation({
      id: id ?? `c_${randomUUID()}`,
      type: input.type,
      ...(input.title ? { title: input.title } : {}),
      members: memberIds.map((userId) => ({
        userId,
        role: actor.kind === "user" && userId === actor.userId ? "owner" : "member",
      })),
      createdAt: new Date().toISOString(),
    }).catch(async (err: unknown) => {
      // Two members created the same direct conversation at once: both get the one that won.
      if (input.type === "direct" && err instanceof SwitchboardError && err.code === "conflict" && id) {
        const winner = await this.store.getConversation(id);
        if (winner) return winner;
      }
      throw err;
    });
    this.events.publish({ type: "conversation.updated", conversation, removedUserIds: [], change: { kind: "created" } });
    return conversation;
  }

  /** The conversation, if the actor may see it. */
  async get(actor: Actor, id: string): Promise<Conversation> {
    if (actor.kind === "user") await this.requireMember(id, actor.userId);
    const conversation = await this.store.getConversation(id);
    if (!conversation) throw notFound(id);
    return conversation;
  }

  /** The user's conversations, most recent activity first. */
  async list(userId: string, query: { limit?: number; before?: string }): Promise<ConversationSummary[]> {
    return this.store.listConversations(userId, {
      limit: query.limit ?? 50,
      ...(query.before ? { before: query.before } : {}),
      memberListLimit: this.memberListLimit,
    });
  }

  /**
   * What a client needs when it opens a conversation: the conversation and the messages after
   * `afterSeq` (oldest first, one page); without `afterSeq`, the newest page.
   * `onAuthorized` runs after the membership check and before messages are read: a live
   * subscription made there misses nothing committed after the page was read. The conversation
   * (and so its `lastRev`) is read before the messages, so a client that takes `lastRev` as its
   * change watermark can only re-read a change it already has, never skip one.
   */
  async join(userId: string, conversationId: string, afterSeq: number | undefined, onAuthorized?: () => void): Promise<JoinResult> {
    // The viewer's view lists the viewer whenever they are a member, big room or not: it is the
    // membership check too, so a join reads the conversation once.
    const conversation = await this.store.getConversation(conversationId, { viewerId: userId, memberListLimit: this.memberListLimit });
    if (!conversation) throw notFound(conversationId);
    if (!conversation.members.some((m) => m.userId === userId)) throw notAMember(conversationId);
    onAuthorized?.();
    const page = await this.store.getMessages(conversationId, {
      limit: LIMITS.pageMax,
      ...(afterSeq === undefined ? {} : { afterSeq }),
    });
    return { conversation, messages: page.messages, hasMore: page.hasMore };
  }

  /** Adds a member (idempotent) and tells the members. */
  async addMember(conversationId: string, userId: string, role = "member"): Promise<Conversation> {
    const existing = await this.store.getConversation(conversationId);
    if (!existing) throw notFound(conversationId);
    if (existing.type === "direct" && !existing.members.some((m) => m.userId === userId)) {
      throw new SwitchboardError("invalid_argument", "A direct conversation cannot gain members; create a group instead.");
    }
    if (existing.members.length >= LIMITS.membersMax && !existing.members.some((m) => m.userId === userId)) {
      throw new SwitchboardError("invalid_argument", `Conversation ${conversationId} already has ${LIMITS.membersMax} members, the most allowed.`);
    }
    const conversation = await this.store.addMember(conversationId, userId, role, new Date().toISOString());
    // Only a real addition is a change; re-adding an existing member is an idempotent repeat.
    const added = existing.members.some((m) => m.userId === userId) ? undefined : conversation.members.find((m) => m.userId === userId);
    this.events.publish({ type: "conversation.updated", conversation, removedUserIds: [], ...(added ? { change: { kind: "member_added", member: added } } : {}) });
    return conversation;
  }

  /** Removes a member (idempotent); its connections stop receiving the conversation at once. */
  async removeMember(conversationId: string, userId: string): Promise<Conversation> {
    // Read first: the membership that ends is part of the change (its joinedAt identifies it).
    const removed = await this.store.getMember(conversationId, userId);
    const conversation = await this.store.removeMember(conversationId, userId);
    this.events.publish({
      type: "conversation.updated",
      conversation,
      removedUserIds: [userId],
      ...(removed ? { change: { kind: "member_removed", member: removed } } : {}),
    });
    return conversation;
  }

  /** The membership of `userId`; throws `not_found` (no conversation) or `forbidden` (not a member). */
  async requireMember(conversationId: string, userId: string): Promise<Member> {
    const member = await this.store.getMember(conversationId, userId);
    if (member) return member;
    if (!(await this.store.getConversation(conversationId))) throw notFound(conversationId);
    throw notAMember(conversationId);
  }
}

/** The id of the one direct conversation between two users, whatever order they are given in. */
export function directConversationId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `dm_${createHash("sha256").update(`${x}\u0000${y}`).digest("hex").slice(0, 32)}`;
}

function notFound(conversationId: string): SwitchboardError {
  return new SwitchboardError("not_found", `Conversation ${conversationId} does not exist.`);
}
