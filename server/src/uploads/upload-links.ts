import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { UploadStore, UploadVariant } from "./upload-store.js";

/** The variants a download link can name, as they appear in `?v=`. */
export const UPLOAD_VARIANTS: readonly UploadVariant[] = ["original", "thumbnail", "mms"];

/** Options of {@link UploadLinks}. */
export interface UploadLinksOptions {
  /** The HMAC key (base64url), shared by every node: see {@link resolveLinkKey}. */
  key: string;
  /** `PUBLIC_URL`, without a trailing slash: links are absolute on it. */
  publicUrl: string;
  /** Default lifetime of a link in seconds (`UPLOAD_URL_TTL_SECONDS`, default 3600). */
  ttlSeconds: number;
}

/** A signed link and when it stops working. */
export interface SignedLink {
  url: string;
  /** ISO-8601. */
  expiresAt: string;
}

/** Result of {@link UploadLinks.verify}. */
export type LinkCheck = "valid" | "expired" | "invalid";

/**
 * Signed, expiring download links: `PUBLIC_URL/v1/uploads/{id}/content?v=<variant>&exp=<unix s>&sig=<hmac>`.
 * The signature (HMAC-SHA256 over the id, variant and expiry) is the capability: anyone holding
 * the link may download until `exp`, and nobody can make one without the key.
 *
 * Expiries are rounded up to a step of a tenth of the lifetime (at most 5 minutes), so the same
 * attachment read again soon after gets the same URL, and browsers and proxies can cache it; a
 * link therefore lives between `ttl` and `ttl` plus one step.
 */
export class UploadLinks {
  private readonly key: Buffer;
  private readonly publicUrl: string;
  private readonly ttlSeconds: number;

  constructor(options: UploadLinksOptions) {
    this.key = Buffer.from(options.key, "base64url");
    if (this.key.length < 32) throw new Error("The upload link key must hold at least 32 bytes");
    this.publicUrl = options.publicUrl.replace(/\/+$/, "");
    this.ttlSeconds = options.ttlSeconds;
  }

  /** A link to `variant` of the upload, valid for `ttlSeconds` (default: the configured lifetime). */
  sign(uploadId: string, variant: UploadVariant, ttlSeconds = this.ttlSeconds, now = Date.now()): SignedLink {
    const step = Math.max(1, Math.min(300, Math.floor(ttlSeconds / 10)));
    const exp = Math.ceil((Math.floor(now / 1000) + ttlSeconds) / step) * step;
    const query = new URLSearchParams({ v: variant, exp: String(exp), sig: this.signature(uploadId, variant, exp) });
    return { url: `${this.publicUrl}${contentPath(uploadId)}?${query}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /**
   * Checks a link's parameters, the signature first (in constant time), then the expiry; so
   * `expired` is only ever said of a link this server made.
   */
  verify(uploadId: string, variant: string, exp: string, sig: string, now = Date.now()): LinkCheck {
    if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return "invalid";
    const expected = Buffer.from(this.signature(uploadId, variant, Number(exp)), "base64url");
    const given = Buffer.from(sig, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
    return Number(exp) * 1000 > now ? "valid" : "expired";
  }

  /** Seconds until the link with expiry `exp` (unix seconds) stops working; 0 once it has. */
  secondsLeft(exp: string, now = Date.now()): number {
    return Math.max(0, Number(exp) - Math.floor(now / 1000));
  }

  private signature(uploadId: string, variant: string, exp: number): string {
    // Fields separated by a character none of them can contain, so no two inputs sign alike.
    return createHmac("sha256", this.key).update(`v1\n${uploadId}\n${variant}\n${exp}`).digest("base64url");
  }
}

/** The path of an upload's content, without signature: what messages store as the attachment's `url`. */
export function contentPath(uploadId: string, variant: UploadVariant = "original"): string {
  return variant === "original" ? `/v1/uploads/${uploadId}/content` : `/v1/uploads/${uploadId}/content?v=${variant}`;
}

/**
 * The link-signing key of the deployment: the one in the upload store, or a new random one stored
 * there first (every node of a cluster starting at once ends up with the first writer's). Kept
 * in the database rather than `DATA_DIR` because nodes of a cluster share the database, not the
 * disk. Replacing it invalidates every link handed out, nothing else.
 */
export async function resolveLinkKey(store: Pick<UploadStore, "linkKey">): Promise<string> {
  return store.linkKey(randomBytes(32).toString("base64url"));
}
