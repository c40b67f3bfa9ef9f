import { createHash, randomBytes, randomUUID } from "node:crypto";
import { SwitchboardError } from "../core/errors.js";
import type { ApiKeyRecord, Store } from "../store/store.js";
import type { ApiKeyPrincipal, ApiKeyScope } from "./principal.js";

/** What listings show of a key: everything but the secret and its hashes. */
export type ApiKeyInfo = Omit<ApiKeyRecord, "hash" | "previousHash">;

/** Options of {@link ApiKeyService}. */
export interface ApiKeyServiceOptions {
  /**
   * How long the secret replaced by a rotation keeps working, in milliseconds
   * (`API_KEY_ROTATION_GRACE_HOURS`). Default 24 h; 0 ends it at once.
   */
  rotationGraceMs?: number;
}

/** Default of {@link ApiKeyServiceOptions.rotationGraceMs}: 24 h. */
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3600_000;

const BOOTSTRAP_ID = "admin-bootstrap";
/** `lastUsedAt` is written at most this often per key, so a busy key costs no write per request. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * API keys for server-to-server calls. Keys are `sb_` plus 32 random bytes; only their SHA-256
 * is stored (a fast hash suffices: the keys are high-entropy, unlike passwords).
 */
export class ApiKeyService {
  private readonly touchedAt = new Map<string, number>();
  private readonly rotationGraceMs: number;

  constructor(
    private readonly store: Store,
    options: ApiKeyServiceOptions = {},
  ) {
    this.rotationGraceMs = Math.max(0, options.rotationGraceMs ?? DEFAULT_ROTATION_GRACE_MS);
  }

  /** Creates a key and returns its secret, the only time it is ever visible. */
  async create(input: { name: string; scopes: ApiKeyScope[] }): Promise<{ key: string; info: ApiKeyInfo }> {
    const key = newSecret();
    const record: ApiKeyRecord = {
      id: `key_${randomUUID()}`,
      name: input.name,
      prefix: key.slice(0, 10),
      hash: hashKey(key),
      scopes: input.scopes,
      createdAt: new Date().toISOString(),
    };
    await this.store.createApiKey(record);
    return { key, info: withoutHash(record) };
  }

  /** Listing, secrets excluded. */
  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.listApiKeys()).map(withoutHash);
  }

  /**
   * Gives a key a new secret with the same id, name and scopes, returned here only. The secret
   * it replaces keeps working for the grace period (`previousKeyExpiresAt`), so callers can be
   * redeployed without downtime; a second rotation ends the grace of the first one's secret.
   * Throws `not_found` for an unknown or revoked key, and `conflict` for the key `ADMIN_API_KEY`
   * configures (the environment owns it: change the variable to rotate it).
   */
  async rotate(id: string): Promise<{ key: string; info: ApiKeyInfo }> {
    if (id.startsWith(`${BOOTSTRAP_ID}-`)) {
      throw new SwitchboardError("conflict", "This key is ADMIN_API_KEY's and is registered from the environment at every start; rotate it by changing ADMIN_API_KEY and restarting.");
    }
    const key = newSecret();
    const record = await this.store.rotateApiKey(id, {
      hash: hashKey(key),
      prefix: key.slice(0, 10),
      previousKeyExpiresAt: new Date(Date.now() + this.rotationGraceMs).toISOString(),
    });
    if (!record) throw new SwitchboardError("not_found", `No active API key with id ${id}.`);
    return { key, info: withoutHash(record) };
  }

  /** Revokes a key; throws `not_found` when there is no such active key. */
  async revoke(id: string): Promise<void> {
    if (!(await this.store.revokeApiKey(id, new Date().toISOString()))) {
      throw new SwitchboardError("not_found", `No active API key with id ${id}.`);
    }
  }

  /** Checks an `Authorization: Bearer` value; throws `unauthorized` with what to do about it. */
  async verify(authorization: string | undefined): Promise<ApiKeyPrincipal> {
    const match = authorization?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new SwitchboardError("unauthorized", "Missing API key: send `Authorization: Bearer <key>`.");
    const hash = hashKey(match[1]);
    const record = await this.store.findApiKeyByHash(hash);
    if (!record) throw new SwitchboardError("unauthorized", "Unknown API key.");
    if (record.revokedAt) throw new SwitchboardError("unauthorized", `API key ${record.prefix}… was revoked at ${record.revokedAt}.`);
    if (record.hash !== hash && !(record.previousKeyExpiresAt && Date.parse(record.previousKeyExpiresAt) > Date.now())) {
      throw new SwitchboardError(
        "unauthorized",
        `This secret of API key ${record.id} was replaced by a rotation and stopped working at ${record.previousKeyExpiresAt ?? "once"}; use the new secret.`,
      );
    }
    const now = Date.now();
    if (now - (this.touchedAt.get(record.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touchedAt.set(record.id, now);
      await this.store.touchApiKey(record.id, new Date(now).toISOString());
    }
    return { kind: "api-key", keyId: record.id, name: record.name, scopes: record.scopes as ApiKeyScope[] };
  }

  /**
   * Makes sure an admin key exists. With `ADMIN_API_KEY` set, that key is registered (replacing a
   * previous bootstrap key). Without it, a key is generated only when the store has no active key
   * at all, and returned so the caller can print it once.
   */
  async bootstrap(configuredKey: string | undefined): Promise<{ generatedKey?: string }> {
    const keys = await this.store.listApiKeys();
    const existing = keys.find((k) => k.id === BOOTSTRAP_ID || k.id.startsWith(`${BOOTSTRAP_ID}-`));
    if (configuredKey) {
      const hash = hashKey(configuredKey);
      if (existing?.hash === hash && !existing.revokedAt) return {};
      if (existing && !existing.revokedAt) await this.store.revokeApiKey(existing.id, new Date().toISOString());
      await this.store.createApiKey({
        id: `${BOOTSTRAP_ID}-${hash.slice(0, 12)}`,
        name: "ADMIN_API_KEY",
        prefix: configuredKey.slice(0, 10),
        hash,
        scopes: ["admin"],
        createdAt: new Date().toISOString(),
      }).catch(async (err) => {
        // Another node registered the same key at the same moment.
        if (!(await this.store.findApiKeyByHash(hash))) throw err;
      });
      return {};
    }
    if (keys.some((k) => !k.revokedAt)) return {};
    const key = newSecret();
    try {
      await this.store.createApiKey({
        id: BOOTSTRAP_ID,
        name: "generated admin key",
        prefix: key.slice(0, 10),
        hash: hashKey(key),
        scopes: ["admin"],
        createdAt: new Date().toISOString(),
      });
    } catch (err) {
      // A node sharing this store generated one first; it printed it.
      if ((await this.store.listApiKeys()).some((k) => k.id === BOOTSTRAP_ID)) return {};
      throw err;
    }
    return { generatedKey: key };
  }
}

/** True when the key's scopes allow `needed` (`admin` allows everything). */
export function hasScope(principal: ApiKeyPrincipal, needed: ApiKeyScope): boolean {
  return principal.scopes.includes("admin") || principal.scopes.includes(needed);
}

/** `sb_` plus 32 random bytes. */
function newSecret(): string {
  return `sb_${randomBytes(32).toString("base64url")}`;
}

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

function withoutHash({ hash: _hash, previousHash: _previousHash, ...info }: ApiKeyRecord): ApiKeyInfo {
  return info;
}
