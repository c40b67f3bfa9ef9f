import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Identity verification of widget visitors, as Intercom and Chatwoot do it: the customer's
 * backend, which knows who is logged in, computes `HMAC-SHA256(identitySecret, userId)` as hex and
 * puts it in the page beside the user id. A browser cannot compute it for another user id
 * without the secret, so a claimed identity cannot be spoofed.
 *
 * @example Node: createHmac("sha256", identitySecret).update(userId).digest("hex")
 */
export function computeUserHash(identitySecret: string, userId: string): string {
  return createHmac("sha256", identitySecret).update(userId, "utf8").digest("hex");
}

/** Constant-time check of a presented `userHash` (hex, any case). */
export function userHashMatches(identitySecret: string, userId: string, userHash: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(userHash)) return false;
  const expected = Buffer.from(computeUserHash(identitySecret, userId), "hex");
  return timingSafeEqual(expected, Buffer.from(userHash, "hex"));
}
