import { fileTypeFromFile } from "file-type";

/**
 * What an upload is, decided from its bytes (never from its name or the client's claim), and how
 * each type may be served back.
 */

/** What the receiving pass learnt of the bytes while streaming them to disk. */
export interface ByteFacts {
  /** The first bytes (up to {@link HEAD_BYTES}), for sniffing text formats. */
  head: Buffer;
  /** Valid UTF-8 throughout, without a NUL byte. */
  utf8Text: boolean;
}

/** How much of the start of a file is kept for sniffing. */
export const HEAD_BYTES = 4096;

/** file-type's names for types the allow-list knows under their common name. */
const ALIASES: Record<string, string> = {
  "audio/x-m4a": "audio/mp4",
  "video/x-m4v": "video/mp4",
  "audio/x-wav": "audio/wav",
};

/**
 * The media type of the file at `file`: by magic number (`file-type`); failing that, text that
 * is valid UTF-8 without NULs is `text/plain`, anything else `application/octet-stream`. SVG
 * (XML text, which file-type calls `application/xml` or does not recognise) is told apart so the
 * allow-list can refuse it. HTML is not: it is plain text to us, and served as `text/plain`.
 */
export async function detectMediaType(file: string, facts: ByteFacts): Promise<string> {
  const detected = await fileTypeFromFile(file);
  if (detected) {
    if (detected.mime === "application/xml" && looksLikeSvg(facts.head)) return "image/svg+xml";
    return ALIASES[detected.mime] ?? detected.mime;
  }
  if (!facts.utf8Text) return "application/octet-stream";
  return looksLikeSvg(facts.head) ? "image/svg+xml" : "text/plain";
}

/** An XML document whose root element is `<svg`: after a BOM, whitespace, the XML declaration, comments, a doctype. */
function looksLikeSvg(head: Buffer): boolean {
  const text = head.toString("utf8").replace(/^\uFEFF/, "");
  const rest = text.replace(/^(?:\s+|<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->|<!doctype[^>]*>)*/i, "");
  return /^<svg[\s>/]/i.test(rest);
}

/** Whether `mimeType` is on the allow-list (`UPLOAD_ALLOWED_TYPES`; `image/*` style wildcards). */
export function isAllowedType(mimeType: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => entry === mimeType || (entry.endsWith("/*") && mimeType.startsWith(entry.slice(0, -1))));
}

/**
 * The `Content-Type` a stored file is served with: its own type only when browsers cannot run
 * it (raster images, PDF, audio, video, plain text in UTF-8); anything else, SVG and HTML-capable
 * types included, as `application/octet-stream`, which a browser only ever downloads.
 */
export function servedContentType(mimeType: string): string {
  if (mimeType === "text/plain") return "text/plain; charset=utf-8";
  if (mimeType.startsWith("image/") && !mimeType.includes("svg") && !mimeType.includes("xml")) return mimeType;
  if (mimeType === "application/pdf" || mimeType.startsWith("audio/") || mimeType.startsWith("video/")) return mimeType;
  return "application/octet-stream";
}

/** `inline` for what is shown as a picture, `attachment` (download) for everything else. */
export function dispositionOf(mimeType: string): "inline" | "attachment" {
  return servedContentType(mimeType).startsWith("image/") ? "inline" : "attachment";
}

/** `Content-Disposition` with an ASCII fallback name and the exact one in RFC 5987 / 6266 `filename*`. */
export function contentDisposition(type: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_") || "download";
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** Longest stored file name, in characters. */
export const NAME_MAX_LENGTH = 256;

/**
 * A file name safe to store and show: the last path segment only, no control or bidirectional
 * override characters (which can disguise `evil‮gpj.exe` as `evilexe.jpg`), no leading dots,
 * spaces collapsed, NFC, at most {@link NAME_MAX_LENGTH} characters with the extension kept.
 * `fallback` when nothing is left.
 */
export function sanitizeFileName(raw: string | undefined, fallback: string): string {
  let name = (raw ?? "").normalize("NFC");
  name = name.split(/[/\\]/).pop() ?? "";
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "");
  name = name.replace(/\s+/g, " ").trim().replace(/^[.\s]+/, "");
  if (name.length > NAME_MAX_LENGTH) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    name = name.slice(0, NAME_MAX_LENGTH - ext.length) + ext;
  }
  return name || fallback;
}

/** `photo.heic` → `photo.jpg`: the name of a file whose type changed when it was re-encoded. */
export function withExtension(name: string, extension: string): string {
  const dot = name.lastIndexOf(".");
  return `${dot > 0 ? name.slice(0, dot) : name}.${extension}`;
}

/** A usable extension for a type, for names made up by the server. */
export function extensionFor(mimeType: string): string {
  const known: Record<string, string> = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "application/zip": "zip",
  };
  return known[mimeType] ?? "bin";
}
