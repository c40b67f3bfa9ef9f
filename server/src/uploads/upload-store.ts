/**
 * Persistence of upload records: what was uploaded (the bytes live in a `BlobStore`), by whom,
 * which message holds it, and when it is to be deleted. Drivers: `sqlite-upload-store.ts` (tables
 * in the main SQLite file) and `mongo-upload-store.ts`.
 *
 * Life of a record: created unattached with `expiresAt`; {@link UploadStore.attach} gives it to
 * one message (it then no longer expires); {@link UploadStore.release} schedules its deletion
 * once that message lets go of it (`deleteAfter`). The sweeper deletes the blobs of records that
 * are due ({@link UploadStore.listDue}), then the record ({@link UploadStore.remove}).
 *
 * Contract (shown for every driver by `test/upload-store-contract.ts`):
 * - `attach` is atomic: of concurrent attaches of one upload to different messages, across
 *   processes and nodes, exactly one wins; the others get `held`. Attaching it again to the same
 *   message succeeds (a retried send).
 * - An unattached record whose `expiresAt` has passed can no longer be attached, whether or not
 *   the sweeper removed it yet; nor can a released one.
 * - `remove` deletes a record only while it is still due, so a sweep on one node never deletes
 *   what another node just attached; removing a removed record is a no-op.
 * - `linkKey` stores its candidate only when no key is stored yet: every node ends up with the
 *   first writer's key.
 * Errors are thrown as `SwitchboardError` (`conflict` for a taken id, `unavailable`).
 */
export interface UploadStore {
  /** Creates tables or indexes; idempotent. */
  init(): Promise<void>;
  /** Stores a new record; throws `conflict` when the id is taken. */
  create(record: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | null>;
  /** Gives the upload to a message, if it is still free (see the contract). */
  attach(id: string, holder: UploadHolder, now: Date): Promise<AttachOutcome>;
  /**
   * Schedules the deletion of an upload `messageId` holds: sets `deleteAfter` unless already
   * set. Returns false when that message does not hold it.
   */
  release(id: string, messageId: string, deleteAfter: Date): Promise<boolean>;
  /** Records the MMS variant's blob and its metadata; returns the updated record, or null when gone. */
  setMmsVariant(id: string, blobKey: string, variant: MmsVariant): Promise<UploadRecord | null>;
  /** Up to `limit` records due for deletion at `now`: unattached past `expiresAt`, or released past `deleteAfter`. */
  listDue(now: Date, limit: number): Promise<UploadRecord[]>;
  /** Deletes the record if it is still due at `now` (see the contract); true when this call deleted it. */
  remove(id: string, now: Date): Promise<boolean>;
  /** The key download links are signed with: the stored one, or `candidate` once stored. */
  linkKey(candidate: string): Promise<string>;
}

/** Who uploaded a file: a user (with a user token, or by a backend on their behalf) or a backend's API key. */
export type UploadOwner = { kind: "user"; userId: string } | { kind: "backend"; keyId: string };

/** The stored forms of an upload. */
export type UploadVariant = "original" | "thumbnail" | "mms";

/** The message holding an upload. */
export interface UploadHolder {
  conversationId: string;
  messageId: string;
}

/** Result of {@link UploadStore.attach}. */
export type AttachOutcome =
  /** The upload is this message's now (or already was). */
  | { kind: "attached" }
  /** Another message holds it. */
  | { kind: "held"; holder: UploadHolder }
  /** It cannot be attached: no such record, past its unattached expiry, or released by its message. */
  | { kind: "gone"; reason: "missing" | "expired" | "released" };

/** The preview of an uploaded image. */
export interface UploadThumbnail {
  width: number;
  height: number;
  mimeType: string;
  size: number;
}

/** The JPEG made for outbound MMS (see `UploadService.mmsVariant`). */
export interface MmsVariant {
  mimeType: "image/jpeg";
  size: number;
  width: number;
  height: number;
  /** The byte budget it was made for; a later request with a budget at least its size reuses it. */
  maxBytes: number;
}

/** One uploaded file. Times are ISO-8601. */
export interface UploadRecord {
  /** `up_` and 32 hex digits. */
  id: string;
  owner: UploadOwner;
  /** The file name, sanitised (at most 256 characters). */
  name: string;
  /** Detected from the bytes, never the client's claim. */
  mimeType: string;
  /** Bytes of the stored original (for images: after re-encoding without metadata). */
  size: number;
  /** Hex SHA-256 of the stored original. */
  sha256: string;
  /** Images: pixel size, after EXIF orientation. */
  width?: number;
  height?: number;
  thumbnail?: UploadThumbnail;
  /** Blob keys of each stored variant. */
  blobs: { original: string; thumbnail?: string; mms?: string };
  mms?: MmsVariant;
  createdAt: string;
  /** While no message holds it: when it is deleted. Absent once attached. */
  expiresAt?: string;
  /** The message holding it, once attached. */
  attachedTo?: UploadHolder;
  /** Once its message let go of it (deleted, or an edit removed it): when it is deleted. */
  deleteAfter?: string;
}

/**
 * Why a conditional attach of `current` to `holder` changed nothing, for drivers whose attach is
 * "update if free" followed by a read: already this message's (a retry), released, held by
 * another message, or past its unattached expiry.
 */
export function explainAttachRefusal(current: UploadRecord | null, holder: UploadHolder): AttachOutcome {
  if (!current) return { kind: "gone", reason: "missing" };
  if (current.deleteAfter !== undefined) return { kind: "gone", reason: "released" };
  if (current.attachedTo) return current.attachedTo.messageId === holder.messageId ? { kind: "attached" } : { kind: "held", holder: current.attachedTo };
  return { kind: "gone", reason: "expired" };
}

/** `user:<id>` or `backend:<apiKeyId>`: the owner as one string, for logs and rate limit keys. */
export function ownerKey(owner: UploadOwner): string {
  switch (owner.kind) {
    case "user":
      return `user:${owner.userId}`;
    case "backend":
      return `backend:${owner.keyId}`;
    default: {
      const exhaustive: never = owner;
      return exhaustive;
    }
  }
}
