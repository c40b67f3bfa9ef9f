import { afterEach, describe, expect, it } from "vitest";
import type { Conversation, Message } from "../client-sdk/src/protocol.js";
import { Metrics } from "../server/src/metrics/metrics.js";
import { api, call, connectUser, request, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";

/** One sample of the Prometheus text format: `name{label="value",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A deliberately small parser of the text exposition format: samples only, comments skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with `labels`, or undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

describe("GET /metrics", () => {
  const servers: TestServer[] = [];
  const sockets: ClientSocket[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const server = await startServer({ env });
    servers.push(server);
    return server;
  };
  const connect = async (url: string, userId: string) => {
    const socket = await connectUser(url, userId);
    sockets.push(socket);
    return socket;
  };
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const s of servers.splice(0)) await s.close();
  });

  it("counts the connection, a stored socket message, its ack latency and HTTP requests by route pattern", async () => {
    // The default FULL (the harness runs NORMAL for speed), so the WAL's fsync is timed too.
    const server = await start({ NODE_ID: "metrics-node-a", SQLITE_SYNCHRONOUS: "FULL" });
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["alice", "bob"] });
    expect(created.status).toBe(201);
    const conversationId = (created.body as Conversation).id;
    expect((await api(server.url, "GET", `/v1/conversations/${conversationId}`)).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const alice = await connect(server.url, "alice");
    const send = { conversationId, clientMessageId: "metrics-1", text: "hello" };
    const first = await call<{ message: Message }>(alice, "message:send", send);
    // An idempotent retry is acked (and timed) but stores nothing, so it is not a new message.
    const retry = await call<{ message: Message }>(alice, "message:send", send);
    expect(retry.message.id).toBe(first.message.id);

    const samples = await scrape(server.url);
    expect(value(samples, "switchboard_connections")).toBe(1);
    expect(value(samples, "switchboard_messages_total", { transport: "socket" })).toBe(1);
    expect(value(samples, "switchboard_messages_total", { transport: "http" })).toBe(0);
    // The SQLite store's group commits: the socket send above took one.
    expect(value(samples, "switchboard_store_group_commit_size_count")).toBeGreaterThanOrEqual(1);
    expect(value(samples, "switchboard_store_group_commit_size_sum")).toBeGreaterThanOrEqual(1);
    // Under FULL, the acked send waited for an fdatasync of the WAL, timed here.
    expect(value(samples, "switchboard_store_wal_sync_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    // The checkpoint worker's view of the WAL: one process on the file, a small log.
    expect(value(samples, "switchboard_store_wal_shared")).toBe(0);
    expect(value(samples, "switchboard_store_wal_frames")).toBeLessThan(4000);
    expect(value(samples, "switchboard_socket_events_total", { event: "message:send", outcome: "ok" })).toBe(2);
    expect(value(samples, "switchboard_ack_latency_seconds_count", { event: "message:send" })).toBeGreaterThanOrEqual(1);
    expect(value(samples, "switchboard_ack_latency_seconds_bucket", { event: "message:send", le: "+Inf" })).toBe(2);
    expect(find(samples, "switchboard_ack_latency_seconds_bucket", { event: "message:send" }).map((s) => s.labels.le)).toContain("0.0005");

    expect(value(samples, "switchboard_http_requests_total", { method: "POST", route: "/v1/conversations", status: "201" })).toBe(1);
    expect(value(samples, "switchboard_http_requests_total", { method: "GET", route: "/v1/conversations/:id", status: "200" })).toBe(1);
    expect(value(samples, "switchboard_http_requests_total", { method: "GET", route: "/healthz", status: "200" })).toBe(1);
    expect(value(samples, "switchboard_http_request_duration_seconds_count", { method: "POST", route: "/v1/conversations" })).toBe(1);
    // The raw path (with the conversation id) never becomes a label value.
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes(conversationId)))).toBe(false);

    expect(value(samples, "switchboard_store_up")).toBe(1);
    expect(find(samples, "switchboard_redis_up")).toEqual([]);
    expect(find(samples, "nodejs_eventloop_lag_seconds")).toHaveLength(1);
    expect(find(samples, "nodejs_eventloop_lag_p99_seconds")).toHaveLength(1);
    expect(find(samples, "process_resident_memory_bytes").length + find(samples, "nodejs_heap_size_used_bytes").length).toBeGreaterThan(0);
    for (const s of samples) expect(s.labels.node_id, s.name).toBe("metrics-node-a");

    alice.close();
    await waitFor(async () => value(await scrape(server.url), "switchboard_connections") === 0, "the connection gauge to drop to 0");
  });

  it("counts HTTP sends, error outcomes by code, and unknown event names under one label", async () => {
    const server = await start();
    const { body } = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ["carol"] });
    const conversationId = (body as Conversation).id;
    expect((await api(server.url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "carol", text: "via http", clientMessageId: "h1" })).status).toBe(201);
    expect((await api(server.url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "carol", text: "via http", clientMessageId: "h1" })).status).toBe(200);
    expect((await api(server.url, "GET", "/v1/users/nobody", undefined, "wrong-key")).status).toBe(401);

    const dave = await connect(server.url, "dave");
    const refused = await request(dave, "message:send", { conversationId, clientMessageId: "d1", text: "not a member" });
    expect(refused.ok).toBe(false);
    const code = refused.ok ? "" : refused.error.code;
    const weird = `x:${"a".repeat(200)}`;
    expect((await request(dave, weird, {})).ok).toBe(false);
    expect((await request(dave, "constructor", {})).ok).toBe(false);

    const samples = await scrape(server.url);
    expect(value(samples, "switchboard_messages_total", { transport: "http" })).toBe(1);
    expect(value(samples, "switchboard_messages_total", { transport: "socket" })).toBe(0);
    expect(value(samples, "switchboard_http_requests_total", { method: "POST", route: "/v1/conversations/:id/messages", status: "201" })).toBe(1);
    expect(value(samples, "switchboard_http_requests_total", { method: "POST", route: "/v1/conversations/:id/messages", status: "200" })).toBe(1);
    // Refused by the API key middleware, still counted under the route it was aimed at.
    expect(value(samples, "switchboard_http_requests_total", { method: "GET", route: "/v1/users/:id", status: "401" })).toBe(1);
    expect(value(samples, "switchboard_socket_events_total", { event: "message:send", outcome: code })).toBe(1);
    expect(value(samples, "switchboard_socket_events_total", { event: "unknown", outcome: "invalid_argument" })).toBe(2);
    const eventLabels = new Set(find(samples, "switchboard_socket_events_total").map((s) => s.labels.event));
    expect([...eventLabels].sort()).toEqual(["message:send", "unknown"]);
  });

  it("keeps each node's metrics apart when two nodes run in one process", async () => {
    const a = await start({ NODE_ID: "node-a" });
    const b = await start({ NODE_ID: "node-b" });
    await connect(a.url, "erin");
    await connect(a.url, "frank");
    await connect(b.url, "gina");
    const [fromA, fromB] = await Promise.all([scrape(a.url), scrape(b.url)]);
    expect(value(fromA, "switchboard_connections", { node_id: "node-a" })).toBe(2);
    expect(value(fromB, "switchboard_connections", { node_id: "node-b" })).toBe(1);
    expect(find(fromA, "switchboard_connections", { node_id: "node-b" })).toEqual([]);
  });

  it("asks for the bearer token when METRICS_TOKEN is set", async () => {
    const token = "metrics-token-0123456789abcdef";
    const server = await start({ METRICS_TOKEN: token });
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await anonymous.json()) as unknown).toMatchObject({ error: { code: "unauthorized" } });
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    // The admin API key is not a metrics token.
    expect((await api(server.url, "GET", "/metrics")).status).toBe(401);
    const samples = await scrape(server.url, { authorization: `Bearer ${token}` });
    expect(value(samples, "switchboard_store_up")).toBe(1);
  });
});

describe("Metrics", () => {
  it("reports the store and Redis down when their checks fail, throw or hang past the timeout", async () => {
    const render = async (checks: ConstructorParameters<typeof Metrics>[0]["checks"]) =>
      parseMetrics(await new Metrics({ nodeId: "unit", checks, checkTimeoutMs: 50 }).render());

    const up = await render({ store: async () => true, redis: () => true });
    expect([value(up, "switchboard_store_up"), value(up, "switchboard_redis_up")]).toEqual([1, 1]);

    const down = await render({ store: async () => false, redis: () => false });
    expect([value(down, "switchboard_store_up"), value(down, "switchboard_redis_up")]).toEqual([0, 0]);

    const failing = await render({
      store: () => Promise.reject(new Error("connection refused")),
      redis: () => {
        throw new Error("no client");
      },
    });
    expect([value(failing, "switchboard_store_up"), value(failing, "switchboard_redis_up")]).toEqual([0, 0]);

    const started = Date.now();
    const hanging = await render({ store: () => new Promise<boolean>(() => {}) });
    expect(value(hanging, "switchboard_store_up")).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
