import type { Context, MiddlewareHandler } from "hono";
import type { UserPrincipal } from "../auth/principal.js";
import type { TokenService } from "../auth/token-service.js";
import { SwitchboardError } from "../core/errors.js";

/**
 * Authentication of HTTP routes that browsers call with the user's own token (the JWT of the
 * Socket.IO handshake) instead of an API key. Such routes are registered before the `/v1` API
 * key middleware, which they answer in place of.
 */

/** Name of the user token bearer scheme in the OpenAPI document. */
export const USER_TOKEN_SCHEME = "userToken";

/** The variables {@link userAuth} sets for the route's handler. */
export interface UserAuthEnv {
  Variables: {
    /** The verified caller. */
    user: UserPrincipal;
  };
}

/**
 * Verifies `Authorization: Bearer <user token>` with the same {@link TokenService} as the socket
 * handshake, once per request (the result is kept in `c.get("user")`). Throws `unauthorized`
 * saying what to send, or what was wrong with the token.
 */
export async function requireUser(context: Context, tokens: TokenService): Promise<UserPrincipal> {
  // Every env of these routes declares `user` (HttpEnv, UserAuthEnv); hono's Context is invariant in it.
  const c = context as Context<{ Variables: { user?: UserPrincipal } }>;
  // Verified once per request: the per-user rate limit in front of these routes already did.
  const verified = c.get("user");
  if (verified) return verified;
  const header = c.req.header("authorization");
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) {
    throw new SwitchboardError(
      "unauthorized",
      header === undefined
        ? "Missing user token: send `Authorization: Bearer <user token>` (the JWT the user connects with)."
        : "Malformed Authorization header: send `Authorization: Bearer <user token>` (the JWT the user connects with).",
    );
  }
  const user = await tokens.verify(match[1]);
  c.set("user", user);
  return user;
}

/**
 * Route middleware: {@link requireUser}, then `c.get("user")` in the handler. As route middleware
 * it runs before the route's validators, so a caller without a valid token learns nothing about
 * what a valid request looks like.
 */
export function userAuth(tokens: TokenService): MiddlewareHandler<UserAuthEnv> {
  return async (c, next) => {
    await requireUser(c, tokens);
    await next();
  };
}
