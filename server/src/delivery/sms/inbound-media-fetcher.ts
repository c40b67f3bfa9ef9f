import type { DestinationPolicy } from "../../webhooks/destination-policy.js";

/** Options of {@link InboundMediaFetcher}. */
export interface InboundMediaFetcherOptions {
  /**
   * The SSRF guard, asked for the first URL and again for every redirect hop: the URL comes from
   * a phone user's message, and the host it names, or redirects to, may be anywhere. In the app
   * it refuses private, loopback and link-local addresses unless `WEBHOOK_ALLOW_PRIVATE` is set;
   * tests pass one that allows their own local server only.
   */
  destinations: Pick<DestinationPolicy, "check">;
  /** Largest file accepted (`MMS_INBOUND_MAX_BYTES`); a bigger one is abandoned as soon as it is known. */
  maxBytes: number;
  /** Time for one file, redirects and body included (`SMS_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Redirects followed at most (default 5: Twilio's media URL redirects once, to its CDN). */
  maxRedirects?: number;
  /**
   * HTTP Basic credentials and the one origin they are sent to: Twilio's API
   * (`TWILIO_API_BASE_URL`, with the account SID and auth token), which may require them for
   * media. Never sent to another origin, such as the CDN the API redirects to.
   */
  credentials?: { origin: string; username: string; password: string };
  /** The HTTP client. Default the global `fetch` (undici). */
  fetch?: typeof fetch;
}

/** What fetching one media URL came to. */
export type MediaFetchResult =
  | { kind: "fetched"; bytes: Uint8Array; contentType?: string }
  /** Not fetched, or abandoned, on purpose: a private address, a scheme other than http(s), too big. */
  | { kind: "refused"; reason: string }
  /** The source failed: network error, timeout, an HTTP error, a redirect loop. */
  | { kind: "failed"; reason: string };

/** Statuses whose `Location` is followed. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Sent as `User-Agent`, so the media host's logs tell Switchboard's traffic apart. */
const USER_AGENT = "Switchboard-MMS/1";

/**
 * Downloads the files of inbound MMS from the provider. Redirects are followed by hand, at most
 * `maxRedirects`, so each hop is checked by the SSRF guard before it is requested and the
 * credentials go to the provider's own origin only; an https URL that redirects to http is
 * refused. The body is read as a stream and abandoned once it passes `maxBytes` (a
 * `Content-Length` above it is refused before any byte is read). Never throws.
 *
 * Known gap, as for webhooks: `fetch` resolves the host again when it connects, so a resolver
 * that answers differently within that instant (DNS rebinding) is not caught by the check alone.
 */
export class InboundMediaFetcher {
  private readonly fetchImpl: typeof fetch;
  private readonly maxRedirects: number;
  /** `Authorization` for the provider's origin, and that origin. */
  private readonly credentials?: { origin: string; authorization: string };

  constructor(private readonly options: InboundMediaFetcherOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.maxRedirects = options.maxRedirects ?? 5;
    const c = options.credentials;
    if (c) this.credentials = { origin: new URL(c.origin).origin, authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` };
  }

  /** Fetches `url`, following redirects; see the class comment for the rules. */
  async fetch(url: string): Promise<MediaFetchResult> {
    const { maxBytes, timeoutMs } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    let current: URL;
    try {
      current = new URL(url);
    } catch {
      return { kind: "refused", reason: `${JSON.stringify(url.slice(0, 200))} is not an absolute URL` };
    }
    for (let hop = 0; ; hop++) {
      const refusal = await this.refusal(current);
      if (refusal) return refusal;
      const headers: Record<string, string> = { "User-Agent": USER_AGENT, Accept: "*/*" };
      if (this.credentials && current.origin === this.credentials.origin) headers.Authorization = this.credentials.authorization;
      let response: Response;
      try {
        response = await this.fetchImpl(current, { headers, redirect: "manual", signal });
      } catch (err) {
        return { kind: "failed", reason: signal.aborted ? `no answer within ${timeoutMs} ms (SMS_TIMEOUT_MS)` : `could not reach ${current.host}: ${describe(err)}` };
      }
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        if (!location) return { kind: "failed", reason: `${current.host} answered ${response.status} without a Location` };
        if (hop >= this.maxRedirects) return { kind: "failed", reason: `more than ${this.maxRedirects} redirects` };
        const next = new URL(location, current);
        if (current.protocol === "https:" && next.protocol === "http:") return { kind: "refused", reason: `${current.host} redirected from https to http (${next.host})` };
        current = next;
        continue;
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: "failed", reason: `${current.host} answered ${response.status}` };
      }
      const declared = Number(response.headers.get("content-length") ?? "");
      if (Number.isFinite(declared) && declared > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: "refused", reason: `the file is ${declared} bytes, more than MMS_INBOUND_MAX_BYTES (${maxBytes})` };
      }
      const contentType = response.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
      try {
        const bytes = await readCapped(response, maxBytes);
        if (!bytes) return { kind: "refused", reason: `the file is larger than MMS_INBOUND_MAX_BYTES (${maxBytes} bytes)` };
        return { kind: "fetched", bytes, ...(contentType ? { contentType } : {}) };
      } catch (err) {
        return { kind: "failed", reason: signal.aborted ? `the file did not arrive within ${timeoutMs} ms (SMS_TIMEOUT_MS)` : `reading from ${current.host} failed: ${describe(err)}` };
      }
    }
  }

  /** Why `url` must not be requested, or null. */
  private async refusal(url: URL): Promise<MediaFetchResult | null> {
    if (url.protocol !== "https:" && url.protocol !== "http:") return { kind: "refused", reason: `${url.protocol} URLs are not fetched` };
    // Credentials only ever come from our configuration, never from a URL someone sent us.
    if (url.username || url.password) return { kind: "refused", reason: "URLs with credentials are not fetched" };
    const verdict = await this.options.destinations.check(url.href);
    switch (verdict.verdict) {
      case "allowed":
        return null;
      case "refused":
        return { kind: "refused", reason: `destination refused: ${verdict.reason} (WEBHOOK_ALLOW_PRIVATE allows it)` };
      case "unresolved":
        return { kind: "failed", reason: verdict.reason };
      default: {
        const exhaustive: never = verdict;
        return exhaustive;
      }
    }
  }
}

/** The whole body, or null as soon as it passes `maxBytes` (the rest is never read). */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** The most specific reason undici gives (its `cause` names ECONNREFUSED and the like). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause && "code" in cause ? String((cause as { code: unknown }).code) : undefined;
  return code ? `${err.message} (${code})` : cause ? `${err.message}: ${cause.message}` : err.message;
}
