import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, UnsecuredJWT, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import type { UserRole } from "../../../client-sdk/src/protocol.js";
import type { Config } from "../config.js";
import { SwitchboardError } from "../core/errors.js";
import { idSchema, roleSchema } from "../core/schemas.js";
import type { UserPrincipal } from "./principal.js";

/** The slice of configuration user tokens need; `secret` is resolved (generated if absent). */
export type TokenConfig = Config["jwt"] & { secret: string };

type AsymmetricAlg = "RS256" | "ES256" | "EdDSA";

/**
 * Verifies user tokens (one place, used by the socket handshake, `auth:refresh` and HTTP) and
 * mints them for `POST /v1/tokens`.
 *
 * Two kinds of key can be active at once, each pinned to its own algorithms so a token can never
 * choose how it is checked: the HS256 secret (always; it signs what Switchboard mints) and, when
 * configured, the customer's asymmetric keys (JWKS URL or PEM).
 */
export class TokenService {
  private readonly secretKey: KeyObject;
  private readonly asymmetric?: { key: KeyObject | ReturnType<typeof createRemoteJWKSet>; algorithms: AsymmetricAlg[] };

  constructor(private readonly config: TokenConfig) {
    // Imported once: it signs minted tokens and checks HS256 ones (see verifyHs256).
    this.secretKey = createSecretKey(Buffer.from(config.secret, "utf8"));
    if (config.jwksUrl) {
      this.asymmetric = { key: createRemoteJWKSet(new URL(config.jwksUrl)), algorithms: ["RS256", "ES256", "EdDSA"] };
    } else if (config.publicKey) {
      const key = createPublicKey(config.publicKey);
      this.asymmetric = { key, algorithms: [algorithmFor(key)] };
    }
  }

  /** Verifies a user token; throws `unauthorized` with a message that says what was wrong. */
  async verify(token: unknown): Promise<UserPrincipal> {
    if (typeof token !== "string" || token.length === 0) {
      throw new SwitchboardError("unauthorized", "No token: pass a user token as `auth: { token }` in the Socket.IO handshake.");
    }
    if (token.length > 8192) throw new SwitchboardError("unauthorized", "Token is longer than 8192 characters.");
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new SwitchboardError("unauthorized", "Token is not a JWT.");
    }
    const options = {
      issuer: this.config.issuer,
      audience: this.config.audience,
      clockTolerance: this.config.clockToleranceSeconds,
      requiredClaims: ["sub", "exp"],
    };
    const alg = header.alg;
    let payload: JWTPayload;
    try {
      if (alg === "HS256") {
        payload = verifyHs256(token, header, this.secretKey, options);
      } else if (this.asymmetric && alg && (this.asymmetric.algorithms as string[]).includes(alg)) {
        const { key, algorithms } = this.asymmetric;
        ({ payload } =
          typeof key === "function"
            ? await jwtVerify(token, key, { ...options, algorithms })
            : await jwtVerify(token, key, { ...options, algorithms }));
      } else {
        throw new SwitchboardError("unauthorized", `Token algorithm ${JSON.stringify(alg)} is not accepted by this server.`);
      }
    } catch (err) {
      throw toAuthError(err);
    }
    return principalFrom(payload);
  }

  /** Mints a user token signed with the HS256 secret, carrying the configured `iss`/`aud`. */
  async mint(input: { userId: string; name?: string; role?: UserRole; ttlSeconds: number }): Promise<{ token: string; expiresAt: string }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + input.ttlSeconds;
    let jwt = new SignJWT({ ...(input.name ? { name: input.name } : {}), ...(input.role ? { role: input.role } : {}) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(input.userId)
      .setIssuedAt(now)
      .setExpirationTime(exp);
    if (this.config.issuer) jwt = jwt.setIssuer(this.config.issuer);
    if (this.config.audience) jwt = jwt.setAudience(this.config.audience);
    return { token: await jwt.sign(this.secretKey), expiresAt: new Date(exp * 1000).toISOString() };
  }
}

/** `{"alg":"none"}`, base64url: the header of the unsecured token whose claims jose checks for us. */
const NONE_HEADER = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");

/**
 * An HS256 token checked with `node:crypto` on the event loop, then its claims by jose's own rules.
 * jose 6 verifies through WebCrypto, which re-imports the key and hops to the thread pool on every
 * call: about 100 µs of CPU per handshake against 15 µs here (the idle benchmark's profile had it
 * as the largest cost of a connection). The claims (`exp`, `nbf`, `iss`, `aud`, required ones, the
 * clock tolerance) go through `UnsecuredJWT.decode` with the same options, so they are judged,
 * and refused with the same errors, as `jwtVerify` would; only the signature check is ours.
 */
function verifyHs256(token: string, header: ProtectedHeaderParameters, key: KeyObject, options: Parameters<typeof UnsecuredJWT.decode>[1]): JWTPayload {
  // No extension is understood here, so none may be declared critical (RFC 7515 §4.1.11); and
  // an unencoded payload (RFC 7797) is not a JWT.
  if (header.crit !== undefined || header.b64 !== undefined) throw new joseErrors.JWSInvalid("unsupported JWS header parameter crit or b64");
  const first = token.indexOf(".");
  const last = token.lastIndexOf(".");
  if (first <= 0 || last === first || token.indexOf(".", first + 1) !== last) throw new joseErrors.JWSInvalid("Invalid Compact JWS");
  const signature = Buffer.from(token.slice(last + 1), "base64url");
  const expected = createHmac("sha256", key).update(token.slice(0, last)).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new joseErrors.JWSSignatureVerificationFailed();
  return UnsecuredJWT.decode(`${NONE_HEADER}.${token.slice(first + 1, last)}.`, options).payload;
}

function algorithmFor(key: KeyObject): AsymmetricAlg {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RS256";
    case "ec":
      return "ES256";
    case "ed25519":
      return "EdDSA";
    default:
      throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType}; use RSA, EC P-256 or Ed25519`);
  }
}

function principalFrom(payload: JWTPayload): UserPrincipal {
  const sub = idSchema.safeParse(payload.sub);
  if (!sub.success) throw new SwitchboardError("unauthorized", "Token `sub` is not a valid user id.");
  const role = payload.role === undefined ? "user" : roleSchema.safeParse(payload.role).data;
  if (!role) throw new SwitchboardError("unauthorized", "Token `role` must be user, agent or visitor.");
  const name = typeof payload.name === "string" ? payload.name.slice(0, 200) : undefined;
  return { kind: "user", userId: sub.data, role, expiresAt: (payload.exp as number) * 1000, ...(name ? { name } : {}) };
}

function toAuthError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  if (err instanceof joseErrors.JWTExpired) return new SwitchboardError("unauthorized", "Token expired: get a fresh one and reconnect.");
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new SwitchboardError("unauthorized", `Token claim \`${err.claim}\` is invalid: ${err.reason === "missing" ? "missing" : err.message}.`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new SwitchboardError("unauthorized", "Token signature is invalid.");
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new SwitchboardError("unauthorized", "Token algorithm is not accepted by this server.");
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new SwitchboardError("unauthorized", "No key in the JWKS matches the token's `kid`.");
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    return new SwitchboardError("unavailable", "The JWKS endpoint could not be read; try again shortly.");
  }
  if (err instanceof joseErrors.JOSEError) return new SwitchboardError("unauthorized", `Token rejected: ${err.message}.`);
  return new SwitchboardError("unauthorized", "Token rejected.");
}
