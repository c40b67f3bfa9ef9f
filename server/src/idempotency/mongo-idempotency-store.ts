import { MongoServerError, type Collection, type Db, type WriteConcernSettings } from "mongodb";
import { SwitchboardError } from "../core/errors.js";
import { runMongo } from "../store/mongo-store.js";
import type { ClaimResult, IdempotencyClaim, IdempotencyScope, IdempotencyStore, StoredResponse } from "./idempotency-store.js";

interface IdempotencyDoc {
  /** One document per (API key, idempotency key); fields always in this order, so equality matches. */
  _id: { apiKeyId: string; key: string };
  fingerprint: string;
  token: string;
  state: "in_progress" | "completed";
  lockedUntil: Date;
  /** A TTL index deletes the document after this time (within about a minute). */
  expiresAt: Date;
  status?: number;
  contentType?: string;
  body?: string;
}

const DUPLICATE_KEY = 11000;
/** A claim that loses to the TTL monitor between two steps simply looks again, this many times. */
const CLAIM_ATTEMPTS = 3;

/**
 * The MongoDB {@link IdempotencyStore}: collection `idempotencyKeys` in the main database, with a
 * TTL index on `expiresAt`. The TTL monitor deletes lazily, so claims also compare `expiresAt`.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly records: Collection<IdempotencyDoc>;

  /**
   * @param db the main store's database (its client is owned and closed by the composition root).
   * @param options.writeConcern default `{ w: "majority", journal: true }`, like the main store.
   */
  constructor(db: Db, options: { writeConcern?: WriteConcernSettings } = {}) {
    this.records = db.collection<IdempotencyDoc>("idempotencyKeys", {
      writeConcern: options.writeConcern ?? { w: "majority", journal: true },
      ignoreUndefined: true,
    });
  }

  init(): Promise<void> {
    return runMongo(async () => {
      await this.records.createIndexes([{ key: { expiresAt: 1 }, name: "expires_at_ttl", expireAfterSeconds: 0 }]);
    });
  }

  claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    return runMongo(async () => {
      const _id = scopeId(claim);
      const fresh = {
        fingerprint: claim.fingerprint,
        token: claim.token,
        state: "in_progress" as const,
        lockedUntil: claim.lockedUntil,
        expiresAt: claim.expiresAt,
      };
      for (let attempt = 1; ; attempt++) {
        try {
          await this.records.insertOne({ _id, ...fresh });
          return { kind: "claimed" };
        } catch (err) {
          if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
        }
        // Taken: take it over if it expired, or if its request died (lock passed, same request).
        const takenOver = await this.records.findOneAndUpdate(
          {
            _id,
            $or: [
              { expiresAt: { $lte: claim.now } },
              { state: "in_progress", lockedUntil: { $lte: claim.now }, fingerprint: claim.fingerprint },
            ],
          },
          { $set: fresh, $unset: { status: "", contentType: "", body: "" } },
        );
        if (takenOver) return { kind: "claimed" };
        const existing = await this.records.findOne({ _id });
        if (existing) return toResult(existing);
        // Deleted (TTL or a release) between the two steps: the key is free again.
        if (attempt >= CLAIM_ATTEMPTS) {
          throw new SwitchboardError("unavailable", "The idempotency key changed hands too often to be claimed; retry the request.");
        }
      }
    });
  }

  complete(scope: IdempotencyScope, token: string, response: StoredResponse): Promise<void> {
    return runMongo(async () => {
      await this.records.updateOne(
        { _id: scopeId(scope), token, state: "in_progress" },
        {
          $set: {
            state: "completed",
            status: response.status,
            body: response.body,
            ...(response.contentType === undefined ? {} : { contentType: response.contentType }),
          },
        },
      );
    });
  }

  release(scope: IdempotencyScope, token: string): Promise<void> {
    return runMongo(async () => {
      await this.records.deleteOne({ _id: scopeId(scope), token, state: "in_progress" });
    });
  }
}

function scopeId(scope: IdempotencyScope): IdempotencyDoc["_id"] {
  return { apiKeyId: scope.apiKeyId, key: scope.key };
}

function toResult(doc: IdempotencyDoc): ClaimResult {
  if (doc.state === "in_progress") return { kind: "in_progress", fingerprint: doc.fingerprint };
  const response: StoredResponse = { status: doc.status ?? 500, body: doc.body ?? "" };
  if (doc.contentType !== undefined && doc.contentType !== null) response.contentType = doc.contentType;
  return { kind: "completed", fingerprint: doc.fingerprint, response };
}

