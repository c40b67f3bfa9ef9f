/**
 * Persistence of the offline fallback: the delivery outbox (one row per message, recipient and
 * channel, leased by workers on any node), each delivery's timeline, Web Push subscriptions,
 * notification preferences and mutes, the SMS consent ledger, SMS threads (which of our numbers
 * talks to which phone about which conversation), the sandbox SMS log and small shared settings
 * (the generated VAPID keys). An interface here, drivers beside it (`sqlite-delivery-store.ts`,
 * `mongo-delivery-store.ts`); the composition root picks one next to the main store and hands it
 * the same database.
 */

import type { QuietHours } from "./quiet-hours.js";

/** How an offline member is reached. */
export type DeliveryChannel = "push" | "email" | "sms";

/** Every {@link DeliveryChannel} this build can send (the ladder's order comes from `DELIVERY_LADDER`). */
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = ["push", "email", "sms"];

/** Whether `name` (a `DELIVERY_LADDER` channel) is a channel this build has a sender for. */
export function isDeliveryChannel(name: string): name is DeliveryChannel {
  return (DELIVERY_CHANNELS as readonly string[]).includes(name);
}

/**
 * Whether the user's preferences let `channel` reach them; null preferences (never set) allow
 * every channel. The one place that maps a channel to its on/off preference, shared by the
 * planner, the worker and the settings service.
 */
export function preferenceAllows(preferences: NotificationPreferences | null, channel: DeliveryChannel): boolean {
  if (!preferences) return true;
  switch (channel) {
    case "push":
      return preferences.push;
    case "email":
      // Rows written before email existed have no such field: on, like every channel by default.
      return preferences.email !== false;
    case "sms":
      return preferences.sms;
    default: {
      const exhaustive: never = channel;
      return exhaustive;
    }
  }
}

/** The user's own wait before `channel` (overriding the ladder's), or undefined for the ladder's. */
export function preferredDelayMs(preferences: NotificationPreferences | null, channel: DeliveryChannel): number | undefined {
  switch (channel) {
    case "sms":
      return preferences?.smsDelayMs;
    case "email":
      return preferences?.emailDelayMs;
    case "push":
      return undefined;
    default: {
      const exhaustive: never = channel;
      return exhaustive;
    }
  }
}

/** Where a delivery stands. */
export type DeliveryStatus =
  /** Waiting until `dueAt` for its first or next attempt (or being attempted under a lease). */
  | "scheduled"
  /** Handed over: the push service accepted it (201), or the SMS provider queued or sent it. */
  | "sent"
  /** The SMS provider reported the handset received it (Web Push has no such receipt). */
  | "delivered"
  /** The SMS provider reported the carrier could not deliver it. */
  | "undelivered"
  /** Given up: a permanent error, the retries exhausted, or the provider reported `failed`. */
  | "failed"
  /** Not sent because it was no longer needed or allowed (see {@link CancelReason}). */
  | "cancelled"
  /** Part of a burst: the notification of an earlier message (`collapsedInto`) covers it. */
  | "collapsed";

/** Statuses after which a delivery never changes again (except `sent` → provider receipts). */
export const FINAL_DELIVERY_STATUSES: readonly DeliveryStatus[] = ["delivered", "undelivered", "failed", "cancelled", "collapsed"];

/** Why a delivery was cancelled before it was sent. */
export type CancelReason =
  /** The recipient read the conversation up to the message. */
  | "read"
  /** The recipient connected, so the app has it. */
  | "online"
  /** The phone number replied STOP (or the provider said it is unsubscribed). */
  | "opted_out"
  /** The recipient muted the conversation or turned the channel off after it was planned. */
  | "muted"
  /** Nothing to send to any more: every push subscription is gone, or the phone number was removed. */
  | "no_destination"
  /** The recipient left the conversation. */
  | "not_member";

/**
 * One entry of a delivery's timeline. `status` is the delivery's status after the entry, or the
 * provider's own word for an intermediate step (`queued`, `sending`, `accepted`, `retrying`).
 */
export interface DeliveryEvent {
  /** ISO-8601. */
  at: string;
  status: DeliveryStatus | "queued" | "sending" | "accepted" | "retrying" | "deferred";
  /** Attempt number (1-based) for entries written by an attempt. */
  attempt?: number;
  /** The push service's or provider's HTTP status, when one answered. */
  statusCode?: number;
  /** The provider's error code (Twilio's numeric code as a string) or ours. */
  errorCode?: string;
  /** Human-readable: what happened and, for failures, why. */
  detail?: string;
}

/** One notification of one message to one recipient over one channel. */
export interface Delivery {
  /** `dlv_` + time in base 36 (fixed width) + random hex: sorts by creation. */
  id: string;
  messageId: string;
  conversationId: string;
  /** The message's seq. */
  seq: number;
  userId: string;
  channel: DeliveryChannel;
  status: DeliveryStatus;
  /**
   * The newest message this notification covers: a burst folded into a scheduled delivery moves
   * it forward, so the text sent is the latest one. Equal to `seq`/`messageId` otherwise.
   */
  lastSeq: number;
  lastMessageId: string;
  /** How many messages this notification covers (1 + the collapsed ones). */
  messageCount: number;
  /** With `collapsed`: the delivery that covers this message. */
  collapsedInto?: string;
  /** With `cancelled`. */
  cancelReason?: CancelReason;
  /** ISO-8601, while `scheduled`: when the next attempt is due. */
  dueAt?: string;
  /** Attempts made so far. */
  attempts: number;
  /** ISO-8601: when it was handed over (status `sent` or later); bursts collapse into it for a while. */
  sentAt?: string;
  /** The provider's id of what it sent (Twilio's `SM…` sid; an email's `Message-ID`); set on the first accepted send. */
  providerMessageId?: string;
  /** SMS: the recipient's number (E.164) and ours; email: the recipient's address and our `From`. */
  to?: string;
  from?: string;
  /** SMS: the encoding and segment count of the text sent. */
  encoding?: "GSM-7" | "UCS-2";
  segments?: number;
  /** SMS: the pictures sent with the text as MMS (`MediaUrl`s); absent for a plain SMS. */
  mediaCount?: number;
  /** Oldest first. */
  events: DeliveryEvent[];
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
}

/** What the planner asks {@link DeliveryStore.plan} to record. */
export interface PlanInput {
  /** A fresh id, used only when a new row is created. */
  id: string;
  messageId: string;
  conversationId: string;
  seq: number;
  userId: string;
  channel: DeliveryChannel;
  /** Epoch ms: when the first attempt is due (now + the ladder step's delay, or the end of quiet hours). */
  dueAt: number;
  /** Set when `dueAt` was moved to the end of the recipient's quiet hours; the timeline says so. */
  deferred?: { reason: "quiet_hours"; detail: string };
  /**
   * Epoch ms: a delivery of the same conversation, user and channel that was sent after this
   * moment and whose burst is still open absorbs the new message (status `collapsed`).
   */
  collapseSince: number;
  /** Epoch ms. */
  now: number;
}

/** What {@link DeliveryStore.plan} did. */
export type PlanResult =
  /** A new scheduled delivery. */
  | { kind: "scheduled"; delivery: Delivery }
  /** A new `collapsed` row for this message; `into` is the covering delivery after the change. */
  | { kind: "collapsed"; delivery: Delivery; into: Delivery }
  /** A row for (message, user, channel) existed already (a repeated announcement): unchanged. */
  | { kind: "exists"; delivery: Delivery };

/** A due delivery leased to one worker. */
export interface LeasedDelivery {
  delivery: Delivery;
  /** Proves the lease in {@link DeliveryStore.complete}. */
  leaseToken: string;
}

/** Fields an attempt may set on the delivery besides its status. */
export interface DeliveryPatch {
  providerMessageId?: string;
  to?: string;
  from?: string;
  encoding?: "GSM-7" | "UCS-2";
  segments?: number;
  mediaCount?: number;
  cancelReason?: CancelReason;
}

/** What an attempt leads to, recorded by {@link DeliveryStore.complete}. */
export type AttemptOutcome =
  /** Try again at `dueAt` (epoch ms); `countsAsAttempt` false for a wait that was not an attempt (a rate limit of ours). */
  | { status: "scheduled"; dueAt: number; countsAsAttempt: boolean }
  | { status: "sent" | "delivered" | "failed" | "cancelled" };

/** A Web Push subscription of one browser (the `PushSubscription.toJSON()` of the browser). */
export interface PushSubscriptionRecord {
  /** `psub_<hex>`. */
  id: string;
  userId: string;
  /** The push service URL; unique: registering it again moves it to the new user. */
  endpoint: string;
  /** The browser's P-256 public key, base64url. */
  p256dh: string;
  /** The 16-byte auth secret, base64url. */
  auth: string;
  /** Informational, from the request's `User-Agent`, cut to 200 characters. */
  userAgent?: string;
  /** ISO-8601. */
  createdAt: string;
}

/** A user's channel choices; absent fields mean the defaults (every channel on). */
export interface NotificationPreferences {
  userId: string;
  /** Web Push on/off (default on). */
  push: boolean;
  /** SMS on/off (default on; SMS also needs a phone number with consent). */
  sms: boolean;
  /** Overrides the server's SMS delay for this user, in ms (absent: the server's default). */
  smsDelayMs?: number;
  /** Email on/off (default on; email also needs an address on the user record that did not bounce). */
  email: boolean;
  /** Overrides the server's email delay for this user, in ms (absent: `EMAIL_DELAY_SECONDS`). */
  emailDelayMs?: number;
  /**
   * A daily window in the user's time zone in which nothing is sent: a notification due inside
   * it waits for its end (absent: none).
   */
  quietHours?: QuietHours;
  /** ISO-8601. */
  updatedAt: string;
}

/** One conversation muted by one user. */
export interface ConversationMute {
  userId: string;
  conversationId: string;
  /** ISO-8601: muted until then; absent: until unmuted. */
  until?: string;
}

/** What happened to a phone number's consent, as the ledger records it. */
export type ConsentAction = "opt_in" | "opt_out" | "help";

/** One entry of the consent ledger; entries are only ever appended. */
export interface ConsentEntry {
  /** E.164. */
  phone: string;
  action: ConsentAction;
  /**
   * `keyword`: the phone user texted a keyword (`keyword` holds it); `api`: the customer's
   * backend recorded consent it collected; `provider`: the provider refused a send because the
   * number unsubscribed (Twilio error 21610).
   */
  source: "keyword" | "api" | "provider";
  keyword?: string;
  /** Free text from the API caller (where consent was collected) or the provider's error. */
  note?: string;
  /** ISO-8601. */
  at: string;
}

/** A phone number's current consent: the last opt-in or opt-out decides; `unknown` without either. */
export type ConsentState = "opted_in" | "opted_out" | "unknown";

/** Which conversation texts between a phone and one of our numbers belong to. */
export interface SmsThread {
  /** The user's number, E.164. */
  phone: string;
  /** Our number, E.164. */
  ourNumber: string;
  userId: string;
  conversationId: string;
  /** ISO-8601: the last text in either direction, which decides which thread a pool number reuses. */
  lastUsedAt: string;
}

/** A text the sandbox SMS driver "sent" or "received", kept for the sandbox page. */
export interface SandboxSms {
  /** `SM` (`MM` for an MMS) + 32 hex, like a Twilio message sid. */
  sid: string;
  direction: "outbound" | "inbound";
  from: string;
  to: string;
  body: string;
  /**
   * MMS: the pictures' URLs, as the provider would fetch them (outbound: signed URLs on
   * `PUBLIC_URL`; inbound: the uploads the phone user's pictures became). Absent for a plain text.
   */
  mediaUrls?: string[];
  /** The sandbox's simulated provider status. */
  status: "queued" | "sent" | "delivered" | "received";
  /** ISO-8601. */
  at: string;
}

/**
 * The offline fallback's persistence.
 *
 * Contract (shown for every driver by `test/delivery-store-contract.ts`):
 * - `plan` is idempotent on (messageId, userId, channel): at most one row per triple, also when
 *   several nodes plan the same message at once.
 * - A due, scheduled delivery is leased to at most one caller at a time, also across processes
 *   and nodes; a lease that ran out (its holder died) can be taken again.
 * - `complete` only counts for the holder of the current lease.
 * - Final statuses never change, except `sent` moving to a provider receipt.
 * Errors are thrown as `SwitchboardError` (`not_found`, `conflict`, `unavailable`).
 */
export interface DeliveryStore {
  /** Creates tables, collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Nothing to release: the database connection belongs to the main store, which closes it. */
  close(): Promise<void>;

  /**
   * Records the delivery of one message to one user over one channel, atomically:
   * - a row for (messageId, userId, channel) exists → `exists`, nothing changes;
   * - else a `scheduled` row of the same (conversationId, userId, channel) exists → a new
   *   `collapsed` row pointing at it, and the scheduled row absorbs the message: `lastSeq`,
   *   `lastMessageId` move forward (never back), `messageCount` + 1, `dueAt` unchanged;
   * - else a row of the same (conversationId, userId, channel) with status `sent` or
   *   `delivered`, `sentAt` after `collapseSince`, whose burst is still open (not closed by
   *   {@link closeBursts}) → a `collapsed` row pointing at it, whose `messageCount` + 1;
   * - else a new `scheduled` row due at `dueAt`.
   * Each change appends an event to the affected rows' timelines.
   */
  plan(input: PlanInput): Promise<PlanResult>;
  /**
   * {@link plan} for several inputs, in order, with the same result per input. Drivers that can
   * make them one write (SQLite: one transaction, one commit) do: a message to a big group plans
   * many members at once.
   */
  planBatch(inputs: readonly PlanInput[]): Promise<PlanResult[]>;

  /**
   * Leases up to `limit` scheduled deliveries due at `now` whose lease is free or ran out, for
   * `leaseMs`, earliest due first. No other caller gets them until the lease ends.
   */
  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]>;
  /**
   * Applies the outcome, appends `event` to the timeline, sets `patch`, frees the lease and, when
   * the attempt counted, increments `attempts`. Returns the delivery after the change, or null (and
   * writes nothing) when the caller's lease is no longer the current one.
   */
  complete(deliveryId: string, leaseToken: string, outcome: AttemptOutcome, event: DeliveryEvent, patch?: DeliveryPatch): Promise<Delivery | null>;
  /** Frees a lease without recording anything (a send abandoned at shutdown). */
  releaseLease(deliveryId: string, leaseToken: string): Promise<void>;

  /**
   * The recipient read up to `seq` (or connected): cancels their scheduled deliveries of the
   * conversation whose `lastSeq <= seq` (with `reason`, on `channels` only) and closes the bursts
   * of their sent ones, so the next message starts a new notification. Leased rows are cancelled
   * too; the lease holder's `complete` then returns null. Returns the cancelled deliveries.
   */
  cancelScheduled(conversationId: string, userId: string, seq: number, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]>;
  /**
   * Like {@link cancelScheduled} across all of the user's conversations and any seq (the user
   * connected, or turned a channel off). Returns the cancelled deliveries.
   */
  cancelScheduledForUser(userId: string, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]>;
  /** Closes the open bursts of the user's sent deliveries in the conversation (they read or connected). */
  closeBursts(conversationId: string | null, userId: string, now: number): Promise<void>;

  /**
   * A provider's status report for the SMS it knows as `providerMessageId`: appends `event` and,
   * when the status moves forward (`sent` → `delivered` / `undelivered` / `failed`; never back,
   * never out of another final status), sets it. Returns the delivery after the change, or null
   * when no delivery has that provider id.
   */
  recordProviderStatus(providerMessageId: string, status: "sent" | "delivered" | "undelivered" | "failed", event: DeliveryEvent): Promise<Delivery | null>;

  getDelivery(id: string): Promise<Delivery | null>;
  /** Every delivery of the message, oldest first. */
  listForMessage(messageId: string): Promise<Delivery[]>;

  /** Adds the subscription, or, for a known endpoint, replaces its keys and owner. Returns what is stored. */
  savePushSubscription(subscription: PushSubscriptionRecord): Promise<PushSubscriptionRecord>;
  /** The user's subscriptions, oldest first. */
  listPushSubscriptions(userId: string): Promise<PushSubscriptionRecord[]>;
  /** Removes the user's subscription with this endpoint; false when there was none. */
  deletePushSubscription(userId: string, endpoint: string): Promise<boolean>;
  /** Removes the subscription with this endpoint whoever owns it (the push service said 404/410). */
  deletePushSubscriptionByEndpoint(endpoint: string): Promise<boolean>;

  /** Null when the user never set any (every channel on). */
  getPreferences(userId: string): Promise<NotificationPreferences | null>;
  savePreferences(preferences: NotificationPreferences): Promise<void>;
  /** Mutes (or, with `muted` false, unmutes) the conversation for the user. */
  setMute(mute: ConversationMute, muted: boolean): Promise<void>;
  /** The mute in force at `now` (epoch ms), or null. */
  getMute(userId: string, conversationId: string, now: number): Promise<ConversationMute | null>;

  appendConsent(entry: ConsentEntry): Promise<void>;
  /** The last `opt_in`/`opt_out` entry decides; `help` changes nothing. */
  consentState(phone: string): Promise<ConsentState>;
  /** The phone's ledger, oldest first. */
  listConsent(phone: string): Promise<ConsentEntry[]>;

  /** Creates or moves the thread of (phone, ourNumber) to this user and conversation. */
  saveSmsThread(thread: SmsThread): Promise<void>;
  findSmsThread(phone: string, ourNumber: string): Promise<SmsThread | null>;
  /** Every thread of the phone, most recently used first. */
  listSmsThreads(phone: string): Promise<SmsThread[]>;

  recordSandboxSms(sms: SandboxSms): Promise<void>;
  updateSandboxSmsStatus(sid: string, status: SandboxSms["status"]): Promise<void>;
  /** Newest first, up to `limit`; only those to or from `phone` when given. */
  listSandboxSms(limit: number, phone?: string): Promise<SandboxSms[]>;

  /** The value stored under `key`, or null. */
  getSetting(key: string): Promise<string | null>;
  /** Stores `value` unless a value exists; returns the value in force (the first writer wins across nodes). */
  putSettingIfAbsent(key: string, value: string): Promise<string>;

  /** Deletes finished deliveries created before `before` (epoch ms) and sandbox texts older than it. Returns deliveries deleted. */
  prune(before: number): Promise<number>;
}
