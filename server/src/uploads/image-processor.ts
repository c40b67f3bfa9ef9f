import sharp, { type Sharp } from "sharp";
import { SwitchboardError } from "../core/errors.js";

// Decoded files are not kept open in sharp's cache: temp files are deleted right after use.
sharp.cache({ files: 0 });

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_MAX_SIDE = 320;

/** Longest side of an MMS picture: phones show nothing larger, and carriers cap the bytes anyway. */
const MMS_MAX_SIDE = 1600;
/** JPEG qualities tried at each size, best first, before the picture is made smaller. */
const MMS_QUALITIES = [82, 68, 54, 40];
/** Each step down multiplies both sides by this, or less when the last try was far over the budget. */
const MMS_SCALE_STEP = 0.7;
/** Below this longest side a picture says nothing; `mmsJpeg` gives up. */
const MMS_MIN_SIDE = 80;

/**
 * Image types re-encoded on upload (metadata stripped, orientation applied, a thumbnail made),
 * and what each is stored as. HEIC/HEIF become JPEG, which every client can show.
 */
const OUTPUTS: Record<string, { format: "jpeg" | "png" | "webp" | "gif" | "avif" | "tiff"; mimeType: string; animated: boolean }> = {
  "image/jpeg": { format: "jpeg", mimeType: "image/jpeg", animated: false },
  "image/png": { format: "png", mimeType: "image/png", animated: false },
  "image/webp": { format: "webp", mimeType: "image/webp", animated: true },
  "image/gif": { format: "gif", mimeType: "image/gif", animated: true },
  "image/avif": { format: "avif", mimeType: "image/avif", animated: false },
  "image/tiff": { format: "tiff", mimeType: "image/tiff", animated: false },
  "image/heic": { format: "jpeg", mimeType: "image/jpeg", animated: false },
  "image/heif": { format: "jpeg", mimeType: "image/jpeg", animated: false },
};

/** Whether uploads of `mimeType` go through {@link processImage}. */
export function isProcessedImage(mimeType: string): boolean {
  return mimeType in OUTPUTS;
}

/** What {@link processImage} made. */
export interface ProcessedImage {
  /** The stored type (differs from the upload's for HEIC/HEIF). */
  mimeType: string;
  /** After EXIF orientation; of one frame for an animation. */
  width: number;
  height: number;
  /** Bytes written to the output file. */
  size: number;
  thumbnail: { bytes: Buffer; width: number; height: number; mimeType: "image/webp" };
}

/**
 * Re-encodes the image at `input` into `output` without any metadata (EXIF with its GPS
 * position, XMP, IPTC, comments; sharp writes none unless asked), with the EXIF orientation
 * applied to the pixels, colours converted to sRGB; animated GIF and WebP keep their frames.
 * Also makes a WebP thumbnail of the first frame, at most {@link THUMBNAIL_MAX_SIDE} px.
 *
 * Throws `invalid_argument` when the image cannot be decoded (damaged, or a codec this build of
 * libvips lacks, such as HEVC for most HEIC photos: such a file is refused rather than stored
 * with its metadata) or has more than `maxPixels` pixels (a decompression bomb).
 */
export async function processImage(input: string, output: string, mimeType: string, maxPixels: number): Promise<ProcessedImage> {
  const target = OUTPUTS[mimeType];
  if (!target) throw new Error(`processImage: ${mimeType} is not a processed image type`);
  return decoding(mimeType, maxPixels, async () => {
    const options = { limitInputPixels: maxPixels, failOn: "error" as const };
    const metadata = await sharp(input, { ...options, animated: target.animated }).metadata();
    const frames = target.animated ? (metadata.pages ?? 1) : 1;
    let pipeline = sharp(input, { ...options, animated: target.animated && frames > 1 });
    // Orientation is for still photos; an animation's frames are stored as they are.
    if (frames === 1) pipeline = pipeline.autoOrient();
    const written = await encode(pipeline, target.format).toFile(output);
    const width = frames === 1 ? written.width : (metadata.width ?? written.width);
    const height = frames === 1 ? written.height : (metadata.pageHeight ?? written.height);
    const thumbnail = await sharp(input, options)
      .autoOrient()
      .resize({ width: THUMBNAIL_MAX_SIDE, height: THUMBNAIL_MAX_SIDE, fit: "inside", withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer({ resolveWithObject: true });
    return {
      mimeType: target.mimeType,
      width,
      height,
      size: written.size,
      thumbnail: { bytes: thumbnail.data, width: thumbnail.info.width, height: thumbnail.info.height, mimeType: "image/webp" },
    };
  });
}

/**
 * A JPEG of the image at `input` of at most `maxBytes`, for MMS: the first frame, oriented, on
 * white (JPEG has no transparency), at most {@link MMS_MAX_SIDE} px; lower qualities are tried
 * first, then smaller sizes. Throws `invalid_argument` when even a tiny picture does not fit.
 */
export async function mmsJpeg(input: string, maxBytes: number, maxPixels: number): Promise<{ bytes: Buffer; width: number; height: number }> {
  return decoding("image", maxPixels, async () => {
    const options = { limitInputPixels: maxPixels, failOn: "error" as const };
    const metadata = await sharp(input, options).autoOrient().metadata();
    let side = Math.min(MMS_MAX_SIDE, Math.max(metadata.autoOrient?.width ?? metadata.width ?? 0, metadata.autoOrient?.height ?? metadata.height ?? 0));
    for (;;) {
      let smallest = Number.POSITIVE_INFINITY;
      for (const quality of MMS_QUALITIES) {
        const { data, info } = await sharp(input, options)
          .autoOrient()
          .resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
          .flatten({ background: "#ffffff" })
          .jpeg({ quality })
          .toBuffer({ resolveWithObject: true });
        if (data.length <= maxBytes) return { bytes: data, width: info.width, height: info.height };
        smallest = data.length;
      }
      if (side <= MMS_MIN_SIDE) {
        throw new SwitchboardError("invalid_argument", `The image cannot be made into a JPEG of at most ${maxBytes} bytes.`);
      }
      // Bytes grow with the area: aim straight at the budget (with a margin), by at least one step.
      const aimed = Math.sqrt(maxBytes / smallest) * 0.95;
      side = Math.max(MMS_MIN_SIDE, Math.floor(side * Math.min(MMS_SCALE_STEP, aimed)));
    }
  });
}

function encode(pipeline: Sharp, format: (typeof OUTPUTS)[string]["format"]): Sharp {
  switch (format) {
    case "jpeg":
      return pipeline.jpeg({ quality: 90 });
    case "png":
      return pipeline.png();
    case "webp":
      return pipeline.webp({ quality: 90 });
    case "gif":
      return pipeline.gif();
    case "avif":
      // Effort 2 of 9: AVIF encoding is slow, and the upload request waits for it.
      return pipeline.avif({ quality: 60, effort: 2 });
    case "tiff":
      return pipeline.tiff();
    default: {
      const exhaustive: never = format;
      return exhaustive;
    }
  }
}

/** Runs sharp work, turning its decoding failures into coded errors that say what to do. */
async function decoding<T>(what: string, maxPixels: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      throw new SwitchboardError("invalid_argument", `The image has more than ${maxPixels} pixels, the most accepted; send a smaller picture.`, { cause: err });
    }
    if (/^image\/hei[cf]$/.test(what)) {
      throw new SwitchboardError(
        "invalid_argument",
        `This ${what} picture cannot be decoded by the server's image library, so its metadata (EXIF, GPS position) cannot be removed; convert it to JPEG and upload that.`,
        { cause: err },
      );
    }
    throw new SwitchboardError("invalid_argument", `The file looks like ${what} but cannot be decoded (${message.slice(0, 120)}); it may be damaged.`, { cause: err });
  }
}
