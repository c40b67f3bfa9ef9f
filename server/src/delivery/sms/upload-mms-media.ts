import type { MmsMedia } from "./mms-media.js";

/**
 * What {@link UploadMmsMedia} uses of the upload service (`uploads/upload-service.ts`), by shape.
 */
export interface UploadFiles {
  /** Stores bytes as an upload (type detected, allow-list, EXIF stripped, thumbnail). */
  createFromBytes(input: { owner: { kind: "user"; userId: string }; name?: string; bytes: Uint8Array; claimedType?: string }): Promise<{ uploadId: string }>;
  /** An absolute signed URL of a variant, valid `ttlSeconds`; `not_found` for a gone upload or variant. */
  signedUrl(uploadId: string, variant: "original" | "thumbnail" | "mms", ttlSeconds: number): Promise<string>;
  /** Makes sure a JPEG variant within `maxBytes` exists; `invalid_argument` for an upload that is not a picture. */
  mmsVariant(uploadId: string, maxBytes: number): Promise<number>;
}

/** Options of {@link UploadMmsMedia}, from `Config.uploads`. */
export interface UploadMmsMediaOptions {
  /** `MMS_MAX_BYTES` (default 750000): what carriers accept of one MMS picture. */
  maxBytes: number;
  /** `MMS_MEDIA_URL_TTL_SECONDS` (default 14400): the provider fetches the URL when it sends, and again on a retry. */
  urlTtlSeconds: number;
}

/** The {@link MmsMedia} port over the upload service: files of MMS are uploads like any other. */
export class UploadMmsMedia implements MmsMedia {
  constructor(
    private readonly uploads: UploadFiles,
    private readonly options: UploadMmsMediaOptions,
  ) {}

  async storeInbound(input: { ownerId: string; name: string; bytes: Uint8Array; claimedType?: string }): Promise<{ uploadId: string }> {
    const upload = await this.uploads.createFromBytes({
      owner: { kind: "user", userId: input.ownerId },
      name: input.name,
      bytes: input.bytes,
      ...(input.claimedType ? { claimedType: input.claimedType } : {}),
    });
    return { uploadId: upload.uploadId };
  }

  async mmsUrl(uploadId: string): Promise<string> {
    // Made once and kept: a retried delivery, or another recipient, reuses the same variant.
    await this.uploads.mmsVariant(uploadId, this.options.maxBytes);
    return this.uploads.signedUrl(uploadId, "mms", this.options.urlTtlSeconds);
  }

  linkUrl(uploadId: string): Promise<string> {
    return this.uploads.signedUrl(uploadId, "original", this.options.urlTtlSeconds);
  }
}
