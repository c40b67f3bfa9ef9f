import type { ErrorCode, WireError } from "../../../client-sdk/src/protocol.js";

/**
 * The one error family of Switchboard. Services throw it with a stable `code` from
 * PROTOCOL.md section 4; each edge maps it once (HTTP `onError`, socket acks, `connect_error`).
 */
export class SwitchboardError extends Error {
  /** Stable, documented error code. */
  readonly code: ErrorCode;
  /** With `rate_limited`: how long the caller should wait. */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SwitchboardError";
    this.code = code;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = Math.ceil(options.retryAfterMs);
  }

  /** The error as it travels in acks and HTTP bodies. */
  toWire(): WireError {
    return this.retryAfterMs === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }
}

/** HTTP status for each error code (PROTOCOL.md section 5). */
export const HTTP_STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503> = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/**
 * Turns anything thrown into a SwitchboardError. Unknown errors become `internal` with a
 * generic message, so no stack or driver detail leaks to clients; the caller logs the original.
 */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  return new SwitchboardError("internal", "Internal error; the server logged the details.", { cause: err });
}

/** The refusal of anything a non-member tries in a conversation (send, join); services and stores alike. */
export function notAMember(conversationId: string): SwitchboardError {
  return new SwitchboardError("forbidden", `You are not a member of conversation ${conversationId}.`);
}
