/**
 * What went wrong with a `fetch` that threw: undici hides the useful part (ECONNREFUSED,
 * ENOTFOUND, a TLS error) in `cause`, behind a bare "fetch failed".
 */
export function describeFetchFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
