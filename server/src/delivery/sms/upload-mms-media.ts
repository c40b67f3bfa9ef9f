import type { UploadService } from "../../uploads/upload-service.js";
import type { MmsMedia } from "./mms-media.js";

/** What {@link UploadMmsMedia} uses of the upload service. */
export type UploadFiles = Pick<UploadService, "createFromBytes" | "signedUrl" | "mmsVariant">;

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
