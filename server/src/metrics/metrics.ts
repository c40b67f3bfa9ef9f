import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { ERROR_CODES, type ClientToServerEvents, type ErrorCode } from "../../../client-sdk/src/protocol.js";
import type { DeliveryChannel } from "../delivery/delivery-store.js";
import type { PreSendOutcome } from "../moderation/http-pre-send-hook.js";

/** How a stored message arrived. */
export type MessageTransport = "socket" | "http";

/** The outcome of one client event: `ok`, or the error code its ack carried. */
export type SocketEventOutcome = "ok" | ErrorCode;

/**
 * Dependency checks evaluated when `/metrics` is scraped, so the `*_up` gauges are as fresh as
 * the scrape itself and nothing polls in between.
 */
export interface MetricsChecks {
  /** Resolves `true` when the store answers (a ping); a rejection or `false` reports 0. */
  store: () => Promise<boolean>;
  /** `true` while the Redis clients are connected; omit on a single node (no `switchboard_redis_up` then). */
  redis?: () => boolean;
}

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /** This node's name, added to every series as the `node_id` label (`NODE_ID`). */
  nodeId: string;
  /** Dependency checks behind `switchboard_store_up` and `switchboard_redis_up`. */
  checks: MetricsChecks;
  /**
   * Sampling resolution of the event-loop delay histogram in milliseconds (default 10):
   * fine enough to see the stalls that delay acks, coarse enough to cost nothing measurable.
   */
  eventLoopMonitoringPrecisionMs?: number;
  /** How long a scrape waits for the store check before reporting it down (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Whether the pre-send hook is configured: its series exist (at zero) only then. Default false. */
  preSendHook?: boolean;
  /** The SQLite checkpoint worker's state, read at each scrape; absent: its series do not exist. */
  walCheckpoints?: () => { walFrames: number; shared: boolean } | null;
}

/**
 * Every client event the gateway handles. A `Record` over the protocol's event map, so adding
 * an event to the protocol without listing it here is a compile error, and any other name a
 * client sends is reported as `unknown`: a client cannot grow the label set.
 */
const SOCKET_EVENTS: Record<keyof ClientToServerEvents, true> = {
  "conversation:create": true,
  "conversation:list": true,
  "conversation:join": true,
  "conversation:leave": true,
  "message:send": true,
  "message:history": true,
  "message:read": true,
  "message:edit": true,
  "message:delete": true,
  "message:changes": true,
  "reaction:add": true,
  "reaction:remove": true,
  "typing:start": true,
  "typing:stop": true,
  "presence:query": true,
  "auth:refresh": true,
  "support:inbox": true,
  "support:get": true,
  "support:join": true,
  "support:assign": true,
  "support:status": true,
};

const OUTCOMES = new Set<string>(["ok", ...ERROR_CODES]);

/** Methods the API serves; anything else is counted as `other`. */
const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Acks are answered in well under a millisecond to a few hundred: 0.5 ms … 1 s. */
/** Appends per SQLite group commit: powers of two up to the batch limit (256). */
const GROUP_COMMIT_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const GROUP_COMMIT_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
const ACK_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** A pre-send hook call is one loopback or LAN round trip, up to its timeout (at most 30 s): 1 ms … 30 s. */
const PRESEND_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** HTTP requests include store writes and the OpenAPI document: 1 ms … 5 s. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The Prometheus metrics of one Switchboard node, on a registry of its own (never prom-client's
 * global one), so several nodes can live in one process, as they do in tests.
 *
 * The transports report through the small methods below; `/metrics` renders {@link render}.
 * Every label takes values from a fixed set (known events, error codes, route patterns,
 * methods, statuses), so no client input can multiply the series.
 */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  private readonly connections: Gauge;
  private readonly messages: Counter<"transport">;
  private readonly socketEvents: Counter<"event" | "outcome">;
  private readonly ackLatency: Histogram<"event">;
  private readonly httpRequests: Counter<"method" | "route" | "status">;
  private readonly httpDuration: Histogram<"method" | "route">;
  private readonly offlineAttempts: Counter<"channel" | "outcome">;
  private readonly groupCommitSize: Histogram;
  private readonly groupCommitDuration: Histogram;
  private readonly walSyncDuration: Histogram;
  private readonly preSendCalls?: Counter<"outcome">;
  private readonly preSendDuration?: Histogram<"outcome">;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node_id: options.nodeId });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: options.eventLoopMonitoringPrecisionMs ?? 10 });

    this.connections = new Gauge({
      name: "switchboard_connections",
      help: "Socket.IO connections currently open on this node.",
      registers,
    });
    this.messages = new Counter({
      name: "switchboard_messages_total",
      help: "Messages stored (idempotent retries not counted), by the transport they arrived on.",
      labelNames: ["transport"],
      registers,
    });
    this.socketEvents = new Counter({
      name: "switchboard_socket_events_total",
      help: "Client events handled, by event and outcome (ok, or the error code of the ack).",
      labelNames: ["event", "outcome"],
      registers,
    });
    this.ackLatency = new Histogram({
      name: "switchboard_ack_latency_seconds",
      help: "Time from receiving a client event to sending its ack, rate limiting included.",
      labelNames: ["event"],
      buckets: ACK_LATENCY_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: "switchboard_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "switchboard_http_request_duration_seconds",
      help: "HTTP request duration, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });

    this.offlineAttempts = new Counter({
      name: "switchboard_offline_attempts_total",
      help: "Offline notifications handled by this node's delivery worker, by channel (push, fcm, apns, expo, email, sms) and outcome (sent, retrying, deferred, failed, cancelled).",
      labelNames: ["channel", "outcome"],
      registers,
    });

    this.groupCommitSize = new Histogram({
      name: "switchboard_store_group_commit_size",
      help: "Writes (messages, and users first seen in a token) stored per SQLite group commit (one transaction); its sum over its count is the writes that share a commit.",
      buckets: GROUP_COMMIT_SIZE_BUCKETS,
      registers,
    });
    this.groupCommitDuration = new Histogram({
      name: "switchboard_store_group_commit_duration_seconds",
      help: "Duration of SQLite group commits, COMMIT included; the event loop is blocked for this long. Under SQLITE_SYNCHRONOUS=FULL the fsync follows off the event loop (switchboard_store_wal_sync_duration_seconds).",
      buckets: GROUP_COMMIT_DURATION_BUCKETS,
      registers,
    });
    this.walSyncDuration = new Histogram({
      name: "switchboard_store_wal_sync_duration_seconds",
      help: "Duration of each fdatasync of the SQLite WAL under SQLITE_SYNCHRONOUS=FULL, run off the event loop; the acks of the group commits it covers wait for it.",
      buckets: GROUP_COMMIT_DURATION_BUCKETS,
      registers,
    });

    if (options.preSendHook) {
      this.preSendCalls = new Counter({
        name: "switchboard_presend_hook_total",
        help: "Calls of the pre-send moderation hook, by outcome (allow, reject, rewrite, failed: timeout, network error, non-2xx or malformed answer).",
        labelNames: ["outcome"],
        registers,
      });
      this.preSendDuration = new Histogram({
        name: "switchboard_presend_hook_duration_seconds",
        help: "Duration of pre-send hook calls, by outcome; failed calls include those that ran into PRESEND_HOOK_TIMEOUT_MS.",
        labelNames: ["outcome"],
        buckets: PRESEND_DURATION_BUCKETS,
        registers,
      });
      for (const outcome of ["allow", "reject", "rewrite", "failed"] satisfies PreSendOutcome[]) this.preSendCalls.inc({ outcome }, 0);
    }

    const timeoutMs = options.checkTimeoutMs ?? 2000;
    const storeCheck = options.checks.store;
    new Gauge({
      name: "switchboard_store_up",
      help: "1 when the store answered a ping during this scrape, else 0.",
      registers,
      async collect() {
        this.set((await withTimeout(storeCheck, timeoutMs)) ? 1 : 0);
      },
    });
    const redisCheck = options.checks.redis;
    if (redisCheck) {
      new Gauge({
        name: "switchboard_redis_up",
        help: "1 while this node's Redis clients are connected (cluster mode), else 0.",
        registers,
        collect() {
          this.set(readOr(redisCheck, false) ? 1 : 0);
        },
      });
    }

    const checkpoints = options.walCheckpoints;
    if (checkpoints) {
      new Gauge({
        name: "switchboard_store_wal_frames",
        help: "Pages in the SQLite write-ahead log at the checkpoint worker's last pass; the log restarts from 0 once it has passed about 4,000. Steady growth means it cannot restart: look for a long reader or another process writing the file.",
        registers,
        collect() {
          this.set(readOr(() => checkpoints()?.walFrames ?? 0, 0));
        },
      });
      new Gauge({
        name: "switchboard_store_wal_shared",
        help: "1 while another process writes the same SQLite file, so commits checkpoint it themselves, else 0.",
        registers,
        collect() {
          this.set(readOr(() => (checkpoints()?.shared ? 1 : 0), 0));
        },
      });
    }

    // Zero series from the start, so rate() and absent() behave before the first message.
    for (const transport of ["socket", "http"] satisfies MessageTransport[]) this.messages.inc({ transport }, 0);
  }

  /** A Socket.IO connection opened on this node. */
  connectionOpened(): void {
    this.connections.inc();
  }

  /** A Socket.IO connection of this node closed. */
  connectionClosed(): void {
    this.connections.dec();
  }

  /** The delivery worker finished an attempt at an offline notification (or decided not to send it). */
  offlineAttempt(channel: DeliveryChannel, outcome: string): void {
    this.offlineAttempts.inc({ channel, outcome });
  }

  /** The SQLite store committed a batch of `size` appends in `seconds` (MongoDB stores do not report this). */
  groupCommit(size: number, seconds: number): void {
    this.groupCommitSize.observe(size);
    this.groupCommitDuration.observe(seconds);
  }

  /** The SQLite store's fdatasync of its WAL took `seconds` (FULL only). */
  walSync(seconds: number): void {
    this.walSyncDuration.observe(seconds);
  }

  /** The pre-send hook answered (or failed to) after `seconds`. */
  preSendHookCall(outcome: PreSendOutcome, seconds: number): void {
    this.preSendCalls?.inc({ outcome });
    this.preSendDuration?.observe({ outcome }, seconds);
  }

  /** A message was stored (not an idempotent replay). */
  messageStored(transport: MessageTransport): void {
    this.messages.inc({ transport });
  }

  /**
   * A client event was answered. `event` is whatever the client sent: names outside the
   * protocol are counted as `unknown`. `seconds` is omitted for events refused before handling.
   */
  socketEvent(event: string, outcome: SocketEventOutcome, seconds?: number): void {
    const eventLabel = Object.hasOwn(SOCKET_EVENTS, event) ? event : "unknown";
    this.socketEvents.inc({ event: eventLabel, outcome: OUTCOMES.has(outcome) ? outcome : "internal" });
    if (seconds !== undefined) this.ackLatency.observe({ event: eventLabel }, seconds);
  }

  /** An HTTP request was answered. `route` must be the matched pattern, never the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const m = HTTP_METHODS.has(method) ? method : "other";
    this.httpRequests.inc({ method: m, route, status: String(status) });
    this.httpDuration.observe({ method: m, route }, seconds);
  }

  /** The `Content-Type` of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format (runs the scrape-time checks). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

async function withTimeout(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check).catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `read()`, or `fallback` when it throws (a scrape must not fail on one series). */
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
