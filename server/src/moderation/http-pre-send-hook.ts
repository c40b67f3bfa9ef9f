import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { z } from "zod";
import { SwitchboardError } from "../core/errors.js";
import type { PreSendDraft, PreSendHook, PreSendVerdict } from "../core/message-service.js";
import { messageTextSchema } from "../core/schemas.js";
import type { Logger } from "../logger.js";
import type { DestinationPolicy, DestinationVerdict } from "../webhooks/destination-policy.js";
import { standardWebhookHeaders } from "../webhooks/webhook-signature.js";

/** What one call of the hook came to, as counted in `switchboard_presend_hook_total{outcome}`. */
export type PreSendOutcome = "allow" | "reject" | "rewrite" | "failed";

/** What the hook does when a call fails (`PRESEND_HOOK_FAILURE`). */
export type PreSendFailurePolicy = "open" | "closed";

/** Options of {@link HttpPreSendHook}; the first four come from `Config.preSendHook`. */
export interface HttpPreSendHookOptions {
  /** Where drafts are POSTed (`PRESEND_HOOK_URL`): http or https, no credentials. */
  url: string;
  /** The Standard Webhooks signing secret, `whsec_` + base64 (`PRESEND_HOOK_SECRET`). */
  secret: string;
  /** One call's time limit in ms, answer included (`PRESEND_HOOK_TIMEOUT_MS`, default 2000). */
  timeoutMs: number;
  /**
   * `open` (the default in config): a failed call allows the message as sent. `closed`: the send
   * fails with `unavailable`, which clients retry with the same `clientMessageId`.
   */
  failurePolicy: PreSendFailurePolicy;
  /**
   * The SSRF guard (`WEBHOOK_ALLOW_PRIVATE`), asked before calls (its verdict reused for 10 s).
   * The composition root asks it once at start too, and refuses to start on `refused`.
   */
  destinations: DestinationPolicy;
  logger: Logger;
  /** Told the outcome and duration of every call (the metrics). Default: nothing. */
  onCall?: (outcome: PreSendOutcome, seconds: number) => void;
  /**
   * The keep-alive connection pool the calls go through, built by the composition root with
   * {@link createPreSendHookAgent} (an `https.Agent` for an https URL).
   */
  agent: http.Agent;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The `type` of every call's body. */
export const PRE_SEND_EVENT_TYPE = "message.pre_send";

/** Sent as `User-Agent`, so the hook can tell these calls from outbound webhooks. */
const USER_AGENT = "Switchboard-PreSendHook/1";
/** Longest reject reason accepted: it is shown to the sender. */
export const REJECT_REASON_MAX_LENGTH = 500;
/**
 * The largest answer read. A rewrite of the longest text, every character JSON-escaped as
 * `\uXXXX`, is about 24 KB; anything much bigger is not an answer to this call.
 */
const ANSWER_MAX_BYTES = 64 * 1024;
/**
 * How long a destination verdict is reused. The check resolves the host name; once per call
 * would add a DNS lookup (a thread-pool round trip, or a network one) to every send, and
 * the request resolves the name again when it connects anyway (see {@link DestinationPolicy}).
 */
const DESTINATION_CACHE_MS = 10_000;
/** While the hook keeps failing for the same reason, one warning per this long, with the count of failures since the last. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** The answer of the hook, validated: anything else is a failed call. */
const answerSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("allow") }),
  z.object({ action: z.literal("reject"), reason: z.string().max(REJECT_REASON_MAX_LENGTH, `must be at most ${REJECT_REASON_MAX_LENGTH} characters`) }),
  z.object({ action: z.literal("rewrite"), text: messageTextSchema }),
]);

/** Why a call did not produce a verdict. */
type CallFailure =
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "network_error"; message: string }
  | { kind: "status"; status: number }
  | { kind: "malformed"; message: string }
  /** The destination is (or now resolves to) a private address, or does not resolve. */
  | { kind: "destination"; message: string };

/** One call's result. */
type CallResult = { kind: "verdict"; verdict: PreSendVerdict } | { kind: "failed"; failure: CallFailure };

/**
 * The HTTP driver of {@link PreSendHook}: POSTs each draft, signed per Standard Webhooks, to
 * the customer's endpoint and waits (at most `timeoutMs`) for its verdict. A call that times
 * out, cannot connect, answers a non-2xx status (redirects included: never followed) or an
 * answer that does not validate is a failure, handled by the failure policy.
 *
 * Body: `{ "type": "message.pre_send", "timestamp": ISO-8601, "data": PreSendDraft }`, with a
 * fresh `webhook-id` per call (a retried send is a new question). Answers: `{ "action": "allow" }`
 * (or an empty 2xx such as 204), `{ "action": "reject", "reason" }`, `{ "action": "rewrite", "text" }`.
 */
export class HttpPreSendHook implements PreSendHook {
  private readonly url: URL;
  private readonly now: () => number;
  /** The host name's verdict and until when it is reused; a check in flight is shared. */
  private destination?: { verdict: Promise<DestinationVerdict>; until: number };
  /** The current failure streak, failures since the last warning, and when and why that was written. */
  private failures = { streak: 0, unlogged: 0, lastLoggedAt: Number.NEGATIVE_INFINITY, lastReason: "" };
  /** The URL as logs show it: origin and path only, since the query may carry a token of the customer's. */
  readonly logUrl: string;

  constructor(private readonly options: HttpPreSendHookOptions) {
    this.now = options.now ?? Date.now;
    this.url = new URL(options.url);
    this.logUrl = `${this.url.origin}${this.url.pathname}`;
  }

  async check(draft: PreSendDraft): Promise<PreSendVerdict> {
    const started = performance.now();
    const result = await this.call(draft);
    const seconds = (performance.now() - started) / 1000;
    switch (result.kind) {
      case "verdict": {
        const { verdict } = result;
        this.options.onCall?.(verdict.action, seconds);
        this.recovered();
        if (verdict.action === "reject") {
          this.options.logger.info(
            { conversationId: draft.conversationId, senderId: draft.senderId, clientMessageId: draft.clientMessageId, reason: verdict.reason },
            "pre-send hook rejected a message",
          );
        } else if (verdict.action === "rewrite") {
          this.options.logger.debug({ conversationId: draft.conversationId, senderId: draft.senderId }, "pre-send hook rewrote a message");
        }
        return verdict;
      }
      case "failed":
        this.options.onCall?.("failed", seconds);
        this.failed(result.failure, draft);
        if (this.options.failurePolicy === "closed") {
          throw new SwitchboardError("unavailable", "The message was not sent: the moderation hook did not answer; retry.");
        }
        return { action: "allow" };
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  }

  /** One signed POST and its answer. Never throws. */
  private async call(draft: PreSendDraft): Promise<CallResult> {
    const destination = await this.cachedDestination();
    if (destination.verdict !== "allowed") {
      const advice = destination.verdict === "refused" ? "; hooks must be public unless WEBHOOK_ALLOW_PRIVATE is set" : "";
      return { kind: "failed", failure: { kind: "destination", message: `${destination.reason}${advice}` } };
    }
    const now = this.now();
    const body = JSON.stringify({ type: PRE_SEND_EVENT_TYPE, timestamp: new Date(now).toISOString(), data: draft });
    const headers = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      accept: "application/json",
      "user-agent": USER_AGENT,
      // randomUUID draws from a cached entropy pool: randomBytes per call showed up in a profile.
      ...standardWebhookHeaders([this.options.secret], `pre_${randomUUID()}`, body, now),
    };
    // Bounds the whole call, answer included: a hook that trickles its answer cannot hold the send.
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let answer: RawAnswer;
    try {
      answer = await post(this.url, this.options.agent, headers, body, timeout);
    } catch (err) {
      const error = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
      // A pooled connection the hook closed while idle fails at once; asking again on a fresh
      // one is safe (nothing was answered) and keeps a keep-alive race from failing a send.
      if (error.reusedSocket && !timeout.aborted && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
        try {
          answer = await post(this.url, this.options.agent, headers, body, timeout);
        } catch (retryErr) {
          return this.transportFailure(retryErr, timeout);
        }
      } else {
        return this.transportFailure(err, timeout);
      }
    }
    // A redirect could lead anywhere, private addresses included: a 3xx is a failure like any non-2xx.
    if (answer.status < 200 || answer.status > 299) return { kind: "failed", failure: { kind: "status", status: answer.status } };
    if (answer.text === undefined) return { kind: "failed", failure: { kind: "malformed", message: `answer larger than ${ANSWER_MAX_BYTES} bytes` } };
    return parseAnswer(answer.text, draft);
  }

  private transportFailure(err: unknown, timeout: AbortSignal): CallResult {
    if (timeout.aborted) return { kind: "failed", failure: { kind: "timeout", timeoutMs: this.options.timeoutMs } };
    const error = err as NodeJS.ErrnoException;
    return { kind: "failed", failure: { kind: "network_error", message: error.code ? `${error.code}: ${error.message}` : error.message } };
  }

  /** The destination's verdict, checked again once the cached one is older than {@link DESTINATION_CACHE_MS}. */
  private cachedDestination(): Promise<DestinationVerdict> {
    const now = this.now();
    if (this.destination && this.destination.until > now) return this.destination.verdict;
    const verdict = this.options.destinations.check(this.options.url).catch((err: unknown): DestinationVerdict => ({
      verdict: "unresolved",
      reason: err instanceof Error ? err.message : String(err),
    }));
    const entry = { verdict, until: now + DESTINATION_CACHE_MS };
    this.destination = entry;
    // A name that does not resolve (yet) is asked again at the next call, not 10 s later.
    void verdict.then((v) => {
      if (v.verdict === "unresolved" && this.destination === entry) this.destination = undefined;
    });
    return verdict;
  }

  /**
   * Logs a failure at warn: at once when its reason differs from the last one written, else once
   * per interval with the count since, so an outage at thousands of sends a second stays readable.
   */
  private failed(failure: CallFailure, draft: PreSendDraft): void {
    const now = this.now();
    const reason = describeFailure(failure);
    this.failures.streak++;
    this.failures.unlogged++;
    if (reason === this.failures.lastReason && now - this.failures.lastLoggedAt < FAILURE_LOG_INTERVAL_MS) return;
    const policy = this.options.failurePolicy;
    const effect = policy === "open" ? "messages are stored unchecked" : "sends fail with unavailable";
    this.options.logger.warn(
      {
        url: this.logUrl,
        reason,
        failurePolicy: policy,
        failuresSinceLastWarning: this.failures.unlogged,
        conversationId: draft.conversationId,
        senderId: draft.senderId,
      },
      `pre-send hook failed (PRESEND_HOOK_FAILURE=${policy}: ${effect})`,
    );
    this.failures = { ...this.failures, unlogged: 0, lastLoggedAt: now, lastReason: reason };
  }

  /** After a failure streak, says once that the hook answers again. */
  private recovered(): void {
    if (this.failures.streak === 0) return;
    this.options.logger.info({ url: this.logUrl, failures: this.failures.streak }, "pre-send hook answering again");
    this.failures = { streak: 0, unlogged: 0, lastLoggedAt: Number.NEGATIVE_INFINITY, lastReason: "" };
  }
}

/** The hook's answer as a verdict, or why it is not one. An empty body is an allow (a 204). */
function parseAnswer(text: string, draft: PreSendDraft): CallResult {
  if (text.trim() === "") return { kind: "verdict", verdict: { action: "allow" } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "failed", failure: { kind: "malformed", message: `answer is not JSON: ${excerpt(text)}` } };
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join(".") : "answer";
    return {
      kind: "failed",
      failure: { kind: "malformed", message: `${where}: ${issue.message} (expected {"action":"allow"}, {"action":"reject","reason":…} or {"action":"rewrite","text":…})` },
    };
  }
  const answer = parsed.data;
  switch (answer.action) {
    case "allow":
      return { kind: "verdict", verdict: { action: "allow" } };
    case "reject":
      // The sender reads "The message was rejected: <reason>"; an empty reason would end in a colon.
      return { kind: "verdict", verdict: { action: "reject", reason: answer.reason.trim() || "by the moderation hook" } };
    case "rewrite":
      // The same rule as a send: a message without attachments needs text.
      if (answer.text.trim() === "" && draft.attachments.length === 0) {
        return { kind: "failed", failure: { kind: "malformed", message: "text: a rewrite of a message without attachments must not be empty (reject it instead)" } };
      }
      return { kind: "verdict", verdict: { action: "rewrite", text: answer.text } };
    default: {
      const exhaustive: never = answer;
      return exhaustive;
    }
  }
}

/** What the hook answered: its status, and its body unless the call failed or it is too large. */
interface RawAnswer {
  status: number;
  /** The body of a 2xx answer; undefined when it is longer than {@link ANSWER_MAX_BYTES}. */
  text?: string;
}

/**
 * One POST over the pool. node:http rather than `fetch`: measured on the 2-core reference
 * machine, a call through Node 20's fetch took about twice the CPU (see docs/benchmarks.md),
 * and every send pays it. It never follows redirects. Rejects on a network error or abort; the
 * error carries `reusedSocket` when it happened on a pooled connection.
 */
function post(url: URL, agent: http.Agent, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === "https:" ? https.request : http.request)(url, { method: "POST", agent, headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        // Its body is not used; reading it to the end frees the connection for the next call.
        res.resume();
        resolve({ status });
        return;
      }
      if (Number(res.headers["content-length"]) > ANSWER_MAX_BYTES) {
        request.destroy();
        resolve({ status });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > ANSWER_MAX_BYTES) {
          // The connection is dropped, not drained: the rest may be endless.
          request.destroy();
          resolve({ status });
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve({ status, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
      // An abort (the timeout) mid-answer may only close the response; settle the call then too.
      res.on("close", () => {
        if (!res.complete) reject(Object.assign(new Error("the answer was cut off"), { code: "ECONNRESET" }));
      });
    });
    request.on("error", (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      err.reusedSocket = request.reusedSocket;
      reject(err);
    });
    request.end(body);
  });
}

/**
 * The connection pool of the pre-send hook: keep-alive, so a call is one round trip once warm;
 * at most 256 connections (a call beyond waits for one, within its timeout); an idle connection
 * is closed after 4 s, or 1 s before the hook's own `Keep-Alive: timeout` hint, so it is not
 * reused just as the hook closes it. `https.Agent` for an https URL.
 */
export function createPreSendHookAgent(url: string): http.Agent {
  const options = { keepAlive: true, maxSockets: 256, timeout: 4000, scheduling: "lifo" as const };
  return new URL(url).protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

function describeFailure(failure: CallFailure): string {
  switch (failure.kind) {
    case "timeout":
      return `no answer within ${failure.timeoutMs} ms (PRESEND_HOOK_TIMEOUT_MS)`;
    case "network_error":
      return `could not connect: ${failure.message}`;
    case "status":
      return failure.status >= 300 && failure.status < 400 ? `answered ${failure.status} (redirects are not followed)` : `answered HTTP ${failure.status}`;
    case "malformed":
      return `malformed answer: ${failure.message}`;
    case "destination":
      return `not called: ${failure.message}`;
    default: {
      const exhaustive: never = failure;
      return exhaustive;
    }
  }
}

/** The start of a body, for a log line. */
function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine);
}
