import { LIMITS } from "../../../../client-sdk/src/protocol.js";
import type { ConversationService } from "../../core/conversation-service.js";
import { SwitchboardError } from "../../core/errors.js";
import type { MessageService } from "../../core/message-service.js";
import type { UserService } from "../../core/user-service.js";
import type { Logger } from "../../logger.js";
import type { Delivery, DeliveryEvent, DeliveryStore, SmsThread } from "../delivery-store.js";
import { truncateSms } from "./sms-encoding.js";
import type { SmsWebhook } from "./sms-gateway.js";
import { classifySmsKeyword, keywordReply } from "./sms-keywords.js";

/** What {@link SmsService} needs, built by the composition root. */
export interface SmsServiceDeps {
  store: DeliveryStore;
  users: UserService;
  conversations: ConversationService;
  messages: MessageService;
  /** Our numbers, E.164 (`SMS_FROM`); a phone gets one per conversation while the pool lasts. */
  fromNumbers: string[];
  /** Answer STOP/START/HELP with the standard replies (`SMS_KEYWORD_REPLIES`). */
  keywordReplies: boolean;
  /** The answer to HELP (`SMS_HELP_TEXT`). */
  helpText: string;
  /** Called after a provider report changed a delivery (for `delivery.updated` webhooks and the like). */
  onDeliveryChanged: (delivery: Delivery) => void;
  logger: Logger;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** An inbound text, whichever provider it came from. */
export interface InboundSms {
  /** The provider's id of the text (Twilio `SM…`); posting is idempotent on it. */
  providerMessageId: string;
  /** The phone user's number, E.164. */
  from: string;
  /** Our number it was sent to, E.164. */
  to: string;
  body: string;
}

/** A provider's status report for a text we sent. */
export type SmsStatusReport = Omit<Extract<SmsWebhook, { kind: "status" }>, "kind">;

/** What {@link SmsService.composeBody} is given. */
export interface ComposeInput {
  /** The sender's display name (or id). */
  senderName: string;
  /** Shown for group conversations: "Ana in Ops: …". */
  conversationTitle?: string;
  /** The newest message's text. */
  text: string;
  /** Messages this notification covers (1 + those collapsed into it). */
  messageCount: number;
}

/** The answer to a text from a number, or to a number, that no conversation thread knows. */
export const NOT_LINKED_REPLY = "This number is not linked to a conversation.";
/** The answer to a text from a phone user who has left the thread's conversation. */
export const NOT_MEMBER_REPLY = "You are no longer in this conversation, so your message was not delivered.";
/** The footer of every notification text. */
export const REPLY_FOOTER = "\nReply to answer.";
/** A notification text is cut to this many segments (each one is billed). */
export const MAX_NOTIFICATION_SEGMENTS = 3;

/**
 * The two-way SMS bridge, independent of any provider and transport: inbound texts become
 * messages of the phone user in the conversation their thread points at; keywords update the
 * consent ledger; provider status reports update the delivery timeline; and outbound texts get
 * one of our numbers per (phone, conversation) so a reply finds its way back.
 */
export class SmsService {
  private readonly now: () => number;
  /** Per-phone queue: choosing a number reads the phone's threads and then writes one. */
  private readonly choosing = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: SmsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Our numbers (`SMS_FROM`), in configuration order. */
  get ourNumbers(): readonly string[] {
    return this.deps.fromNumbers;
  }

  /**
   * Handles a text from a phone: a keyword (STOP, START, HELP and synonyms, as the whole text) is
   * recorded in the consent ledger and answered with the standard reply (when `keywordReplies`);
   * anything else is posted as the phone user's message in the conversation of the thread
   * (from, to). The post is idempotent on the provider's message id, so a webhook delivered twice
   * posts once. Returns the text to answer with, if any; an opted-out number only ever gets the
   * answers to its keywords.
   *
   * "YES" is Twilio's opt-in keyword but also an ordinary answer: it re-subscribes a number that
   * opted out and is otherwise posted like any other text.
   */
  async handleInbound(msg: InboundSms): Promise<{ reply?: string }> {
    const { store, logger } = this.deps;
    const at = new Date(this.now()).toISOString();
    const keyword = classifySmsKeyword(msg.body);
    const consent = await store.consentState(msg.from);
    if (keyword && !(keyword.keyword === "YES" && consent !== "opted_out")) {
      await store.appendConsent({ phone: msg.from, action: keyword.kind, source: "keyword", keyword: keyword.keyword, at });
      logger.info({ phone: msg.from, to: msg.to, keyword: keyword.keyword, action: keyword.kind }, "sms keyword recorded");
      return this.deps.keywordReplies ? { reply: keywordReply(keyword.kind, this.deps.helpText) } : {};
    }

    // The provider would refuse any other text to a number that opted out (Twilio error 21610).
    const answer = (reply: string) => (consent === "opted_out" ? {} : { reply });
    const thread = await store.findSmsThread(msg.from, msg.to);
    if (!thread) {
      logger.info({ phone: msg.from, to: msg.to }, "sms from a number without a thread");
      return answer(NOT_LINKED_REPLY);
    }
    const user = await this.deps.users.get(thread.userId).catch((err: unknown) => {
      if (err instanceof SwitchboardError && err.code === "not_found") return null;
      throw err;
    });
    // The number may have been taken off the user (or given to another one) since the thread began.
    if (!user || user.phone !== msg.from) {
      logger.info({ phone: msg.from, to: msg.to, userId: thread.userId }, "sms thread's user no longer has this number");
      return answer(NOT_LINKED_REPLY);
    }
    try {
      await this.deps.conversations.requireMember(thread.conversationId, user.id);
    } catch (err) {
      if (!(err instanceof SwitchboardError && (err.code === "forbidden" || err.code === "not_found"))) throw err;
      logger.info({ userId: user.id, conversationId: thread.conversationId }, "sms from a user who left the conversation");
      return answer(NOT_MEMBER_REPLY);
    }

    const text = cutToLength(msg.body.trim(), LIMITS.textMaxLength);
    // A picture-only MMS has no text; there is nothing to post.
    if (text === "") return {};
    const { message, created } = await this.deps.messages.send(
      { kind: "user", userId: user.id },
      { conversationId: thread.conversationId, clientMessageId: `sms:${msg.providerMessageId}`, text },
    );
    await store.saveSmsThread({ ...thread, lastUsedAt: at });
    logger.info({ userId: user.id, conversationId: thread.conversationId, messageId: message.id, created }, "sms reply posted");
    return {};
  }

  /**
   * Applies a provider status report to the delivery that sent the text: `queued` and `sending`
   * only add to its timeline; `sent`, `delivered`, `undelivered` and `failed` also move its status
   * forward. A failure with error 21610 (unsubscribed) also records an opt-out. Returns the
   * delivery after the change, or null when no delivery has that provider id (yet).
   */
  async handleStatus(report: SmsStatusReport): Promise<Delivery | null> {
    const { store, logger } = this.deps;
    const at = new Date(this.now()).toISOString();
    const event: DeliveryEvent = {
      at,
      status: report.status,
      ...(report.errorCode ? { errorCode: report.errorCode } : {}),
      ...(report.detail ? { detail: report.detail } : {}),
    };
    let target: "sent" | "delivered" | "undelivered" | "failed";
    switch (report.status) {
      case "queued":
      case "sending":
        // Not a step forward for a delivery that is `sent` once the provider accepted it.
        target = "sent";
        break;
      case "sent":
      case "delivered":
      case "undelivered":
      case "failed":
        target = report.status;
        break;
      default: {
        const unknown: never = report.status;
        throw new Error(`unknown SMS status ${String(unknown)}`);
      }
    }
    const delivery = await store.recordProviderStatus(report.providerMessageId, target, event);
    if (!delivery) {
      logger.debug({ providerMessageId: report.providerMessageId, status: report.status }, "sms status for an unknown message");
      return null;
    }
    if (report.errorCode === "21610" && delivery.to) {
      await store.appendConsent({ phone: delivery.to, action: "opt_out", source: "provider", note: report.detail ?? "Twilio error 21610", at });
    }
    this.deps.onDeliveryChanged(delivery);
    return delivery;
  }

  /**
   * Our number for a text to `phone` about `conversationId`, recorded as the thread so the reply
   * maps back: the number already threaded to this conversation for that phone; else a pool
   * number that has no thread with that phone; else the number of the phone's least recently
   * used thread, which is re-pointed (a late reply to its old conversation then lands here).
   * Calls for one phone run one at a time in this process.
   *
   * @param now epoch ms, stored as the thread's `lastUsedAt`.
   */
  async chooseNumber(phone: string, userId: string, conversationId: string, now: number): Promise<string> {
    const pool = this.deps.fromNumbers;
    if (pool.length === 0) throw new SwitchboardError("unavailable", "No SMS numbers are configured (SMS_FROM).");
    const previous = this.choosing.get(phone) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const threads = (await this.deps.store.listSmsThreads(phone)).filter((t) => pool.includes(t.ourNumber));
      const ourNumber =
        threads.find((t) => t.conversationId === conversationId)?.ourNumber ??
        pool.find((n) => !threads.some((t) => t.ourNumber === n)) ??
        leastRecentlyUsed(threads).ourNumber;
      await this.deps.store.saveSmsThread({ phone, ourNumber, userId, conversationId, lastUsedAt: new Date(now).toISOString() });
      return ourNumber;
    });
    this.choosing.set(phone, run);
    try {
      return await run;
    } finally {
      if (this.choosing.get(phone) === run) this.choosing.delete(phone);
    }
  }

  /**
   * The text of a notification: "Ana: see you at 5" in a direct conversation, "Ana in Ops: see
   * you at 5 (+3 more)" for a burst in a titled one, then "Reply to answer." on a line of its
   * own; the message is cut (with an ellipsis) so the whole fits in
   * {@link MAX_NOTIFICATION_SEGMENTS} segments.
   */
  composeBody(input: ComposeInput): string {
    const who = input.conversationTitle ? `${input.senderName} in ${input.conversationTitle}` : input.senderName;
    const text = input.text.trim() === "" ? "(attachment)" : input.text.trim();
    const more = input.messageCount > 1 ? ` (+${input.messageCount - 1} more)` : "";
    return truncateSms(`${who}: ${text}`, MAX_NOTIFICATION_SEGMENTS, { after: `${more}${REPLY_FOOTER}` });
  }
}

function leastRecentlyUsed(threads: SmsThread[]): SmsThread {
  return threads.reduce((oldest, t) => (Date.parse(t.lastUsedAt) < Date.parse(oldest.lastUsedAt) ? t : oldest));
}

/** `text` cut to `max` UTF-16 units, never between the two halves of a surrogate pair. */
function cutToLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
