import type { ChatEvents } from "../core/chat-events.js";
import { SwitchboardError } from "../core/errors.js";
import { normalizeWebhookUrl, type DestinationPolicy } from "./destination-policy.js";
import { newDeliveryId, newEndpointId, newSigningSecret, toWebhookEvent } from "./webhook-events.js";
import {
  WEBHOOK_EVENT_TYPES,
  type DeliveryQuery,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEndpointPatch,
  type WebhookStore,
} from "./webhook-store.js";

/** An endpoint as the API shows it: everything but the secrets and the failure bookkeeping. */
export interface WebhookEndpointInfo {
  id: string;
  url: string;
  description?: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason?: WebhookEndpoint["disabledReason"];
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

/** The signing secret(s) of an endpoint. */
export interface WebhookSecretInfo {
  secret: string;
  /** While the rotation grace period lasts: the old secret still signs until then. */
  previousSecretExpiresAt?: string;
}

/** Input of {@link WebhookService.create}. */
export interface WebhookEndpointInput {
  url: string;
  eventTypes: string[];
  description?: string;
  /** Default true. */
  enabled?: boolean;
}

/** Input of {@link WebhookService.update}; absent fields keep their value. */
export interface WebhookEndpointUpdate {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  enabled?: boolean;
}

/** Options of {@link WebhookService}. */
export interface WebhookServiceOptions {
  /** How long the old secret keeps signing after a rotation, in hours (`WEBHOOK_SECRET_GRACE_HOURS`). */
  secretGraceHours: number;
  /** Called after an event created deliveries, so the local dispatcher sends them at once. */
  onEnqueued?: () => void;
  /** Called when recording an event fails (it is then lost; see the README's known gaps). */
  onEnqueueError: (err: unknown, eventType: string) => void;
}

/**
 * Webhook endpoints and the recording of events for them. Transport-free: the HTTP routes call
 * it, and it listens to the core's {@link ChatEvents} to fill the outbox that
 * {@link WebhookDispatcher} drains.
 */
export class WebhookService {
  /** Recordings still being written, so {@link close} can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();
  private unsubscribe?: () => void;

  constructor(
    private readonly store: WebhookStore,
    private readonly destinations: DestinationPolicy,
    private readonly options: WebhookServiceOptions,
  ) {}

  /**
   * Records every webhook-worthy core event from now on. The store call starts synchronously
   * inside the publish (with SQLite it has committed when publish returns, before the message is
   * acknowledged); see {@link WebhookStore.enqueue}.
   */
  attach(events: ChatEvents): void {
    this.unsubscribe?.();
    this.unsubscribe = events.subscribe((chatEvent) => {
      const event = toWebhookEvent(chatEvent, new Date().toISOString());
      if (!event) return;
      const recording = this.store
        .enqueue(event, newDeliveryId, Date.now())
        .then((created) => {
          if (created > 0) this.options.onEnqueued?.();
        })
        .catch((err: unknown) => this.options.onEnqueueError(err, event.type))
        .finally(() => this.pending.delete(recording));
      this.pending.add(recording);
    });
  }

  /** Stops listening and waits for recordings in progress. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.allSettled([...this.pending]);
  }

  /** Registers an endpoint; the result carries its signing secret. */
  async create(input: WebhookEndpointInput): Promise<WebhookEndpointInfo & WebhookSecretInfo> {
    const url = await this.checkUrl(input.url);
    const now = new Date().toISOString();
    const enabled = input.enabled ?? true;
    const endpoint: WebhookEndpoint = {
      id: newEndpointId(),
      url,
      eventTypes: checkEventTypes(input.eventTypes),
      enabled,
      secret: newSigningSecret(),
      consecutiveFailures: 0,
      createdAt: now,
      updatedAt: now,
      ...(input.description ? { description: input.description } : {}),
      ...(enabled ? {} : { disabledReason: "manual" as const }),
    };
    await this.store.createEndpoint(endpoint);
    return { ...toInfo(endpoint), secret: endpoint.secret };
  }

  async list(): Promise<WebhookEndpointInfo[]> {
    return (await this.store.listEndpoints()).map(toInfo);
  }

  async get(id: string): Promise<WebhookEndpointInfo> {
    return toInfo(await this.require(id));
  }

  /** Changes the given fields. Enabling an endpoint clears its failure streak. */
  async update(id: string, input: WebhookEndpointUpdate): Promise<WebhookEndpointInfo> {
    await this.require(id);
    const patch: WebhookEndpointPatch = {};
    if (input.url !== undefined) patch.url = await this.checkUrl(input.url);
    if (input.eventTypes !== undefined) patch.eventTypes = checkEventTypes(input.eventTypes);
    if (input.description !== undefined) patch.description = input.description || null;
    if (input.enabled === true) Object.assign(patch, { enabled: true, disabledReason: null, consecutiveFailures: 0, failingSince: null });
    if (input.enabled === false) Object.assign(patch, { enabled: false, disabledReason: "manual" });
    const updated = await this.store.updateEndpoint(id, patch, new Date().toISOString());
    if (!updated) throw notFound(id);
    return toInfo(updated);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteEndpoint(id))) throw notFound(id);
  }

  async getSecret(id: string): Promise<WebhookSecretInfo> {
    return toSecretInfo(await this.require(id), Date.now());
  }

  /**
   * Replaces the signing secret. For `secretGraceHours` the old one keeps signing too (each
   * request then carries both signatures), so receivers can switch without a failed request.
   */
  async rotateSecret(id: string): Promise<WebhookSecretInfo> {
    const endpoint = await this.require(id);
    const now = Date.now();
    const graceMs = this.options.secretGraceHours * 3_600_000;
    const updated = await this.store.updateEndpoint(
      id,
      graceMs > 0
        ? { secret: newSigningSecret(), previousSecret: endpoint.secret, previousSecretExpiresAt: new Date(now + graceMs).toISOString() }
        : { secret: newSigningSecret(), previousSecret: null, previousSecretExpiresAt: null },
      new Date(now).toISOString(),
    );
    if (!updated) throw notFound(id);
    return toSecretInfo(updated, now);
  }

  /** The endpoint's delivery log, newest first. */
  async listDeliveries(id: string, query: DeliveryQuery): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }> {
    await this.require(id);
    return this.store.listDeliveries(id, query);
  }

  /** Sends one delivery's event again, as a new delivery with the same `webhook-id`. */
  async replayDelivery(id: string, deliveryId: string): Promise<WebhookDelivery> {
    const endpoint = await this.require(id);
    requireEnabled(endpoint);
    const delivery = await this.store.replayDelivery(id, deliveryId, newDeliveryId(), Date.now());
    if (!delivery) throw new SwitchboardError("not_found", `Delivery ${deliveryId} of webhook ${id} does not exist.`);
    this.options.onEnqueued?.();
    return delivery;
  }

  /**
   * Sends again every recorded event in `[since, until)` that the endpoint subscribes to now,
   * as new deliveries with the original `webhook-id`s. Returns how many were queued.
   */
  async replayRange(id: string, since: string, until: string | undefined): Promise<{ enqueued: number }> {
    const endpoint = await this.require(id);
    requireEnabled(endpoint);
    const from = Date.parse(since);
    const to = until === undefined ? Date.now() + 1 : Date.parse(until);
    if (Number.isNaN(from) || Number.isNaN(to)) throw new SwitchboardError("invalid_argument", "since and until must be ISO-8601 times.");
    if (to <= from) throw new SwitchboardError("invalid_argument", "until must be later than since.");
    const enqueued = await this.store.replayRange(id, endpoint.eventTypes, from, to, newDeliveryId, Date.now());
    if (enqueued > 0) this.options.onEnqueued?.();
    return { enqueued };
  }

  private async require(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.store.getEndpoint(id);
    if (!endpoint) throw notFound(id);
    return endpoint;
  }

  /** Well formed and, unless private destinations are allowed, public (resolving the name now). */
  private async checkUrl(raw: string): Promise<string> {
    const url = normalizeWebhookUrl(raw);
    const verdict = await this.destinations.check(url);
    switch (verdict.verdict) {
      case "allowed":
        return url;
      case "refused":
        throw new SwitchboardError("invalid_argument", `url: ${verdict.reason}; webhooks are only sent to public addresses (see WEBHOOK_ALLOW_PRIVATE).`);
      case "unresolved":
        throw new SwitchboardError("invalid_argument", `url: ${verdict.reason}.`);
      default: {
        const exhaustive: never = verdict;
        return exhaustive;
      }
    }
  }
}

function checkEventTypes(types: string[]): string[] {
  const unique = [...new Set(types)];
  if (unique.length === 0) throw new SwitchboardError("invalid_argument", 'eventTypes: name at least one event type, or ["*"] for all.');
  const unknown = unique.filter((t) => t !== "*" && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new SwitchboardError("invalid_argument", `eventTypes: unknown ${unknown.join(", ")}; known: ${WEBHOOK_EVENT_TYPES.join(", ")} or "*".`);
  }
  return unique.includes("*") ? ["*"] : unique;
}

function requireEnabled(endpoint: WebhookEndpoint): void {
  if (!endpoint.enabled) {
    throw new SwitchboardError("conflict", `Webhook ${endpoint.id} is disabled (${endpoint.disabledReason ?? "manual"}); enable it with PATCH before replaying.`);
  }
}

function notFound(id: string): SwitchboardError {
  return new SwitchboardError("not_found", `Webhook ${id} does not exist.`);
}

function toInfo(e: WebhookEndpoint): WebhookEndpointInfo {
  return {
    id: e.id,
    url: e.url,
    ...(e.description ? { description: e.description } : {}),
    eventTypes: e.eventTypes,
    enabled: e.enabled,
    ...(e.disabledReason ? { disabledReason: e.disabledReason } : {}),
    consecutiveFailures: e.consecutiveFailures,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

function toSecretInfo(e: WebhookEndpoint, now: number): WebhookSecretInfo {
  const graceLasts = e.previousSecret !== undefined && e.previousSecretExpiresAt !== undefined && Date.parse(e.previousSecretExpiresAt) > now;
  return graceLasts ? { secret: e.secret, previousSecretExpiresAt: e.previousSecretExpiresAt } : { secret: e.secret };
}
