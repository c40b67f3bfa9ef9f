/** The claims the SDK reads from a user token. */
export interface JwtClaims {
  /** The user id (`sub`). */
  sub?: string;
  /** Expiry, in seconds since the epoch (`exp`). */
  exp?: number;
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Reads the payload of a JWT WITHOUT verifying it. The SDK only uses it to schedule a token
 * refresh before `exp`; the server is the one that verifies. Returns `undefined` for anything
 * that is not a JWT with a JSON object payload (opaque tokens are fine, they just never get a
 * proactive refresh).
 */
export function readJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  const bytes = decodeBase64Url(parts[1]);
  if (!bytes) return undefined;
  try {
    const claims: unknown = JSON.parse(decodeUtf8(bytes));
    if (typeof claims !== "object" || claims === null) return undefined;
    const { sub, exp } = claims as Record<string, unknown>;
    return {
      ...(typeof sub === "string" ? { sub } : {}),
      ...(typeof exp === "number" && Number.isFinite(exp) ? { exp } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Decodes base64url by hand: `atob` is missing from older React Native engines and `Buffer`
 * from every browser.
 */
function decodeBase64Url(input: string): Uint8Array | undefined {
  const clean = input.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE64_ALPHABET.indexOf(ch);
    if (value < 0) return undefined;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function decodeUtf8(bytes: Uint8Array): string {
  if (typeof TextDecoder === "function") return new TextDecoder().decode(bytes);
  // Without TextDecoder, percent-decoding the bytes is the portable UTF-8 decoder.
  return decodeURIComponent(Array.from(bytes, (b) => `%${b.toString(16).padStart(2, "0")}`).join(""));
}
