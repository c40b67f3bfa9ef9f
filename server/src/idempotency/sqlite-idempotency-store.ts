import { SqliteComponent, type SqliteDatabase } from "../store/sqlite-component.js";
import type { ClaimResult, IdempotencyClaim, IdempotencyScope, IdempotencyStore, StoredResponse } from "./idempotency-store.js";

/** This component's row in `schema_versions` (the main store owns `PRAGMA user_version`). */
const COMPONENT = "idempotency";

/** Migrations of the idempotency table; append, never edit a shipped entry. Times are epoch ms. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE idempotency_keys (
    api_key_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    state TEXT NOT NULL, -- 'in_progress' | 'completed'
    locked_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status INTEGER,
    content_type TEXT,
    body TEXT,
    PRIMARY KEY (api_key_id, key)
  ) STRICT;
  CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
  `,
];

/** Expired rows are deleted at most this often, a bounded batch at a time, on the claim path. */
const PURGE_INTERVAL_MS = 60_000;
const PURGE_BATCH = 1000;

interface Row {
  fingerprint: string;
  token: string;
  state: "in_progress" | "completed";
  locked_until: number;
  expires_at: number;
  status: number | null;
  content_type: string | null;
  body: string | null;
}

function prepareStatements(db: SqliteDatabase) {
  return {
    get: db.prepare<[string, string], Row>(
      "SELECT fingerprint, token, state, locked_until, expires_at, status, content_type, body FROM idempotency_keys WHERE api_key_id = ? AND key = ?",
    ),
    put: db.prepare<{ apiKeyId: string; key: string; fingerprint: string; token: string; lockedUntil: number; expiresAt: number }>(
      `INSERT INTO idempotency_keys (api_key_id, key, fingerprint, token, state, locked_until, expires_at)
       VALUES (@apiKeyId, @key, @fingerprint, @token, 'in_progress', @lockedUntil, @expiresAt)
       ON CONFLICT (api_key_id, key) DO UPDATE SET
         fingerprint = excluded.fingerprint, token = excluded.token, state = 'in_progress',
         locked_until = excluded.locked_until, expires_at = excluded.expires_at,
         status = NULL, content_type = NULL, body = NULL`,
    ),
    complete: db.prepare<{ apiKeyId: string; key: string; token: string; status: number; contentType: string | null; body: string }>(
      `UPDATE idempotency_keys SET state = 'completed', status = @status, content_type = @contentType, body = @body
       WHERE api_key_id = @apiKeyId AND key = @key AND token = @token AND state = 'in_progress'`,
    ),
    release: db.prepare<[string, string, string]>(
      "DELETE FROM idempotency_keys WHERE api_key_id = ? AND key = ? AND token = ? AND state = 'in_progress'",
    ),
    purge: db.prepare<[number, number]>(
      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)",
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The embedded {@link IdempotencyStore}: a table in the main SQLite file, on the main store's
 * connection (the composition root passes the same `Database`). Claims run in `BEGIN IMMEDIATE`,
 * so processes sharing the file see one owner per key.
 */
export class SqliteIdempotencyStore extends SqliteComponent<Statements> implements IdempotencyStore {
  private purgedAt = 0;

  /** @param db the main store's connection; this store never closes it. */
  constructor(db: SqliteDatabase) {
    super(db, "SqliteIdempotencyStore");
  }

  /** Applies pending migrations (recorded in `schema_versions` under `idempotency`). */
  init(): Promise<void> {
    return this.migrateAndPrepare(COMPONENT, MIGRATIONS, prepareStatements);
  }

  claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    return this.run(() => {
      const now = claim.now.getTime();
      if (now - this.purgedAt > PURGE_INTERVAL_MS) {
        this.purgedAt = now;
        this.q.purge.run(now, PURGE_BATCH);
      }
      return this.db
        .transaction((): ClaimResult => {
          const row = this.q.get.get(claim.apiKeyId, claim.key);
          const free =
            !row ||
            row.expires_at <= now ||
            (row.state === "in_progress" && row.locked_until <= now && row.fingerprint === claim.fingerprint);
          if (free) {
            this.q.put.run({
              apiKeyId: claim.apiKeyId,
              key: claim.key,
              fingerprint: claim.fingerprint,
              token: claim.token,
              lockedUntil: claim.lockedUntil.getTime(),
              expiresAt: claim.expiresAt.getTime(),
            });
            return { kind: "claimed" };
          }
          if (row.state === "in_progress") return { kind: "in_progress", fingerprint: row.fingerprint };
          const response: StoredResponse = { status: row.status ?? 500, body: row.body ?? "" };
          if (row.content_type !== null) response.contentType = row.content_type;
          return { kind: "completed", fingerprint: row.fingerprint, response };
        })
        .immediate();
    });
  }

  complete(scope: IdempotencyScope, token: string, response: StoredResponse): Promise<void> {
    return this.run(() => {
      this.q.complete.run({
        apiKeyId: scope.apiKeyId,
        key: scope.key,
        token,
        status: response.status,
        contentType: response.contentType ?? null,
        body: response.body,
      });
    });
  }

  release(scope: IdempotencyScope, token: string): Promise<void> {
    return this.run(() => {
      this.q.release.run(scope.apiKeyId, scope.key, token);
    });
  }


}
