import type { UserRole } from "../../../client-sdk/src/protocol.js";

/** A verified end user, from a user token. */
export interface UserPrincipal {
  kind: "user";
  userId: string;
  name?: string;
  role: UserRole;
  /** Token expiry, epoch milliseconds. */
  expiresAt: number;
}

/** Scopes an API key can hold. `admin` implies every other scope. */
export type ApiKeyScope = "admin" | "read" | "write";

/** A verified server-to-server caller, from an API key. */
export interface ApiKeyPrincipal {
  kind: "api-key";
  keyId: string;
  name: string;
  scopes: ApiKeyScope[];
}

/** Whoever made a request, as established once by the auth layer. */
export type Principal = UserPrincipal | ApiKeyPrincipal;
