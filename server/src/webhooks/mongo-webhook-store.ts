import { randomUUID } from "node:crypto";
import { MongoServerError, type Collection, type Db, type Filter, type WriteConcernSettings } from "mongodb";
import { runMongo } from "../store/mongo-store.js";
import {
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

/** Options of {@link MongoWebhookStore}. */
export interface MongoWebhookStoreOptions {
  /** Write concern of every write. Default `{ w: "majority", journal: true }`, like the main store. */
  writeConcern?: WriteConcernSettings;
}

interface EndpointDoc {
  _id: string;
  url: string;
  description?: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason?: WebhookDisabledReason;
  secret: string;
  previousSecret?: string;
  previousSecretExpiresAt?: string;
  consecutiveFailures: number;
  failingSince?: string;
  createdAt: string;
  updatedAt: string;
}

interface EventDoc {
  _id: string;
  type: WebhookEventType;
  timestamp: string;
  /** `timestamp` in epoch ms: replay ranges and pruning. */
  occurredAt: number;
  data: unknown;
}

interface DeliveryDoc {
  _id: string;
  endpointId: string;
  eventId: string;
  /** Copied from the event: the log lists deliveries without a join. */
  eventType: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: WebhookAttempt[];
  /** Epoch ms, while pending. */
  nextAttemptAt?: number;
  leaseToken?: string;
  /** Epoch ms. */
  leaseUntil?: number;
  /** Epoch ms. */
  createdAt: number;
  replayOf?: string;
}

const DUPLICATE_KEY = 11000;
/** Deliveries inserted per round trip by a range replay. */
const INSERT_BATCH = 1000;

/**
 * The MongoDB {@link WebhookStore}, in the main store's database: collections `webhookEndpoints`,
 * `webhookEvents` and `webhookDeliveries`. Needs no transactions: a lease is one
 * `findOneAndUpdate` on a due, unleased delivery, which MongoDB applies atomically per document,
 * so two nodes never hold the same delivery.
 *
 * Unlike SQLite, recording an event and its deliveries are two writes: a crash between them
 * records the event without deliveries (replay the time range to send it).
 *
 * @example
 * const webhookStore = new MongoWebhookStore(client.db());
 * await webhookStore.init();
 */
export class MongoWebhookStore implements WebhookStore {
  private readonly endpoints: Collection<EndpointDoc>;
  private readonly events: Collection<EventDoc>;
  private readonly deliveries: Collection<DeliveryDoc>;

  /** @param db a database of an already-connected client, which this store never closes. */
  constructor(db: Db, options: MongoWebhookStoreOptions = {}) {
    const collectionOptions = { writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true }, ignoreUndefined: true };
    this.endpoints = db.collection<EndpointDoc>("webhookEndpoints", collectionOptions);
    this.events = db.collection<EventDoc>("webhookEvents", collectionOptions);
    this.deliveries = db.collection<DeliveryDoc>("webhookDeliveries", collectionOptions);
  }

  /** Creates every index (idempotent). */
  init(): Promise<void> {
    return runMongo(async () => {
      await Promise.all([
        this.deliveries.createIndexes([
          // The dispatchers' queue: only pending deliveries are indexed.
          { key: { nextAttemptAt: 1 }, name: "due", partialFilterExpression: { status: "pending" } },
          { key: { endpointId: 1, _id: -1 }, name: "endpoint_log" },
          { key: { eventId: 1 }, name: "event" },
        ]),
        this.events.createIndexes([{ key: { occurredAt: 1 }, name: "occurred_at" }]),
        this.endpoints.createIndexes([{ key: { createdAt: 1, _id: 1 }, name: "created" }]),
      ]);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    return runMongo(async () => {
      await this.endpoints.insertOne(toEndpointDoc(endpoint));
    });
  }

  getEndpoint(id: string): Promise<WebhookEndpoint | null> {
    return runMongo(async () => {
      const doc = await this.endpoints.findOne({ _id: id });
      return doc ? toEndpoint(doc) : null;
    });
  }

  listEndpoints(): Promise<WebhookEndpoint[]> {
    return runMongo(async () => (await this.endpoints.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toEndpoint));
  }

  updateEndpoint(id: string, patch: WebhookEndpointPatch, now: string): Promise<WebhookEndpoint | null> {
    return runMongo(async () => {
      // Only the patched fields: a concurrent failure count on the same document is kept.
      const $set: Record<string, unknown> = { updatedAt: now };
      const $unset: Record<string, ""> = {};
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        if (value === null) $unset[key] = "";
        else $set[key] = value;
      }
      const doc = await this.endpoints.findOneAndUpdate(
        { _id: id },
        Object.keys($unset).length > 0 ? { $set, $unset } : { $set },
        { returnDocument: "after" },
      );
      return doc ? toEndpoint(doc) : null;
    });
  }

  deleteEndpoint(id: string): Promise<boolean> {
    return runMongo(async () => {
      const { deletedCount } = await this.endpoints.deleteOne({ _id: id });
      await this.deliveries.deleteMany({ endpointId: id });
      return deletedCount > 0;
    });
  }

  recordEndpointResult(id: string, ok: boolean, now: string): Promise<WebhookEndpoint | null> {
    return runMongo(async () => {
      const doc = ok
        ? await this.endpoints.findOneAndUpdate({ _id: id }, { $set: { consecutiveFailures: 0 }, $unset: { failingSince: "" } }, { returnDocument: "after" })
        : await this.endpoints.findOneAndUpdate(
            { _id: id },
            [{ $set: { consecutiveFailures: { $add: [{ $ifNull: ["$consecutiveFailures", 0] }, 1] }, failingSince: { $ifNull: ["$failingSince", now] } } }],
            { returnDocument: "after" },
          );
      return doc ? toEndpoint(doc) : null;
    });
  }

  enqueue(event: WebhookEvent, newDeliveryId: () => string, now: number): Promise<number> {
    return runMongo(async () => {
      const matching = (await this.endpoints.find({}, { projection: { eventTypes: 1, enabled: 1 } }).toArray()).filter((e) =>
        subscribes(e.eventTypes, event.type),
      );
      if (matching.length === 0) return 0;
      try {
        await this.events.insertOne({ _id: event.id, type: event.type, timestamp: event.timestamp, occurredAt: occurredAt(event), data: event.data ?? null });
      } catch (err) {
        // Already recorded: a repeated announcement (a retried send) creates nothing.
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return 0;
        throw err;
      }
      const docs = matching
        .filter((e) => e.enabled)
        .map((e): DeliveryDoc => newDelivery(newDeliveryId(), e._id, event.id, event.type, now));
      if (docs.length > 0) await this.deliveries.insertMany(docs, { ordered: false });
      return docs.length;
    });
  }

  lease(now: number, leaseMs: number, limit: number): Promise<LeasedDelivery[]> {
    return runMongo(async () => {
      const token = randomUUID();
      const leased: DeliveryDoc[] = [];
      // One document at a time: findOneAndUpdate is atomic per document, a batch update is not.
      while (leased.length < limit) {
        const doc = await this.deliveries.findOneAndUpdate(
          { status: "pending", nextAttemptAt: { $lte: now }, leaseUntil: { $not: { $gte: now } } },
          { $set: { leaseToken: token, leaseUntil: now + leaseMs } },
          { sort: { nextAttemptAt: 1 }, returnDocument: "after" },
        );
        if (!doc) break;
        leased.push(doc);
      }
      if (leased.length === 0) return [];
      const events = new Map(
        (await this.events.find({ _id: { $in: [...new Set(leased.map((d) => d.eventId))] } }).toArray()).map((e) => [e._id, toEvent(e)]),
      );
      return leased.flatMap((doc): LeasedDelivery[] => {
        const event = events.get(doc.eventId);
        return event ? [{ delivery: toDelivery(doc), event, leaseToken: token }] : [];
      });
    });
  }

  completeAttempt(deliveryId: string, leaseToken: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean> {
    return runMongo(async () => {
      const $unset: Record<string, ""> = { leaseToken: "", leaseUntil: "" };
      const $set: Record<string, unknown> = { status: outcome.status };
      if (outcome.status === "pending") $set.nextAttemptAt = outcome.nextAttemptAt;
      else $unset.nextAttemptAt = "";
      const { matchedCount } = await this.deliveries.updateOne({ _id: deliveryId, leaseToken }, { $push: { attempts: attempt }, $set, $unset });
      return matchedCount > 0;
    });
  }

  releaseLease(deliveryId: string, leaseToken: string): Promise<void> {
    return runMongo(async () => {
      await this.deliveries.updateOne({ _id: deliveryId, leaseToken }, { $unset: { leaseToken: "", leaseUntil: "" } });
    });
  }

  listDeliveries(endpointId: string, query: DeliveryQuery): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }> {
    return runMongo(async () => {
      const limit = Math.max(0, Math.trunc(query.limit));
      const filter: Filter<DeliveryDoc> = { endpointId };
      if (query.status) filter.status = query.status;
      if (query.before) filter._id = { $lt: query.before };
      // One document past the page tells whether more exist, without a count.
      const docs = await this.deliveries.find(filter).sort({ _id: -1 }).limit(limit + 1).toArray();
      return { deliveries: docs.slice(0, limit).map(toDelivery), hasMore: docs.length > limit };
    });
  }

  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    return runMongo(async () => {
      const doc = await this.deliveries.findOne({ _id: deliveryId, endpointId });
      return doc ? toDelivery(doc) : null;
    });
  }

  replayDelivery(endpointId: string, deliveryId: string, newDeliveryId: string, now: number): Promise<WebhookDelivery | null> {
    return runMongo(async () => {
      const original = await this.deliveries.findOne({ _id: deliveryId, endpointId });
      if (!original) return null;
      const doc: DeliveryDoc = { ...newDelivery(newDeliveryId, endpointId, original.eventId, original.eventType, now), replayOf: deliveryId };
      await this.deliveries.insertOne(doc);
      return toDelivery(doc);
    });
  }

  replayRange(endpointId: string, eventTypes: string[], since: number, until: number, newDeliveryId: () => string, now: number): Promise<number> {
    return runMongo(async () => {
      if (!(await this.endpoints.findOne({ _id: endpointId }, { projection: { _id: 1 } }))) return 0;
      const filter: Filter<EventDoc> = { occurredAt: { $gte: since, $lt: until } };
      if (!eventTypes.includes("*")) filter.type = { $in: eventTypes as WebhookEventType[] };
      let batch: DeliveryDoc[] = [];
      let created = 0;
      for await (const event of this.events.find(filter, { projection: { _id: 1, type: 1 } }).sort({ occurredAt: 1, _id: 1 })) {
        if (!subscribes(eventTypes, event.type)) continue;
        batch.push(newDelivery(newDeliveryId(), endpointId, event._id, event.type, now));
        if (batch.length >= INSERT_BATCH) {
          await this.deliveries.insertMany(batch, { ordered: false });
          created += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) await this.deliveries.insertMany(batch, { ordered: false });
      return created + batch.length;
    });
  }

  prune(before: number): Promise<number> {
    return runMongo(async () => {
      const { deletedCount } = await this.deliveries.deleteMany({ status: { $ne: "pending" }, createdAt: { $lt: before } });
      const orphans = await this.events
        .aggregate<{ _id: string }>([
          { $match: { occurredAt: { $lt: before } } },
          { $lookup: { from: this.deliveries.collectionName, localField: "_id", foreignField: "eventId", as: "deliveries" } },
          { $match: { deliveries: { $size: 0 } } },
          { $project: { _id: 1 } },
        ])
        .toArray();
      if (orphans.length > 0) await this.events.deleteMany({ _id: { $in: orphans.map((o) => o._id) } });
      return deletedCount;
    });
  }

}

function occurredAt(event: WebhookEvent): number {
  const ms = Date.parse(event.timestamp);
  return Number.isNaN(ms) ? Date.now() : ms;
}

function newDelivery(id: string, endpointId: string, eventId: string, eventType: WebhookEventType, now: number): DeliveryDoc {
  return { _id: id, endpointId, eventId, eventType, status: "pending", attempts: [], nextAttemptAt: now, createdAt: now };
}

function toEndpointDoc(e: WebhookEndpoint): EndpointDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

function toEndpoint(d: EndpointDoc): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    id: d._id,
    url: d.url,
    eventTypes: d.eventTypes,
    enabled: d.enabled,
    secret: d.secret,
    consecutiveFailures: d.consecutiveFailures ?? 0,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (d.description != null) endpoint.description = d.description;
  if (d.disabledReason != null) endpoint.disabledReason = d.disabledReason;
  if (d.previousSecret != null) endpoint.previousSecret = d.previousSecret;
  if (d.previousSecretExpiresAt != null) endpoint.previousSecretExpiresAt = d.previousSecretExpiresAt;
  if (d.failingSince != null) endpoint.failingSince = d.failingSince;
  return endpoint;
}

function toEvent(d: EventDoc): WebhookEvent {
  return { id: d._id, type: d.type, timestamp: d.timestamp, data: d.data };
}

function toDelivery(d: DeliveryDoc): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: d._id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts ?? [],
    createdAt: new Date(d.createdAt).toISOString(),
  };
  if (d.status === "pending" && d.nextAttemptAt != null) delivery.nextAttemptAt = new Date(d.nextAttemptAt).toISOString();
  if (d.replayOf != null) delivery.replayOf = d.replayOf;
  return delivery;
}
