import { createPublicKey, randomBytes } from "node:crypto";
import { z } from "zod";
import { SwitchboardError } from "../../core/errors.js";
import { parse } from "../../core/schemas.js";
import type { DestinationPolicy } from "../../webhooks/destination-policy.js";
import type { DeliveryStore, PushSubscriptionRecord } from "../delivery-store.js";

/** Longest push endpoint accepted (real ones are under 600 characters). */
export const PUSH_ENDPOINT_MAX_LENGTH = 1024;
/** The stored `userAgent` is cut to this. */
const USER_AGENT_MAX_LENGTH = 200;

/** The store methods the service uses. */
export type PushSubscriptionStore = Pick<DeliveryStore, "savePushSubscription" | "listPushSubscriptions" | "deletePushSubscription">;

/** Options of {@link PushSubscriptionService}. */
export interface PushSubscriptionServiceOptions {
  /**
   * The SSRF guard endpoints must pass: `new DestinationPolicy({ allowPrivate: PUSH_ALLOW_PRIVATE })`
   * (tests give it a fixed resolver).
   */
  destinations: DestinationPolicy;
  /** Subscriptions one user may hold; one more drops their oldest (`PUSH_MAX_SUBSCRIPTIONS_PER_USER`). */
  maxSubscriptionsPerUser: number;
  /** The clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

/** base64url (the unpadded alphabet browsers use; padding and the standard alphabet are tolerated). */
const base64ish = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/** A base64url field that decodes to exactly `bytes` bytes; normalised to unpadded base64url. */
const binaryKey = (bytes: number, what: string) =>
  z
    .string()
    .max(256)
    .regex(base64ish, "must be base64url")
    .transform((text, ctx) => {
      const decoded = Buffer.from(text, "base64url");
      if (decoded.length !== bytes) {
        ctx.addIssue({ code: "custom", message: `must be ${what} (${bytes} bytes), got ${decoded.length} bytes` });
        return z.NEVER;
      }
      return decoded.toString("base64url");
    });

/**
 * The browser's `PushSubscription.toJSON()`. Unknown fields are dropped, not refused: browsers
 * may add some.
 */
export const pushSubscriptionInputSchema = z.object({
  endpoint: z
    .string()
    .max(PUSH_ENDPOINT_MAX_LENGTH, `must be at most ${PUSH_ENDPOINT_MAX_LENGTH} characters`)
    .refine((raw) => URL.canParse(raw) && new URL(raw).protocol === "https:", "must be an https URL (the browser's push service)")
    .refine((raw) => !URL.canParse(raw) || (!new URL(raw).username && !new URL(raw).password), "must not contain credentials"),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: binaryKey(65, "an uncompressed P-256 public key").refine(isP256Point, "must be a point on the P-256 curve"),
    auth: binaryKey(16, "the auth secret"),
  }),
});

/** What a browser sends to subscribe, as validated. */
export type PushSubscriptionInput = z.output<typeof pushSubscriptionInputSchema>;

/**
 * Registers and removes the Web Push subscriptions of users' browsers (the user calls it with
 * their own token). Endpoints are checked like webhook URLs: a user token could otherwise make
 * this server POST to internal hosts.
 */
export class PushSubscriptionService {
  private readonly now: () => number;

  constructor(
    private readonly store: PushSubscriptionStore,
    private readonly options: PushSubscriptionServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Stores the browser's subscription for the user (an endpoint known already moves to this
   * user with its new keys) and, past the per-user cap, drops the user's oldest others. Throws
   * `invalid_argument` naming the field.
   */
  async subscribe(userId: string, input: unknown, userAgent?: string): Promise<PushSubscriptionRecord> {
    const parsed = parse(pushSubscriptionInputSchema, input);
    if (typeof parsed.expirationTime === "number" && parsed.expirationTime <= this.now()) {
      throw new SwitchboardError("invalid_argument", "expirationTime: the subscription has expired; subscribe again in the browser.");
    }
    await this.checkEndpoint(parsed.endpoint);
    const saved = await this.store.savePushSubscription({
      id: `psub_${randomBytes(12).toString("hex")}`,
      userId,
      endpoint: parsed.endpoint,
      p256dh: parsed.keys.p256dh,
      auth: parsed.keys.auth,
      ...(userAgent ? { userAgent: userAgent.slice(0, USER_AGENT_MAX_LENGTH) } : {}),
      createdAt: new Date(this.now()).toISOString(),
    });
    await this.enforceCap(userId, saved.endpoint);
    return saved;
  }

  /** Removes the user's subscription with this endpoint; `not_found` when they have none. */
  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    if (!(await this.store.deletePushSubscription(userId, endpoint))) {
      throw new SwitchboardError("not_found", "endpoint: no push subscription of this user has this endpoint.");
    }
  }

  /** The user's subscriptions, oldest first. */
  async list(userId: string): Promise<PushSubscriptionRecord[]> {
    return this.store.listPushSubscriptions(userId);
  }

  private async checkEndpoint(endpoint: string): Promise<void> {
    const verdict = await this.options.destinations.check(endpoint);
    switch (verdict.verdict) {
      case "allowed":
        return;
      case "refused":
        throw new SwitchboardError("invalid_argument", `endpoint: ${verdict.reason}; push endpoints must be public addresses (see PUSH_ALLOW_PRIVATE).`);
      case "unresolved":
        throw new SwitchboardError("invalid_argument", `endpoint: ${verdict.reason}.`);
      default: {
        const exhaustive: never = verdict;
        return exhaustive;
      }
    }
  }

  /**
   * Drops the user's oldest subscriptions beyond the cap, never the one just saved (a known
   * endpoint registered again may keep its old `createdAt` and so look oldest). Two subscribes
   * racing on two nodes may leave one extra until the next subscribe.
   */
  private async enforceCap(userId: string, keep: string): Promise<void> {
    const subscriptions = await this.store.listPushSubscriptions(userId);
    const excess = subscriptions.length - this.options.maxSubscriptionsPerUser;
    if (excess <= 0) return;
    const oldest = subscriptions.filter((s) => s.endpoint !== keep).slice(0, excess);
    for (const subscription of oldest) await this.store.deletePushSubscription(userId, subscription.endpoint);
  }
}

/** Whether 65 bytes (base64url) are an uncompressed point on P-256: anything else makes encryption fail. */
function isP256Point(key: string): boolean {
  const bytes = Buffer.from(key, "base64url");
  if (bytes[0] !== 0x04) return false;
  try {
    createPublicKey({
      key: { kty: "EC", crv: "P-256", x: bytes.subarray(1, 33).toString("base64url"), y: bytes.subarray(33).toString("base64url") },
      format: "jwk",
    });
    return true;
  } catch {
    return false;
  }
}
