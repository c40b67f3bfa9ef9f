import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Switchboard } from "./client.js";
import { SwitchboardApiError } from "./errors.js";

/** How one check came out: `fail` makes `doctor` exit non-zero, `warn` does not. */
export type CheckStatus = "ok" | "info" | "warn" | "fail";

/** One line of the doctor's report. */
export interface DoctorCheck {
  /** What was checked: `config`, `health`, `store`, `redis`, `node`, `api-key`, `origin <o>`, `sticky-sessions`. */
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it (for `warn` and `fail`). */
  fix?: string;
}

/** What `doctor` is told: the deployment and the browser origins the app is served from. */
export interface DoctorInput {
  url?: string;
  apiKey?: string;
  /** Origins of the pages that connect (`--origin`), each checked against CORS and the Socket.IO origin check. */
  origins: string[];
  /** Engine.IO requests made to detect a balancer without sticky sessions (default 6). */
  stickyProbes?: number;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Checks a deployment from the outside, as a client sees it: configuration of the tool,
 * liveness, readiness (store, Redis, node state), the API key, every app origin against CORS
 * and the Socket.IO handshake, and whether long-polling sessions stick to one node.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const timeoutMs = input.timeoutMs ?? 5000;
  if (!input.url) {
    checks.push({ name: "config", status: "fail", detail: "No server URL.", fix: "Set SWITCHBOARD_URL (or pass --url), for example https://chat.example.com." });
    return checks;
  }
  let base: URL;
  try {
    base = new URL(input.url);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    checks.push({ name: "config", status: "fail", detail: `SWITCHBOARD_URL ${JSON.stringify(input.url)} is not an http(s) URL.`, fix: "Set SWITCHBOARD_URL to the server's public URL, for example https://chat.example.com." });
    return checks;
  }
  checks.push(
    input.apiKey
      ? { name: "config", status: "ok", detail: `Server ${base.origin}, API key set.` }
      : { name: "config", status: "warn", detail: `Server ${base.origin}, no API key: the key check is skipped.`, fix: "Set SWITCHBOARD_API_KEY (or pass --api-key) to an admin key to check it too." },
  );

  const sb = new Switchboard({ baseUrl: base.origin, apiKey: input.apiKey ?? "none", retry: { maxRetries: 0, timeoutMs } });
  try {
    await sb.health();
    checks.push({ name: "health", status: "ok", detail: "GET /healthz answers." });
  } catch (err) {
    checks.push({
      name: "health",
      status: "fail",
      detail: `GET /healthz failed: ${(err as Error).message}`,
      fix: "Check that the server runs and that SWITCHBOARD_URL points at it (host, port, TLS); a proxy in front must pass /healthz through.",
    });
    return checks;
  }

  try {
    const readiness = await sb.readiness();
    const results = readiness.body.checks as Record<string, string>;
    const store = results.store ?? "unknown";
    checks.push(
      store === "ok"
        ? { name: "store", status: "ok", detail: `${readiness.body.store} store reachable.` }
        : {
            name: "store",
            status: "fail",
            detail: `The ${readiness.body.store} store is not reachable: ${store}.`,
            fix: readiness.body.store === "mongodb" ? "Check MONGODB_URI and that MongoDB is up and reachable from every node." : "Check DATA_DIR: it must be on a writable local disk with free space.",
          },
    );
    if (results.redis === undefined) {
      checks.push({ name: "redis", status: "info", detail: "Single node (no REDIS_URL): fine for one process; several nodes need Redis to share presence and broadcasts." });
    } else if (results.redis === "ok") {
      checks.push({ name: "redis", status: "ok", detail: "Connected (cluster mode)." });
    } else {
      checks.push({
        name: "redis",
        status: "fail",
        detail: `Redis is down or unreachable from the server: ${results.redis}.`,
        fix: "Start Redis or fix REDIS_URL on every node (host, port, password, TLS with rediss://); the nodes reconnect by themselves once it answers.",
      });
    }
    const node = results.node ?? "ok";
    if (node !== "ok") checks.push({ name: "node", status: "fail", detail: `The node answering is ${node}.`, fix: "It is shutting down or starting: wait, or check the orchestrator's restarts and the server's log." });
  } catch (err) {
    checks.push({ name: "store", status: "fail", detail: `GET /readyz failed: ${(err as Error).message}`, fix: "A proxy in front must pass /readyz through to the server." });
  }

  if (input.apiKey) {
    try {
      await sb.apiKeys.list();
      checks.push({ name: "api-key", status: "ok", detail: "Accepted, with the admin scope." });
    } catch (err) {
      if (err instanceof SwitchboardApiError && err.code === "forbidden") {
        checks.push({ name: "api-key", status: "warn", detail: "Accepted, but without the admin scope.", fix: "keys, token and webhooks commands need an admin key: create one with `switchboard keys create --scopes admin` using ADMIN_API_KEY." });
      } else if (err instanceof SwitchboardApiError && err.code === "unauthorized") {
        checks.push({ name: "api-key", status: "fail", detail: `Refused: ${err.message}`, fix: "Check SWITCHBOARD_API_KEY: it must be a live key of this server (ADMIN_API_KEY, or one from POST /v1/api-keys)." });
      } else {
        checks.push({ name: "api-key", status: "fail", detail: `Could not be checked: ${(err as Error).message}` });
      }
    }
  }

  if (input.origins.length === 0) {
    checks.push({ name: "origins", status: "info", detail: "No --origin given: pass the origin your app's pages are served from to check ALLOWED_ORIGINS." });
  }
  for (const origin of input.origins) checks.push(await checkOrigin(base, origin, timeoutMs));
  checks.push(await checkStickySessions(base, input.stickyProbes ?? 6, timeoutMs));
  return checks;
}

/** A browser origin against CORS (a preflight) and the Socket.IO origin check (a WebSocket upgrade). */
async function checkOrigin(base: URL, origin: string, timeoutMs: number): Promise<DoctorCheck> {
  const name = `origin ${origin}`;
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return { name, status: "fail", detail: `${JSON.stringify(origin)} is not an origin.`, fix: "Pass --origin as scheme://host[:port], for example https://app.example.com." };
  }
  const preflight = await fetch(new URL("/v1/users", base), {
    method: "OPTIONS",
    headers: { origin: normalized, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((err: Error) => err);
  const corsOk = !(preflight instanceof Error) && preflight.headers.get("access-control-allow-origin") === normalized;
  const socket = await websocketUpgrade(base, normalized, timeoutMs);
  if (corsOk && socket.ok) return { name, status: "ok", detail: "Allowed by CORS and by the Socket.IO origin check." };
  const refused = [!corsOk ? "CORS (HTTP API)" : undefined, !socket.ok ? `the Socket.IO handshake (${socket.detail})` : undefined].filter(Boolean).join(" and ");
  return {
    name,
    status: "fail",
    detail: `Refused by ${refused}: pages on ${normalized} cannot connect.`,
    fix: `Add ${normalized} to ALLOWED_ORIGINS (comma-separated, on every node) and restart, or serve the app from PUBLIC_URL's origin. Widget host pages are allowed by their widget key's allowedOrigins instead.`,
  };
}

/** A WebSocket upgrade to Engine.IO with `Origin`, as a browser sends it; closed as soon as it is answered. */
function websocketUpgrade(base: URL, origin: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const url = new URL("/socket.io/?EIO=4&transport=websocket", base);
    const req = (url.protocol === "https:" ? https : http).request(url, {
      headers: { origin, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64") },
      timeout: timeoutMs,
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve({ ok: true, detail: "upgraded" });
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ ok: false, detail: `HTTP ${res.statusCode}${body ? `: ${body.slice(0, 200)}` : ""}` }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => resolve({ ok: false, detail: err.message }));
    req.end();
  });
}

/**
 * Opens an Engine.IO long-polling session and sends a few no-op packets on it, each a request
 * of its own: behind a balancer without sticky sessions some reach another node, which does not
 * know the session ("Session ID unknown"). WebSocket-only servers need no stickiness.
 */
async function checkStickySessions(base: URL, probes: number, timeoutMs: number): Promise<DoctorCheck> {
  const name = "sticky-sessions";
  const endpoint = (sid?: string) => new URL(`/socket.io/?EIO=4&transport=polling${sid ? `&sid=${encodeURIComponent(sid)}` : ""}`, base);
  try {
    const open = await freshRequest(endpoint(), "GET", undefined, timeoutMs);
    if (open.status === 400 && /Transport unknown/i.test(open.body)) {
      return { name, status: "ok", detail: "Long-polling is off (ALLOW_POLLING=0): WebSocket only, so no stickiness is needed." };
    }
    if (open.status !== 200 || !open.body.startsWith("0")) {
      return { name, status: "warn", detail: `The polling handshake answered HTTP ${open.status}: ${open.body.slice(0, 200)}`, fix: "A proxy in front must pass /socket.io/ through, with WebSocket upgrades." };
    }
    const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
    let lost = 0;
    let explanation = "";
    for (let i = 0; i < probes; i++) {
      // "6" is Engine.IO's no-op packet: the node that has the session answers "ok" and does nothing.
      const res = await freshRequest(endpoint(sid), "POST", "6", timeoutMs);
      if (res.status === 400 && /Session ID unknown/i.test(res.body)) {
        lost++;
        explanation ||= res.body;
      }
    }
    // "1" closes the session, wherever it is.
    await freshRequest(endpoint(sid), "POST", "1", timeoutMs).catch(() => undefined);
    if (lost === 0) return { name, status: "ok", detail: `${probes} polling requests of one session, each on a new connection, all reached the node that opened it.` };
    return {
      name,
      status: "fail",
      detail: `${lost} of ${probes} polling requests reached a node that did not know the session: ${safeExplanation(explanation)}.`,
      fix: "Enable sticky sessions at the load balancer (nginx ip_hash, HAProxy cookie stickiness, an ALB target group's stickiness), or set ALLOW_POLLING=0 so clients use WebSocket only.",
    };
  } catch (err) {
    return { name, status: "warn", detail: `Could not check: ${(err as Error).message}` };
  }
}

/**
 * One request on a connection of its own (no keep-alive), as a balancer sees independent
 * polls: reusing one connection would pin every probe to one node even without stickiness.
 */
function freshRequest(url: URL, method: string, body: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? https : http).request(url, {
      method,
      agent: false,
      timeout: timeoutMs,
      headers: body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8", "content-length": Buffer.byteLength(body) },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function safeExplanation(body: string): string {
  try {
    return (JSON.parse(body) as { explanation?: string; message?: string }).explanation?.split(".")[0] ?? body.slice(0, 120);
  } catch {
    return body.slice(0, 120);
  }
}
