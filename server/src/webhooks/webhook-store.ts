/**
 * Persistence of outbound webhooks: endpoints, the events recorded for them (the outbox) and one
 * delivery per event and endpoint, with its attempts. An interface here, drivers beside it
 * (`sqlite-webhook-store.ts`, `mongo-webhook-store.ts`); the composition root picks one next to
 * the main store and hands it the same database.
 */

/** Every event type an endpoint can subscribe to; `"*"` in `eventTypes` means all of them. */
export const WEBHOOK_EVENT_TYPES = [
  "message.created",
  "message.updated",
  "message.deleted",
  "message.read",
  "reaction.added",
  "reaction.removed",
  "conversation.created",
  "member.added",
  "member.removed",
  "delivery.updated",
] as const;

/** One of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Why an endpoint stopped receiving deliveries. */
export type WebhookDisabledReason =
  /** Disabled through the API (`PATCH … { enabled: false }`). */
  | "manual"
  /** The receiver answered HTTP 410 Gone. */
  | "gone"
  /** Every attempt failed for too long (`WEBHOOK_DISABLE_AFTER_FAILURES` / `_HOURS`). */
  | "failing";

/** A registered receiver of webhooks. */
export interface WebhookEndpoint {
  /** `whe_<uuid>`. */
  id: string;
  url: string;
  description?: string;
  /** Subscribed event types, or `["*"]` for every type. */
  eventTypes: string[];
  enabled: boolean;
  /** Set while `enabled` is false. */
  disabledReason?: WebhookDisabledReason;
  /** `whsec_<base64>`; stored as is because signing needs it. */
  secret: string;
  /** The secret before the last rotation, still used to sign until `previousSecretExpiresAt`. */
  previousSecret?: string;
  /** ISO-8601. */
  previousSecretExpiresAt?: string;
  /** Failed attempts since the last successful one, over all of the endpoint's deliveries. */
  consecutiveFailures: number;
  /** ISO-8601: the first failure of the current streak; absent after a success. */
  failingSince?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
}

/** Fields {@link WebhookStore.updateEndpoint} can change; `null` clears an optional field. */
export interface WebhookEndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
  disabledReason?: WebhookDisabledReason | null;
  secret?: string;
  previousSecret?: string | null;
  previousSecretExpiresAt?: string | null;
  consecutiveFailures?: number;
  failingSince?: string | null;
}

/**
 * One thing that happened, as receivers get it: the body is `{ type, timestamp, data }` (the
 * Standard Webhooks payload) and `id` is the `webhook-id` header, the same for every delivery
 * and replay of the event, so receivers can de-duplicate.
 */
export interface WebhookEvent {
  /** `evt_<hex>`, derived from what happened, so a repeated announcement is the same event. */
  id: string;
  type: WebhookEventType;
  /** ISO-8601: when it happened. */
  timestamp: string;
  data: unknown;
}

/** Where a delivery stands. */
export type WebhookDeliveryStatus =
  /** Waiting for its first or next attempt (or being attempted right now). */
  | "pending"
  /** The receiver answered 2xx. */
  | "succeeded"
  /** Given up: a non-retryable answer, attempts exhausted, or the endpoint disabled. */
  | "failed";

/** One attempt, as the delivery log shows it. */
export interface WebhookAttempt {
  /** ISO-8601: when the request started. */
  at: string;
  /** The receiver's HTTP status; absent when no answer came (network error, timeout, refused). */
  statusCode?: number;
  durationMs: number;
  /** What went wrong; absent on success. */
  error?: string;
  /** ISO-8601: when the next attempt is due; absent when this was the last one. */
  nextAttemptAt?: string;
}

/** One event on its way to one endpoint. */
export interface WebhookDelivery {
  /** `whd_<time><random>`: ordered by creation. */
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: WebhookDeliveryStatus;
  /** Oldest first. */
  attempts: WebhookAttempt[];
  /** ISO-8601, while `pending`. */
  nextAttemptAt?: string;
  /** ISO-8601. */
  createdAt: string;
  /** The delivery this one replays, when it was created by a replay. */
  replayOf?: string;
}

/** A delivery leased to one dispatcher, with the event to send. */
export interface LeasedDelivery {
  delivery: WebhookDelivery;
  event: WebhookEvent;
  /** Proves the lease in {@link WebhookStore.completeAttempt}. */
  leaseToken: string;
}

/** What an attempt leads to, recorded by {@link WebhookStore.completeAttempt}. */
export type DeliveryOutcome =
  | { status: "succeeded" }
  | { status: "failed" }
  /** `nextAttemptAt` in epoch milliseconds. */
  | { status: "pending"; nextAttemptAt: number };

/** Paging of the delivery log, newest first. */
export interface DeliveryQuery {
  status?: WebhookDeliveryStatus;
  limit: number;
  /** A delivery id: only deliveries created before it (the last id of the previous page). */
  before?: string;
}

/**
 * The webhook outbox.
 *
 * Contract (shown for every driver by `test/webhook-store-contract.ts`):
 * - `enqueue` is idempotent on the event id: announcing the same event twice records it once.
 * - A due delivery is leased to at most one caller at a time, also across processes and nodes;
 *   a lease that ran out (its holder died) can be taken again.
 * - `completeAttempt` only counts for the holder of the current lease.
 * Errors are thrown as `SwitchboardError` (`not_found`, `unavailable`).
 */
export interface WebhookStore {
  /** Creates tables, collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Nothing to release: the database connection belongs to the main store, which closes it. */
  close(): Promise<void>;

  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpoint | null>;
  /** Oldest first. */
  listEndpoints(): Promise<WebhookEndpoint[]>;
  /** The endpoint after the change, or null when it does not exist. */
  updateEndpoint(id: string, patch: WebhookEndpointPatch, now: string): Promise<WebhookEndpoint | null>;
  /** Deletes the endpoint and its deliveries; false when it did not exist. */
  deleteEndpoint(id: string): Promise<boolean>;
  /**
   * Counts an attempt's result against the endpoint: a success resets the failure streak, a
   * failure extends it (starting `failingSince` at `now`). Returns the endpoint after the change.
   */
  recordEndpointResult(id: string, ok: boolean, now: string): Promise<WebhookEndpoint | null>;

  /**
   * Records the event and one pending delivery (due at `now`) for each enabled endpoint that
   * subscribes to its type (see {@link subscribes}). The event is kept only when some endpoint,
   * enabled or not, subscribes to it, so a disabled endpoint can replay what it missed.
   * Returns how many deliveries were created: 0 for an event already recorded.
   */
  enqueue(event: WebhookEvent, newDeliveryId: () => string, now: number): Promise<number>;

  /**
   * Leases up to `limit` pending deliveries due at `now` whose lease is free or ran out, for
   * `leaseMs`, oldest due first. No other caller gets them until the lease ends.
   */
  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]>;
  /**
   * Appends the attempt, sets the outcome and frees the lease. Returns false (and writes nothing)
   * when the caller's lease is no longer the current one.
   */
  completeAttempt(deliveryId: string, leaseToken: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean>;
  /** Frees a lease without recording an attempt (a send abandoned at shutdown). */
  releaseLease(deliveryId: string, leaseToken: string): Promise<void>;

  /** The endpoint's deliveries, newest first; `hasMore` when another page follows. */
  listDeliveries(endpointId: string, query: DeliveryQuery): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }>;
  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null>;
  /** A new pending delivery, due at `now`, of the same event; null when the original does not exist. */
  replayDelivery(endpointId: string, deliveryId: string, newDeliveryId: string, now: number): Promise<WebhookDelivery | null>;
  /**
   * A new pending delivery to the endpoint for every recorded event in `[since, until)` (epoch ms)
   * whose type is in `eventTypes` (`["*"]`: any). Returns how many were created.
   */
  replayRange(endpointId: string, eventTypes: string[], since: number, until: number, newDeliveryId: () => string, now: number): Promise<number>;

  /**
   * Deletes finished deliveries created before `before` (epoch ms) and events older than it that
   * no delivery refers to any more. Returns how many deliveries were deleted.
   */
  prune(before: number): Promise<number>;
}

/** Whether an endpoint with these `eventTypes` receives events of `type`. */
export function subscribes(eventTypes: readonly string[], type: string): boolean {
  return eventTypes.includes("*") || eventTypes.includes(type);
}

/** The endpoint with `patch` applied (for drivers that write whole records); `null` clears a field. */
export function applyEndpointPatch(endpoint: WebhookEndpoint, patch: WebhookEndpointPatch, now: string): WebhookEndpoint {
  const next: WebhookEndpoint = { ...endpoint, updatedAt: now };
  for (const [key, value] of Object.entries(patch) as [keyof WebhookEndpointPatch, unknown][]) {
    if (value === undefined) continue;
    if (value === null) delete (next as unknown as Record<string, unknown>)[key];
    else (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}
