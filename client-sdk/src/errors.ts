import { isErrorCode, type ErrorCode, type WireError } from "./protocol.js";

/**
 * The one error type the SDK rejects with. `code` is a stable protocol code (PROTOCOL.md
 * section 4); a client-side timeout or a lost connection is reported as `unavailable`.
 */
export class SwitchboardClientError extends Error {
  /** A stable code from `ERROR_CODES`; switch on it, never on `message`. */
  readonly code: ErrorCode;
  /** With `rate_limited`: how long to wait before trying again, in milliseconds. */
  readonly retryAfterMs?: number;

  /**
   * @param code a stable protocol error code
   * @param message a human-readable explanation, for logs
   * @param retryAfterMs with `rate_limited`, the server's hint in milliseconds
   */
  constructor(code: ErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "SwitchboardClientError";
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }

  /** Builds the error carried by a failed acknowledgement or a refused handshake; validates it first. */
  static fromWire(error: unknown): SwitchboardClientError {
    const wire = (typeof error === "object" && error !== null ? error : {}) as Partial<Record<keyof WireError, unknown>>;
    const code = isErrorCode(wire.code) ? wire.code : "internal";
    const message = typeof wire.message === "string" ? wire.message : "the server reported an error";
    const retryAfterMs =
      typeof wire.retryAfterMs === "number" && Number.isFinite(wire.retryAfterMs) && wire.retryAfterMs >= 0
        ? wire.retryAfterMs
        : undefined;
    return new SwitchboardClientError(code, message, retryAfterMs);
  }

  /**
   * Normalizes anything thrown into a {@link SwitchboardClientError}. Errors that did not come
   * from the server (ack timeouts, "socket has been disconnected", network failures) become
   * `unavailable`, because the right reaction to all of them is to retry later.
   */
  static from(err: unknown): SwitchboardClientError {
    if (err instanceof SwitchboardClientError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new SwitchboardClientError("unavailable", message);
  }
}

/**
 * Codes that will fail again if the same request is retried unchanged; a send that gets one
 * is rejected instead of retried.
 */
export function isPermanentErrorCode(code: ErrorCode): boolean {
  switch (code) {
    case "unauthorized":
    case "forbidden":
    case "not_found":
    case "invalid_argument":
    case "payload_too_large":
    case "conflict":
      return true;
    case "rate_limited":
    case "unavailable":
    case "internal":
      return false;
  }
}
