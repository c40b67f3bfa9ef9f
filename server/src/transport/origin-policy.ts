/**
 * Decides which browser origins may talk to this server (Socket.IO upgrade, polling and CORS).
 *
 * - A request without `Origin` is not from a browser page (server SDKs, curl, mobile) and is
 *   allowed: the token or API key is what protects it.
 * - With `ALLOWED_ORIGINS` set, exactly those origins (or `*`).
 * - Otherwise only the server's own origin: `PUBLIC_URL`'s, or the one the request was sent to.
 */
export function createOriginPolicy(config: { allowedOrigins: string[]; publicUrl: string }) {
  const publicOrigin = new URL(config.publicUrl).origin;
  const anyOrigin = config.allowedOrigins.includes("*");
  const listed = new Set(config.allowedOrigins);
  return (origin: string | undefined, host: string | undefined): boolean => {
    if (!origin) return true;
    if (anyOrigin || listed.has(origin)) return true;
    if (config.allowedOrigins.length > 0) return false;
    if (origin === publicOrigin) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  };
}

/** `(origin, host) => allowed`. */
export type OriginPolicy = ReturnType<typeof createOriginPolicy>;
