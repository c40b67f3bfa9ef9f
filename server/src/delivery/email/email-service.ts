import { createHash, randomBytes } from "node:crypto";
import EmailReplyParser from "email-reply-parser";
import type { Attachment, Conversation, Message, User } from "../../../../client-sdk/src/protocol.js";
import { LIMITS } from "../../../../client-sdk/src/protocol.js";
import type { ConversationService } from "../../core/conversation-service.js";
import { SwitchboardError } from "../../core/errors.js";
import type { MessageService } from "../../core/message-service.js";
import type { Logger } from "../../logger.js";
import type { Store } from "../../store/store.js";
import type { CancelReason, Delivery, DeliveryStore } from "../delivery-store.js";
import { EmailAddresses, newEmailThreadId, parseToken } from "./email-addresses.js";
import { composeEmail, EMAIL_DIGEST_MAX_MESSAGES, REPLY_ABOVE_LINE } from "./email-composer.js";
import type { OutboundEmail } from "./email-sender.js";
import type { EmailLedgerEntry, EmailStore, EmailThread } from "./email-store.js";

/** What {@link EmailService} needs, built by the composition root. */
export interface EmailServiceDeps {
  store: EmailStore;
  deliveries: DeliveryStore;
  chat: Pick<Store, "getUser" | "getMember" | "getMessages">;
  conversations: ConversationService;
  messages: MessageService;
  addresses: EmailAddresses;
  /** `EMAIL_FROM`. */
  from: string;
  /** `PUBLIC_URL`, for the unsubscribe link. */
  publicUrl: string;
  /** A link to an uploaded attachment that outlives the email's first reading (longer than a chat link). */
  attachmentUrl: (attachment: Attachment) => string;
  /** Told about deliveries this service cancelled or marked undelivered. */
  onDeliveryChanged: (delivery: Delivery) => void;
  logger: Logger;
}

/** A notification email ready to send, or why there is none. */
export type PreparedEmail =
  | { kind: "send"; email: OutboundEmail; threadId: string; shown: number }
  | { kind: "cancel"; reason: CancelReason; detail: string };

/** Which signed address a recipient of an inbound email is, once verified. */
export interface InboundRecipient {
  purpose: "reply" | "bounce";
  thread: EmailThread;
}

/** An inbound email, reduced to what the service looks at (the SMTP listener parses it with mailparser). */
export interface InboundEmail {
  /** The `MAIL FROM` address; empty for a DSN (the null reverse-path). */
  envelopeFrom: string;
  /** The `From` header's address, lower-cased. */
  from?: string;
  messageId?: string;
  subject?: string;
  text?: string;
  /** `multipart/report; report-type=delivery-status`. */
  isDeliveryReport: boolean;
  /** The `message/delivery-status` part's text, with a delivery report. */
  deliveryStatus?: string;
  /** The returned original's headers (`message/rfc822` or `text/rfc822-headers` part), with a delivery report. */
  returnedHeaders?: string;
  /** `Auto-Submitted` other than `no`, or a known auto-reply header: out-of-office answers are not posted. */
  autoSubmitted: boolean;
}

/** What became of an inbound email. */
export type InboundOutcome =
  | { kind: "posted"; message: Message; created: boolean }
  | { kind: "bounce"; address: string; hard: boolean }
  | { kind: "ignored"; reason: string };

/** The part of a reply an `email-reply-parser` pass keeps: none of the quoted history or signature. */
const replyParser = new EmailReplyParser();

/**
 * The email channel's logic: builds each notification (a digest of the unread messages since the
 * last email, threaded under the earlier ones, with signed reply, bounce and unsubscribe
 * addresses), records what a send or a bounce taught us, posts replies into their conversation,
 * and honours unsubscribes. Knows no SMTP: the sender and the listener are transports.
 */
export class EmailService {
  private readonly fromDomain: string;

  constructor(private readonly deps: EmailServiceDeps) {
    const address = /<([^>]+)>/.exec(deps.from)?.[1] ?? deps.from;
    this.fromDomain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  }

  /**
   * The email for a due delivery: every unread message of the conversation it covers (from its
   * first message, or the recipient's read position if later, to its last), cancelled when the
   * recipient has no address, it bounced, or they unsubscribed from the conversation.
   */
  async prepare(delivery: Delivery, context: { recipient: User; conversation: Pick<Conversation, "type" | "title">; senderName: string }): Promise<PreparedEmail> {
    const { store, chat, addresses } = this.deps;
    const address = context.recipient.email;
    if (!address) return { kind: "cancel", reason: "no_destination", detail: "not sent: the recipient has no email address" };
    if (await store.isBounced(address)) return { kind: "cancel", reason: "no_destination", detail: `not sent: ${address} hard-bounced earlier` };
    if (await store.isUnsubscribed(delivery.userId, delivery.conversationId)) {
      return { kind: "cancel", reason: "muted", detail: "not sent: the recipient unsubscribed from this conversation's emails" };
    }
    const member = await chat.getMember(delivery.conversationId, delivery.userId);
    const afterSeq = Math.max(delivery.seq - 1, member?.lastReadSeq ?? 0);
    const page = await chat.getMessages(delivery.conversationId, { beforeSeq: delivery.lastSeq + 1, limit: Math.min(LIMITS.pageMax, EMAIL_DIGEST_MAX_MESSAGES * 3) });
    const unread = page.messages.filter((m) => m.seq > afterSeq && m.type === "text" && !m.deletedAt && m.senderId !== delivery.userId);
    if (unread.length === 0) return { kind: "cancel", reason: "read", detail: "not sent: no unread message is left to tell about" };
    const shown = unread.slice(-EMAIL_DIGEST_MAX_MESSAGES);

    const names = new Map<string, string>();
    for (const senderId of new Set(shown.map((m) => m.senderId))) {
      names.set(senderId, (await chat.getUser(senderId))?.name ?? senderId);
    }
    const now = new Date().toISOString();
    const thread = await store.ensureThread(delivery.userId, delivery.conversationId, newEmailThreadId(), now);
    const replyTo = addresses.replyAddress(thread);
    const bounceTo = addresses.bounceAddress(thread);
    const unsubscribeUrl = `${this.deps.publicUrl}/v1/email/unsubscribe/${addresses.token("unsubscribe", thread)}`;
    const composed = composeEmail({
      ...(context.conversation.type !== "direct" && context.conversation.title ? { conversationTitle: context.conversation.title } : {}),
      ...(context.conversation.type === "direct" ? { directWith: context.senderName } : {}),
      messages: shown.map((m) => ({
        senderName: names.get(m.senderId) ?? m.senderId,
        text: m.text,
        createdAt: m.createdAt,
        attachments: (m.attachments ?? []).map((a) => ({ name: a.name ?? a.mimeType ?? "file", url: a.uploadId ? this.deps.attachmentUrl(a) : a.url })),
      })),
      omitted: unread.length - shown.length,
      isReply: thread.references.length > 0,
      canReply: replyTo !== undefined,
      unsubscribeUrl,
    });
    const references = thread.references;
    const email: OutboundEmail = {
      from: this.deps.from,
      to: address,
      ...(replyTo ? { replyTo } : {}),
      ...(bounceTo ? { envelopeFrom: bounceTo } : {}),
      subject: composed.subject,
      text: composed.text,
      html: composed.html,
      messageId: `<${delivery.id}.${randomBytes(4).toString("hex")}@${this.fromDomain}>`,
      ...(references.length ? { inReplyTo: references[references.length - 1], references } : {}),
      headers: {
        // RFC 8058: a mail client may unsubscribe with one POST, without opening a page.
        "List-Unsubscribe": `<${unsubscribeUrl}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        // RFC 3834: auto-responders must not answer a notification.
        "Auto-Submitted": "auto-generated",
        "X-Switchboard-Delivery": delivery.id,
      },
    };
    return { kind: "send", email, threadId: thread.id, shown: shown.length };
  }

  /** Records the sent email's `Message-ID` in its thread, so the next email answers it. */
  async recordSent(threadId: string, messageId: string): Promise<void> {
    await this.deps.store.recordSent(threadId, messageId, new Date().toISOString());
  }

  /**
   * A hard bounce: no more email to the address. Cancels the user's scheduled emails, which would
   * only bounce again.
   */
  async recordHardBounce(address: string, userId: string | undefined, source: EmailLedgerEntry["source"], note: string): Promise<void> {
    const at = new Date().toISOString();
    await this.deps.store.appendLedger({ address: address.toLowerCase(), action: "hard_bounce", source, ...(userId ? { userId } : {}), note: note.slice(0, 500), at });
    this.deps.logger.warn({ address, userId, source, note }, "email hard bounce recorded: no more email goes to this address");
    if (userId) {
      const cancelled = await this.deps.deliveries.cancelScheduledForUser(userId, "no_destination", ["email"], Date.now());
      for (const delivery of cancelled) this.deps.onDeliveryChanged(delivery);
    }
  }

  /** The thread a recipient address of ours stands for, when its signature checks; null for any other address. */
  async resolveRecipient(address: string): Promise<InboundRecipient | null> {
    const parsed = this.deps.addresses.parseAddress(address);
    if (!parsed) return null;
    const thread = await this.deps.store.getThread(parsed.threadId);
    if (!thread || !this.deps.addresses.verify(parsed.purpose, thread, parsed.mac)) return null;
    return { purpose: parsed.purpose, thread };
  }

  /**
   * An email to one of our addresses: a delivery report is a bounce (whichever address it reached);
   * anything else to a reply address is the user's answer, posted as them into the conversation
   * with the quoted history and signature cut off. Refuses (`forbidden`) a reply that does not
   * come from the user's own address: the reply address alone must not let anyone post as them.
   */
  async handleInbound(recipient: InboundRecipient, email: InboundEmail): Promise<InboundOutcome> {
    const { thread } = recipient;
    const { logger } = this.deps;
    if (email.isDeliveryReport || recipient.purpose === "bounce") return this.handleReport(thread, email);
    if (email.autoSubmitted) {
      logger.info({ threadId: thread.id, userId: thread.userId }, "inbound email is an automatic answer (Auto-Submitted): not posted");
      return { kind: "ignored", reason: "an automatic answer (out of office, auto-reply) is not posted" };
    }
    const user = await this.deps.chat.getUser(thread.userId);
    if (!user?.email) return { kind: "ignored", reason: "the user of this reply address has no email address any more" };
    const senders = [email.envelopeFrom.toLowerCase(), email.from?.toLowerCase()].filter(Boolean);
    if (!senders.includes(user.email)) {
      throw new SwitchboardError("forbidden", `Replies to this address are accepted from ${maskAddress(user.email)} only.`);
    }
    const text = extractReply(email.text ?? "");
    if (!text) {
      logger.info({ threadId: thread.id, userId: user.id }, "inbound email reply has no new text: nothing posted");
      return { kind: "ignored", reason: "the reply holds no new text above the quoted message" };
    }
    // The same email delivered twice (a relay's retry) posts once.
    const clientMessageId = `email:${createHash("sha256").update(email.messageId ?? `${thread.id}\n${text}`).digest("hex").slice(0, 40)}`;
    const { message, created } = await this.deps.messages.send({ kind: "user", userId: user.id }, { conversationId: thread.conversationId, clientMessageId, text });
    logger.info({ userId: user.id, conversationId: thread.conversationId, messageId: message.id, created }, "email reply posted");
    return { kind: "posted", message, created };
  }

  /** The thread behind an unsubscribe token, when it checks. */
  async unsubscribeTarget(token: string): Promise<EmailThread | null> {
    const parsed = parseToken(token.toLowerCase());
    if (!parsed) return null;
    const thread = await this.deps.store.getThread(parsed.threadId);
    return thread && this.deps.addresses.verify("unsubscribe", thread, parsed.mac) ? thread : null;
  }

  /**
   * Stops the conversation's emails to the user (idempotent), cancelling any scheduled one.
   * Throws `not_found` for a token that does not check.
   */
  async unsubscribe(token: string, source: "one_click" | "link"): Promise<EmailThread> {
    const thread = await this.unsubscribeTarget(token);
    if (!thread) throw new SwitchboardError("not_found", "This unsubscribe link is not valid; use the link of a recent email.");
    if (!(await this.deps.store.isUnsubscribed(thread.userId, thread.conversationId))) {
      const user = await this.deps.chat.getUser(thread.userId);
      await this.deps.store.appendLedger({
        address: user?.email ?? "",
        action: "unsubscribe",
        source,
        userId: thread.userId,
        conversationId: thread.conversationId,
        at: new Date().toISOString(),
      });
      this.deps.logger.info({ userId: thread.userId, conversationId: thread.conversationId, source }, "email unsubscribe recorded");
    }
    const cancelled = await this.deps.deliveries.cancelScheduled(thread.conversationId, thread.userId, Number.MAX_SAFE_INTEGER, "muted", ["email"], Date.now());
    for (const delivery of cancelled) this.deps.onDeliveryChanged(delivery);
    return thread;
  }

  /** A delivery status notification: a permanent failure (5.x.x) is a hard bounce; delays and successes change nothing. */
  private async handleReport(thread: EmailThread, email: InboundEmail): Promise<InboundOutcome> {
    const report = parseDeliveryStatus(email.deliveryStatus ?? "");
    const user = await this.deps.chat.getUser(thread.userId);
    const address = report.finalRecipient ?? user?.email;
    if (!address) return { kind: "ignored", reason: "a delivery report without a recipient we know" };
    const hard = report.action === "failed" && /^5\./.test(report.status ?? "");
    if (!hard) {
      this.deps.logger.info({ address, action: report.action, status: report.status }, "email delivery report without a permanent failure: nothing recorded");
      return { kind: "bounce", address, hard: false };
    }
    await this.recordHardBounce(address, thread.userId, "dsn", [report.status, report.diagnostic].filter(Boolean).join(" "));
    const original = /^Message-ID:\s*(<[^>\s]+>)/im.exec(email.returnedHeaders ?? "")?.[1];
    if (original) {
      const delivery = await this.deps.deliveries.recordProviderStatus(original, "undelivered", {
        at: new Date().toISOString(),
        status: "undelivered",
        errorCode: report.status,
        detail: `bounced: ${report.diagnostic ?? report.status}`.slice(0, 500),
      });
      if (delivery) this.deps.onDeliveryChanged(delivery);
    }
    return { kind: "bounce", address: address.toLowerCase(), hard: true };
  }
}

/**
 * Only what the user wrote: `email-reply-parser` drops the quoted history (`On … wrote:` and `>`
 * lines) and the signature; anything below our "reply above this line" marker goes too, for
 * clients that quote without markers. Cut to the message length limit.
 */
export function extractReply(text: string): string {
  const normalized = text.replace(/\r\n/g, "\n");
  const marker = normalized.indexOf(REPLY_ABOVE_LINE);
  const above = marker >= 0 ? normalized.slice(0, marker) : normalized;
  let visible = replyParser.parseReply(above).trim();
  // A marker line the client quoted (`> Reply above…`) can leave a dangling attribution behind.
  visible = visible.replace(/\n*On .{0,200}wrote:\s*$/s, "").trim();
  return visible.length > LIMITS.textMaxLength ? visible.slice(0, LIMITS.textMaxLength) : visible;
}

/** The fields of a `message/delivery-status` part that matter (RFC 3464), from its first recipient block. */
export function parseDeliveryStatus(text: string): { finalRecipient?: string; action?: string; status?: string; diagnostic?: string } {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "im").exec(text)?.[1]?.trim();
  const finalRecipient = field("Final-Recipient")?.replace(/^rfc822;\s*/i, "").replace(/^<|>$/g, "").toLowerCase();
  return {
    ...(finalRecipient ? { finalRecipient } : {}),
    ...(field("Action") ? { action: field("Action")!.toLowerCase() } : {}),
    ...(field("Status") ? { status: field("Status")!.split(/\s/)[0] } : {}),
    ...(field("Diagnostic-Code") ? { diagnostic: field("Diagnostic-Code") } : {}),
  };
}

/** `a***@example.com`: enough to recognise, not enough to harvest. */
function maskAddress(address: string): string {
  const at = address.lastIndexOf("@");
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}
