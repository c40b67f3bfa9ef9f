import { cancelledEvent, collapsedEvent, isoToMs, scheduledEvent } from "./delivery-timeline.js";
import type { QuietHours } from "./quiet-hours.js";
import { randomUUID } from "node:crypto";
import { MongoServerError, type Collection, type Db, type Document, type Filter, type WriteConcernSettings } from "mongodb";
import { SwitchboardError } from "../core/errors.js";
import { runMongo } from "../store/mongo-store.js";
import {
  DELIVERY_CHANNELS,
  type AttemptOutcome,
  type CancelReason,
  type ConsentAction,
  type ConsentEntry,
  type ConsentState,
  type ConversationMute,
  type Delivery,
  type DeliveryChannel,
  type DeliveryEvent,
  type DeliveryPatch,
  type DeliveryStatus,
  type DeliveryStore,
  type LeasedDelivery,
  type NotificationPreferences,
  type PlanInput,
  type PlanResult,
  type PushSubscriptionRecord,
  type SandboxSms,
  type SmsThread,
} from "./delivery-store.js";

/** Options of {@link MongoDeliveryStore}. */
export interface MongoDeliveryStoreOptions {
  /** Write concern of every write. Default `{ w: "majority", journal: true }`, like the main store. */
  writeConcern?: WriteConcernSettings;
}

interface DeliveryDoc {
  _id: string;
  messageId: string;
  conversationId: string;
  seq: number;
  userId: string;
  channel: DeliveryChannel;
  status: DeliveryStatus;
  lastSeq: number;
  lastMessageId: string;
  messageCount: number;
  collapsedInto?: string;
  cancelReason?: CancelReason;
  /** Epoch ms, while scheduled. */
  dueAt?: number;
  attempts: number;
  /** Epoch ms. */
  sentAt?: number;
  /** True from the hand-over until the recipient reads or connects: later messages fold into it. */
  burstOpen: boolean;
  providerMessageId?: string;
  to?: string;
  from?: string;
  encoding?: "GSM-7" | "UCS-2";
  segments?: number;
  mediaCount?: number;
  events: DeliveryEvent[];
  leaseToken?: string;
  /** Epoch ms. */
  leaseUntil?: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
}

interface PushSubscriptionDoc {
  _id: string;
  userId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  userAgent?: string;
  createdAt: string;
}

interface PreferencesDoc {
  /** The user id. */
  _id: string;
  push: boolean;
  sms: boolean;
  smsDelayMs?: number;
  /** Absent in documents written before email existed: on. */
  email?: boolean;
  emailDelayMs?: number;
  quietHours?: QuietHours;
  updatedAt: string;
}

interface MuteDoc {
  userId: string;
  conversationId: string;
  until?: string;
  /** `until` in epoch ms. */
  untilMs?: number;
}

interface ConsentDoc {
  phone: string;
  action: ConsentAction;
  source: ConsentEntry["source"];
  keyword?: string;
  note?: string;
  at: string;
  /** `at` in epoch ms. */
  atMs: number;
}

interface ThreadDoc {
  phone: string;
  ourNumber: string;
  userId: string;
  conversationId: string;
  lastUsedAt: string;
  /** `lastUsedAt` in epoch ms. */
  lastUsedMs: number;
}

interface SandboxDoc {
  /** The sid. */
  _id: string;
  direction: SandboxSms["direction"];
  from: string;
  to: string;
  body: string;
  /** MMS only. */
  mediaUrls?: string[];
  status: SandboxSms["status"];
  at: string;
  /** `at` in epoch ms. */
  atMs: number;
}

interface SettingDoc {
  /** The key. */
  _id: string;
  value: string;
}

const DUPLICATE_KEY = 11000;

/**
 * The MongoDB {@link DeliveryStore}, in the main store's database: collections `deliveries`,
 * `pushSubscriptions`, `notificationPreferences`, `conversationMutes`, `smsConsent`, `smsThreads`,
 * `sandboxSms` and `deliverySettings`. Needs no transactions:
 * - a unique index on (messageId, userId, channel) decides between nodes planning the same
 *   message; `plan` claims that key with its insert *before* it folds the message into another
 *   delivery, so a repeated plan never counts a message twice;
 * - a lease is one `findOneAndUpdate` on a due, unleased delivery, atomic per document, so two
 *   nodes never hold the same delivery; `complete` matches the lease token in the same way.
 *
 * Unlike SQLite, folding a burst is best-effort across nodes: two nodes planning two *different*
 * messages of one conversation for one recipient at the same instant may both schedule a
 * notification; and a crash between claiming the key and folding leaves the covering delivery's
 * `messageCount` one short. Neither breaks "at most one row per (message, user, channel)".
 *
 * Counting rule of {@link complete}: every outcome counts as an attempt except a `scheduled` one
 * with `countsAsAttempt: false`.
 *
 * @example
 * const deliveryStore = new MongoDeliveryStore(client.db());
 * await deliveryStore.init();
 */
export class MongoDeliveryStore implements DeliveryStore {
  private readonly deliveries: Collection<DeliveryDoc>;
  private readonly pushSubscriptions: Collection<PushSubscriptionDoc>;
  private readonly preferences: Collection<PreferencesDoc>;
  private readonly mutes: Collection<MuteDoc>;
  private readonly consent: Collection<ConsentDoc>;
  private readonly threads: Collection<ThreadDoc>;
  private readonly sandbox: Collection<SandboxDoc>;
  private readonly settings: Collection<SettingDoc>;

  /** @param db a database of an already-connected client, which this store never closes. */
  constructor(db: Db, options: MongoDeliveryStoreOptions = {}) {
    const collectionOptions = { writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true }, ignoreUndefined: true };
    this.deliveries = db.collection<DeliveryDoc>("deliveries", collectionOptions);
    this.pushSubscriptions = db.collection<PushSubscriptionDoc>("pushSubscriptions", collectionOptions);
    this.preferences = db.collection<PreferencesDoc>("notificationPreferences", collectionOptions);
    this.mutes = db.collection<MuteDoc>("conversationMutes", collectionOptions);
    this.consent = db.collection<ConsentDoc>("smsConsent", collectionOptions);
    this.threads = db.collection<ThreadDoc>("smsThreads", collectionOptions);
    this.sandbox = db.collection<SandboxDoc>("sandboxSms", collectionOptions);
    this.settings = db.collection<SettingDoc>("deliverySettings", collectionOptions);
  }

  /** Creates every index (idempotent: MongoDB ignores an identical existing index). */
  init(): Promise<void> {
    return runMongo(async () => {
      await Promise.all([
        this.deliveries.createIndexes([
          // The arbiter of "one notification per message, user and channel" across nodes; its
          // prefix also serves listForMessage.
          { key: { messageId: 1, userId: 1, channel: 1 }, name: "message_user_channel", unique: true },
          // The workers' queue, in lease order: only scheduled deliveries are indexed.
          { key: { dueAt: 1, _id: 1 }, name: "due", partialFilterExpression: { status: "scheduled" } },
          { key: { conversationId: 1, userId: 1, channel: 1, status: 1 }, name: "recipient" },
          { key: { userId: 1, status: 1 }, name: "user" },
          { key: { userId: 1, conversationId: 1 }, name: "open_bursts", partialFilterExpression: { burstOpen: true } },
          { key: { providerMessageId: 1 }, name: "provider_message_id", partialFilterExpression: { providerMessageId: { $exists: true } } },
          { key: { createdAt: 1 }, name: "age" },
        ]),
        this.pushSubscriptions.createIndexes([
          { key: { endpoint: 1 }, name: "endpoint", unique: true },
          { key: { userId: 1, createdAt: 1 }, name: "user" },
        ]),
        this.mutes.createIndexes([{ key: { userId: 1, conversationId: 1 }, name: "user_conversation", unique: true }]),
        this.consent.createIndexes([{ key: { phone: 1, atMs: 1 }, name: "phone_time" }]),
        this.threads.createIndexes([
          { key: { phone: 1, ourNumber: 1 }, name: "phone_number", unique: true },
          { key: { phone: 1, lastUsedMs: -1 }, name: "phone_recent" },
        ]),
        this.sandbox.createIndexes([{ key: { atMs: -1 }, name: "time" }]),
      ]);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async planBatch(inputs: readonly PlanInput[]): Promise<PlanResult[]> {
    // No multi-document transaction: each plan is safe on its own (its unique key claims it).
    const results: PlanResult[] = [];
    for (const input of inputs) results.push(await this.plan(input));
    return results;
  }

  plan(input: PlanInput): Promise<PlanResult> {
    return runMongo(async () => {
      const known = await this.findTriple(input);
      if (known) return { kind: "exists", delivery: toDelivery(known) };
      const at = new Date(input.now).toISOString();

      const target = await this.findTarget(input);
      if (!target) {
        const doc = newDelivery(input, "scheduled", scheduledEvent(input, at));
        doc.dueAt = input.dueAt;
        if (!(await this.claim(doc))) return this.existing(input);
        return { kind: "scheduled", delivery: toDelivery(doc) };
      }

      // Claim the key first: of two nodes planning this message only one gets past here, so the
      // covering delivery is never credited twice.
      const doc = newDelivery(input, "collapsed", collapsedEvent(at, { id: target._id, status: target.status }));
      doc.collapsedInto = target._id;
      if (!(await this.claim(doc))) return this.existing(input);
      const into = await this.absorb(target, input, at);
      if (into) return { kind: "collapsed", delivery: toDelivery(doc), into: toDelivery(into) };

      // The target changed between the read and the fold (sent, cancelled, burst closed): look once
      // more with the key already ours, else this message gets a notification of its own.
      const second = await this.findTarget(input);
      const secondInto = second && (await this.absorb(second, input, at));
      if (second && secondInto) {
        const moved = await this.deliveries.findOneAndUpdate(
          { _id: doc._id },
          { $set: { collapsedInto: second._id, events: [collapsedEvent(at, { id: second._id, status: second.status })] } },
          { returnDocument: "after" },
        );
        return { kind: "collapsed", delivery: toDelivery(moved ?? doc), into: toDelivery(secondInto) };
      }
      const alone = await this.deliveries.findOneAndUpdate(
        { _id: doc._id },
        { $set: { status: "scheduled", dueAt: input.dueAt, events: [scheduledEvent(input, at)] }, $unset: { collapsedInto: "" } },
        { returnDocument: "after" },
      );
      if (!alone) throw new SwitchboardError("unavailable", `Delivery ${doc._id} disappeared while it was being planned; retry.`);
      return { kind: "scheduled", delivery: toDelivery(alone) };
    });
  }

  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]> {
    return runMongo(async () => {
      const leaseToken = randomUUID();
      const leased: LeasedDelivery[] = [];
      // One document at a time: findOneAndUpdate is atomic per document, a batch update is not.
      while (leased.length < limit) {
        const doc = await this.deliveries.findOneAndUpdate(
          { status: "scheduled", dueAt: { $lte: now }, leaseUntil: { $not: { $gte: now } } },
          { $set: { leaseToken, leaseUntil: now + leaseMs } },
          { sort: { dueAt: 1, _id: 1 }, returnDocument: "after" },
        );
        if (!doc) break;
        leased.push({ delivery: toDelivery(doc), leaseToken });
      }
      return leased;
    });
  }

  complete(deliveryId: string, leaseToken: string, outcome: AttemptOutcome, event: DeliveryEvent, patch: DeliveryPatch = {}): Promise<Delivery | null> {
    return runMongo(async () => {
      const at = isoToMs(event.at);
      const counted = outcome.status === "scheduled" ? outcome.countsAsAttempt : true;
      // An aggregation-pipeline update: values are wrapped in $literal so that a caller's text
      // starting with "$" is never read as a field path.
      const set: Document = {
        status: outcome.status,
        attempts: { $add: ["$attempts", counted ? 1 : 0] },
        events: { $concatArrays: [{ $ifNull: ["$events", []] }, { $literal: [event] }] },
        updatedAt: at,
      };
      const unset = ["leaseToken", "leaseUntil"];
      if (outcome.status === "scheduled") set.dueAt = outcome.dueAt;
      else unset.push("dueAt");
      if (outcome.status === "sent" || outcome.status === "delivered") {
        set.sentAt = { $ifNull: ["$sentAt", at] };
        set.burstOpen = true;
      }
      // The provider id is kept from the first accepted text; the other fields follow the attempt.
      if (patch.providerMessageId !== undefined) set.providerMessageId = { $ifNull: ["$providerMessageId", { $literal: patch.providerMessageId }] };
      for (const key of ["to", "from", "encoding", "segments", "mediaCount", "cancelReason"] as const) {
        const value = patch[key];
        if (value !== undefined) set[key] = { $literal: value };
      }
      const doc = await this.deliveries.findOneAndUpdate({ _id: deliveryId, leaseToken, status: "scheduled" }, [{ $set: set }, { $unset: unset }], {
        returnDocument: "after",
      });
      return doc ? toDelivery(doc) : null;
    });
  }

  releaseLease(deliveryId: string, leaseToken: string): Promise<void> {
    return runMongo(async () => {
      await this.deliveries.updateOne({ _id: deliveryId, leaseToken }, { $unset: { leaseToken: "", leaseUntil: "" } });
    });
  }

  cancelScheduled(conversationId: string, userId: string, seq: number, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]> {
    return runMongo(() => this.cancel(conversationId, userId, seq, reason, channels, now));
  }

  cancelScheduledForUser(userId: string, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]> {
    return runMongo(() => this.cancel(null, userId, null, reason, channels, now));
  }

  /**
   * Bursts are closed *before* the cancelling: a plan racing in between then either folds into a
   * still-scheduled delivery (whose `lastSeq` rises past `seq`, so it is rightly kept) or starts a
   * new notification, never folds into a burst the recipient has just read.
   */
  private async cancel(conversationId: string | null, userId: string, seq: number | null, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]> {
    if (channels.length === 0) return [];
    await this.closeOpenBursts(conversationId, userId, channels);
    const filter: Filter<DeliveryDoc> = { userId, status: "scheduled", channel: { $in: [...channels] } };
    if (conversationId !== null) filter.conversationId = conversationId;
    if (seq !== null) filter.lastSeq = { $lte: seq };
    const candidates = await this.deliveries.find(filter, { projection: { _id: 1 } }).toArray();
    const event = cancelledEvent(reason, now);
    const cancelled: DeliveryDoc[] = [];
    for (const { _id } of candidates) {
      // The filter again, per document: a message folded in meanwhile may have raised lastSeq.
      const doc = await this.deliveries.findOneAndUpdate(
        { ...filter, _id },
        { $set: { status: "cancelled", cancelReason: reason, updatedAt: now }, $unset: { dueAt: "", leaseToken: "", leaseUntil: "" }, $push: { events: event } },
        { returnDocument: "after" },
      );
      if (doc) cancelled.push(doc);
    }
    return cancelled.sort(byCreation).map(toDelivery);
  }

  closeBursts(conversationId: string | null, userId: string, _now: number): Promise<void> {
    return runMongo(() => this.closeOpenBursts(conversationId, userId, DELIVERY_CHANNELS));
  }

  private async closeOpenBursts(conversationId: string | null, userId: string, channels: readonly DeliveryChannel[]): Promise<void> {
    const filter: Filter<DeliveryDoc> = { userId, burstOpen: true, channel: { $in: [...channels] } };
    if (conversationId !== null) filter.conversationId = conversationId;
    await this.deliveries.updateMany(filter, { $set: { burstOpen: false } });
  }

  recordProviderStatus(providerMessageId: string, status: "sent" | "delivered" | "undelivered" | "failed", event: DeliveryEvent): Promise<Delivery | null> {
    return runMongo(async () => {
      const doc = await this.deliveries.findOne({ providerMessageId }, { sort: { createdAt: 1, _id: 1 } });
      if (!doc) return null;
      const updatedAt = isoToMs(event.at);
      // Only a handed-over text learns its fate, and the status filter makes the move atomic: a
      // report racing another one never leaves a final status.
      if (status !== "sent") {
        const moved = await this.deliveries.findOneAndUpdate(
          { _id: doc._id, status: "sent" },
          { $set: { status, updatedAt }, $push: { events: event } },
          { returnDocument: "after" },
        );
        if (moved) return toDelivery(moved);
      }
      const noted = await this.deliveries.findOneAndUpdate({ _id: doc._id }, { $set: { updatedAt }, $push: { events: event } }, { returnDocument: "after" });
      return noted ? toDelivery(noted) : null;
    });
  }

  getDelivery(id: string): Promise<Delivery | null> {
    return runMongo(async () => {
      const doc = await this.deliveries.findOne({ _id: id });
      return doc ? toDelivery(doc) : null;
    });
  }

  listForMessage(messageId: string): Promise<Delivery[]> {
    return runMongo(async () => (await this.deliveries.find({ messageId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toDelivery));
  }

  savePushSubscription(subscription: PushSubscriptionRecord): Promise<PushSubscriptionRecord> {
    return runMongo(async () => {
      // A known endpoint keeps its id and creation time but moves to the new owner and keys.
      const { id, createdAt, endpoint, userAgent, userId, p256dh, auth } = subscription;
      const update =
        userAgent === undefined
          ? { $set: { userId, p256dh, auth }, $unset: { userAgent: "" as const }, $setOnInsert: { _id: id, createdAt } }
          : { $set: { userId, p256dh, auth, userAgent }, $setOnInsert: { _id: id, createdAt } };
      const doc = await retryDuplicate(() => this.pushSubscriptions.findOneAndUpdate({ endpoint }, update, { upsert: true, returnDocument: "after" }));
      if (!doc) throw new Error("findOneAndUpdate with upsert returned no document");
      return toPushSubscription(doc);
    });
  }

  listPushSubscriptions(userId: string): Promise<PushSubscriptionRecord[]> {
    return runMongo(async () => (await this.pushSubscriptions.find({ userId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toPushSubscription));
  }

  deletePushSubscription(userId: string, endpoint: string): Promise<boolean> {
    return runMongo(async () => (await this.pushSubscriptions.deleteOne({ userId, endpoint })).deletedCount > 0);
  }

  deletePushSubscriptionByEndpoint(endpoint: string): Promise<boolean> {
    return runMongo(async () => (await this.pushSubscriptions.deleteOne({ endpoint })).deletedCount > 0);
  }

  getPreferences(userId: string): Promise<NotificationPreferences | null> {
    return runMongo(async () => {
      const doc = await this.preferences.findOne({ _id: userId });
      if (!doc) return null;
      const preferences: NotificationPreferences = { userId: doc._id, push: doc.push, sms: doc.sms, email: doc.email !== false, updatedAt: doc.updatedAt };
      if (doc.smsDelayMs != null) preferences.smsDelayMs = doc.smsDelayMs;
      if (doc.emailDelayMs != null) preferences.emailDelayMs = doc.emailDelayMs;
      if (doc.quietHours) preferences.quietHours = { start: doc.quietHours.start, end: doc.quietHours.end, timeZone: doc.quietHours.timeZone };
      return preferences;
    });
  }

  savePreferences(preferences: NotificationPreferences): Promise<void> {
    return runMongo(async () => {
      const doc: PreferencesDoc = { _id: preferences.userId, push: preferences.push, sms: preferences.sms, email: preferences.email, updatedAt: preferences.updatedAt };
      if (preferences.smsDelayMs !== undefined) doc.smsDelayMs = preferences.smsDelayMs;
      if (preferences.emailDelayMs !== undefined) doc.emailDelayMs = preferences.emailDelayMs;
      if (preferences.quietHours) doc.quietHours = preferences.quietHours;
      await retryDuplicate(() => this.preferences.replaceOne({ _id: doc._id }, doc, { upsert: true }));
    });
  }

  setMute(mute: ConversationMute, muted: boolean): Promise<void> {
    return runMongo(async () => {
      const key = { userId: mute.userId, conversationId: mute.conversationId };
      if (!muted) {
        await this.mutes.deleteOne(key);
        return;
      }
      const doc: MuteDoc = { ...key };
      if (mute.until !== undefined) {
        doc.until = mute.until;
        doc.untilMs = isoToMs(mute.until);
      }
      await retryDuplicate(() => this.mutes.replaceOne(key, doc, { upsert: true }));
    });
  }

  getMute(userId: string, conversationId: string, now: number): Promise<ConversationMute | null> {
    return runMongo(async () => {
      const doc = await this.mutes.findOne({ userId, conversationId, $or: [{ untilMs: { $exists: false } }, { untilMs: { $gt: now } }] });
      if (!doc) return null;
      const mute: ConversationMute = { userId, conversationId };
      if (doc.until != null) mute.until = doc.until;
      return mute;
    });
  }

  appendConsent(entry: ConsentEntry): Promise<void> {
    return runMongo(async () => {
      const doc: ConsentDoc = { phone: entry.phone, action: entry.action, source: entry.source, at: entry.at, atMs: isoToMs(entry.at) };
      if (entry.keyword !== undefined) doc.keyword = entry.keyword;
      if (entry.note !== undefined) doc.note = entry.note;
      await this.consent.insertOne(doc);
    });
  }

  consentState(phone: string): Promise<ConsentState> {
    return runMongo(async () => {
      // _id (an ObjectId, rising within a process) breaks ties between entries of one millisecond.
      const doc = await this.consent.findOne({ phone, action: { $in: ["opt_in", "opt_out"] } }, { sort: { atMs: -1, _id: -1 } });
      if (!doc) return "unknown";
      return doc.action === "opt_out" ? "opted_out" : "opted_in";
    });
  }

  listConsent(phone: string): Promise<ConsentEntry[]> {
    return runMongo(async () =>
      (await this.consent.find({ phone }).sort({ atMs: 1, _id: 1 }).toArray()).map((d) => {
        const entry: ConsentEntry = { phone: d.phone, action: d.action, source: d.source, at: d.at };
        if (d.keyword != null) entry.keyword = d.keyword;
        if (d.note != null) entry.note = d.note;
        return entry;
      }),
    );
  }

  saveSmsThread(thread: SmsThread): Promise<void> {
    return runMongo(async () => {
      const doc: ThreadDoc = { ...pickThread(thread), lastUsedMs: isoToMs(thread.lastUsedAt) };
      await retryDuplicate(() => this.threads.replaceOne({ phone: thread.phone, ourNumber: thread.ourNumber }, doc, { upsert: true }));
    });
  }

  findSmsThread(phone: string, ourNumber: string): Promise<SmsThread | null> {
    return runMongo(async () => {
      const doc = await this.threads.findOne({ phone, ourNumber });
      return doc ? pickThread(doc) : null;
    });
  }

  listSmsThreads(phone: string): Promise<SmsThread[]> {
    return runMongo(async () => (await this.threads.find({ phone }).sort({ lastUsedMs: -1, ourNumber: 1 }).toArray()).map(pickThread));
  }

  recordSandboxSms(sms: SandboxSms): Promise<void> {
    return runMongo(async () => {
      await this.sandbox.insertOne({
        _id: sms.sid,
        direction: sms.direction,
        from: sms.from,
        to: sms.to,
        body: sms.body,
        ...(sms.mediaUrls?.length ? { mediaUrls: [...sms.mediaUrls] } : {}),
        status: sms.status,
        at: sms.at,
        atMs: isoToMs(sms.at),
      });
    });
  }

  updateSandboxSmsStatus(sid: string, status: SandboxSms["status"]): Promise<void> {
    return runMongo(async () => {
      await this.sandbox.updateOne({ _id: sid }, { $set: { status } });
    });
  }

  listSandboxSms(limit: number, phone?: string): Promise<SandboxSms[]> {
    return runMongo(async () => {
      const n = Math.max(0, Math.trunc(limit));
      if (n === 0) return [];
      const filter: Filter<SandboxDoc> = phone === undefined ? {} : { $or: [{ from: phone }, { to: phone }] };
      const docs = await this.sandbox.find(filter).sort({ atMs: -1, _id: -1 }).limit(n).toArray();
      return docs.map(
        (d): SandboxSms => ({
          sid: d._id,
          direction: d.direction,
          from: d.from,
          to: d.to,
          body: d.body,
          ...(d.mediaUrls?.length ? { mediaUrls: d.mediaUrls } : {}),
          status: d.status,
          at: d.at,
        }),
      );
    });
  }

  getSetting(key: string): Promise<string | null> {
    return runMongo(async () => (await this.settings.findOne({ _id: key }))?.value ?? null);
  }

  putSettingIfAbsent(key: string, value: string): Promise<string> {
    return runMongo(async () => {
      try {
        await this.settings.updateOne({ _id: key }, { $setOnInsert: { value } }, { upsert: true });
      } catch (err) {
        // Another node inserted it between our match and our insert: theirs is the value in force.
        if (!isDuplicateKey(err)) throw err;
      }
      const doc = await this.settings.findOne({ _id: key });
      if (!doc) throw new SwitchboardError("unavailable", `Setting ${key} disappeared right after it was stored; retry.`);
      return doc.value;
    });
  }

  prune(before: number): Promise<number> {
    return runMongo(async () => {
      const { deletedCount } = await this.deliveries.deleteMany({ status: { $ne: "scheduled" }, createdAt: { $lt: before } });
      await this.sandbox.deleteMany({ atMs: { $lt: before } });
      return deletedCount;
    });
  }

  private findTriple(input: PlanInput): Promise<DeliveryDoc | null> {
    return this.deliveries.findOne({ messageId: input.messageId, userId: input.userId, channel: input.channel });
  }

  /** The row of a plan that lost the race for its key to another node. */
  private async existing(input: PlanInput): Promise<PlanResult> {
    const doc = await this.findTriple(input);
    if (!doc) throw new SwitchboardError("unavailable", `The delivery of message ${input.messageId} disappeared while it was being planned; retry.`);
    return { kind: "exists", delivery: toDelivery(doc) };
  }

  /** Inserts a new delivery; false when another plan holds the (message, user, channel) key. */
  private async claim(doc: DeliveryDoc): Promise<boolean> {
    try {
      await this.deliveries.insertOne(doc);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Which unique index refused it: the key (another plan won) or the caller's id (a reused id).
      const owner = await this.deliveries.findOne({ messageId: doc.messageId, userId: doc.userId, channel: doc.channel }, { projection: { _id: 1 } });
      if (owner) return false;
      throw new SwitchboardError("conflict", `Delivery ${doc._id} already exists.`, { cause: err });
    }
  }

  /** What may absorb the message: the recipient's scheduled delivery, else a sent one whose burst is open. */
  private async findTarget(input: PlanInput): Promise<DeliveryDoc | null> {
    const recipient = { conversationId: input.conversationId, userId: input.userId, channel: input.channel };
    const scheduled = await this.deliveries.findOne({ ...recipient, status: "scheduled" }, { sort: { createdAt: 1, _id: 1 } });
    if (scheduled) return scheduled;
    return this.deliveries.findOne(
      { ...recipient, status: { $in: ["sent", "delivered"] }, burstOpen: true, sentAt: { $gt: input.collapseSince } },
      { sort: { sentAt: -1, _id: -1 } },
    );
  }

  /** Folds the message into `target` if it is still in the state it was found in; null otherwise. */
  private absorb(target: DeliveryDoc, input: PlanInput, at: string): Promise<DeliveryDoc | null> {
    const count = { $add: ["$messageCount", 1] };
    // The timeline entry is computed by the server, so its count is right even when another node
    // folded a message in since `target` was read.
    const event = {
      at: { $literal: at },
      status: "$status",
      detail: { $concat: [{ $literal: `Also covers message ${input.messageId} (seq ${input.seq}): ` }, { $toString: count }, " messages in all."] },
    };
    const set: Document = { messageCount: count, events: { $concatArrays: [{ $ifNull: ["$events", []] }, [event]] }, updatedAt: input.now };
    if (target.status === "scheduled") {
      // One $set stage reads the document as it was before it, so lastMessageId compares against
      // the old lastSeq: both move forward only.
      set.lastMessageId = { $cond: [{ $gt: [input.seq, "$lastSeq"] }, { $literal: input.messageId }, "$lastMessageId"] };
      set.lastSeq = { $max: ["$lastSeq", input.seq] };
      return this.deliveries.findOneAndUpdate({ _id: target._id, status: "scheduled" }, [{ $set: set }], { returnDocument: "after" });
    }
    return this.deliveries.findOneAndUpdate(
      { _id: target._id, status: { $in: ["sent", "delivered"] }, burstOpen: true, sentAt: { $gt: input.collapseSince } },
      [{ $set: set }],
      { returnDocument: "after" },
    );
  }
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** Runs an upsert once more when a concurrent upsert of the same key won the insert. */
async function retryDuplicate<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}

function newDelivery(input: PlanInput, status: "scheduled" | "collapsed", event: DeliveryEvent): DeliveryDoc {
  return {
    _id: input.id,
    messageId: input.messageId,
    conversationId: input.conversationId,
    seq: input.seq,
    userId: input.userId,
    channel: input.channel,
    status,
    lastSeq: input.seq,
    lastMessageId: input.messageId,
    messageCount: 1,
    attempts: 0,
    burstOpen: false,
    events: [event],
    createdAt: input.now,
    updatedAt: input.now,
  };
}

function byCreation(a: DeliveryDoc, b: DeliveryDoc): number {
  return a.createdAt - b.createdAt || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}

function pickThread(t: SmsThread): SmsThread {
  return { phone: t.phone, ourNumber: t.ourNumber, userId: t.userId, conversationId: t.conversationId, lastUsedAt: t.lastUsedAt };
}

function toDelivery(d: DeliveryDoc): Delivery {
  const delivery: Delivery = {
    id: d._id,
    messageId: d.messageId,
    conversationId: d.conversationId,
    seq: d.seq,
    userId: d.userId,
    channel: d.channel,
    status: d.status,
    lastSeq: d.lastSeq,
    lastMessageId: d.lastMessageId,
    messageCount: d.messageCount,
    attempts: d.attempts ?? 0,
    events: d.events ?? [],
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
  };
  if (d.collapsedInto != null) delivery.collapsedInto = d.collapsedInto;
  if (d.cancelReason != null) delivery.cancelReason = d.cancelReason;
  if (d.status === "scheduled" && d.dueAt != null) delivery.dueAt = new Date(d.dueAt).toISOString();
  if (d.sentAt != null) delivery.sentAt = new Date(d.sentAt).toISOString();
  if (d.providerMessageId != null) delivery.providerMessageId = d.providerMessageId;
  if (d.to != null) delivery.to = d.to;
  if (d.from != null) delivery.from = d.from;
  if (d.encoding != null) delivery.encoding = d.encoding;
  if (d.segments != null) delivery.segments = d.segments;
  if (d.mediaCount != null) delivery.mediaCount = d.mediaCount;
  return delivery;
}

function toPushSubscription(d: PushSubscriptionDoc): PushSubscriptionRecord {
  const subscription: PushSubscriptionRecord = { id: d._id, userId: d.userId, endpoint: d.endpoint, p256dh: d.p256dh, auth: d.auth, createdAt: d.createdAt };
  if (d.userAgent != null) subscription.userAgent = d.userAgent;
  return subscription;
}
