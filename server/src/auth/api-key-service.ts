import { createHash, randomBytes, randomUUID } from "node:crypto";
import { SwitchboardError } from "../core/errors.js";
import type { ApiKeyRecord, Store } from "../store/store.js";
import type { ApiKeyPrincipal, ApiKeyScope } from "./principal.js";

/** What listings show of a key: everything but the secret and its hash. */
export type ApiKeyInfo = Omit<ApiKeyRecord, "hash">;

const BOOTSTRAP_ID = "admin-bootstrap";
/** `lastUsedAt` is written at most this often per key, so a busy key costs no write per request. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * API keys for server-to-server calls. Keys are `sb_` plus 32 random bytes; only their SHA-256
 * is stored (a fast hash suffices: the keys are high-entropy, unlike passwords).
 */
export class ApiKeyService {
  private readonly touchedAt = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** Creates a key and returns its secret, the only time it is ever visible. */
  async create(input: { name: string; scopes: ApiKeyScope[] }): Promise<{ key: string; info: ApiKeyInfo }> {
    const key = `sb_${randomBytes(32).toString("base64url")}`;
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
    const record = await this.store.findApiKeyByHash(hashKey(match[1]));
    if (!record) throw new SwitchboardError("unauthorized", "Unknown API key.");
    if (record.revokedAt) throw new SwitchboardError("unauthorized", `API key ${record.prefix}… was revoked at ${record.revokedAt}.`);
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
    const key = `sb_${randomBytes(32).toString("base64url")}`;
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

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

function withoutHash({ hash: _hash, ...info }: ApiKeyRecord): ApiKeyInfo {
  return info;
}
