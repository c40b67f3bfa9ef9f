import { cancelledEvent, collapsedEvent, isoToMs, scheduledEvent } from "./delivery-timeline.js";
import type { QuietHours } from "./quiet-hours.js";
import { randomUUID } from "node:crypto";
import { SqliteComponent, type SqliteDatabase } from "../store/sqlite-component.js";
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

/** This component's row in `schema_versions`: the main store owns `PRAGMA user_version`. */
const COMPONENT = "delivery";

/**
 * Migrations of the delivery tables, applied in order by {@link SqliteDeliveryStore.init} and
 * counted in `schema_versions`; a later release appends an entry and never edits a shipped one.
 * Times used for ordering, leasing and expiry are epoch milliseconds (INTEGER); times that are only
 * shown are kept as the ISO-8601 text the caller gave.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    last_message_id TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 1,
    collapsed_into TEXT,
    cancel_reason TEXT,
    due_at INTEGER, -- while scheduled
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at INTEGER,
    burst_open INTEGER NOT NULL DEFAULT 0, -- 1 from the hand-over until the recipient reads or connects
    provider_message_id TEXT,
    to_number TEXT,
    from_number TEXT,
    encoding TEXT,
    segments INTEGER,
    events TEXT NOT NULL DEFAULT '[]', -- JSON array of DeliveryEvent, oldest first
    lease_token TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The arbiter of "one notification per message, user and channel", whatever the number of nodes.
    UNIQUE (message_id, user_id, channel)
  ) STRICT;
  -- The workers' queue: only scheduled rows are indexed.
  CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status = 'scheduled';
  CREATE INDEX deliveries_by_message ON deliveries (message_id, created_at);
  CREATE INDEX deliveries_by_recipient ON deliveries (conversation_id, user_id, channel, status);
  CREATE INDEX deliveries_by_user ON deliveries (user_id, status);
  CREATE INDEX deliveries_open_bursts ON deliveries (user_id, conversation_id) WHERE burst_open = 1;
  CREATE INDEX deliveries_by_provider_id ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
  CREATE INDEX deliveries_by_age ON deliveries (created_at);

  CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_agent TEXT,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);

  CREATE TABLE notification_preferences (
    user_id TEXT PRIMARY KEY,
    push INTEGER NOT NULL,
    sms INTEGER NOT NULL,
    sms_delay_ms INTEGER,
    updated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE conversation_mutes (
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    until TEXT,
    until_ms INTEGER, -- until in epoch ms; NULL: until unmuted
    PRIMARY KEY (user_id, conversation_id)
  ) STRICT;

  CREATE TABLE sms_consent (
    id INTEGER PRIMARY KEY, -- insertion order breaks ties between entries of the same millisecond
    phone TEXT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    keyword TEXT,
    note TEXT,
    at TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sms_consent_by_phone ON sms_consent (phone, at_ms, id);

  CREATE TABLE sms_threads (
    phone TEXT NOT NULL,
    our_number TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    last_used_ms INTEGER NOT NULL,
    PRIMARY KEY (phone, our_number)
  ) STRICT;
  CREATE INDEX sms_threads_by_phone ON sms_threads (phone, last_used_ms);

  CREATE TABLE sandbox_sms (
    sid TEXT PRIMARY KEY,
    direction TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sandbox_sms_by_time ON sandbox_sms (at_ms);

  CREATE TABLE delivery_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // MMS: the pictures a text carried.
  `
  ALTER TABLE deliveries ADD COLUMN media_count INTEGER;
  ALTER TABLE sandbox_sms ADD COLUMN media_urls TEXT; -- JSON array of URLs; NULL for a plain text
  `,
  // Quiet hours: a daily window in the user's time zone in which nothing is sent.
  `
  ALTER TABLE notification_preferences ADD COLUMN quiet_hours TEXT; -- JSON {start, end, timeZone}; NULL: none
  `,
  // Email: its switch (NULL: on, the default) and the user's own delay.
  `
  ALTER TABLE notification_preferences ADD COLUMN email INTEGER;
  ALTER TABLE notification_preferences ADD COLUMN email_delay_ms INTEGER;
  `,
  // Native mobile push (FCM, APNs): one switch for all of them; NULL (rows saved before) means on.
  `
  ALTER TABLE notification_preferences ADD COLUMN mobile INTEGER;
  `,
];

interface DeliveryRow {
  id: string;
  message_id: string;
  conversation_id: string;
  seq: number;
  user_id: string;
  channel: string;
  status: string;
  last_seq: number;
  last_message_id: string;
  message_count: number;
  collapsed_into: string | null;
  cancel_reason: string | null;
  due_at: number | null;
  attempts: number;
  sent_at: number | null;
  burst_open: number;
  provider_message_id: string | null;
  to_number: string | null;
  from_number: string | null;
  encoding: string | null;
  segments: number | null;
  media_count: number | null;
  events: string;
  lease_token: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

interface PushSubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  user_agent: string | null;
  created_at: string;
}

interface PreferencesRow {
  user_id: string;
  push: number;
  sms: number;
  sms_delay_ms: number | null;
  email: number | null;
  email_delay_ms: number | null;
  mobile: number | null;
  quiet_hours: string | null;
  updated_at: string;
}

interface ConsentRow {
  phone: string;
  action: string;
  source: string;
  keyword: string | null;
  note: string | null;
  at: string;
}

interface ThreadRow {
  phone: string;
  our_number: string;
  user_id: string;
  conversation_id: string;
  last_used_at: string;
}

interface SandboxRow {
  sid: string;
  direction: string;
  from_number: string;
  to_number: string;
  body: string;
  media_urls: string | null;
  status: string;
  at: string;
}

/** The recipient and channel a burst belongs to. */
type Recipient = { conversationId: string; userId: string; channel: string };

/** Every statement, prepared once in `init()` (after the tables exist). */
function prepareStatements(db: SqliteDatabase) {
  return {
    insertDelivery: db.prepare<Record<string, unknown>>(
      `INSERT INTO deliveries (id, message_id, conversation_id, seq, user_id, channel, status, last_seq, last_message_id,
         message_count, collapsed_into, due_at, events, created_at, updated_at)
       VALUES (@id, @messageId, @conversationId, @seq, @userId, @channel, @status, @seq, @messageId,
         1, @collapsedInto, @dueAt, json_array(json(@event)), @now, @now)`,
    ),
    byId: db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE id = ?"),
    byTriple: db.prepare<[string, string, string], DeliveryRow>("SELECT * FROM deliveries WHERE message_id = ? AND user_id = ? AND channel = ?"),
    byMessage: db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE message_id = ? ORDER BY created_at, id"),
    byProviderId: db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE provider_message_id = ? ORDER BY created_at, id LIMIT 1"),
    // The planner keeps at most one scheduled row per recipient and channel; the oldest wins if a
    // crash ever left two.
    scheduledFor: db.prepare<Recipient, DeliveryRow>(
      `SELECT * FROM deliveries
       WHERE conversation_id = @conversationId AND user_id = @userId AND channel = @channel AND status = 'scheduled'
       ORDER BY created_at, id LIMIT 1`,
    ),
    openBurstFor: db.prepare<Recipient & { since: number }, DeliveryRow>(
      `SELECT * FROM deliveries
       WHERE conversation_id = @conversationId AND user_id = @userId AND channel = @channel AND status IN ('sent', 'delivered')
         AND burst_open = 1 AND sent_at > @since
       ORDER BY sent_at DESC, id DESC LIMIT 1`,
    ),
    // Every expression on the right reads the row as it was before the UPDATE, so lastMessageId
    // compares against the old lastSeq.
    absorbIntoScheduled: db.prepare<{ id: string; seq: number; messageId: string; event: string; now: number }, DeliveryRow>(
      `UPDATE deliveries SET
         last_message_id = CASE WHEN @seq > last_seq THEN @messageId ELSE last_message_id END,
         last_seq = max(last_seq, @seq),
         message_count = message_count + 1,
         events = json_insert(events, '$[#]', json(@event)),
         updated_at = @now
       WHERE id = @id RETURNING *`,
    ),
    absorbIntoSent: db.prepare<{ id: string; event: string; now: number }, DeliveryRow>(
      `UPDATE deliveries SET message_count = message_count + 1, events = json_insert(events, '$[#]', json(@event)), updated_at = @now
       WHERE id = @id RETURNING *`,
    ),
    anyDue: db.prepare<{ now: number }, { one: number }>(
      `SELECT 1 AS one FROM deliveries
       WHERE status = 'scheduled' AND due_at <= @now AND (lease_until IS NULL OR lease_until < @now) LIMIT 1`,
    ),
    // The subquery picks due rows through the partial index; the outer UPDATE claims them. Run
    // inside BEGIN IMMEDIATE, so no other process can claim the same rows in between.
    lease: db.prepare<{ token: string; until: number; now: number; limit: number }, DeliveryRow>(
      `UPDATE deliveries SET lease_token = @token, lease_until = @until
       WHERE id IN (
         SELECT id FROM deliveries
         WHERE status = 'scheduled' AND due_at <= @now AND (lease_until IS NULL OR lease_until < @now)
         ORDER BY due_at, id LIMIT @limit
       )
       RETURNING *`,
    ),
    complete: db.prepare<Record<string, unknown>, DeliveryRow>(
      `UPDATE deliveries SET
         status = @status,
         due_at = @dueAt,
         attempts = attempts + @counted,
         sent_at = CASE WHEN @handedOver = 1 THEN coalesce(sent_at, @at) ELSE sent_at END,
         burst_open = CASE WHEN @handedOver = 1 THEN 1 ELSE burst_open END,
         provider_message_id = coalesce(provider_message_id, @providerMessageId),
         to_number = coalesce(@to, to_number),
         from_number = coalesce(@from, from_number),
         encoding = coalesce(@encoding, encoding),
         segments = coalesce(@segments, segments),
         media_count = coalesce(@mediaCount, media_count),
         cancel_reason = coalesce(@cancelReason, cancel_reason),
         events = json_insert(events, '$[#]', json(@event)),
         lease_token = NULL, lease_until = NULL,
         updated_at = @at
       WHERE id = @id AND lease_token = @token AND status = 'scheduled'
       RETURNING *`,
    ),
    releaseLease: db.prepare<[string, string]>("UPDATE deliveries SET lease_token = NULL, lease_until = NULL WHERE id = ? AND lease_token = ?"),
    // Sentinels instead of optional filters keep one statement per shape: NULL conversation = all.
    cancel: db.prepare<{ conversationId: string | null; userId: string; seq: number; channels: string; reason: string; event: string; now: number }, DeliveryRow>(
      `UPDATE deliveries SET status = 'cancelled', cancel_reason = @reason, due_at = NULL, lease_token = NULL, lease_until = NULL,
         events = json_insert(events, '$[#]', json(@event)), updated_at = @now
       WHERE user_id = @userId AND (@conversationId IS NULL OR conversation_id = @conversationId) AND status = 'scheduled'
         AND last_seq <= @seq AND channel IN (SELECT value FROM json_each(@channels))
       RETURNING *`,
    ),
    // What cancel would touch, as a read: users coming online and read receipts usually find nothing.
    anyCancellable: db.prepare<{ conversationId: string | null; userId: string }, { found: number }>(
      `SELECT 1 AS found FROM deliveries
       WHERE user_id = @userId AND (@conversationId IS NULL OR conversation_id = @conversationId) AND (status = 'scheduled' OR burst_open = 1)
       LIMIT 1`,
    ),
    closeBursts: db.prepare<{ conversationId: string | null; userId: string; channels: string }>(
      `UPDATE deliveries SET burst_open = 0
       WHERE user_id = @userId AND (@conversationId IS NULL OR conversation_id = @conversationId) AND burst_open = 1
         AND channel IN (SELECT value FROM json_each(@channels))`,
    ),
    providerStatus: db.prepare<{ id: string; status: string; event: string; now: number }, DeliveryRow>(
      `UPDATE deliveries SET status = @status, events = json_insert(events, '$[#]', json(@event)), updated_at = @now
       WHERE id = @id RETURNING *`,
    ),
    pruneDeliveries: db.prepare<[number]>("DELETE FROM deliveries WHERE status <> 'scheduled' AND created_at < ?"),
    pruneSandbox: db.prepare<[number]>("DELETE FROM sandbox_sms WHERE at_ms < ?"),

    // A known endpoint keeps its id and creation time but moves to the new owner and keys.
    savePushSubscription: db.prepare<Record<string, unknown>, PushSubscriptionRow>(
      `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent, created_at)
       VALUES (@id, @userId, @endpoint, @p256dh, @auth, @userAgent, @createdAt)
       ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
         user_agent = excluded.user_agent
       RETURNING *`,
    ),
    pushSubscriptions: db.prepare<[string], PushSubscriptionRow>("SELECT * FROM push_subscriptions WHERE user_id = ? ORDER BY created_at, id"),
    deletePushSubscription: db.prepare<[string, string]>("DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?"),
    deletePushSubscriptionByEndpoint: db.prepare<[string]>("DELETE FROM push_subscriptions WHERE endpoint = ?"),

    preferences: db.prepare<[string], PreferencesRow>("SELECT * FROM notification_preferences WHERE user_id = ?"),
    savePreferences: db.prepare<Record<string, unknown>>(
      `INSERT INTO notification_preferences (user_id, push, sms, sms_delay_ms, quiet_hours, email, email_delay_ms, mobile, updated_at)
       VALUES (@userId, @push, @sms, @smsDelayMs, @quietHours, @email, @emailDelayMs, @mobile, @updatedAt)
       ON CONFLICT (user_id) DO UPDATE SET push = excluded.push, sms = excluded.sms, sms_delay_ms = excluded.sms_delay_ms,
         quiet_hours = excluded.quiet_hours, email = excluded.email, email_delay_ms = excluded.email_delay_ms, mobile = excluded.mobile,
         updated_at = excluded.updated_at`,
    ),
    mute: db.prepare<[string, string, string | null, number | null]>(
      `INSERT INTO conversation_mutes (user_id, conversation_id, until, until_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = excluded.until, until_ms = excluded.until_ms`,
    ),
    unmute: db.prepare<[string, string]>("DELETE FROM conversation_mutes WHERE user_id = ? AND conversation_id = ?"),
    muteInForce: db.prepare<[string, string, number], { until: string | null }>(
      "SELECT until FROM conversation_mutes WHERE user_id = ? AND conversation_id = ? AND (until_ms IS NULL OR until_ms > ?)",
    ),

    appendConsent: db.prepare<Record<string, unknown>>(
      `INSERT INTO sms_consent (phone, action, source, keyword, note, at, at_ms)
       VALUES (@phone, @action, @source, @keyword, @note, @at, @atMs)`,
    ),
    lastConsentDecision: db.prepare<[string], { action: string }>(
      "SELECT action FROM sms_consent WHERE phone = ? AND action IN ('opt_in', 'opt_out') ORDER BY at_ms DESC, id DESC LIMIT 1",
    ),
    consent: db.prepare<[string], ConsentRow>("SELECT * FROM sms_consent WHERE phone = ? ORDER BY at_ms, id"),

    saveThread: db.prepare<Record<string, unknown>>(
      `INSERT INTO sms_threads (phone, our_number, user_id, conversation_id, last_used_at, last_used_ms)
       VALUES (@phone, @ourNumber, @userId, @conversationId, @lastUsedAt, @lastUsedMs)
       ON CONFLICT (phone, our_number) DO UPDATE SET user_id = excluded.user_id, conversation_id = excluded.conversation_id,
         last_used_at = excluded.last_used_at, last_used_ms = excluded.last_used_ms`,
    ),
    thread: db.prepare<[string, string], ThreadRow>("SELECT * FROM sms_threads WHERE phone = ? AND our_number = ?"),
    threads: db.prepare<[string], ThreadRow>("SELECT * FROM sms_threads WHERE phone = ? ORDER BY last_used_ms DESC, our_number"),

    recordSandbox: db.prepare<Record<string, unknown>>(
      `INSERT INTO sandbox_sms (sid, direction, from_number, to_number, body, media_urls, status, at, at_ms)
       VALUES (@sid, @direction, @from, @to, @body, @mediaUrls, @status, @at, @atMs)`,
    ),
    sandboxStatus: db.prepare<[string, string]>("UPDATE sandbox_sms SET status = ? WHERE sid = ?"),
    // rowid breaks ties between texts of the same millisecond: the later insert is the newer text.
    sandbox: db.prepare<{ phone: string | null; limit: number }, SandboxRow>(
      `SELECT * FROM sandbox_sms WHERE @phone IS NULL OR from_number = @phone OR to_number = @phone
       ORDER BY at_ms DESC, rowid DESC LIMIT @limit`,
    ),

    setting: db.prepare<[string], { value: string }>("SELECT value FROM delivery_settings WHERE key = ?"),
    insertSettingIfAbsent: db.prepare<[string, string]>("INSERT INTO delivery_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link DeliveryStore}: tables in the main store's SQLite file, sharing its
 * connection. Works with several processes on one file: `plan` and `lease` run in
 * `BEGIN IMMEDIATE`, which takes the file's write lock before reading, so two processes never
 * create two rows for one (message, user, channel), never fold one message into two notifications
 * and never lease the same delivery. Timelines are a JSON column of each delivery.
 *
 * Counting rule of {@link complete}: every outcome counts as an attempt except a `scheduled` one
 * with `countsAsAttempt: false`.
 *
 * @example
 * const db = openSqliteDatabase(file, config.sqlite);
 * const deliveryStore = new SqliteDeliveryStore(db);
 * await deliveryStore.init();
 */
export class SqliteDeliveryStore extends SqliteComponent<Statements> implements DeliveryStore {
  /** @param db the main store's open connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteDeliveryStore");
  }

  /** Applies pending migrations (recorded in `schema_versions` under `delivery`). */
  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  plan(input: PlanInput): Promise<PlanResult> {
    return this.run(() => {
      // A read first: a repeated announcement (the common case on a retry) takes no write lock.
      const known = this.q.byTriple.get(input.messageId, input.userId, input.channel);
      if (known) return { kind: "exists", delivery: toDelivery(known) };
      return this.db.transaction(() => this.planLocked(input)).immediate();
    });
  }

  planBatch(inputs: readonly PlanInput[]): Promise<PlanResult[]> {
    return this.run(() => {
      if (inputs.length === 0) return [];
      // One transaction, so one commit (an fsync with SQLITE_SYNCHRONOUS=FULL) for the batch.
      return this.db.transaction(() => inputs.map((input) => this.planLocked(input))).immediate();
    });
  }

  /** The decision of {@link plan}, under the write lock so it sees every other node's plans. */
  private planLocked(input: PlanInput): PlanResult {
    const q = this.q;
    const known = q.byTriple.get(input.messageId, input.userId, input.channel);
    if (known) return { kind: "exists", delivery: toDelivery(known) };
    const at = new Date(input.now).toISOString();
    const recipient: Recipient = { conversationId: input.conversationId, userId: input.userId, channel: input.channel };

    const scheduled = q.scheduledFor.get(recipient);
    const target = scheduled ?? q.openBurstFor.get({ ...recipient, since: input.collapseSince });
    if (target) {
      const event = JSON.stringify(absorbEvent(input, at, target.status as DeliveryStatus, target.message_count + 1));
      const into = scheduled
        ? q.absorbIntoScheduled.get({ id: target.id, seq: input.seq, messageId: input.messageId, event, now: input.now })
        : q.absorbIntoSent.get({ id: target.id, event, now: input.now });
      if (!into) throw new Error(`delivery ${target.id} vanished inside a transaction`);
      q.insertDelivery.run({ ...rowParams(input), status: "collapsed", collapsedInto: into.id, dueAt: null, event: JSON.stringify(collapsedEvent(at, { id: into.id, status: into.status as DeliveryStatus })) });
      return { kind: "collapsed", delivery: this.mustGet(input.id), into: toDelivery(into) };
    }

    q.insertDelivery.run({ ...rowParams(input), status: "scheduled", collapsedInto: null, dueAt: input.dueAt, event: JSON.stringify(scheduledEvent(input, at)) });
    return { kind: "scheduled", delivery: this.mustGet(input.id) };
  }

  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]> {
    return this.run(() => {
      // Every node polls every second: a plain read first, so an idle outbox never takes the
      // file's write lock away from message writers.
      if (limit <= 0 || !this.q.anyDue.get({ now })) return [];
      return this.db
        .transaction(() => {
          const leaseToken = randomUUID();
          const rows = this.q.lease.all({ token: leaseToken, until: now + leaseMs, now, limit: Math.trunc(limit) });
          // RETURNING gives rows in no promised order: earliest due first, as documented.
          rows.sort((a, b) => (a.due_at ?? 0) - (b.due_at ?? 0) || compare(a.id, b.id));
          return rows.map((row): LeasedDelivery => ({ delivery: toDelivery(row), leaseToken }));
        })
        .immediate();
    });
  }

  complete(deliveryId: string, leaseToken: string, outcome: AttemptOutcome, event: DeliveryEvent, patch: DeliveryPatch = {}): Promise<Delivery | null> {
    return this.run(() => {
      const counted = outcome.status === "scheduled" ? outcome.countsAsAttempt : true;
      const handedOver = outcome.status === "sent" || outcome.status === "delivered";
      const row = this.q.complete.get({
        id: deliveryId,
        token: leaseToken,
        status: outcome.status,
        dueAt: outcome.status === "scheduled" ? outcome.dueAt : null,
        counted: counted ? 1 : 0,
        handedOver: handedOver ? 1 : 0,
        at: eventTime(event),
        providerMessageId: patch.providerMessageId ?? null,
        to: patch.to ?? null,
        from: patch.from ?? null,
        encoding: patch.encoding ?? null,
        segments: patch.segments ?? null,
        mediaCount: patch.mediaCount ?? null,
        cancelReason: patch.cancelReason ?? null,
        event: JSON.stringify(event),
      });
      return row ? toDelivery(row) : null;
    });
  }

  releaseLease(deliveryId: string, leaseToken: string): Promise<void> {
    return this.run(() => {
      this.q.releaseLease.run(deliveryId, leaseToken);
    });
  }

  cancelScheduled(conversationId: string, userId: string, seq: number, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]> {
    return this.run(() => this.cancel(conversationId, userId, seq, reason, channels, now));
  }

  cancelScheduledForUser(userId: string, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Promise<Delivery[]> {
    return this.run(() => this.cancel(null, userId, Number.MAX_SAFE_INTEGER, reason, channels, now));
  }

  /** Cancels and closes bursts in one transaction: a plan in between sees both or neither. */
  private cancel(conversationId: string | null, userId: string, seq: number, reason: CancelReason, channels: readonly DeliveryChannel[], now: number): Delivery[] {
    if (channels.length === 0) return [];
    // A read first, so that the common case (nothing scheduled, no open burst) takes no write lock:
    // every user coming online and every read receipt asks. Nothing found at this read is the same
    // outcome as a cancel that ran at this moment, before any plan another process commits next.
    if (!this.q.anyCancellable.get({ conversationId, userId })) return [];
    const json = JSON.stringify(channels);
    const event = cancelledEvent(reason, now);
    return this.db
      .transaction(() => {
        const rows = this.q.cancel.all({ conversationId, userId, seq, channels: json, reason, event: JSON.stringify(event), now });
        this.q.closeBursts.run({ conversationId, userId, channels: json });
        return rows.sort(byCreation).map(toDelivery);
      })
      .immediate();
  }

  closeBursts(conversationId: string | null, userId: string, _now: number): Promise<void> {
    return this.run(() => {
      this.q.closeBursts.run({ conversationId, userId, channels: JSON.stringify(DELIVERY_CHANNELS) });
    });
  }

  recordProviderStatus(providerMessageId: string, status: "sent" | "delivered" | "undelivered" | "failed", event: DeliveryEvent): Promise<Delivery | null> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const row = this.q.byProviderId.get(providerMessageId);
          if (!row) return null;
          const next = providerStatusMoves(row.status as DeliveryStatus, status) ? status : row.status;
          const updated = this.q.providerStatus.get({ id: row.id, status: next, event: JSON.stringify(event), now: eventTime(event) });
          return updated ? toDelivery(updated) : null;
        })
        .immediate(),
    );
  }

  getDelivery(id: string): Promise<Delivery | null> {
    return this.run(() => {
      const row = this.q.byId.get(id);
      return row ? toDelivery(row) : null;
    });
  }

  listForMessage(messageId: string): Promise<Delivery[]> {
    return this.run(() => this.q.byMessage.all(messageId).map(toDelivery));
  }

  savePushSubscription(subscription: PushSubscriptionRecord): Promise<PushSubscriptionRecord> {
    return this.run(() => {
      const row = this.q.savePushSubscription.get({
        id: subscription.id,
        userId: subscription.userId,
        endpoint: subscription.endpoint,
        p256dh: subscription.p256dh,
        auth: subscription.auth,
        userAgent: subscription.userAgent ?? null,
        createdAt: subscription.createdAt,
      });
      if (!row) throw new Error("INSERT … RETURNING returned no row");
      return toPushSubscription(row);
    });
  }

  listPushSubscriptions(userId: string): Promise<PushSubscriptionRecord[]> {
    return this.run(() => this.q.pushSubscriptions.all(userId).map(toPushSubscription));
  }

  deletePushSubscription(userId: string, endpoint: string): Promise<boolean> {
    return this.run(() => this.q.deletePushSubscription.run(userId, endpoint).changes > 0);
  }

  deletePushSubscriptionByEndpoint(endpoint: string): Promise<boolean> {
    return this.run(() => this.q.deletePushSubscriptionByEndpoint.run(endpoint).changes > 0);
  }

  getPreferences(userId: string): Promise<NotificationPreferences | null> {
    return this.run(() => {
      const row = this.q.preferences.get(userId);
      if (!row) return null;
      const preferences: NotificationPreferences = { userId: row.user_id, push: row.push === 1, sms: row.sms === 1, email: row.email !== 0, updatedAt: row.updated_at };
      if (row.sms_delay_ms !== null) preferences.smsDelayMs = row.sms_delay_ms;
      if (row.email_delay_ms !== null) preferences.emailDelayMs = row.email_delay_ms;
      if (row.mobile !== null) preferences.mobile = row.mobile === 1;
      if (row.quiet_hours !== null) preferences.quietHours = JSON.parse(row.quiet_hours) as QuietHours;
      return preferences;
    });
  }

  savePreferences(preferences: NotificationPreferences): Promise<void> {
    return this.run(() => {
      this.q.savePreferences.run({
        userId: preferences.userId,
        push: preferences.push ? 1 : 0,
        sms: preferences.sms ? 1 : 0,
        smsDelayMs: preferences.smsDelayMs ?? null,
        email: preferences.email ? 1 : 0,
        emailDelayMs: preferences.emailDelayMs ?? null,
        mobile: preferences.mobile === undefined ? null : preferences.mobile ? 1 : 0,
        quietHours: preferences.quietHours ? JSON.stringify(preferences.quietHours) : null,
        updatedAt: preferences.updatedAt,
      });
    });
  }

  setMute(mute: ConversationMute, muted: boolean): Promise<void> {
    return this.run(() => {
      if (!muted) {
        this.q.unmute.run(mute.userId, mute.conversationId);
        return;
      }
      this.q.mute.run(mute.userId, mute.conversationId, mute.until ?? null, mute.until === undefined ? null : isoToMs(mute.until));
    });
  }

  getMute(userId: string, conversationId: string, now: number): Promise<ConversationMute | null> {
    return this.run(() => {
      const row = this.q.muteInForce.get(userId, conversationId, now);
      if (!row) return null;
      const mute: ConversationMute = { userId, conversationId };
      if (row.until !== null) mute.until = row.until;
      return mute;
    });
  }

  appendConsent(entry: ConsentEntry): Promise<void> {
    return this.run(() => {
      this.q.appendConsent.run({
        phone: entry.phone,
        action: entry.action,
        source: entry.source,
        keyword: entry.keyword ?? null,
        note: entry.note ?? null,
        at: entry.at,
        atMs: isoToMs(entry.at),
      });
    });
  }

  consentState(phone: string): Promise<ConsentState> {
    return this.run(() => {
      const row = this.q.lastConsentDecision.get(phone);
      if (!row) return "unknown";
      return row.action === "opt_out" ? "opted_out" : "opted_in";
    });
  }

  listConsent(phone: string): Promise<ConsentEntry[]> {
    return this.run(() =>
      this.q.consent.all(phone).map((r) => {
        const entry: ConsentEntry = { phone: r.phone, action: r.action as ConsentAction, source: r.source as ConsentEntry["source"], at: r.at };
        if (r.keyword !== null) entry.keyword = r.keyword;
        if (r.note !== null) entry.note = r.note;
        return entry;
      }),
    );
  }

  saveSmsThread(thread: SmsThread): Promise<void> {
    return this.run(() => {
      this.q.saveThread.run({ ...thread, lastUsedMs: isoToMs(thread.lastUsedAt) });
    });
  }

  findSmsThread(phone: string, ourNumber: string): Promise<SmsThread | null> {
    return this.run(() => {
      const row = this.q.thread.get(phone, ourNumber);
      return row ? toThread(row) : null;
    });
  }

  listSmsThreads(phone: string): Promise<SmsThread[]> {
    return this.run(() => this.q.threads.all(phone).map(toThread));
  }

  recordSandboxSms(sms: SandboxSms): Promise<void> {
    return this.run(() => {
      this.q.recordSandbox.run({ ...sms, mediaUrls: sms.mediaUrls?.length ? JSON.stringify(sms.mediaUrls) : null, atMs: isoToMs(sms.at) });
    });
  }

  updateSandboxSmsStatus(sid: string, status: SandboxSms["status"]): Promise<void> {
    return this.run(() => {
      this.q.sandboxStatus.run(status, sid);
    });
  }

  listSandboxSms(limit: number, phone?: string): Promise<SandboxSms[]> {
    return this.run(() =>
      this.q.sandbox.all({ phone: phone ?? null, limit: Math.max(0, Math.trunc(limit)) }).map(
        (r): SandboxSms => ({
          sid: r.sid,
          direction: r.direction as SandboxSms["direction"],
          from: r.from_number,
          to: r.to_number,
          body: r.body,
          ...(r.media_urls === null ? {} : { mediaUrls: JSON.parse(r.media_urls) as string[] }),
          status: r.status as SandboxSms["status"],
          at: r.at,
        }),
      ),
    );
  }

  getSetting(key: string): Promise<string | null> {
    return this.run(() => this.q.setting.get(key)?.value ?? null);
  }

  putSettingIfAbsent(key: string, value: string): Promise<string> {
    return this.run(() =>
      this.db
        .transaction(() => {
          this.q.insertSettingIfAbsent.run(key, value);
          const row = this.q.setting.get(key);
          if (!row) throw new Error(`setting ${key} vanished inside a transaction`);
          return row.value;
        })
        .immediate(),
    );
  }

  prune(before: number): Promise<number> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const deleted = this.q.pruneDeliveries.run(before).changes;
          this.q.pruneSandbox.run(before);
          return deleted;
        })
        .immediate(),
    );
  }

  private mustGet(id: string): Delivery {
    const row = this.q.byId.get(id);
    if (!row) throw new Error(`delivery ${id} vanished inside a transaction`);
    return toDelivery(row);
  }
}

/** The columns every new row takes from the plan. */
function rowParams(input: PlanInput) {
  return {
    id: input.id,
    messageId: input.messageId,
    conversationId: input.conversationId,
    seq: input.seq,
    userId: input.userId,
    channel: input.channel,
    now: input.now,
  };
}

/**
 * Whether a provider's report moves a delivery forward: only a handed-over text learns its fate,
 * and nothing leaves another final status (a late `sent` never undoes `delivered`).
 */
function providerStatusMoves(current: DeliveryStatus, next: "sent" | "delivered" | "undelivered" | "failed"): boolean {
  return current === "sent" && next !== "sent";
}

function absorbEvent(input: PlanInput, at: string, status: DeliveryStatus, count: number): DeliveryEvent {
  return { at, status, detail: `Also covers message ${input.messageId} (seq ${input.seq}): ${count} messages in all.` };
}

/** An event's time in epoch ms; the clock when the caller's text does not parse. */
function eventTime(event: DeliveryEvent): number {
  return isoToMs(event.at);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byCreation(a: DeliveryRow, b: DeliveryRow): number {
  return a.created_at - b.created_at || compare(a.id, b.id);
}

function toDelivery(r: DeliveryRow): Delivery {
  const delivery: Delivery = {
    id: r.id,
    messageId: r.message_id,
    conversationId: r.conversation_id,
    seq: r.seq,
    userId: r.user_id,
    channel: r.channel as DeliveryChannel,
    status: r.status as DeliveryStatus,
    lastSeq: r.last_seq,
    lastMessageId: r.last_message_id,
    messageCount: r.message_count,
    attempts: r.attempts,
    events: JSON.parse(r.events) as DeliveryEvent[],
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
  if (r.collapsed_into !== null) delivery.collapsedInto = r.collapsed_into;
  if (r.cancel_reason !== null) delivery.cancelReason = r.cancel_reason as CancelReason;
  if (r.status === "scheduled" && r.due_at !== null) delivery.dueAt = new Date(r.due_at).toISOString();
  if (r.sent_at !== null) delivery.sentAt = new Date(r.sent_at).toISOString();
  if (r.provider_message_id !== null) delivery.providerMessageId = r.provider_message_id;
  if (r.to_number !== null) delivery.to = r.to_number;
  if (r.from_number !== null) delivery.from = r.from_number;
  if (r.encoding !== null) delivery.encoding = r.encoding as "GSM-7" | "UCS-2";
  if (r.segments !== null) delivery.segments = r.segments;
  if (r.media_count !== null) delivery.mediaCount = r.media_count;
  return delivery;
}

function toPushSubscription(r: PushSubscriptionRow): PushSubscriptionRecord {
  const subscription: PushSubscriptionRecord = { id: r.id, userId: r.user_id, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth, createdAt: r.created_at };
  if (r.user_agent !== null) subscription.userAgent = r.user_agent;
  return subscription;
}

function toThread(r: ThreadRow): SmsThread {
  return { phone: r.phone, ourNumber: r.our_number, userId: r.user_id, conversationId: r.conversation_id, lastUsedAt: r.last_used_at };
}
