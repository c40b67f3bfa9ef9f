import type { AttachmentInput, Message } from "../../../../client-sdk/src/protocol.js";
import { LIMITS } from "../../../../client-sdk/src/protocol.js";
import type { ConversationService } from "../../core/conversation-service.js";
import { SwitchboardError } from "../../core/errors.js";
import type { MessageService } from "../../core/message-service.js";
import type { UserService } from "../../core/user-service.js";
import type { Logger } from "../../logger.js";
import type { Store } from "../../store/store.js";
import type { Delivery, DeliveryEvent, DeliveryStore, SmsThread } from "../delivery-store.js";
import type { MediaFetchResult } from "./inbound-media-fetcher.js";
import { outboundMedia, type MediaLink, type MmsMedia, type OutboundMedia } from "./mms-media.js";
import { isGsm7, smsEncoding, truncateSms } from "./sms-encoding.js";
import type { SmsWebhook } from "./sms-gateway.js";
import { classifySmsKeyword, keywordReply } from "./sms-keywords.js";

/** What {@link SmsService} needs, built by the composition root. */
export interface SmsServiceDeps {
  store: DeliveryStore;
  users: UserService;
  conversations: ConversationService;
  messages: MessageService;
  /** The main store, to find an inbound text already posted before its media are fetched again. */
  chat: Pick<Store, "getMessageByClientId">;
  /** Uploads, for MMS both ways; absent: pictures are neither sent nor received. */
  media?: MmsMedia;
  /** Downloads the provider's inbound media (SSRF-guarded, size-capped); absent: inbound media by URL are skipped. */
  mediaFetcher?: { fetch(url: string): Promise<MediaFetchResult> };
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
  /** The provider's id of the text (Twilio `SM…`/`MM…`); posting is idempotent on it. */
  providerMessageId: string;
  /** The phone user's number, E.164. */
  from: string;
  /** Our number it was sent to, E.164. */
  to: string;
  /** "" for a picture-only MMS. */
  body: string;
  /** The files of an MMS, in order (at most 10). */
  media?: InboundMedia[];
}

/** One file of an inbound MMS. */
export type InboundMedia =
  /** Hosted by the provider (Twilio's `MediaUrl{N}`): downloaded through the media fetcher. */
  | { kind: "url"; url: string; contentType?: string }
  /** Handed over as bytes (the sandbox page's pictures). */
  | { kind: "bytes"; bytes: Uint8Array; contentType?: string; name?: string };

/** What {@link SmsService.handleInbound} did. */
export interface InboundResult {
  /** The text to answer with, if any (TwiML `<Message>`). */
  reply?: string;
  /** The message the text was posted as, new or (for a repeated webhook) the original. */
  message?: Message;
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
  /** Pictures sent with the text as MMS media. */
  pictures?: number;
  /** Files that go as links in the text (see {@link outboundMedia}). */
  links?: readonly MediaLink[];
}

/** The answer to a text from a number, or to a number, that no conversation thread knows. */
export const NOT_LINKED_REPLY = "This number is not linked to a conversation.";
/** The answer to a text from a phone user who has left the thread's conversation. */
export const NOT_MEMBER_REPLY = "You are no longer in this conversation, so your message was not delivered.";
/** The footer of every notification text. */
export const REPLY_FOOTER = "\nReply to answer.";
/** A notification text is cut to this many segments (each one is billed). */
export const MAX_NOTIFICATION_SEGMENTS = 3;
/** A file name shown before its link is cut to this many characters. */
const LINK_NAME_MAX = 40;
/** Inbound media fetched and stored at once, per text. */
const INBOUND_MEDIA_CONCURRENCY = 4;
/** A file name for inbound media by type, as phones do not send one. */
const MEDIA_EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/heic": "heic",
  "image/avif": "avif",
  "video/mp4": "mp4",
  "video/3gpp": "3gp",
  "video/quicktime": "mov",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/amr": "amr",
  "audio/ogg": "ogg",
  "application/pdf": "pdf",
  "text/plain": "txt",
  "text/vcard": "vcf",
  "text/x-vcard": "vcf",
};

/**
 * The two-way SMS bridge, independent of any provider and transport: inbound texts (and MMS, whose
 * files become uploads of the phone user) become messages of the phone user in the conversation
 * their thread points at; keywords update the consent ledger; provider status reports update the
 * delivery timeline; outbound texts get one of our numbers per (phone, conversation) so a reply
 * finds its way back, and carry a message's pictures as MMS.
 */
export class SmsService {
  private readonly now: () => number;
  /** Per-phone queue: choosing a number reads the phone's threads and then writes one. */
  private readonly choosing = new Map<string, Promise<unknown>>();
  /** Inbound texts being posted, by client message id: a webhook repeated meanwhile waits for the first. */
  private readonly posting = new Map<string, Promise<InboundResult>>();

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
   * (from, to). The files of an MMS are downloaded (see {@link InboundMediaFetcher}) and stored as
   * uploads of the phone user, and the text and all of them are posted as ONE message; a file that
   * is refused or fails is logged and skipped, and a text with neither words nor files left posts
   * nothing. The post is idempotent on the provider's message id, so a webhook delivered twice
   * posts once, and its files are not downloaded again once it is posted. Returns the text to
   * answer with, if any; an opted-out number only ever gets the answers to its keywords.
   *
   * "YES" is Twilio's opt-in keyword but also an ordinary answer: it re-subscribes a number that
   * opted out and is otherwise posted like any other text.
   */
  async handleInbound(msg: InboundSms): Promise<InboundResult> {
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

    const clientMessageId = `sms:${msg.providerMessageId}`;
    const running = this.posting.get(clientMessageId);
    if (running) return running;
    const post = this.post(msg, user.id, thread, clientMessageId, at);
    this.posting.set(clientMessageId, post);
    try {
      return await post;
    } finally {
      this.posting.delete(clientMessageId);
    }
  }

  /** Posts an inbound text (and its files) as the phone user's message. */
  private async post(msg: InboundSms, userId: string, thread: SmsThread, clientMessageId: string, at: string): Promise<InboundResult> {
    const { store, logger } = this.deps;
    const actor = { kind: "user", userId } as const;
    const text = cutToLength(msg.body.trim(), LIMITS.textMaxLength);
    // A repeated webhook: the send below answers the original without storing anything, but the
    // files must not be downloaded and stored again first.
    const posted = await this.deps.chat.getMessageByClientId(userId, clientMessageId);
    const attachments = posted ? [] : await this.storeInboundMedia(msg, userId);
    if (!posted && text === "" && attachments.length === 0) {
      logger.info({ userId, providerMessageId: msg.providerMessageId, media: msg.media?.length ?? 0 }, "sms with no text and no media left: nothing posted");
      return {};
    }
    const { message, created } = await this.deps.messages.send(actor, {
      conversationId: thread.conversationId,
      clientMessageId,
      text,
      ...(attachments.length ? { attachments } : {}),
    });
    await store.saveSmsThread({ ...thread, lastUsedAt: at });
    logger.info({ userId, conversationId: thread.conversationId, messageId: message.id, created, attachments: message.attachments?.length ?? 0 }, "sms reply posted");
    return { message };
  }

  /**
   * The files of an MMS stored as uploads of the phone user, in their order; those that cannot be
   * had (refused, failed, of a type uploads do not accept) are logged and left out.
   */
  private async storeInboundMedia(msg: InboundSms, userId: string): Promise<AttachmentInput[]> {
    const items = msg.media ?? [];
    if (items.length === 0) return [];
    const { logger } = this.deps;
    const media = this.deps.media;
    if (!media) {
      logger.warn({ providerMessageId: msg.providerMessageId, media: items.length }, "mms media skipped: uploads are not enabled on this server");
      return [];
    }
    const stored: (AttachmentInput | null)[] = new Array(items.length).fill(null);
    const one = async (index: number): Promise<void> => {
      const item = items[index];
      const skip = (reason: string, err?: unknown) =>
        logger.warn({ err, providerMessageId: msg.providerMessageId, index, ...(item.kind === "url" ? { url: redactQuery(item.url) } : {}), reason }, "mms media skipped");
      let bytes: Uint8Array;
      let contentType = item.contentType;
      switch (item.kind) {
        case "bytes":
          bytes = item.bytes;
          break;
        case "url": {
          if (!this.deps.mediaFetcher) return skip("no media fetcher is configured");
          const fetched = await this.deps.mediaFetcher.fetch(item.url);
          if (fetched.kind !== "fetched") return skip(`${fetched.kind}: ${fetched.reason}`);
          bytes = fetched.bytes;
          contentType = contentType ?? fetched.contentType;
          break;
        }
        default: {
          const exhaustive: never = item;
          return exhaustive;
        }
      }
      if (bytes.byteLength === 0) return skip("the file is empty");
      const name = (item.kind === "bytes" && item.name) || `mms-${index + 1}.${MEDIA_EXTENSIONS[contentType?.toLowerCase() ?? ""] ?? "bin"}`;
      try {
        const { uploadId } = await media.storeInbound({ ownerId: userId, name, bytes, ...(contentType ? { claimedType: contentType } : {}) });
        stored[index] = { uploadId };
      } catch (err) {
        // The text still posts: a picture that could not be kept is not worth losing the words.
        skip(err instanceof SwitchboardError ? `${err.code}: ${err.message}` : "storing the upload failed", err);
      }
    };
    // A few at a time: each may be a 5 MB download and an image re-encode.
    let next = 0;
    const worker = async () => {
      while (next < items.length) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(INBOUND_MEDIA_CONCURRENCY, items.length) }, worker));
    return stored.filter((a): a is AttachmentInput => a !== null);
  }

  /**
   * How `message`'s attachments travel to a phone (see {@link outboundMedia}): its uploaded pictures
   * as signed MMS media URLs, everything else as links. Problems are logged.
   */
  outboundMedia(message: Message): Promise<OutboundMedia> {
    return outboundMedia(message.attachments ?? [], this.deps.media, (attachment, what, err) =>
      this.deps.logger.warn({ err, messageId: message.id, uploadId: attachment.uploadId, what }, "mms: an attachment could not go as the rule wants"),
    );
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
   * you at 5 (+3 more)" for a burst in a titled one, "Ana sent 2 photos" for pictures without
   * words; then a line per file sent as a link ("report.pdf: https://…"), then "Reply to answer."
   * on a line of its own. The message is cut (with an ellipsis) so the whole fits in
   * {@link MAX_NOTIFICATION_SEGMENTS} segments; links are never cut (half a URL is useless), so
   * those that do not fit are left out and counted ("+1 more file in the app").
   */
  composeBody(input: ComposeInput): string {
    const who = input.conversationTitle ? `${input.senderName} in ${input.conversationTitle}` : input.senderName;
    const links = input.links ?? [];
    const pictures = input.pictures ?? 0;
    const text = input.text.trim();
    const head = text !== "" ? `${who}: ${text}` : pictures + links.length > 0 ? `${who} sent ${describeFiles(pictures, links.length)}` : `${who}: (attachment)`;
    const more = input.messageCount > 1 ? ` (+${input.messageCount - 1} more)` : "";
    const lines = links.map(linkLine);
    // As many links as fit whole after the shortest head that still says who wrote (the text
    // itself may be cut down to an ellipsis to make room for them).
    const shortest = text !== "" ? `${who}: ...` : head;
    let kept = lines.length;
    const after = (n: number) => {
      const left = lines.length - n;
      const dropped = left === 0 ? "" : `\n(+${left} more ${left === 1 ? "file" : "files"} in the app)`;
      return `${lines.slice(0, n).join("")}${dropped}${more}${REPLY_FOOTER}`;
    };
    while (kept > 0 && smsEncoding(shortest + after(kept)).segments > MAX_NOTIFICATION_SEGMENTS) kept -= 1;
    return truncateSms(head, MAX_NOTIFICATION_SEGMENTS, { after: after(kept) });
  }
}

/** "a photo", "2 photos", "a photo and 2 files"… */
export function describeFiles(pictures: number, files: number): string {
  const count = (n: number, one: string, many: string) => (n === 1 ? `a ${one}` : `${n} ${many}`);
  const parts = [...(pictures ? [count(pictures, "photo", "photos")] : []), ...(files ? [count(files, "file", "files")] : [])];
  return parts.join(" and ");
}

/**
 * A file's line in the text: its name (when it is short GSM-7 text: one emoji in a name would
 * turn the whole text into UCS-2 and more than halve what fits) and its URL.
 */
function linkLine(link: MediaLink): string {
  const name = link.name?.replace(/\s+/g, " ").trim();
  const shown = name && isGsm7(name) ? (name.length > LINK_NAME_MAX ? `${name.slice(0, LINK_NAME_MAX - 3)}...` : name) : undefined;
  return `\n${shown ? `${shown}: ` : ""}${link.url}`;
}

/** A URL for the logs without its query, which holds signatures and tokens. */
function redactQuery(url: string): string {
  const at = url.indexOf("?");
  return at === -1 ? url : `${url.slice(0, at)}?…`;
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
