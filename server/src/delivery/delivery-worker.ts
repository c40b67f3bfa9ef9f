import type { Conversation, Message, PresenceInfo, User } from "../../../client-sdk/src/protocol.js";
import { OutboxPoller } from "../cluster/outbox-poller.js";
import { SwitchboardError } from "../core/errors.js";
import type { RateLimit } from "../limits/rate-limit.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { retryWaitMs } from "../webhooks/webhook-retry-policy.js";
import { preferenceAllows, type AttemptOutcome, type CancelReason, type Delivery, type DeliveryEvent, type DeliveryPatch, type DeliveryStore, type LeasedDelivery } from "./delivery-store.js";
import type { EmailSender } from "./email/email-sender.js";
import type { EmailService } from "./email/email-service.js";
import { quietHoursDetail } from "./delivery-timeline.js";
import { describeQuietHours, quietHoursEnd } from "./quiet-hours.js";
import { buildPushPayload } from "./push/push-payload.js";
import type { PushOptions, PushResult, PushSender } from "./push/push-sender.js";
import { pushTopic } from "./push/web-push-sender.js";
import type { OutboundMedia } from "./sms/mms-media.js";
import type { SmsGateway } from "./sms/sms-gateway.js";
import { smsEncoding } from "./sms/sms-encoding.js";
import { describeFiles } from "./sms/sms-service.js";
import type { ComposeInput } from "./sms/sms-service.js";

/** The SMS side of the worker. */
export interface SmsChannel {
  gateway: SmsGateway;
  /** Picks our number for the conversation (and records the thread a reply maps back through). */
  chooseNumber(phone: string, userId: string, conversationId: string, now: number): Promise<string>;
  composeBody(input: ComposeInput): string;
  /** How the message's attachments travel: pictures as MMS media URLs, other files as links (`SmsService.outboundMedia`). */
  outboundMedia(message: Message): Promise<OutboundMedia>;
  /** Texts per second per number of ours (`SMS_PER_NUMBER_PER_SECOND`), shared by the cluster in cluster mode. */
  perNumberLimit: RateLimit;
  /** `PUBLIC_URL` + `/v1/sms/status`. */
  statusCallbackUrl: string;
  /** Records an opt-out the provider told us about (Twilio 21610) in the consent ledger. */
  recordProviderOptOut(phone: string, note: string, now: number): Promise<void>;
}

/** The Web Push side of the worker. */
export interface PushChannel {
  sender: PushSender;
  options: Omit<PushOptions, "topic">;
  /** Where a click on the notification leads (`PUBLIC_URL`), or undefined. */
  url?: string;
}

/** The email side of the worker; absent while email is off (`SMTP_URL` unset). */
export interface EmailChannel {
  sender: EmailSender;
  service: Pick<EmailService, "prepare" | "recordSent" | "recordHardBounce">;
}

/** What the worker needs, built by the composition root. */
export interface DeliveryWorkerOptions {
  store: DeliveryStore;
  chat: Pick<Store, "getConversation" | "getMember" | "getUser" | "getMessage">;
  presence: { query(userIds: string[]): Promise<Record<string, PresenceInfo>> };
  push: PushChannel;
  sms: SmsChannel;
  email?: EmailChannel;
  logger: Logger;
  /** `DELIVERY_RETRY_SCHEDULE`; attempts: steps + 1. */
  retryScheduleMs: readonly number[];
  /** `DELIVERY_POLL_INTERVAL_MS`. */
  pollIntervalMs: number;
  /** Finished deliveries older than this are deleted. */
  retentionMs: number;
  /** How long one send may take; the lease outlives it. */
  sendTimeoutMs: number;
  /** Told about every delivery an attempt changed. */
  onChanged: (delivery: Delivery) => void;
  /** Told the outcome of every attempt (metrics): `sent`, `retrying`, `failed`, `cancelled`. */
  onAttempt?: (channel: Delivery["channel"], outcome: DeliveryEvent["status"]) => void;
  /** Sends in flight at once per node (default 16). */
  concurrency?: number;
  random?: () => number;
}

/** A lease outlives the longest send by this much, so a slow answer is recorded before another node takes over. */
const LEASE_MARGIN_MS = 15_000;
/** How long a conversation's type and title are reused for notifications. */
const CONVERSATION_CACHE_MS = 30_000;
/** Conversations whose type and title are kept. */
const CONVERSATION_CACHE_MAX = 1000;
/** How often a node prunes finished deliveries. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The fallback ladder's second half: leases due deliveries from the outbox (every node runs one;
 * the lease makes sure one node sends each), re-checks that the notification is still wanted, sends
 * it through the channel and records the outcome. Transient failures (429 with `Retry-After`, 5xx,
 * timeouts) are retried on the schedule with full jitter; permanent ones are not.
 */
export class DeliveryWorker {
  private readonly random: () => number;
  private readonly poller: OutboxPoller<LeasedDelivery>;
  private lastPruneAt = 0;
  private readonly conversations = new Map<string, { info: ConversationInfo; until: number }>();

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.random = options.random ?? Math.random;
    this.poller = new OutboxPoller({
      name: "delivery worker",
      logger: options.logger,
      lease: (now, limit) => options.store.lease(now, options.sendTimeoutMs + LEASE_MARGIN_MS, limit),
      handle: (item) => this.attempt(item),
      describe: (item) => ({ deliveryId: item.delivery.id }),
      afterRound: (now) => this.pruneIfDue(now),
      pollIntervalMs: options.pollIntervalMs,
      concurrency: Math.max(1, options.concurrency ?? 16),
    });
  }

  /** Starts polling. */
  start(): void {
    this.poller.start();
  }

  /** Looks for due deliveries now instead of at the next poll. */
  kick(): void {
    this.poller.kick();
  }

  /** Stops polling and waits up to `graceMs` for sends in flight (their leases run out otherwise). */
  stop(graceMs: number): Promise<void> {
    return this.poller.stop(graceMs);
  }

  /** Re-checks, sends and records one leased delivery. */
  private async attempt(leased: LeasedDelivery): Promise<void> {
    const { delivery } = leased;
    const context = await this.loadContext(delivery);
    if ("cancel" in context) {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: context.detail }, { cancelReason: context.cancel });
      return;
    }
    if ("deferUntil" in context) {
      // Quiet hours set (or a retry that fell into them) after planning: wait, without spending an attempt.
      await this.finish(leased, { status: "scheduled", dueAt: context.deferUntil, countsAsAttempt: false }, { status: "deferred", detail: context.detail });
      return;
    }
    switch (delivery.channel) {
      case "push":
        return this.sendPush(leased, context);
      case "email":
        return this.sendEmail(leased, context);
      case "sms":
        return this.sendSms(leased, context);
      default: {
        const exhaustive: never = delivery.channel;
        return exhaustive;
      }
    }
  }

  /**
   * A conversation's type and title, for the notification's wording. Cached briefly: loading a
   * conversation loads all its members, and a big group's burst would otherwise load the same
   * member list once per recipient (measured: 300 recipients spent 700 ms there). Membership and
   * read position are read fresh, per delivery, with `getMember`.
   */
  private async conversationInfo(id: string): Promise<ConversationInfo | null> {
    const now = Date.now();
    const cached = this.conversations.get(id);
    if (cached && cached.until > now) return cached.info;
    const conversation = await this.options.chat.getConversation(id);
    if (!conversation) return null;
    const info: ConversationInfo = { type: conversation.type, ...(conversation.title ? { title: conversation.title } : {}) };
    if (this.conversations.size >= CONVERSATION_CACHE_MAX) this.conversations.clear();
    this.conversations.set(id, { info, until: now + CONVERSATION_CACHE_MS });
    return info;
  }

  /** What the notification is about, or why it is no longer wanted. */
  private async loadContext(delivery: Delivery): Promise<SendContext | { cancel: CancelReason; detail: string } | { deferUntil: number; detail: string }> {
    const { chat, presence, store } = this.options;
    const [conversation, member, message, recipient] = await Promise.all([
      this.conversationInfo(delivery.conversationId),
      chat.getMember(delivery.conversationId, delivery.userId),
      chat.getMessage(delivery.conversationId, delivery.lastMessageId),
      chat.getUser(delivery.userId),
    ]);
    if (!conversation || !member || !recipient) return { cancel: "not_member", detail: "not sent: the recipient is no longer a member of the conversation" };
    if (member.lastReadSeq >= delivery.lastSeq) return { cancel: "read", detail: `not sent: the recipient read up to seq ${member.lastReadSeq}` };
    if (!message || message.deletedAt) return { cancel: "read", detail: "not sent: the message was deleted" };
    const status = (await presence.query([delivery.userId]))[delivery.userId]?.status;
    if (status === "online") return { cancel: "online", detail: "not sent: the recipient is connected, so the app has the message" };
    const now = Date.now();
    const [mute, preferences] = await Promise.all([store.getMute(delivery.userId, delivery.conversationId, now), store.getPreferences(delivery.userId)]);
    if (mute || !preferenceAllows(preferences, delivery.channel)) {
      return { cancel: "muted", detail: mute ? "not sent: the recipient muted the conversation" : `not sent: the recipient turned ${delivery.channel} notifications off` };
    }
    const quietUntil = quietHoursEnd(preferences?.quietHours, now);
    if (quietUntil !== null && preferences?.quietHours) {
      return { deferUntil: quietUntil, detail: quietHoursDetail(quietUntil, describeQuietHours(preferences.quietHours)) };
    }
    const sender = message.senderId === delivery.userId ? recipient : await chat.getUser(message.senderId);
    return { conversation, message, recipient, senderName: sender?.name ?? message.senderId };
  }

  private async sendPush(leased: LeasedDelivery, context: SendContext): Promise<void> {
    const { delivery } = leased;
    const { store, push } = this.options;
    const subscriptions = await store.listPushSubscriptions(delivery.userId);
    if (subscriptions.length === 0) {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: "not sent: the recipient has no push subscription left" }, { cancelReason: "no_destination" });
      return;
    }
    const payload = buildPushPayload({
      conversationId: delivery.conversationId,
      ...(context.conversation.type === "direct" || !context.conversation.title ? {} : { conversationTitle: context.conversation.title }),
      messageId: context.message.id,
      seq: context.message.seq,
      senderName: context.senderName,
      // A picture-only message would otherwise notify as a bare "New message".
      text: context.message.text.trim() || attachmentSummary(context.message),
      messageCount: delivery.messageCount,
      ...(push.url ? { url: push.url } : {}),
    });
    const options: PushOptions = { ...push.options, topic: pushTopic(delivery.conversationId) };
    // Every browser of the recipient gets it; the delivery counts as sent when one accepted it.
    const results = await Promise.all(subscriptions.map(async (subscription) => ({ subscription, result: await push.sender.send(subscription, payload, options) })));
    for (const { subscription, result } of results) {
      if (result.kind === "gone") await store.deletePushSubscriptionByEndpoint(subscription.endpoint);
    }
    const attempt = delivery.attempts + 1;
    const accepted = results.filter((r) => r.result.kind === "sent");
    const summary = results.map(({ subscription, result }) => `${subscription.id}: ${describePush(result)}`).join("; ");
    if (accepted.length > 0) {
      const statusCode = accepted[0].result.kind === "sent" ? accepted[0].result.statusCode : undefined;
      await this.finish(leased, { status: "sent" }, { status: "sent", attempt, ...(statusCode ? { statusCode } : {}), detail: `accepted by ${accepted.length} of ${results.length} push subscriptions (${summary})` });
      return;
    }
    const retryable = results.filter((r) => r.result.kind === "retry");
    if (retryable.length > 0) {
      const retryAfterMs = Math.max(0, ...retryable.map((r) => (r.result.kind === "retry" ? (r.result.retryAfterMs ?? 0) : 0)));
      const first = retryable[0].result;
      await this.retryOrFail(leased, attempt, retryAfterMs || undefined, { statusCode: first.kind === "retry" ? first.statusCode : undefined, detail: summary });
      return;
    }
    if (results.every((r) => r.result.kind === "gone")) {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", attempt, statusCode: firstStatus(results.map((r) => r.result)), detail: `every push subscription is gone; removed (${summary})` }, { cancelReason: "no_destination" });
      return;
    }
    await this.finish(leased, { status: "failed" }, { status: "failed", attempt, statusCode: firstStatus(results.map((r) => r.result)), detail: `refused by the push service, not retried (${summary})` });
  }

  private async sendSms(leased: LeasedDelivery, context: SendContext): Promise<void> {
    const { delivery } = leased;
    const { store, sms } = this.options;
    const phone = context.recipient.phone;
    if (!phone) {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: "not sent: the recipient has no phone number any more" }, { cancelReason: "no_destination" });
      return;
    }
    // Checked at the last moment: no text ever goes to a number that opted out.
    if ((await store.consentState(phone)) !== "opted_in") {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: "not sent: the number has not consented or replied STOP" }, { cancelReason: "opted_out" });
      return;
    }
    const now = Date.now();
    const from = await sms.chooseNumber(phone, delivery.userId, delivery.conversationId, now);
    try {
      await sms.perNumberLimit.consume(from);
    } catch (err) {
      if (!(err instanceof SwitchboardError) || err.code !== "rate_limited") throw err;
      // Our own pacing, not a failure: wait for the number's next slot without spending an attempt.
      const wait = Math.max(50, err.retryAfterMs ?? 1000) + Math.floor(this.random() * 50);
      await this.finish(leased, { status: "scheduled", dueAt: now + wait, countsAsAttempt: false }, { status: "retrying", detail: `waiting ${wait} ms for ${from}'s send rate (SMS_PER_NUMBER_PER_SECOND)` });
      return;
    }
    const attempt = delivery.attempts + 1;
    let media: OutboundMedia;
    try {
      media = await sms.outboundMedia(context.message);
    } catch (err) {
      if (!(err instanceof SwitchboardError) || err.code !== "unavailable") throw err;
      // The pictures' storage is down: retried, rather than sent without them.
      await this.retryOrFail(leased, attempt, undefined, { detail: `the message's pictures could not be prepared for MMS: ${err.message}` });
      return;
    }
    const body = sms.composeBody({
      senderName: context.senderName,
      ...(context.conversation.type === "direct" || !context.conversation.title ? {} : { conversationTitle: context.conversation.title }),
      text: context.message.text,
      messageCount: delivery.messageCount,
      pictures: media.mediaUrls.length,
      links: media.links,
    });
    const { encoding, segments } = smsEncoding(body);
    const mediaCount = media.mediaUrls.length;
    const patch: DeliveryPatch = { to: phone, from, encoding, segments, ...(mediaCount ? { mediaCount } : {}) };
    const result = await sms.gateway.send({ to: phone, from, body, ...(mediaCount ? { mediaUrls: media.mediaUrls } : {}), statusCallbackUrl: sms.statusCallbackUrl });
    const what = mediaCount ? `MMS with ${mediaCount} ${mediaCount === 1 ? "picture" : "pictures"} and ${segments} ${encoding} segment(s)` : `${segments} ${encoding} segment(s)`;
    switch (result.kind) {
      case "accepted":
        await this.finish(
          leased,
          { status: "sent" },
          { status: "sent", attempt, statusCode: result.statusCode, detail: `${sms.gateway.name} ${result.status} ${result.providerMessageId}: ${what} from ${from}` },
          { ...patch, providerMessageId: result.providerMessageId },
        );
        return;
      case "opted_out":
        await sms.recordProviderOptOut(phone, `${result.errorCode}: ${result.detail}`, Date.now());
        await this.finish(leased, { status: "cancelled" }, { status: "cancelled", attempt, statusCode: result.statusCode, errorCode: result.errorCode, detail: result.detail }, { ...patch, cancelReason: "opted_out" });
        return;
      case "retry":
        await this.retryOrFail(leased, attempt, result.retryAfterMs, { statusCode: result.statusCode, errorCode: result.errorCode, detail: result.detail }, patch);
        return;
      case "failed":
        await this.finish(leased, { status: "failed" }, { status: "failed", attempt, statusCode: result.statusCode, errorCode: result.errorCode, detail: `${result.detail} (not retried)` }, patch);
        return;
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  }

  private async sendEmail(leased: LeasedDelivery, context: SendContext): Promise<void> {
    const { delivery } = leased;
    const { email } = this.options;
    if (!email) {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: "not sent: email is off on this server (SMTP_URL is unset)" }, { cancelReason: "no_destination" });
      return;
    }
    const prepared = await email.service.prepare(delivery, context);
    if (prepared.kind === "cancel") {
      await this.finish(leased, { status: "cancelled" }, { status: "cancelled", detail: prepared.detail }, { cancelReason: prepared.reason });
      return;
    }
    const mail = prepared.email;
    const attempt = delivery.attempts + 1;
    const patch: DeliveryPatch = { to: mail.to, from: mail.from };
    const result = await email.sender.send(mail);
    const what = `${prepared.shown} ${prepared.shown === 1 ? "message" : "messages"} to ${mail.to}`;
    switch (result.kind) {
      case "sent":
        // Recorded before the outcome: the thread's next email must answer this one even if the
        // worker dies right after.
        await email.service.recordSent(prepared.threadId, mail.messageId);
        await this.finish(leased, { status: "sent" }, { status: "sent", attempt, statusCode: 250, detail: `${email.sender.name} accepted ${mail.messageId}: ${what} (${result.response.slice(0, 200)})` }, { ...patch, providerMessageId: mail.messageId });
        return;
      case "rejected":
        await this.finish(leased, { status: "cancelled" }, { status: "cancelled", attempt, statusCode: result.statusCode, errorCode: "hard_bounce", detail: `${mail.to} refused for good: ${result.detail}; no more email goes there` }, { ...patch, cancelReason: "no_destination" });
        // After this delivery's own record: the bounce cancels the user's other scheduled emails, and would take this lease too.
        await email.service.recordHardBounce(mail.to, delivery.userId, "smtp", `${result.statusCode} ${result.detail}`);
        return;
      case "retry":
        await this.retryOrFail(leased, attempt, undefined, { ...(result.statusCode ? { statusCode: result.statusCode } : {}), detail: `${email.sender.name}: ${result.detail}` }, patch);
        return;
      case "failed":
        await this.finish(leased, { status: "failed" }, { status: "failed", attempt, ...(result.statusCode ? { statusCode: result.statusCode } : {}), detail: `${email.sender.name}: ${result.detail} (not retried)` }, patch);
        return;
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  }

  /** A transient failure: the next attempt on the schedule (waiting at least `Retry-After`), or `failed` when it is used up. */
  private async retryOrFail(leased: LeasedDelivery, attempt: number, retryAfterMs: number | undefined, info: Pick<DeliveryEvent, "statusCode" | "errorCode" | "detail">, patch?: DeliveryPatch): Promise<void> {
    const { retryScheduleMs } = this.options;
    const wait = retryWaitMs(attempt, retryScheduleMs, this.random, retryAfterMs);
    const fields = { ...(info.statusCode ? { statusCode: info.statusCode } : {}), ...(info.errorCode ? { errorCode: info.errorCode } : {}) };
    if (wait === undefined) {
      await this.finish(leased, { status: "failed" }, { status: "failed", attempt, ...fields, detail: `${info.detail ?? "transient failure"}; gave up after ${attempt} attempts` }, patch);
      return;
    }
    await this.finish(
      leased,
      { status: "scheduled", dueAt: Date.now() + wait, countsAsAttempt: true },
      { status: "retrying", attempt, ...fields, detail: `${info.detail ?? "transient failure"}; attempt ${attempt + 1} in ${wait} ms` },
      patch,
    );
  }

  /** Records the outcome; a lost lease (cancelled meanwhile, or taken over) leaves the record to its new owner. */
  private async finish(leased: LeasedDelivery, outcome: AttemptOutcome, event: Omit<DeliveryEvent, "at">, patch?: DeliveryPatch): Promise<void> {
    const after = await this.options.store.complete(leased.delivery.id, leased.leaseToken, outcome, { at: new Date().toISOString(), ...event }, patch);
    if (!after) {
      this.options.logger.info({ deliveryId: leased.delivery.id }, "delivery worker: the delivery changed under the lease (cancelled or taken over); its record wins");
      return;
    }
    this.options.onAttempt?.(after.channel, event.status);
    this.options.logger.info(
      { deliveryId: after.id, channel: after.channel, userId: after.userId, messageId: after.lastMessageId, status: after.status, detail: event.detail },
      `offline ${after.channel} ${after.status}`,
    );
    this.options.onChanged(after);
  }

  private async pruneIfDue(now: number): Promise<void> {
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    const deleted = await this.options.store.prune(now - this.options.retentionMs);
    if (deleted > 0) this.options.logger.info({ deleted }, "delivery worker: pruned finished deliveries");
  }
}

/** What a notification says about its conversation. */
type ConversationInfo = Pick<Conversation, "type" | "title">;

/** What a send is about. */
interface SendContext {
  conversation: ConversationInfo;
  message: Message;
  recipient: User;
  senderName: string;
}

/** "Sent a photo", "Sent 2 photos and a file", or "" for a message without attachments. */
function attachmentSummary(message: Message): string {
  const attachments = message.attachments ?? [];
  if (attachments.length === 0) return "";
  const pictures = attachments.filter((a) => a.mimeType?.startsWith("image/")).length;
  return `Sent ${describeFiles(pictures, attachments.length - pictures)}`;
}

function describePush(result: PushResult): string {
  switch (result.kind) {
    case "sent":
      return `accepted (${result.statusCode})`;
    case "gone":
      return `gone (${result.statusCode})`;
    case "retry":
      return `${result.statusCode ?? "no answer"}: ${result.detail}`;
    case "failed":
      return `${result.statusCode ?? "no answer"}: ${result.detail}`;
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
}

function firstStatus(results: PushResult[]): number | undefined {
  for (const r of results) if (r.statusCode !== undefined) return r.statusCode;
  return undefined;
}

