#!/usr/bin/env node
/**
 * `switchboard`: the admin CLI of Switchboard, on the Node SDK. Run `switchboard help`.
 * The deployment comes from SWITCHBOARD_URL and SWITCHBOARD_API_KEY (or --url, --api-key).
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Switchboard, type Message } from "./client.js";
import { runDoctor, type DoctorCheck } from "./doctor.js";
import { SwitchboardApiError } from "./errors.js";
import { mintUserToken, type UserRole } from "./user-token.js";

/** Where the CLI writes and what it reads; `main` takes it so tests can call it in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Ends `tail` (the binary passes one aborted on SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

const USAGE = `switchboard <command> [options]

Commands:
  keys create --name <name> [--scopes read,write,admin]   create an API key (its secret is shown once)
  keys list                                             list API keys (never secrets)
  keys rotate <keyId>                                   new secret; the old one works for the grace period
  keys revoke <keyId>                                   revoke a key
  token mint <userId> [--ttl <s>] [--name <n>] [--role user|agent|visitor] [--secret <JWT_SECRET>]
                                                        a user token: locally with --secret (or
                                                        SWITCHBOARD_JWT_SECRET), else through POST /v1/tokens
  webhooks list                                         list webhook endpoints
  webhooks deliveries <webhookId> [--status <s>] [--limit <n>]
                                                        the delivery log, newest first (default 20)
  webhooks replay <webhookId> <deliveryId>              send one delivery's event again
  webhooks replay <webhookId> --since <iso> [--until <iso>]
                                                        send every event of a time range again
  tail <conversationId> [--after-seq <n>] [--last <n>] [--interval <ms>] [--max <n>]
                                                        print new messages as they arrive (polls history
                                                        by seq; default: the last 10, then new ones)
  doctor [--origin <app origin>]...                     check the deployment: health, store, Redis, API
                                                        key, origins (CORS and Socket.IO), sticky sessions

Options:
  --url <url>        the server (default SWITCHBOARD_URL)
  --api-key <key>    an API key, admin for keys/token/webhooks (default SWITCHBOARD_API_KEY)
  --json             machine-readable output (JSON; tail: one JSON message per line)
  -h, --help         this text
`;

const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  name: { type: "string" },
  scopes: { type: "string" },
  ttl: { type: "string" },
  role: { type: "string" },
  secret: { type: "string" },
  issuer: { type: "string" },
  audience: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "after-seq": { type: "string" },
  last: { type: "string" },
  interval: { type: "string" },
  max: { type: "string" },
  origin: { type: "string", multiple: true },
} as const;

/** A mistake in the command line: usage, exit code 2. */
class UsageError extends Error {}

/** Runs one command; resolves to the exit code (0 ok, 1 failed or problems found, 2 bad usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
  if (values.help || !command || command === "help") {
    io.stdout(USAGE);
    return command || values.help ? 0 : 2;
  }
  const url = values.url ?? io.env.SWITCHBOARD_URL;
  const apiKey = values["api-key"] ?? io.env.SWITCHBOARD_API_KEY;
  const out = (human: string, data: unknown) => io.stdout(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);

  try {
    if (command === "doctor") {
      const checks = await runDoctor({ ...(url ? { url } : {}), ...(apiKey ? { apiKey } : {}), origins: values.origin ?? [] });
      const ok = checks.every((c) => c.status !== "fail");
      out(formatChecks(checks), { ok, checks });
      return ok ? 0 : 1;
    }

    const client = () => {
      if (!url) throw new UsageError("No server: set SWITCHBOARD_URL or pass --url.");
      if (!apiKey) throw new UsageError("No API key: set SWITCHBOARD_API_KEY or pass --api-key.");
      return new Switchboard({ baseUrl: url, apiKey });
    };

    if (command === "tail") return await tail(client(), need(sub, "tail <conversationId>"), values, io);

    switch (`${command} ${sub ?? ""}`.trim()) {
      case "keys create": {
        if (!values.name) throw new UsageError("keys create needs --name.");
        const scopes = values.scopes ? (values.scopes.split(",").map((s) => s.trim()) as ("read" | "write" | "admin")[]) : undefined;
        const key = await client().apiKeys.create({ name: values.name, ...(scopes ? { scopes } : {}) });
        out(`Created ${key.id} (${key.name}, ${key.scopes.join(",")}).\nSecret, shown only now:\n${key.key}`, key);
        return 0;
      }
      case "keys list": {
        const keys = await client().apiKeys.list();
        out(
          table(
            ["id", "name", "scopes", "created", "last used", "revoked"],
            keys.map((k) => [k.id, k.name, k.scopes.join(","), k.createdAt, k.lastUsedAt ?? "-", k.revokedAt ?? "-"]),
          ),
          keys,
        );
        return 0;
      }
      case "keys rotate": {
        const key = await client().apiKeys.rotate(need(rest[0], "keys rotate <keyId>"));
        out(`Rotated ${key.id}. The old secret works until ${key.previousKeyExpiresAt ?? "now"}.\nNew secret, shown only now:\n${key.key}`, key);
        return 0;
      }
      case "keys revoke": {
        const id = need(rest[0], "keys revoke <keyId>");
        await client().apiKeys.revoke(id);
        out(`Revoked ${id}.`, { id, revoked: true });
        return 0;
      }
      case "token mint": {
        const userId = need(rest[0], "token mint <userId>");
        const ttlSeconds = values.ttl ? positiveInt(values.ttl, "--ttl") : undefined;
        const role = values.role as UserRole | undefined;
        if (role && !["user", "agent", "visitor"].includes(role)) throw new UsageError("--role must be user, agent or visitor.");
        const input = { userId, ...(ttlSeconds ? { ttlSeconds } : {}), ...(values.name ? { name: values.name } : {}), ...(role ? { role } : {}) };
        const secret = values.secret ?? io.env.SWITCHBOARD_JWT_SECRET;
        const issuer = values.issuer ?? io.env.SWITCHBOARD_JWT_ISSUER;
        const audience = values.audience ?? io.env.SWITCHBOARD_JWT_AUDIENCE;
        const token = secret
          ? await mintUserToken({ secret, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) }, input)
          : await client().tokens.create(input);
        out(token.token, token);
        return 0;
      }
      case "webhooks list": {
        const hooks = await client().webhooks.list();
        out(table(["id", "url", "events", "enabled", "description"], hooks.map((w) => [w.id, w.url, w.eventTypes.join(","), String(w.enabled), w.description ?? ""])), hooks);
        return 0;
      }
      case "webhooks deliveries": {
        const id = need(rest[0], "webhooks deliveries <webhookId>");
        const limit = values.limit ? positiveInt(values.limit, "--limit") : 20;
        const status = values.status as "pending" | "succeeded" | "failed" | undefined;
        const deliveries = [];
        for await (const d of client().webhooks.iterateDeliveries(id, { ...(status ? { status } : {}), pageSize: Math.min(limit, 100) })) {
          deliveries.push(d);
          if (deliveries.length >= limit) break;
        }
        out(
          table(
            ["id", "event", "status", "attempts", "created"],
            deliveries.map((d) => [d.id, d.eventType, d.status, String(d.attempts.length), d.createdAt]),
          ),
          deliveries,
        );
        return 0;
      }
      case "webhooks replay": {
        const id = need(rest[0], "webhooks replay <webhookId> <deliveryId | --since>");
        if (rest[1]) {
          const delivery = await client().webhooks.replayDelivery(id, rest[1]);
          out(`Replaying as ${delivery.id} (${delivery.eventType}).`, delivery);
          return 0;
        }
        if (!values.since) throw new UsageError("webhooks replay needs a <deliveryId> or --since <iso time>.");
        const result = await client().webhooks.replay(id, { since: values.since, ...(values.until ? { until: values.until } : {}) });
        out(`Enqueued ${result.enqueued} deliveries again.`, result);
        return 0;
      }
    }
    throw new UsageError(`Unknown command: ${positionals.join(" ")}.`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof SwitchboardApiError) {
      io.stderr(`${err.code} (HTTP ${err.status}): ${err.message}${err.requestId ? ` [request ${err.requestId}]` : ""}\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * Follows a conversation by polling its history with `afterSeq` (no socket or user token
 * needed, only a read key): the last `--last` messages first, then each new one once.
 */
async function tail(sb: Switchboard, conversationId: string, values: { json?: boolean; "after-seq"?: string; last?: string; interval?: string; max?: string }, io: CliIo): Promise<number> {
  const interval = values.interval ? positiveInt(values.interval, "--interval") : 1000;
  const max = values.max ? positiveInt(values.max, "--max") : Infinity;
  let printed = 0;
  let afterSeq: number;
  const print = (m: Message) => {
    io.stdout(values.json ? `${JSON.stringify(m)}\n` : `#${m.seq} ${m.createdAt} ${m.senderId}: ${m.deleted ? "(deleted)" : m.text}\n`);
    afterSeq = m.seq;
    printed++;
  };
  if (values["after-seq"] !== undefined) {
    afterSeq = nonNegativeInt(values["after-seq"], "--after-seq");
  } else {
    // The newest page (history without a cursor ends at the latest message), of which the last few.
    const last = values.last !== undefined ? nonNegativeInt(values.last, "--last") : 10;
    const page = await sb.messages.list(conversationId, { limit: 100 });
    afterSeq = page.messages.at(-1)?.seq ?? 0;
    for (const m of last === 0 ? [] : page.messages.slice(-last)) {
      if (printed >= max) return 0;
      print(m);
    }
  }
  while (printed < max && !io.signal?.aborted) {
    for await (const m of sb.messages.iterate(conversationId, { afterSeq: afterSeq! })) {
      print(m);
      if (printed >= max) return 0;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      io.signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return 0;
}

const MARK: Record<DoctorCheck["status"], string> = { ok: "✓", info: "·", warn: "!", fail: "✗" };

/** The doctor's report for people: one line per check, the fix indented under each problem. */
function formatChecks(checks: DoctorCheck[]): string {
  const lines = checks.map((c) => `${MARK[c.status]} ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}`);
  const failed = checks.filter((c) => c.status === "fail").length;
  lines.push("", failed === 0 ? "No problems found." : `${failed} problem${failed === 1 ? "" : "s"} found.`);
  return lines.join("\n");
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return "(none)";
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [head, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

function need(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(`Usage: switchboard ${usage}`);
  return value;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer.`);
  return n;
}

function nonNegativeInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number, 0 or more.`);
  return n;
}

// Run as the binary (not when imported by tests); npm's bin is a symlink to this file.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, signal: stop.signal }).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`switchboard: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
