import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiKeyService } from "../server/src/auth/api-key-service.js";
import { SwitchboardError } from "../server/src/core/errors.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";
import { HTTP_ADMIN_KEY, startHttpApp, type HttpTestApp } from "./support/http-harness.js";

interface ErrorBody {
  error: { code: string; message: string };
}
interface KeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  previousKeyExpiresAt?: string;
}
type CreatedKey = KeyInfo & { key: string };

describe("API key rotation over HTTP", () => {
  let t: HttpTestApp;
  let n = 0;
  beforeAll(async () => {
    t = await startHttpApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const createKey = async (scopes: string[] = ["read"]) => {
    const res = await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: `key-${++n}`, scopes } });
    expect(res.status).toBe(201);
    return res.body;
  };
  const listed = async (id: string) => (await t.call<{ apiKeys: KeyInfo[] }>("GET", "/v1/api-keys")).body.apiKeys.find((k) => k.id === id);

  it("gives a key a new secret with the same id, name and scopes, and keeps the old secret working for 24 hours", async () => {
    const created = await createKey(["read", "write"]);
    const before = Date.now();
    const rotated = await t.call<CreatedKey>("POST", `/v1/api-keys/${created.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.id, name: created.name, scopes: ["read", "write"], createdAt: created.createdAt });
    expect(rotated.body.key).toMatch(/^sb_/);
    expect(rotated.body.key).not.toBe(created.key);
    expect(rotated.body.key.startsWith(rotated.body.prefix)).toBe(true);
    const grace = Date.parse(rotated.body.previousKeyExpiresAt!) - before;
    expect(grace).toBeGreaterThan(24 * 3600_000 - 5000);
    expect(grace).toBeLessThanOrEqual(24 * 3600_000 + 1000);
    expect(rotated.text).not.toContain(created.key);

    expect((await t.call("GET", "/v1/users/nobody", { key: rotated.body.key })).status).toBe(404);
    expect((await t.call("GET", "/v1/users/nobody", { key: created.key })).status).toBe(404);
    const info = await listed(created.id);
    expect(info).toMatchObject({ prefix: rotated.body.prefix, previousKeyExpiresAt: rotated.body.previousKeyExpiresAt, lastUsedAt: expect.any(String) });
    expect(info).not.toHaveProperty("previousHash");
    expect(info).not.toHaveProperty("hash");
  });

  it("shows lastUsedAt in the listing once a key has been used", async () => {
    const created = await createKey();
    expect(await listed(created.id)).not.toHaveProperty("lastUsedAt");
    const before = Date.now();
    await t.call("GET", "/v1/users/nobody", { key: created.key });
    const info = await listed(created.id);
    expect(Date.parse(info!.lastUsedAt!)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("ends the grace of the first secret when the key is rotated again", async () => {
    const created = await createKey();
    const second = (await t.call<CreatedKey>("POST", `/v1/api-keys/${created.id}/rotate`)).body;
    const third = (await t.call<CreatedKey>("POST", `/v1/api-keys/${created.id}/rotate`)).body;
    const refused = await t.call<ErrorBody>("GET", "/v1/users/nobody", { key: created.key });
    expect(refused.status).toBe(401);
    expect((await t.call("GET", "/v1/users/nobody", { key: second.key })).status).toBe(404);
    expect((await t.call("GET", "/v1/users/nobody", { key: third.key })).status).toBe(404);
  });

  it("answers 404 for a revoked or unknown key, and 409 for the ADMIN_API_KEY bootstrap key", async () => {
    const created = await createKey();
    await t.call("DELETE", `/v1/api-keys/${created.id}`);
    expect((await t.call<ErrorBody>("POST", `/v1/api-keys/${created.id}/rotate`)).status).toBe(404);
    expect((await t.call<ErrorBody>("POST", "/v1/api-keys/key_unknown/rotate")).status).toBe(404);
    const bootstrap = (await t.call<{ apiKeys: KeyInfo[] }>("GET", "/v1/api-keys")).body.apiKeys.find((k) => k.name === "ADMIN_API_KEY" && !k.revokedAt);
    const refused = await t.call<ErrorBody>("POST", `/v1/api-keys/${bootstrap!.id}/rotate`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/ADMIN_API_KEY/);
    expect((await t.call("GET", "/v1/users/nobody", { key: HTTP_ADMIN_KEY })).status).toBe(404);
  });

  it("revoking a rotated key refuses both its secrets", async () => {
    const created = await createKey();
    const rotated = (await t.call<CreatedKey>("POST", `/v1/api-keys/${created.id}/rotate`)).body;
    expect((await t.call("DELETE", `/v1/api-keys/${created.id}`)).status).toBe(204);
    for (const key of [created.key, rotated.key]) {
      const res = await t.call<ErrorBody>("GET", "/v1/users/nobody", { key });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/revoked/);
    }
  });
});

describe("API key rotation grace", () => {
  it("stops the replaced secret at once with API_KEY_ROTATION_GRACE_HOURS=0", async () => {
    const t = await startHttpApp({ API_KEY_ROTATION_GRACE_HOURS: "0" });
    try {
      const created = (await t.call<CreatedKey>("POST", "/v1/api-keys", { json: { name: "ci", scopes: ["read"] } })).body;
      const rotated = (await t.call<CreatedKey>("POST", `/v1/api-keys/${created.id}/rotate`)).body;
      const refused = await t.call<ErrorBody>("GET", "/v1/users/nobody", { key: created.key });
      expect(refused.status).toBe(401);
      expect(refused.body.error.message).toMatch(/replaced by a rotation/);
      expect((await t.call("GET", "/v1/users/nobody", { key: rotated.key })).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  describe("with a clock", () => {
    let dir: string;
    afterEach(async () => {
      vi.useRealTimers();
      await rm(dir, { recursive: true, force: true });
    });

    it("accepts the replaced secret until the grace period ends, then refuses it as unauthorized", async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-rotation-"));
      const store = new SqliteStore(openSqliteDatabase(path.join(dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 }));
      await store.init();
      try {
        const keys = new ApiKeyService(store, { rotationGraceMs: 2 * 3600_000 });
        const { key: oldKey, info } = await keys.create({ name: "backend", scopes: ["write"] });
        vi.useFakeTimers({ toFake: ["Date"] });
        const { key: newKey } = await keys.rotate(info.id);
        vi.setSystemTime(Date.now() + 2 * 3600_000 - 1000);
        expect(await keys.verify(`Bearer ${oldKey}`)).toMatchObject({ keyId: info.id, scopes: ["write"] });
        vi.setSystemTime(Date.now() + 2000);
        const err = await keys.verify(`Bearer ${oldKey}`).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SwitchboardError);
        expect((err as SwitchboardError).code).toBe("unauthorized");
        expect(await keys.verify(`Bearer ${newKey}`)).toMatchObject({ keyId: info.id });
      } finally {
        await store.close();
      }
    });
  });
});
