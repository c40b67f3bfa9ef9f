import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { UserPrincipal } from "../server/src/auth/principal.js";
import { ENSURE_BATCH_MAX, UserService } from "../server/src/core/user-service.js";
import { openSqliteDatabase, SqliteStore } from "../server/src/store/sqlite-store.js";

const principal = (userId: string, extra: Partial<UserPrincipal> = {}): UserPrincipal => ({ kind: "user", userId, role: "user", expiresAt: Date.now() + 3600_000, ...extra });

describe("UserService: users recorded from tokens", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function open() {
    const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-users-"));
    const commits: number[] = [];
    const store = new SqliteStore(openSqliteDatabase(path.join(dir, "store.db"), { synchronous: "FULL", busyTimeoutMs: 5000 }), {
      onGroupCommit: ({ size }) => commits.push(size),
    });
    await store.init();
    cleanups.push(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { store, users: new UserService(store), commits };
  }

  it("records a burst of first connections in shared commits, the latest claims of a user winning", async () => {
    const { store, users, commits } = await open();
    const burst = Array.from({ length: 300 }, (_, i) => users.ensureFromToken(principal(`u${i}`, { name: `User ${i}` })));
    burst.push(users.ensureFromToken(principal("u5", { name: "Renamed 5", role: "agent" })));
    await Promise.all(burst);
    // Rounds of at most ENSURE_BATCH_MAX users, each one commit; u5's second token came after the
    // first round had started, so the second round writes it again.
    expect(commits).toEqual([ENSURE_BATCH_MAX, 300 - ENSURE_BATCH_MAX + 1]);
    expect(await store.getUser("u299")).toMatchObject({ name: "User 299", role: "user" });
    expect(await store.getUser("u5")).toMatchObject({ name: "Renamed 5", role: "agent" });
  });

  it("writes nothing for a known user whose claims did not change, and records a changed name", async () => {
    const { users, commits } = await open();
    await users.ensureFromToken(principal("ada", { name: "Ada" }));
    await users.ensureFromToken(principal("ada", { name: "Ada" }));
    await users.ensureFromToken(principal("ada"));
    expect(commits).toEqual([1]);
    await users.ensureFromToken(principal("ada", { name: "Ada L." }));
    expect(commits).toEqual([1, 1]);
    expect(await users.get("ada")).toMatchObject({ name: "Ada L." });
  });

  it("answers a read of a user whose first connection is still waiting to be recorded with the token's claims", async () => {
    const { users } = await open();
    void users.ensureFromToken(principal("grace", { name: "Grace", role: "agent" }));
    expect(await users.get("grace")).toMatchObject({ id: "grace", name: "Grace", role: "agent" });
    await expect(users.get("nobody")).rejects.toMatchObject({ code: "not_found" });
  });
});
