import { OutboxPoller } from "../cluster/outbox-poller.js";
import type { Logger } from "../logger.js";
import type { DestinationPolicy } from "./destination-policy.js";
import { decideAfterAttempt, parseRetryAfter, type AttemptResult } from "./webhook-retry-policy.js";
import { signingSecrets, standardWebhookHeaders } from "./webhook-signature.js";
import type { LeasedDelivery, WebhookAttempt, WebhookEndpoint, WebhookEvent, WebhookStore } from "./webhook-store.js";

/** Options of {@link WebhookDispatcher}; the durations come from `Config.webhooks`. */
export interface WebhookDispatcherOptions {
  store: WebhookStore;
  destinations: DestinationPolicy;
  logger: Logger;
  /** One attempt's time limit (`WEBHOOK_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Waits before each retry (`WEBHOOK_RETRY_SCHEDULE`); attempts are at most its length + 1. */
  retryScheduleMs: number[];
  /** With {@link disableAfterMs}: when a failure streak disables the endpoint. */
  disableAfterFailures: number;
  /** How long a failure streak must have lasted to disable the endpoint. */
  disableAfterMs: number;
  /** How often to look for due deliveries (`WEBHOOK_POLL_INTERVAL_MS`). */
  pollIntervalMs: number;
  /** Finished deliveries older than this are deleted (`WEBHOOK_RETENTION_DAYS`). */
  retentionMs: number;
  /** Deliveries this node sends at once. Default 16. */
  concurrency?: number;
  /** The HTTP client. Default the global `fetch` (undici). */
  fetch?: typeof fetch;
  /** Source of jitter, for tests. Default `Math.random`. */
  random?: () => number;
}

/** Added to the attempt timeout for the lease: signing and recording the result take a moment too. */
const LEASE_MARGIN_MS = 30_000;
/** How often each node deletes what the retention period let go. */
const PRUNE_INTERVAL_MS = 3_600_000;
/** Sent as `User-Agent`, so receivers can tell webhooks from other traffic. */
const USER_AGENT = "Switchboard-Webhooks/1";

/**
 * Drains the webhook outbox: every node runs one. Each round leases due deliveries from the
 * store (a lease is exclusive across nodes, see {@link WebhookStore.lease}), signs and POSTs
 * them, and records the attempt with what follows it: success, a retry at a jittered time from
 * the schedule, or failure; an endpoint answering 410, or failing for long enough, is disabled.
 *
 * Delivery is at least once: a node that dies mid-send leaves the lease to run out, and another
 * node sends the delivery again with the same `webhook-id`, which receivers use to de-duplicate.
 */
export class WebhookDispatcher {
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  /** Aborts sends still running when a stop's grace period ends. */
  private readonly abort = new AbortController();
  private readonly poller: OutboxPoller<LeasedDelivery>;
  private stopping = false;
  private lastPruneAt = 0;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.random = options.random ?? Math.random;
    this.poller = new OutboxPoller({
      name: "webhook dispatcher",
      logger: options.logger,
      lease: (now, limit) => options.store.lease(now, options.timeoutMs + LEASE_MARGIN_MS, limit),
      handle: (item) => this.attempt(item),
      describe: (item) => ({ deliveryId: item.delivery.id }),
      afterRound: (now) => this.pruneIfDue(now),
      pollIntervalMs: options.pollIntervalMs,
      concurrency: Math.max(1, options.concurrency ?? 16),
    });
  }

  /** Starts polling. */
  start(): void {
    this.poller.start();
  }

  /** Looks for due deliveries now instead of at the next poll (after an event was recorded). */
  kick(): void {
    this.poller.kick();
  }

  /**
   * Stops polling and waits up to `graceMs` for sends in flight; the rest are aborted and their
   * leases released, so another node (or this one after a restart) sends them.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.poller.stop(graceMs);
    this.abort.abort();
    await this.poller.drained();
  }

  /** Sends one leased delivery and records what happened. */
  private async attempt({ delivery, event, leaseToken }: LeasedDelivery): Promise<void> {
    const { store, logger } = this.options;
    const endpoint = await store.getEndpoint(delivery.endpointId);
    // Deleted: its deliveries went with it.
    if (!endpoint) return;
    const startedAt = Date.now();
    if (!endpoint.enabled) {
      await store.completeAttempt(delivery.id, leaseToken, { at: new Date(startedAt).toISOString(), durationMs: 0, error: "not sent: the endpoint is disabled" }, { status: "failed" });
      return;
    }

    const result = await this.post(endpoint, event);
    if (result === "aborted") {
      await store.releaseLease(delivery.id, leaseToken);
      return;
    }
    const finishedAt = Date.now();
    const decision = decideAfterAttempt(result, delivery.attempts.length + 1, this.options.retryScheduleMs, finishedAt, this.random);
    const attempt: WebhookAttempt = { at: new Date(startedAt).toISOString(), durationMs: finishedAt - startedAt, ...attemptLogFields(result) };
    if (decision.outcome.status === "pending") attempt.nextAttemptAt = new Date(decision.outcome.nextAttemptAt).toISOString();
    if (!(await store.completeAttempt(delivery.id, leaseToken, attempt, decision.outcome))) {
      // Our lease ran out and another node took the delivery over: its record wins.
      logger.warn({ deliveryId: delivery.id }, "webhook dispatcher: lease lost before the attempt was recorded");
      return;
    }

    const ok = result.kind === "delivered";
    const now = new Date(finishedAt).toISOString();
    // A success on an endpoint that was not failing changes nothing: no write (an fsync with SQLite).
    if (ok && endpoint.consecutiveFailures === 0) return;
    const after = await store.recordEndpointResult(endpoint.id, ok, now);
    if (decision.disableEndpoint === "gone") {
      await store.updateEndpoint(endpoint.id, { enabled: false, disabledReason: "gone" }, now);
      logger.warn({ endpointId: endpoint.id, url: endpoint.url }, "webhook endpoint disabled: it answered 410 Gone");
    } else if (!ok && after?.enabled && this.failingTooLong(after, finishedAt)) {
      await store.updateEndpoint(endpoint.id, { enabled: false, disabledReason: "failing" }, now);
      logger.warn(
        { endpointId: endpoint.id, url: endpoint.url, consecutiveFailures: after.consecutiveFailures, failingSince: after.failingSince },
        "webhook endpoint disabled: every attempt has been failing",
      );
    }
  }

  private failingTooLong(endpoint: WebhookEndpoint, now: number): boolean {
    const since = endpoint.failingSince ? Date.parse(endpoint.failingSince) : now;
    return endpoint.consecutiveFailures >= this.options.disableAfterFailures && now - since >= this.options.disableAfterMs;
  }

  /** One signed POST; "aborted" when the dispatcher is stopping. */
  private async post(endpoint: WebhookEndpoint, event: WebhookEvent): Promise<AttemptResult | "aborted"> {
    const verdict = await this.options.destinations.check(endpoint.url);
    if (verdict.verdict === "refused") return { kind: "refused", message: `destination refused: ${verdict.reason}` };
    if (verdict.verdict === "unresolved") return { kind: "network_error", message: verdict.reason };

    const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
    const now = Date.now();
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const res = await this.fetch(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": USER_AGENT,
          ...standardWebhookHeaders(signingSecrets(endpoint, now), event.id, body, now),
        },
        body,
        // A redirect could lead anywhere, private addresses included: never followed.
        redirect: "manual",
        signal: AbortSignal.any([timeout, this.abort.signal]),
      });
      // The answer's body is not used; dropping it frees the connection.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { kind: "delivered", statusCode: res.status };
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), Date.now());
      return retryAfterMs === undefined ? { kind: "rejected", statusCode: res.status } : { kind: "rejected", statusCode: res.status, retryAfterMs };
    } catch (err) {
      if (this.abort.signal.aborted) return "aborted";
      if (timeout.aborted) return { kind: "timeout", timeoutMs: this.options.timeoutMs };
      return { kind: "network_error", message: networkErrorMessage(err) };
    }
  }

  private async pruneIfDue(now: number): Promise<void> {
    if (now - this.lastPruneAt < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = now;
    const deleted = await this.options.store.prune(now - this.options.retentionMs);
    if (deleted > 0) this.options.logger.info({ deleted }, "webhook deliveries past their retention deleted");
  }
}

/** The log fields of an attempt's result. */
function attemptLogFields(result: AttemptResult): Pick<WebhookAttempt, "statusCode" | "error"> {
  switch (result.kind) {
    case "delivered":
      return { statusCode: result.statusCode };
    case "rejected":
      return { statusCode: result.statusCode, error: `HTTP ${result.statusCode}` };
    case "network_error":
    case "refused":
      return { error: result.message };
    case "timeout":
      return { error: `no answer within ${result.timeoutMs} ms` };
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND, a TLS error) in `cause`. */
function networkErrorMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
