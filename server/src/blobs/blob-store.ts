import type { Readable } from "node:stream";
import { SwitchboardError } from "../core/errors.js";

/**
 * Where the bytes of uploaded files live: an object store of keys to bytes with a content type.
 * Drivers side by side: `fs-blob-store.ts` (under `DATA_DIR/blobs`, the default) and
 * `s3-blob-store.ts` (any S3-compatible service). The composition root picks one.
 *
 * Contract (shown for every driver by `test/blob-store-contract.ts`):
 * - `put` is atomic: a reader sees the whole previous object or the whole new one, never a part.
 * - `delete` is idempotent: deleting a missing key succeeds, so nodes may sweep the same key.
 * - Keys are checked by {@link assertBlobKey}: no key can name anything outside the store.
 * Errors are thrown as `SwitchboardError` (`invalid_argument` for a bad key or range, `unavailable`
 * when the backing storage cannot be reached or is full).
 */
export interface BlobStore {
  /** Stores `source` under `key`, replacing what was there. Resolves once the object is durable. */
  put(key: string, source: BlobSource, contentType: string): Promise<{ size: number }>;
  /**
   * Opens the object for reading, the whole of it or `range`; null when there is no such key.
   * The caller must consume or destroy the returned stream.
   */
  get(key: string, range?: ByteRange): Promise<BlobObject | null>;
  /** Removes the object; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Whether an object is stored under `key`. */
  exists(key: string): Promise<boolean>;
  /** Every key that starts with `prefix`, in no particular order (for housekeeping and tests). */
  list(prefix: string): Promise<string[]>;
}

/** What {@link BlobStore.put} stores: a file's contents (streamed, never read whole) or bytes in memory. */
export type BlobSource = { kind: "file"; path: string } | { kind: "bytes"; bytes: Uint8Array };

/** Inclusive byte positions, as in HTTP `Range: bytes=start-end`; `end` must be below the object's size. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An object being read. */
export interface BlobObject {
  /** The bytes (of the range, when one was asked for). */
  stream: Readable;
  /** Bytes in `stream`. */
  size: number;
  /** Size of the whole object. */
  totalSize: number;
  /** The content type it was stored with. */
  contentType: string;
}

/** Longest key accepted (S3's limit is 1024 bytes, prefix included). */
export const BLOB_KEY_MAX_LENGTH = 512;

/** Segments of letters, digits, `.`, `_` and `-`, separated by single slashes. */
const KEY_PATTERN = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/**
 * Refuses keys that could escape the store or mean different things to different drivers: empty
 * or overlong keys, leading or doubled slashes, `.` and `..` segments, backslashes, control and
 * non-ASCII characters. Every driver calls it before touching storage.
 */
export function assertBlobKey(key: string): void {
  const ok = key.length > 0 && key.length <= BLOB_KEY_MAX_LENGTH && KEY_PATTERN.test(key) && key.split("/").every((s) => s !== "." && s !== "..");
  if (!ok) {
    throw new SwitchboardError(
      "invalid_argument",
      `Blob key ${JSON.stringify(key.slice(0, 80))} is not allowed: use 1-${BLOB_KEY_MAX_LENGTH} characters of letters, digits, . _ - in slash-separated segments, none of them . or ..`,
    );
  }
}

/** Refuses a range that does not lie within an object of `totalSize` bytes. */
export function assertRange(range: ByteRange, totalSize: number): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start || range.end >= totalSize) {
    throw new SwitchboardError("invalid_argument", `Byte range ${range.start}-${range.end} does not lie within the object's ${totalSize} bytes.`);
  }
}
