import { SqliteComponent, type SqliteDatabase } from "../store/sqlite-component.js";
import { randomUUID } from "node:crypto";
import {
  applyEndpointPatch,
  subscribes,
  type DeliveryOutcome,
  type DeliveryQuery,
  type LeasedDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookDisabledReason,
  type WebhookEndpoint,
  type WebhookEndpointPatch,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookStore,
} from "./webhook-store.js";

/** This component's row in `schema_versions`: the main store owns `PRAGMA user_version`. */
const COMPONENT = "webhooks";

/**
 * Migrations of the webhook tables, applied in order by {@link SqliteWebhookStore.init} and
 * counted in `schema_versions`; a later release appends an entry and never edits a shipped one.
 * Times used for ordering and leasing are epoch milliseconds (INTEGER); the rest are ISO-8601.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL, -- JSON array
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, -- timestamp in epoch ms: replay ranges and pruning
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX webhook_events_by_time ON webhook_events (occurred_at);

  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES webhook_events (id),
    status TEXT NOT NULL,
    attempts TEXT NOT NULL DEFAULT '[]', -- JSON array of WebhookAttempt
    next_attempt_at INTEGER,
    lease_token TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    replay_of TEXT
  ) STRICT;
  -- The dispatchers' queue: only pending rows are indexed.
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
  CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id);
  `,
];

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  event_types: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}
interface EventRow {
  id: string;
  type: string;
  timestamp: string;
  data: string;
}
interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: string;
  next_attempt_at: number | null;
  created_at: number;
  replay_of: string | null;
}

const DELIVERY_SELECT = `SELECT d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempts,
  d.next_attempt_at, d.created_at, d.replay_of
  FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;

/** Every statement, prepared once in `init()` (after the tables exist). */
function prepareStatements(db: SqliteDatabase) {
  return {
    insertEndpoint: db.prepare<Record<string, unknown>>(
      `INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, disabled_reason, secret, previous_secret,
         previous_secret_expires_at, consecutive_failures, failing_since, created_at, updated_at)
       VALUES (@id, @url, @description, @event_types, @enabled, @disabled_reason, @secret, @previous_secret,
         @previous_secret_expires_at, @consecutive_failures, @failing_since, @created_at, @updated_at)`,
    ),
    replaceEndpoint: db.prepare<Record<string, unknown>>(
      `UPDATE webhook_endpoints SET url = @url, description = @description, event_types = @event_types, enabled = @enabled,
         disabled_reason = @disabled_reason, secret = @secret, previous_secret = @previous_secret,
         previous_secret_expires_at = @previous_secret_expires_at, consecutive_failures = @consecutive_failures,
         failing_since = @failing_since, updated_at = @updated_at
       WHERE id = @id`,
    ),
    endpoint: db.prepare<[string], EndpointRow>("SELECT * FROM webhook_endpoints WHERE id = ?"),
    endpoints: db.prepare<[], EndpointRow>("SELECT * FROM webhook_endpoints ORDER BY created_at, id"),
    subscriptions: db.prepare<[], { id: string; event_types: string; enabled: number }>(
      "SELECT id, event_types, enabled FROM webhook_endpoints ORDER BY created_at, id",
    ),
    deleteEndpoint: db.prepare<[string]>("DELETE FROM webhook_endpoints WHERE id = ?"),
    endpointSucceeded: db.prepare<[string], EndpointRow>(
      "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL WHERE id = ? RETURNING *",
    ),
    endpointFailed: db.prepare<[string, string], EndpointRow>(
      `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, ?)
       WHERE id = ? RETURNING *`,
    ),

    insertEvent: db.prepare<[string, string, string, number, string]>(
      "INSERT INTO webhook_events (id, type, timestamp, occurred_at, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    ),
    eventsByIds: db.prepare<[string], EventRow>(
      "SELECT id, type, timestamp, data FROM webhook_events WHERE id IN (SELECT value FROM json_each(?))",
    ),
    eventsInRange: db.prepare<[number, number], { id: string; type: string }>(
      "SELECT id, type FROM webhook_events WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id",
    ),
    insertDelivery: db.prepare<[string, string, string, number, number, string | null]>(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at, replay_of)
       VALUES (?, ?, ?, 'pending', '[]', ?, ?, ?)`,
    ),
    anyDue: db.prepare<{ now: number }, { one: number }>(
      `SELECT 1 AS one FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now) LIMIT 1`,
    ),
    // The subquery picks due rows through the partial index; the outer UPDATE claims them. Run
    // inside BEGIN IMMEDIATE, so no other process can claim the same rows in between.
    lease: db.prepare<{ token: string; until: number; now: number; limit: number }, { id: string }>(
      `UPDATE webhook_deliveries SET lease_token = @token, lease_until = @until
       WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
         ORDER BY next_attempt_at LIMIT @limit
       )
       RETURNING id`,
    ),
    deliveriesByIds: db.prepare<[string], DeliveryRow>(`${DELIVERY_SELECT} WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.id`),
    completeAttempt: db.prepare<{ id: string; token: string; attempt: string; status: string; next: number | null }>(
      `UPDATE webhook_deliveries
       SET attempts = json_insert(attempts, '$[#]', json(@attempt)), status = @status, next_attempt_at = @next,
           lease_token = NULL, lease_until = NULL
       WHERE id = @id AND lease_token = @token`,
    ),
    releaseLease: db.prepare<[string, string]>(
      "UPDATE webhook_deliveries SET lease_token = NULL, lease_until = NULL WHERE id = ? AND lease_token = ?",
    ),
    // Sentinels instead of optional filters keep one statement: "\uffff" sorts after every id.
    listDeliveries: db.prepare<{ endpointId: string; before: string; status: string | null; limit: number }, DeliveryRow>(
      `${DELIVERY_SELECT}
       WHERE d.endpoint_id = @endpointId AND d.id < @before AND (@status IS NULL OR d.status = @status)
       ORDER BY d.id DESC LIMIT @limit`,
    ),
    delivery: db.prepare<[string, string], DeliveryRow>(`${DELIVERY_SELECT} WHERE d.endpoint_id = ? AND d.id = ?`),
    pruneDeliveries: db.prepare<[number]>("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ?"),
    pruneEvents: db.prepare<[number]>(
      `DELETE FROM webhook_events WHERE occurred_at < ?
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link WebhookStore}: three tables in the main store's SQLite file, sharing its
 * connection. Works with several processes on one file: leasing runs in `BEGIN IMMEDIATE`, which
 * takes the file's write lock before choosing rows, so two processes never lease the same delivery.
 *
 * @example
 * const db = openSqliteDatabase(file, config.sqlite);
 * const webhookStore = new SqliteWebhookStore(db);
 * await webhookStore.init();
 */
export class SqliteWebhookStore extends SqliteComponent<Statements> implements WebhookStore {
  /** Every endpoint's event types, read at most once per event-loop turn (see {@link enqueue}). */
  private subscribedTypes: string[][] | undefined;

  /** @param db the main store's open connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteWebhookStore");
  }

  /** Applies pending migrations (recorded in `schema_versions` under `webhooks`). */
  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    return this.run(() => {
      this.subscribedTypes = undefined;
      this.q.insertEndpoint.run(endpointParams(endpoint));
    });
  }

  getEndpoint(id: string): Promise<WebhookEndpoint | null> {
    return this.run(() => {
      const row = this.q.endpoint.get(id);
      return row ? toEndpoint(row) : null;
    });
  }

  listEndpoints(): Promise<WebhookEndpoint[]> {
    return this.run(() => this.q.endpoints.all().map(toEndpoint));
  }

  updateEndpoint(id: string, patch: WebhookEndpointPatch, now: string): Promise<WebhookEndpoint | null> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const row = this.q.endpoint.get(id);
          if (!row) return null;
          this.subscribedTypes = undefined;
          const next = applyEndpointPatch(toEndpoint(row), patch, now);
          this.q.replaceEndpoint.run(endpointParams(next));
          return next;
        })
        .immediate(),
    );
  }

  deleteEndpoint(id: string): Promise<boolean> {
    return this.run(() => {
      this.subscribedTypes = undefined;
      return this.q.deleteEndpoint.run(id).changes > 0;
    });
  }

  recordEndpointResult(id: string, ok: boolean, now: string): Promise<WebhookEndpoint | null> {
    return this.run(() => {
      const row = ok ? this.q.endpointSucceeded.get(id) : this.q.endpointFailed.get(now, id);
      return row ? toEndpoint(row) : null;
    });
  }

  enqueue(event: WebhookEvent, newDeliveryId: () => string, now: number): Promise<number> {
    return this.run(() => {
      // A read first, so that the common case (nobody subscribes) takes no write lock; the events
      // of one group commit share it (below). The transaction reads the endpoints again.
      if (!this.subscribedThisTurn().some((types) => subscribes(types, event.type))) return 0;
      return this.db
        .transaction(() => {
          const matching = this.q.subscriptions.all().filter((e) => subscribes(parseTypes(e.event_types), event.type));
          if (matching.length === 0) return 0;
          const inserted = this.q.insertEvent.run(event.id, event.type, event.timestamp, occurredAt(event), JSON.stringify(event.data ?? null));
          // Already recorded: a repeated announcement (a retried send) creates nothing.
          if (inserted.changes === 0) return 0;
          let created = 0;
          for (const endpoint of matching) {
            if (!endpoint.enabled) continue;
            this.q.insertDelivery.run(newDeliveryId(), endpoint.id, event.id, now, now, null);
            created += 1;
          }
          return created;
        })
        .immediate();
    });
  }

  /**
   * The endpoints' event types as read in this event-loop turn: the messages of one group commit
   * are announced in the same turn, and one read answers for all of them. Another process's new
   * endpoint is seen from the next turn on, as if it had been registered just after these events;
   * this process's own endpoint changes clear it at once.
   */
  private subscribedThisTurn(): string[][] {
    if (this.subscribedTypes === undefined) {
      this.subscribedTypes = this.q.subscriptions.all().map((e) => parseTypes(e.event_types));
      setImmediate(() => {
        this.subscribedTypes = undefined;
      });
    }
    return this.subscribedTypes;
  }

  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]> {
    return this.run(() => {
      // Every node polls every second: a plain read first, so an idle outbox never takes the
      // file's write lock away from message writers.
      if (!this.q.anyDue.get({ now })) return [];
      return this.db
        .transaction(() => {
          const token = randomUUID();
          const ids = this.q.lease.all({ token, until: now + leaseMs, now, limit }).map((r) => r.id);
          if (ids.length === 0) return [];
          const rows = this.q.deliveriesByIds.all(JSON.stringify(ids));
          const events = new Map(this.q.eventsByIds.all(JSON.stringify([...new Set(rows.map((r) => r.event_id))])).map((e) => [e.id, toEvent(e)]));
          return rows.flatMap((row): LeasedDelivery[] => {
            const event = events.get(row.event_id);
            return event ? [{ delivery: toDelivery(row), event, leaseToken: token }] : [];
          });
        })
        .immediate();
    });
  }

  completeAttempt(deliveryId: string, leaseToken: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean> {
    return this.run(
      () =>
        this.q.completeAttempt.run({
          id: deliveryId,
          token: leaseToken,
          attempt: JSON.stringify(attempt),
          status: outcome.status,
          next: outcome.status === "pending" ? outcome.nextAttemptAt : null,
        }).changes > 0,
    );
  }

  releaseLease(deliveryId: string, leaseToken: string): Promise<void> {
    return this.run(() => {
      this.q.releaseLease.run(deliveryId, leaseToken);
    });
  }

  listDeliveries(endpointId: string, query: DeliveryQuery): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }> {
    return this.run(() => {
      const limit = Math.max(0, Math.trunc(query.limit));
      // One row past the page tells whether more exist, without a COUNT.
      const rows = this.q.listDeliveries.all({ endpointId, before: query.before ?? "\uffff", status: query.status ?? null, limit: limit + 1 });
      return { deliveries: rows.slice(0, limit).map(toDelivery), hasMore: rows.length > limit };
    });
  }

  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    return this.run(() => {
      const row = this.q.delivery.get(endpointId, deliveryId);
      return row ? toDelivery(row) : null;
    });
  }

  replayDelivery(endpointId: string, deliveryId: string, newDeliveryId: string, now: number): Promise<WebhookDelivery | null> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const original = this.q.delivery.get(endpointId, deliveryId);
          if (!original) return null;
          this.q.insertDelivery.run(newDeliveryId, endpointId, original.event_id, now, now, deliveryId);
          const row = this.q.delivery.get(endpointId, newDeliveryId);
          return row ? toDelivery(row) : null;
        })
        .immediate(),
    );
  }

  replayRange(endpointId: string, eventTypes: string[], since: number, until: number, newDeliveryId: () => string, now: number): Promise<number> {
    return this.run(() =>
      this.db
        .transaction(() => {
          if (!this.q.endpoint.get(endpointId)) return 0;
          let created = 0;
          for (const event of this.q.eventsInRange.all(since, until)) {
            if (!subscribes(eventTypes, event.type)) continue;
            this.q.insertDelivery.run(newDeliveryId(), endpointId, event.id, now, now, null);
            created += 1;
          }
          return created;
        })
        .immediate(),
    );
  }

  prune(before: number): Promise<number> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const deleted = this.q.pruneDeliveries.run(before).changes;
          this.q.pruneEvents.run(before);
          return deleted;
        })
        .immediate(),
    );
  }


}

function parseTypes(json: string): string[] {
  return JSON.parse(json) as string[];
}

function occurredAt(event: WebhookEvent): number {
  const ms = Date.parse(event.timestamp);
  return Number.isNaN(ms) ? Date.now() : ms;
}

function endpointParams(e: WebhookEndpoint): Record<string, unknown> {
  return {
    id: e.id,
    url: e.url,
    description: e.description ?? null,
    event_types: JSON.stringify(e.eventTypes),
    enabled: e.enabled ? 1 : 0,
    disabled_reason: e.disabledReason ?? null,
    secret: e.secret,
    previous_secret: e.previousSecret ?? null,
    previous_secret_expires_at: e.previousSecretExpiresAt ?? null,
    consecutive_failures: e.consecutiveFailures,
    failing_since: e.failingSince ?? null,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

function toEndpoint(r: EndpointRow): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    id: r.id,
    url: r.url,
    eventTypes: parseTypes(r.event_types),
    enabled: r.enabled === 1,
    secret: r.secret,
    consecutiveFailures: r.consecutive_failures,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.description !== null) endpoint.description = r.description;
  if (r.disabled_reason !== null) endpoint.disabledReason = r.disabled_reason as WebhookDisabledReason;
  if (r.previous_secret !== null) endpoint.previousSecret = r.previous_secret;
  if (r.previous_secret_expires_at !== null) endpoint.previousSecretExpiresAt = r.previous_secret_expires_at;
  if (r.failing_since !== null) endpoint.failingSince = r.failing_since;
  return endpoint;
}

function toEvent(r: EventRow): WebhookEvent {
  return { id: r.id, type: r.type as WebhookEventType, timestamp: r.timestamp, data: JSON.parse(r.data) as unknown };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type as WebhookEventType,
    status: r.status as WebhookDeliveryStatus,
    attempts: JSON.parse(r.attempts) as WebhookAttempt[],
    createdAt: new Date(r.created_at).toISOString(),
  };
  if (r.status === "pending" && r.next_attempt_at !== null) delivery.nextAttemptAt = new Date(r.next_attempt_at).toISOString();
  if (r.replay_of !== null) delivery.replayOf = r.replay_of;
  return delivery;
}
