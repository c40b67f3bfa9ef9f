import { createSecretKey } from "node:crypto";
import { SignJWT } from "jose";

/** A user's role in tokens, as the server reads the `role` claim. */
export type UserRole = "user" | "agent" | "visitor";

/** What a user token says; the same claims `POST /v1/tokens` puts in. */
export interface UserTokenInput {
  userId: string;
  name?: string;
  /** Default `user`. */
  role?: UserRole;
  /** Lifetime (default 3600 s). */
  ttlSeconds?: number;
}

/** The server's `JWT_SECRET`, `JWT_ISSUER` and `JWT_AUDIENCE`, for minting tokens without a request. */
export interface LocalTokenSigner {
  /** `JWT_SECRET` of the server (at least 32 characters). */
  secret: string;
  /** `JWT_ISSUER`, when the server requires one. */
  issuer?: string;
  /** `JWT_AUDIENCE`, when the server requires one. */
  audience?: string;
}

/**
 * Mints a user token locally with the server's HS256 secret: the claims of the server's own
 * token service (`sub`, `iat`, `exp`, optional `name`, `role`, `iss`, `aud`), so the socket
 * handshake accepts it exactly like one from `POST /v1/tokens`.
 */
export async function mintUserToken(signer: LocalTokenSigner, input: UserTokenInput): Promise<{ token: string; expiresAt: string }> {
  if (signer.secret.length < 32) throw new Error("The token secret must be the server's JWT_SECRET (at least 32 characters).");
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (input.ttlSeconds ?? 3600);
  let jwt = new SignJWT({ ...(input.name ? { name: input.name } : {}), ...(input.role ? { role: input.role } : {}) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(input.userId)
    .setIssuedAt(now)
    .setExpirationTime(exp);
  if (signer.issuer) jwt = jwt.setIssuer(signer.issuer);
  if (signer.audience) jwt = jwt.setAudience(signer.audience);
  return { token: await jwt.sign(createSecretKey(Buffer.from(signer.secret, "utf8"))), expiresAt: new Date(exp * 1000).toISOString() };
}
