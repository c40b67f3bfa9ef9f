import { randomBytes } from "node:crypto";
import type { Logger } from "../../logger.js";
import type { DeliveryStore } from "../delivery-store.js";
import type { SmsGateway, SmsSendRequest, SmsSendResult, SmsWebhook } from "./sms-gateway.js";

/** Options of {@link SandboxSmsGateway}. */
export interface SandboxSmsGatewayOptions {
  /** Where the texts are kept for the sandbox page (`recordSandboxSms`). */
  store: DeliveryStore;
  /**
   * Receives the simulated status callbacks (`sent`, then `delivered`), the same reports the
   * Twilio driver's webhook produces, so both go through one code path (normally
   * `SmsService.handleStatus`). A result of `null` or `false` means no delivery knows the sid
   * yet (the worker has not recorded the send's result): the report is offered again a little
   * later, for up to {@link STATUS_RETRY_LIMIT_MS}.
   */
  onStatus: (webhook: SmsWebhook) => unknown;
  logger?: Logger;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** How long a status report is offered again while no delivery knows its sid. */
export const STATUS_RETRY_LIMIT_MS = 5_000;
/** First wait before offering a report again; it doubles each time. */
const STATUS_RETRY_FIRST_MS = 10;

/**
 * Twilio's "magic" test numbers (twilio.com/docs/iam/test-credentials): sending to them fails the
 * way the real API would, so refusals can be tried without a provider.
 */
const MAGIC_NUMBERS: Record<string, SmsSendResult> = {
  "+15005550001": { kind: "failed", statusCode: 400, errorCode: "21211", detail: "Twilio answered 400 with error 21211: The 'To' number +15005550001 is not a valid phone number." },
  "+15005550002": { kind: "failed", statusCode: 400, errorCode: "21612", detail: "Twilio answered 400 with error 21612: The 'To' phone number +15005550002 is not currently reachable via SMS." },
  "+15005550003": { kind: "failed", statusCode: 400, errorCode: "21408", detail: "Twilio answered 400 with error 21408: Permission to send an SMS has not been enabled for the region indicated by the 'To' number +15005550003." },
  "+15005550004": { kind: "opted_out", statusCode: 400, errorCode: "21610", detail: "Twilio answered 400 with error 21610: Attempt to send to unsubscribed recipient +15005550004." },
  "+15005550009": { kind: "failed", statusCode: 400, errorCode: "21614", detail: "Twilio answered 400 with error 21614: 'To' number +15005550009 is not a valid mobile number." },
};

/**
 * The default SMS driver: nothing leaves the machine. Each text is stored (`SandboxSms`, status
 * `queued`, with an MMS's media URLs) for the sandbox page at `/sandbox/sms`, where a developer reads it and answers as
 * the phone user; then the driver reports `sent` and `delivered` on the next ticks, as Twilio's
 * status callbacks would. Twilio's magic test numbers fail as they do at Twilio
 * (`+15005550001` invalid, `+15005550009` not a mobile, `+15005550004` unsubscribed, …).
 */
export class SandboxSmsGateway implements SmsGateway {
  readonly name = "sandbox" as const;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();
  private closed = false;

  constructor(private readonly options: SandboxSmsGatewayOptions) {
    this.now = options.now ?? Date.now;
  }

  async send(request: SmsSendRequest): Promise<SmsSendResult> {
    const magic = MAGIC_NUMBERS[request.to];
    if (magic) return magic;
    const sid = newSandboxSid(request.mediaUrls?.length ? "MM" : "SM");
    await this.options.store.recordSandboxSms({
      sid,
      direction: "outbound",
      from: request.from,
      to: request.to,
      body: request.body,
      ...(request.mediaUrls?.length ? { mediaUrls: [...request.mediaUrls] } : {}),
      status: "queued",
      at: new Date(this.now()).toISOString(),
    });
    // On a later turn of the event loop, as a provider's callback would come; should the worker
    // not have recorded the sid by then, the report is offered again (see `onStatus`).
    this.later(0, () => this.report(sid, "sent", () => this.report(sid, "delivered")));
    return { kind: "accepted", providerMessageId: sid, status: "queued", statusCode: 201 };
  }

  /** Stops the simulated callbacks still pending (at shutdown, and between tests). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
    }
    this.timers.clear();
  }

  /** Marks the stored text and tells `onStatus`; then runs `next`. */
  private report(sid: string, status: "sent" | "delivered", next?: () => void): void {
    const attempt = async (waitMs: number, startedAt: number): Promise<void> => {
      if (this.closed) return;
      await this.options.store.updateSandboxSmsStatus(sid, status);
      const known = await this.options.onStatus({ kind: "status", providerMessageId: sid, status });
      if (known === null || known === false) {
        if (this.now() - startedAt < STATUS_RETRY_LIMIT_MS) {
          this.later(waitMs, () => void attempt(waitMs * 2, startedAt).catch((err: unknown) => this.failed(sid, err)));
        } else {
          this.options.logger?.warn({ sid, status }, "sandbox SMS status report dropped: no delivery has this sid");
        }
        return;
      }
      if (next) this.later(0, next);
    };
    attempt(STATUS_RETRY_FIRST_MS, this.now()).catch((err: unknown) => this.failed(sid, err));
  }

  private failed(sid: string, err: unknown): void {
    this.options.logger?.error({ err, sid }, "sandbox SMS status report failed");
  }

  /** Runs `fn` after `ms` (0: on the next turn of the event loop), unless closed first. */
  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    if (ms === 0) {
      const immediate = setImmediate(() => {
        this.timers.delete(immediate);
        fn();
      });
      this.timers.add(immediate);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

/** `SM` (`MM` for an MMS) + 32 hex digits, shaped like a Twilio message sid. */
export function newSandboxSid(prefix: "SM" | "MM" = "SM"): string {
  return `${prefix}${randomBytes(16).toString("hex")}`;
}
