import webpush from "web-push";
import type { DeliveryConfig } from "../../config.js";
import type { DeliveryStore } from "../delivery-store.js";

/** The setting the generated pair is stored under. */
export const VAPID_SETTING_KEY = "vapid";

/** The VAPID identity this server signs pushes with. */
export interface ResolvedVapidKeys {
  /** Uncompressed P-256 public key, base64url: what browsers subscribe with. */
  publicKey: string;
  /** P-256 private key, base64url. */
  privateKey: string;
  /** The `sub` claim: a `mailto:` or `https:` contact. */
  subject: string;
  /** True when this call generated the pair (first start without configured keys). */
  generated: boolean;
}

/**
 * Decides the VAPID key pair: the configured one (`VAPID_PUBLIC_KEY`/`VAPID_PRIVATE_KEY`) wins;
 * otherwise the pair stored in the delivery store; otherwise a new pair, stored with
 * `putSettingIfAbsent` so the nodes of a cluster starting at once all end up with the first
 * writer's pair. A pair must never change once browsers subscribed with it: their push service
 * refuses pushes signed by another key, and every subscription would have to be made again.
 *
 * The private key is stored in the delivery store as it is; configure the pair instead when the
 * database is less protected than the server's secrets.
 */
export async function resolveVapidKeys(
  config: DeliveryConfig["push"],
  store: Pick<DeliveryStore, "getSetting" | "putSettingIfAbsent">,
): Promise<ResolvedVapidKeys> {
  const subject = config.vapidSubject;
  if (config.vapidPublicKey && config.vapidPrivateKey) {
    return { publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey, subject, generated: false };
  }
  const stored = await store.getSetting(VAPID_SETTING_KEY);
  if (stored !== null) return { ...parseStoredPair(stored), subject, generated: false };

  const fresh = webpush.generateVAPIDKeys();
  const value = JSON.stringify({ publicKey: fresh.publicKey, privateKey: fresh.privateKey, createdAt: new Date().toISOString() });
  const inForce = await store.putSettingIfAbsent(VAPID_SETTING_KEY, value);
  const pair = parseStoredPair(inForce);
  return { ...pair, subject, generated: pair.publicKey === fresh.publicKey };
}

function parseStoredPair(value: string): { publicKey: string; privateKey: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const pair = parsed as { publicKey?: unknown; privateKey?: unknown } | undefined;
  if (
    typeof pair?.publicKey !== "string" ||
    typeof pair.privateKey !== "string" ||
    !/^[A-Za-z0-9_-]{87}$/.test(pair.publicKey) ||
    !/^[A-Za-z0-9_-]{43}$/.test(pair.privateKey)
  ) {
    // Never silently replace it: existing subscriptions are bound to the stored public key.
    throw new Error(`The stored VAPID key pair (setting "${VAPID_SETTING_KEY}") is unreadable; set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or delete the setting to generate a new pair (browsers must then subscribe again).`);
  }
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
}
