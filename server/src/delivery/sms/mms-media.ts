import type { Attachment } from "../../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../../core/errors.js";

/**
 * MMS both ways, as the SMS bridge sees it: what it needs of uploaded files (the port
 * {@link MmsMedia}, implemented over the upload service by the composition root) and the one rule
 * that decides how a message's attachments travel to a phone ({@link outboundMedia}).
 */

/** Twilio's limit of `MediaUrl`s on one message; pictures beyond it go as links. */
export const MMS_MAX_MEDIA = 10;

/**
 * The uploads the SMS bridge reads and writes. The driver over `UploadService` applies the
 * configured limits itself (`MMS_MAX_BYTES`, `MMS_MEDIA_URL_TTL_SECONDS`), so the bridge never
 * sees them. Errors are `SwitchboardError`s: `not_found` for an upload that is gone,
 * `invalid_argument` for bytes the upload service refuses (a type not allowed), `unavailable`
 * when the blob store cannot be reached.
 */
export interface MmsMedia {
  /**
   * Stores a file a phone user sent as an upload owned by `ownerId` (its type detected from the
   * bytes, `claimedType` only a hint; EXIF stripped, thumbnail made, like any upload), not yet
   * attached to a message.
   */
  storeInbound(input: { ownerId: string; name: string; bytes: Uint8Array; claimedType?: string }): Promise<{ uploadId: string }>;
  /**
   * An absolute signed URL on `PUBLIC_URL` of the upload's MMS variant: a JPEG within
   * `MMS_MAX_BYTES` (made on first use), valid `MMS_MEDIA_URL_TTL_SECONDS`. The provider fetches it
   * when it sends the MMS, and again for a retry, so it must outlive the delivery's retries.
   */
  mmsUrl(uploadId: string): Promise<string>;
  /** An absolute signed URL of the original file, with the same lifetime, sent as a link in the text. */
  linkUrl(uploadId: string): Promise<string>;
}

/** A file that goes as a link in the text of an SMS. */
export interface MediaLink {
  /** The file's name, when it has one. */
  name?: string;
  url: string;
}

/** How a message's attachments travel to a phone. */
export interface OutboundMedia {
  /** Signed URLs of its uploaded pictures, sent as MMS media (`MediaUrl`), at most {@link MMS_MAX_MEDIA}. */
  mediaUrls: string[];
  /** Everything else, as links in the text: other files, plain URL attachments, pictures past the limit. */
  links: MediaLink[];
  /** Attachments that could not be sent at all (their upload is gone). */
  missing: number;
}

/** Told why an attachment did not go the way the rule wanted (logged by the caller). */
export type MediaProblem = (attachment: Attachment, what: "sent_as_link" | "missing", err: unknown) => void;

/**
 * The rule for a message's attachments over SMS, in their order: an uploaded picture (an upload
 * whose detected type is `image/*`) goes as MMS media, recompressed to fit the carrier's limit;
 * any other upload (PDF, audio, video…) as a link to its original, and a plain URL attachment as a
 * link to that URL (Switchboard does not host it, so it cannot vouch for its size or type).
 *
 * A picture whose MMS variant cannot be made (a format the image library cannot read) still
 * reaches the phone as a link; an upload that is gone is counted in `missing`. An `unavailable`
 * error (the blob store is down) is thrown: the delivery is then retried, not sent without them.
 *
 * @param media the uploads port; without it (uploads not enabled) an upload counts as missing.
 * @param onProblem told about each attachment that did not go as the rule wanted.
 */
export async function outboundMedia(attachments: readonly Attachment[], media: MmsMedia | undefined, onProblem: MediaProblem = () => undefined): Promise<OutboundMedia> {
  type Outcome = { kind: "media"; url: string } | { kind: "link"; link: MediaLink } | { kind: "missing" };
  let picturesPlanned = 0;
  const planned = attachments.map((a) => {
    if (!a.uploadId) return { attachment: a, as: "link" as const };
    const picture = isPicture(a) && picturesPlanned < MMS_MAX_MEDIA;
    if (picture) picturesPlanned += 1;
    return { attachment: a, as: picture ? ("media" as const) : ("upload_link" as const) };
  });
  const name = (a: Attachment) => (a.name ? { name: a.name } : {});
  // In parallel: each picture may be recompressed, which the image library does off the event loop.
  const outcomes = await Promise.all(
    planned.map(async ({ attachment: a, as }): Promise<Outcome> => {
      if (as === "link") return { kind: "link", link: { ...name(a), url: a.url } };
      const uploadId = a.uploadId!;
      if (!media) {
        onProblem(a, "missing", new SwitchboardError("unavailable", "uploads are not enabled on this server"));
        return { kind: "missing" };
      }
      if (as === "media") {
        try {
          return { kind: "media", url: await media.mmsUrl(uploadId) };
        } catch (err) {
          if (isCode(err, "unavailable")) throw err;
          if (isCode(err, "not_found")) {
            onProblem(a, "missing", err);
            return { kind: "missing" };
          }
          onProblem(a, "sent_as_link", err);
        }
      }
      try {
        return { kind: "link", link: { ...name(a), url: await media.linkUrl(uploadId) } };
      } catch (err) {
        if (!isCode(err, "not_found")) throw err;
        onProblem(a, "missing", err);
        return { kind: "missing" };
      }
    }),
  );
  const result: OutboundMedia = { mediaUrls: [], links: [], missing: 0 };
  for (const outcome of outcomes) {
    switch (outcome.kind) {
      case "media":
        result.mediaUrls.push(outcome.url);
        break;
      case "link":
        result.links.push(outcome.link);
        break;
      case "missing":
        result.missing += 1;
        break;
      default: {
        const exhaustive: never = outcome;
        return exhaustive;
      }
    }
  }
  return result;
}

/** An uploaded picture: its type, detected from the bytes by the upload service, is an image. */
function isPicture(attachment: Attachment): boolean {
  return attachment.mimeType?.toLowerCase().startsWith("image/") === true;
}

function isCode(err: unknown, code: SwitchboardError["code"]): boolean {
  return err instanceof SwitchboardError && err.code === code;
}
