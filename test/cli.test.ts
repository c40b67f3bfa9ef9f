import { spawn } from "node:child_process";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../node-sdk/src/cli.js";
import { Switchboard } from "../node-sdk/src/index.js";
import { ROOT, startBalancer, startServer, TEST_ADMIN_KEY, TEST_JWT_SECRET, waitFor, type TestServer } from "./support/harness.js";
import { startRedis } from "./support/redis-server.js";
import { startReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

/** The CLI as users run it: a child process (`node --import tsx node-sdk/src/cli.ts`), output captured. */
function spawnCli(args: string[], env: Record<string, string> = {}) {
  const { SWITCHBOARD_URL: _u, SWITCHBOARD_API_KEY: _k, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "node-sdk/src/cli.ts", ...args], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const run = spawnCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The CLI's `main` in-process, for the cheaper cases. */
async function cliInProcess(args: string[], env: Record<string, string | undefined>) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

describe("the switchboard CLI against a live server", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;
  let sb: Switchboard;
  beforeAll(async () => {
    server = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "20", ALLOWED_ORIGINS: "https://app.example" } });
    receiver = await startReceiver();
    env = { SWITCHBOARD_URL: server.url, SWITCHBOARD_API_KEY: TEST_ADMIN_KEY };
    sb = new Switchboard({ baseUrl: server.url, apiKey: TEST_ADMIN_KEY });
    await sb.users.upsert({ id: "alice" });
    await sb.conversations.create({ id: "cli-room", type: "group", memberIds: ["alice"] });
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it("creates, lists, rotates and revokes API keys, printing the secret once", async () => {
    const created = await cli(["keys", "create", "--name", "ci", "--scopes", "read,write", "--json"], env);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ name: "ci", scopes: ["read", "write"] });
    expect(key.key).toMatch(/^sb_/);

    const listed = await cliInProcess(["keys", "list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\s+ci\\s+read,write`));
    expect(listed.stdout).not.toContain(key.key);

    const rotated = await cliInProcess(["keys", "rotate", key.id], env);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/The old secret works until \d{4}-/);
    const newSecret = rotated.stdout.trim().split("\n").at(-1)!;
    expect((await new Switchboard({ baseUrl: server.url, apiKey: newSecret }).users.get("alice")).id).toBe("alice");

    const revoked = await cliInProcess(["keys", "revoke", key.id], env);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked ${key.id}.\n` });
    await expect(new Switchboard({ baseUrl: server.url, apiKey: newSecret }).users.get("alice")).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("mints a user token through the API, and locally with --secret", async () => {
    const remote = await cli(["token", "mint", "alice", "--ttl", "60"], env);
    expect(remote.code, remote.stderr).toBe(0);
    const local = await cliInProcess(["token", "mint", "bob", "--role", "agent", "--name", "Bob", "--json"], { ...env, SWITCHBOARD_JWT_SECRET: TEST_JWT_SECRET });
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const a = await jwtVerify(remote.stdout.trim(), key);
    expect(a.payload.sub).toBe("alice");
    expect(a.payload.exp! - a.payload.iat!).toBe(60);
    const b = await jwtVerify(JSON.parse(local.stdout).token, key);
    expect(b.payload).toMatchObject({ sub: "bob", role: "agent", name: "Bob" });
  });

  it("lists webhooks and their deliveries, and replays one delivery and a time range", async () => {
    const endpoint = await sb.webhooks.create({ url: receiver.url, eventTypes: ["message.created"], description: "cli" });
    for (let i = 0; i < 3; i++) await sb.messages.send("cli-room", { senderId: "alice", text: `for the hook ${i}` });
    await waitFor(async () => (await sb.webhooks.listDeliveries(endpoint.id, { status: "succeeded" })).deliveries.length === 3, "three delivered webhooks");

    const listed = await cliInProcess(["webhooks", "list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${endpoint.id}\\s+${receiver.url.replace(/[.]/g, "\\.")}\\s+message\\.created\\s+true\\s+cli`));

    const deliveries = await cliInProcess(["webhooks", "deliveries", endpoint.id, "--limit", "2", "--json"], env);
    expect(deliveries.code, deliveries.stderr).toBe(0);
    const page = JSON.parse(deliveries.stdout);
    expect(page).toHaveLength(2);
    expect(page[0]).toMatchObject({ eventType: "message.created", status: "succeeded" });
    const human = await cliInProcess(["webhooks", "deliveries", endpoint.id], env);
    expect(human.stdout.trim().split("\n")).toHaveLength(4);

    const one = await cli(["webhooks", "replay", endpoint.id, page[0].id], env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^Replaying as \S+ \(message\.created\)\./);
    const range = await cliInProcess(["webhooks", "replay", endpoint.id, "--since", new Date(Date.now() - 60_000).toISOString()], env);
    expect(range.stdout).toMatch(/^Enqueued [3-9] deliveries again\./);
    await waitFor(async () => (await sb.webhooks.listDeliveries(endpoint.id, { status: "succeeded", limit: 100 })).deliveries.length >= 7, "the replays delivered");
  });

  it("tails a conversation: the last messages, then each new one as it is sent, until stopped", async () => {
    await sb.messages.send("cli-room", { senderId: "alice", text: "before tail" });
    const run = spawnCli(["tail", "cli-room", "--last", "1", "--interval", "50"], env);
    try {
      await waitFor(() => run.stdout().includes("alice: before tail"), "tail to print the last message", 20_000);
      await sb.messages.send("cli-room", { senderId: "alice", text: "while tailing 1" });
      await sb.messages.send("cli-room", { senderId: "alice", text: "while tailing 2" });
      await waitFor(() => run.stdout().includes("alice: while tailing 2"), "tail to print the new messages");
      const lines = run.stdout().trim().split("\n");
      expect(lines.map((l) => l.replace(/^#\d+ \S+ /, ""))).toEqual(["alice: before tail", "alice: while tailing 1", "alice: while tailing 2"]);
      const seqs = lines.map((l) => Number(/^#(\d+)/.exec(l)![1]));
      expect(seqs[1]).toBe(seqs[0]! + 1);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);

    const json = await cliInProcess(["tail", "cli-room", "--after-seq", "0", "--max", "2", "--json"], env);
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([1, 2]);
  });

  it("explains bad usage and API errors with exit codes 2 and 1", async () => {
    const noKey = await cliInProcess(["keys", "list"], { SWITCHBOARD_URL: server.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/set SWITCHBOARD_API_KEY/);
    const unknown = await cliInProcess(["keys", "frobnicate"], env);
    expect(unknown.code).toBe(2);
    const missing = await cliInProcess(["keys", "revoke", "key_does_not_exist"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^not_found \(HTTP 404\): .+\[request \S+\]/);
  });

  it("doctor passes a healthy deployment with an allowed origin", async () => {
    const run = await cli(["doctor", "--origin", "https://app.example"], env);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain("✓ origin https://app.example: Allowed by CORS and by the Socket.IO origin check.");
    expect(run.stdout).toContain("✓ store: sqlite store reachable.");
    expect(run.stdout).toMatch(/✓ sticky-sessions: 6 polling requests/);
    expect(run.stdout).toContain("No problems found.");
  });

  it("doctor reports an origin that ALLOWED_ORIGINS refuses, with the fix, and exits non-zero", async () => {
    const run = await cli(["doctor", "--origin", "https://wrong.example", "--json"], env);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    const check = report.checks.find((c: { name: string }) => c.name === "origin https://wrong.example");
    expect(check).toMatchObject({ status: "fail" });
    expect(check.detail).toMatch(/Refused by CORS \(HTTP API\) and the Socket\.IO handshake \(HTTP 4\d\d: Origin https:\/\/wrong\.example is not allowed/);
    expect(check.fix).toMatch(/Add https:\/\/wrong\.example to ALLOWED_ORIGINS/);
    const human = await cliInProcess(["doctor", "--origin", "https://wrong.example"], env);
    expect(human.stdout).toMatch(/✗ origin https:\/\/wrong\.example: .+\n {4}fix: Add https:\/\/wrong\.example to ALLOWED_ORIGINS/);
    expect(human.stdout).toMatch(/1 problem found\.$/m);
  });

  it("doctor reports an unreachable server and a refused API key, each with its fix", async () => {
    const down = await cliInProcess(["doctor"], { SWITCHBOARD_URL: "http://127.0.0.1:1", SWITCHBOARD_API_KEY: "x" });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/✗ health: GET \/healthz failed: .+\n {4}fix: Check that the server runs/);
    const badKey = await cliInProcess(["doctor"], { SWITCHBOARD_URL: server.url, SWITCHBOARD_API_KEY: "sb_not_a_key_0123456789abcdefghijkl" });
    expect(badKey.code).toBe(1);
    expect(badKey.stdout).toMatch(/✗ api-key: Refused: .+\n {4}fix: Check SWITCHBOARD_API_KEY/);
    const noUrl = await cliInProcess(["doctor"], {});
    expect(noUrl).toMatchObject({ code: 1 });
    expect(noUrl.stdout).toMatch(/fix: Set SWITCHBOARD_URL/);
  });
});

describe("switchboard doctor against a cluster", () => {
  it("reports a balancer without sticky sessions, then a Redis that is down, each with its fix", async () => {
    const redis = await startRedis();
    const nodes: TestServer[] = [];
    try {
      for (let i = 0; i < 2; i++) nodes.push(await startServer({ env: { REDIS_URL: redis.url } }));
      const balancer = await startBalancer(nodes.map((n) => Number(new URL(n.url).port)));
      try {
        const env = { SWITCHBOARD_URL: balancer.url, SWITCHBOARD_API_KEY: TEST_ADMIN_KEY };
        const behindBalancer = await cli(["doctor", "--json"], env);
        const checks = JSON.parse(behindBalancer.stdout).checks as { name: string; status: string; detail: string; fix?: string }[];
        expect(checks.find((c) => c.name === "redis")).toMatchObject({ status: "ok" });
        const sticky = checks.find((c) => c.name === "sticky-sessions")!;
        expect(sticky.status).toBe("fail");
        expect(sticky.detail).toMatch(/of 6 polling requests reached a node that did not know the session: Session ID unknown on node/);
        expect(sticky.fix).toMatch(/Enable sticky sessions at the load balancer .+ or set ALLOW_POLLING=0/);
        expect(behindBalancer.code).toBe(1);
      } finally {
        await balancer.close();
      }

      const direct = { SWITCHBOARD_URL: nodes[0]!.url, SWITCHBOARD_API_KEY: TEST_ADMIN_KEY };
      expect((await cliInProcess(["doctor"], direct)).stdout).toContain("✓ redis: Connected (cluster mode).");
      await redis.kill();
      const node = new Switchboard({ baseUrl: nodes[0]!.url, apiKey: TEST_ADMIN_KEY });
      await waitFor(async () => !(await node.readiness()).ready, "the node to notice Redis is gone");
      const run = await cliInProcess(["doctor"], direct);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✗ redis: Redis is down or unreachable from the server: disconnected.+\n {4}fix: Start Redis or fix REDIS_URL on every node/);
    } finally {
      // A node closing while Redis is away waits for it (its publisher queues): bring it back first.
      await redis.start();
      for (const n of nodes) await n.close();
      await redis.close();
    }
  });
});
