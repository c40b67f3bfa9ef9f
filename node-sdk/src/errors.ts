/**
 * The error codes of Switchboard (PROTOCOL.md section 4), plus `network_error` for a request
 * that never got an answer (connection refused, reset, timed out) after every retry.
 */
export type SwitchboardErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "invalid_argument"
  | "payload_too_large"
  | "rate_limited"
  | "conflict"
  | "unavailable"
  | "internal"
  | "network_error";

/**
 * What a failed call throws: the server's `{ error: { code, message } }` with the HTTP status
 * and the `X-Request-Id` to quote when asking the operator. Switch on `code`, never on `message`.
 */
export class SwitchboardApiError extends Error {
  override readonly name = "SwitchboardApiError";
  /** Stable code (PROTOCOL.md section 4), or `network_error` when no answer came. */
  readonly code: SwitchboardErrorCode;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The server's `X-Request-Id` for this request, when it answered. */
  readonly requestId?: string;
  /** The server's `details` (for example which fields failed validation), when given. */
  readonly details?: unknown;
  /** From `Retry-After` (429, 503), in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(init: { code: SwitchboardErrorCode; status: number; message: string; requestId?: string; details?: unknown; retryAfterMs?: number; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.details !== undefined) this.details = init.details;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }
}

const KNOWN_CODES = new Set<string>(["unauthorized", "forbidden", "not_found", "invalid_argument", "payload_too_large", "rate_limited", "conflict", "unavailable", "internal"]);

/** Builds the error of a non-2xx answer from its (already read) body. */
export function errorFromResponse(response: Response, body: unknown): SwitchboardApiError {
  const wire = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const code = typeof wire?.code === "string" && KNOWN_CODES.has(wire.code) ? (wire.code as SwitchboardErrorCode) : codeForStatus(response.status);
  const message = typeof wire?.message === "string" ? wire.message : `HTTP ${response.status} ${response.statusText || ""}`.trim();
  const requestId = response.headers.get("x-request-id") ?? undefined;
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  return new SwitchboardApiError({
    code,
    status: response.status,
    message,
    ...(requestId ? { requestId } : {}),
    ...(wire?.details !== undefined ? { details: wire.details } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** A code for an answer without our error body (a proxy's 502, say). */
function codeForStatus(status: number): SwitchboardErrorCode {
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "rate_limited";
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "invalid_argument";
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
