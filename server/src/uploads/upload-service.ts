import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Attachment, AttachmentInput, Message } from "../../../client-sdk/src/protocol.js";
import type { BlobObject, BlobStore, ByteRange } from "../blobs/blob-store.js";
import type { Actor } from "../core/actor.js";
import { SwitchboardError } from "../core/errors.js";
import type { AttachmentResolver } from "../core/message-service.js";
import { isProcessedImage, mmsJpeg, processImage } from "./image-processor.js";
import { contentPath, type UploadLinks } from "./upload-links.js";
import {
  detectMediaType,
  extensionFor,
  HEAD_BYTES,
  isAllowedType,
  sanitizeFileName,
  servedContentType,
  withExtension,
  type ByteFacts,
} from "./upload-media-types.js";
import type { UploadHolder, UploadOwner, UploadRecord, UploadStore, UploadVariant } from "./upload-store.js";

/** Options of {@link UploadService}. */
export interface UploadServiceOptions {
  store: UploadStore;
  blobs: BlobStore;
  links: UploadLinks;
  /** Whether `userId` is a member of the conversation (for who may see an attached upload). */
  isMember: (conversationId: string, userId: string) => Promise<boolean>;
  /** Where uploads are received before they are checked (`DATA_DIR/tmp/uploads` in the app); created when missing. */
  tempDir: string;
  /** Largest upload in bytes (`UPLOAD_MAX_BYTES`, default 10 MiB). */
  maxBytes: number;
  /** Types accepted, as detected (`UPLOAD_ALLOWED_TYPES`). */
  allowedTypes: readonly string[];
  /** Seconds an upload no message holds is kept (`UPLOAD_UNATTACHED_TTL_SECONDS`, default 86400). */
  unattachedTtlSeconds: number;
  /** Seconds a released upload is kept (`UPLOAD_DELETED_RETENTION_SECONDS`, default 86400). */
  deletedRetentionSeconds: number;
  /** Most pixels of an image accepted, against decompression bombs (`UPLOAD_MAX_IMAGE_PIXELS`, default 50 million). */
  maxImagePixels: number;
  /** Told about failures that cannot reach a caller (bookkeeping after a message was stored); default: none. */
  onError?: (err: unknown, task: string, context: Record<string, unknown>) => void;
}

/** Input of {@link UploadService.create}. */
export interface CreateUploadInput {
  owner: UploadOwner;
  /** The file name the client gave (sanitised here); absent: one is made from the type. */
  name?: string;
  /** The bytes, streamed (an HTTP request body): never held whole in memory. */
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The size the client announced (`Content-Length`), if any: more than the limit is refused before reading. */
  declaredSize?: number;
  /** The type the client (or a provider) claimed; only quoted when the upload is refused, never trusted. */
  claimedType?: string;
}

/** Input of {@link UploadService.createFromBytes}. */
export interface CreateUploadFromBytesInput {
  owner: UploadOwner;
  name?: string;
  bytes: Uint8Array;
  claimedType?: string;
}

/**
 * An upload as the API shows it: an `Attachment` (what a message would carry, with fresh signed
 * links) plus the upload's own facts.
 */
export interface UploadView extends Attachment {
  uploadId: string;
  url: string;
  name: string;
  mimeType: string;
  size: number;
  urlExpiresAt: string;
  /** Hex SHA-256 of the stored bytes (what a download returns). */
  sha256: string;
  createdAt: string;
  /** When the upload is deleted if no message holds it by then; absent once attached. */
  expiresAt?: string;
  /** The message holding it, once attached. */
  attachedTo?: UploadHolder;
}

/** One stored variant, ready to be served. */
export interface UploadContent {
  /** The name to download it as. */
  name: string;
  /** The stored type (served through `servedContentType`). */
  mimeType: string;
  /** Bytes of the variant. */
  size: number;
  /** Opens the variant, or the byte range of it; throws `not_found` when its bytes are gone. */
  open(range?: ByteRange): Promise<BlobObject>;
}

/** Temp files older than this are left over from a crash and removed by the sweep. */
const STALE_TEMP_MS = 3_600_000;

/**
 * Uploaded files: receiving and checking them, their records and blobs, who may attach and see
 * them, signed links, the MMS variant and the sweep of what nobody holds any more. It is the
 * {@link AttachmentResolver} of the message service. Transport-free: the HTTP routes and the SMS
 * bridge call it.
 */
export class UploadService implements AttachmentResolver {
  private readonly store: UploadStore;
  private readonly blobs: BlobStore;
  private readonly links: UploadLinks;

  constructor(private readonly options: UploadServiceOptions) {
    this.store = options.store;
    this.blobs = options.blobs;
    this.links = options.links;
    fs.mkdirSync(options.tempDir, { recursive: true });
  }

  /**
   * Receives a file: streams it to a temp file (refusing it with `payload_too_large` past
   * `maxBytes`), detects its type from the bytes and checks it against the allow-list
   * (`invalid_argument` naming both), re-encodes images without metadata and makes their
   * thumbnail, then stores record and blobs. A refused upload leaves nothing behind.
   */
  async create(input: CreateUploadInput): Promise<UploadView> {
    const { maxBytes } = this.options;
    if (input.declaredSize !== undefined && input.declaredSize > maxBytes) throw tooLarge(maxBytes, input.declaredSize);
    const received = this.tempFile();
    const processed = this.tempFile();
    try {
      const facts = await receive(input.source, received, maxBytes);
      if (facts.size === 0) throw new SwitchboardError("invalid_argument", "The file is empty; send its bytes as the request body.");
      const detected = await detectMediaType(received, facts);
      if (!isAllowedType(detected, this.options.allowedTypes)) throw this.refusedType(detected, input.claimedType);

      const id = newUploadId();
      let name = sanitizeFileName(input.name, `upload.${extensionFor(detected)}`);
      let stored = { file: received, mimeType: detected, size: facts.size, sha256: facts.sha256 };
      let image: Awaited<ReturnType<typeof processImage>> | undefined;
      if (isProcessedImage(detected)) {
        image = await processImage(received, processed, detected, this.options.maxImagePixels);
        if (image.mimeType !== detected) name = withExtension(name, extensionFor(image.mimeType));
        stored = { file: processed, mimeType: image.mimeType, size: image.size, sha256: await hashFile(processed) };
      }
      const now = Date.now();
      const record: UploadRecord = {
        id,
        owner: input.owner,
        name,
        mimeType: stored.mimeType,
        size: stored.size,
        sha256: stored.sha256,
        blobs: { original: blobKey(id, "original"), ...(image ? { thumbnail: blobKey(id, "thumbnail") } : {}) },
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.options.unattachedTtlSeconds * 1000).toISOString(),
      };
      if (image) {
        record.width = image.width;
        record.height = image.height;
        record.thumbnail = { width: image.thumbnail.width, height: image.thumbnail.height, mimeType: image.thumbnail.mimeType, size: image.thumbnail.bytes.length };
      }
      // Record first, blobs second: if this node dies in between, the record (unattached, with
      // its expiry) makes the sweeper delete whatever blobs were written. Nobody knows the id yet.
      await this.store.create(record);
      try {
        await this.blobs.put(record.blobs.original, { kind: "file", path: stored.file }, servedContentType(record.mimeType));
        if (image && record.blobs.thumbnail) await this.blobs.put(record.blobs.thumbnail, { kind: "bytes", bytes: image.thumbnail.bytes }, image.thumbnail.mimeType);
      } catch (err) {
        await this.discard(record);
        throw err;
      }
      return this.view(record);
    } finally {
      await Promise.all([fs.promises.rm(received, { force: true }), fs.promises.rm(processed, { force: true })]);
    }
  }

  /** {@link create} for bytes already in memory (inbound MMS media): the same checks, the same result. */
  createFromBytes(input: CreateUploadFromBytesInput): Promise<UploadView> {
    return this.create({
      owner: input.owner,
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.claimedType === undefined ? {} : { claimedType: input.claimedType }),
      source: [input.bytes],
      declaredSize: input.bytes.byteLength,
    });
  }

  /**
   * The upload with fresh links, for `viewer`: a backend sees any; a user sees their own, and one
   * attached to a message of a conversation they are a member of (`forbidden` otherwise).
   * `not_found` for an unknown, expired or removed upload.
   */
  async get(viewer: Actor, id: string): Promise<UploadView> {
    const record = await this.requireLive(id, "");
    if (viewer.kind === "user" && !isOwnedBy(record.owner, viewer.userId)) {
      const holder = record.attachedTo;
      if (!holder || !(await this.options.isMember(holder.conversationId, viewer.userId))) {
        throw new SwitchboardError(
          "forbidden",
          holder
            ? `Upload ${id} is attached to a message of a conversation you are not a member of.`
            : `Upload ${id} belongs to someone else and is not attached to any message yet.`,
        );
      }
    }
    return this.view(record);
  }

  // ---- AttachmentResolver ----

  async resolve(actor: Actor, senderId: string, conversationId: string, inputs: AttachmentInput[]): Promise<Attachment[]> {
    const seen = new Set<string>();
    const resolved: Attachment[] = [];
    for (const [index, input] of inputs.entries()) {
      if (!("uploadId" in input)) {
        // A plain reference to a file hosted elsewhere: metadata as the sender gave it.
        resolved.push(input);
        continue;
      }
      const field = `attachments.${index}`;
      const id = input.uploadId;
      if (seen.has(id)) throw new SwitchboardError("invalid_argument", `${field}: upload ${id} is attached twice to this message.`);
      seen.add(id);
      const record = await this.requireLive(id, `${field}: `);
      if (actor.kind === "user" && !isOwnedBy(record.owner, senderId)) {
        throw new SwitchboardError("forbidden", `${field}: upload ${id} was uploaded by someone else; upload the file yourself to send it.`);
      }
      if (record.attachedTo) {
        throw new SwitchboardError(
          "conflict",
          `${field}: upload ${id} is already attached to message ${record.attachedTo.messageId}; an upload goes with one message, so upload the file again to send it twice.`,
        );
      }
      resolved.push(storedAttachment(record));
    }
    return resolved;
  }

  async attached(message: Message): Promise<void> {
    const holder = { conversationId: message.conversationId, messageId: message.id };
    for (const attachment of message.attachments ?? []) {
      if (!attachment.uploadId) continue;
      try {
        const outcome = await this.store.attach(attachment.uploadId, holder, new Date());
        // The message is stored already: a lost race (another message of the sender's took the
        // upload between the check and now) is reported, not thrown, so the sender's ack is true.
        if (outcome.kind !== "attached") this.report(new Error(`upload not attached: ${JSON.stringify(outcome)}`), "attach", { uploadId: attachment.uploadId, ...holder });
      } catch (err) {
        this.report(err, "attach", { uploadId: attachment.uploadId, ...holder });
      }
    }
  }

  async released(message: Message, stillHeld: readonly Attachment[]): Promise<void> {
    const kept = new Set(stillHeld.map((a) => a.uploadId).filter(Boolean));
    const deleteAfter = new Date(Date.now() + this.options.deletedRetentionSeconds * 1000);
    for (const attachment of message.attachments ?? []) {
      if (!attachment.uploadId || kept.has(attachment.uploadId)) continue;
      try {
        await this.store.release(attachment.uploadId, message.id, deleteAfter);
      } catch (err) {
        this.report(err, "release", { uploadId: attachment.uploadId, messageId: message.id });
      }
    }
  }

  // ---- links, variants, content ----

  /**
   * A signed link to a variant of a live upload, valid for `ttlSeconds` (the SMS bridge hands
   * these to its provider). Throws `not_found` for a gone upload or a variant it does not have
   * (`mms` exists once {@link mmsVariant} made it).
   */
  async signedUrl(uploadId: string, variant: UploadVariant, ttlSeconds: number): Promise<string> {
    const record = await this.requireLive(uploadId, "");
    if (!record.blobs[variant]) throw missingVariant(uploadId, variant);
    return this.links.sign(uploadId, variant, ttlSeconds).url;
  }

  /**
   * Makes sure the upload has a JPEG variant of at most `maxBytes` (recompressed, then downscaled
   * step by step until it fits) and returns its size in bytes. An existing variant that fits is
   * reused. Images only: `invalid_argument` for any other upload.
   */
  async mmsVariant(uploadId: string, maxBytes: number): Promise<number> {
    const record = await this.requireLive(uploadId, "");
    if (!isProcessedImage(record.mimeType) || record.width === undefined) {
      throw new SwitchboardError("invalid_argument", `Upload ${uploadId} is ${record.mimeType}, not a picture: only pictures have an MMS variant.`);
    }
    if (record.mms && record.blobs.mms && record.mms.size <= maxBytes) return record.mms.size;
    const original = this.tempFile();
    try {
      const object = await this.blobs.get(record.blobs.original);
      if (!object) throw new SwitchboardError("not_found", `The bytes of upload ${uploadId} are gone.`);
      await fs.promises.writeFile(original, object.stream);
      const jpeg = await mmsJpeg(original, maxBytes, this.options.maxImagePixels);
      const key = blobKey(uploadId, "mms");
      await this.blobs.put(key, { kind: "bytes", bytes: jpeg.bytes }, "image/jpeg");
      const updated = await this.store.setMmsVariant(uploadId, key, { mimeType: "image/jpeg", size: jpeg.bytes.length, width: jpeg.width, height: jpeg.height, maxBytes });
      if (!updated) throw new SwitchboardError("not_found", `Upload ${uploadId} was removed meanwhile.`);
      return jpeg.bytes.length;
    } finally {
      await fs.promises.rm(original, { force: true });
    }
  }

  /** A variant of a live upload to serve (the caller has checked the link's signature); `not_found` otherwise. */
  async content(uploadId: string, variant: UploadVariant): Promise<UploadContent> {
    const record = await this.requireLive(uploadId, "");
    const key = record.blobs[variant];
    if (!key) throw missingVariant(uploadId, variant);
    const variantFacts = (): { name: string; mimeType: string; size: number } => {
      switch (variant) {
        case "original":
          return { name: record.name, mimeType: record.mimeType, size: record.size };
        case "thumbnail":
          return { name: withExtension(record.name, "thumbnail.webp"), mimeType: record.thumbnail?.mimeType ?? "image/webp", size: record.thumbnail?.size ?? 0 };
        case "mms":
          return { name: withExtension(record.name, "jpg"), mimeType: "image/jpeg", size: record.mms?.size ?? 0 };
        default: {
          const exhaustive: never = variant;
          return exhaustive;
        }
      }
    };
    return {
      ...variantFacts(),
      open: async (range) => {
        const object = await this.blobs.get(key, range);
        if (!object) throw new SwitchboardError("not_found", `The bytes of upload ${uploadId} are gone.`);
        return object;
      },
    };
  }

  // ---- housekeeping ----

  /**
   * Deletes up to `limit` uploads that are due (unattached past their expiry, released past the
   * retention): blobs first, then the record, so a crash in between leaves a record the next
   * sweep finishes. Safe on every node at once. Also removes temp files left by a crash.
   * Returns how many records this call removed.
   */
  async sweep(now = new Date(), limit = 100): Promise<number> {
    const due = await this.store.listDue(now, limit);
    let removed = 0;
    for (const record of due) {
      // The mms key too, recorded or not: a variant being made while the upload expired.
      const keys = new Set([...Object.values(record.blobs), blobKey(record.id, "mms")]);
      for (const key of keys) await this.blobs.delete(key);
      if (await this.store.remove(record.id, now)) removed += 1;
    }
    await this.removeStaleTempFiles(now.getTime());
    return removed;
  }

  // ---- internals ----

  /** The record, unless unknown, past its unattached expiry or released; `prefix` names the field in errors. */
  private async requireLive(id: string, prefix: string): Promise<UploadRecord> {
    const record = await this.store.get(id);
    const ttl = this.options.unattachedTtlSeconds;
    if (!record) throw new SwitchboardError("not_found", `${prefix}upload ${id} does not exist (an upload no message holds is deleted after ${ttl} s).`);
    if (record.deleteAfter !== undefined) throw new SwitchboardError("not_found", `${prefix}upload ${id} was removed from its message.`);
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= Date.now()) {
      throw new SwitchboardError("not_found", `${prefix}upload ${id} expired at ${record.expiresAt} (no message held it within ${ttl} s); upload the file again.`);
    }
    return record;
  }

  /** The record as the API shows it, with links fresh from now. */
  private view(record: UploadRecord): UploadView {
    const original = this.links.sign(record.id, "original");
    const view: UploadView = {
      uploadId: record.id,
      url: original.url,
      name: record.name,
      mimeType: record.mimeType,
      size: record.size,
      urlExpiresAt: original.expiresAt,
      sha256: record.sha256,
      createdAt: record.createdAt,
    };
    if (record.width !== undefined) view.width = record.width;
    if (record.height !== undefined) view.height = record.height;
    if (record.thumbnail) {
      view.thumbnail = { url: this.links.sign(record.id, "thumbnail").url, width: record.thumbnail.width, height: record.thumbnail.height, mimeType: record.thumbnail.mimeType };
    }
    if (record.expiresAt !== undefined) view.expiresAt = record.expiresAt;
    if (record.attachedTo) view.attachedTo = record.attachedTo;
    return view;
  }

  private refusedType(detected: string, claimed: string | undefined): SwitchboardError {
    const claim = claimed && claimed !== detected ? ` (it was sent as ${claimed.slice(0, 100)}, but the bytes say otherwise)` : "";
    return new SwitchboardError(
      "invalid_argument",
      `Unsupported file type ${detected}${claim}: this server accepts ${this.options.allowedTypes.join(", ")} (UPLOAD_ALLOWED_TYPES). The type is detected from the file's contents, not its name.`,
    );
  }

  /** Best-effort removal of an upload that failed half-way: its blobs, then its record. */
  private async discard(record: UploadRecord): Promise<void> {
    try {
      for (const key of Object.values(record.blobs)) await this.blobs.delete(key);
      // Due by construction: make it so, then remove it.
      await this.store.remove(record.id, new Date(Date.parse(record.expiresAt ?? record.createdAt) + 1));
    } catch (err) {
      // The record keeps its expiry: the sweeper finishes the job.
      this.report(err, "discard", { uploadId: record.id });
    }
  }

  private async removeStaleTempFiles(now: number): Promise<void> {
    const dir = this.options.tempDir;
    const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat?.isFile() && now - stat.mtimeMs > STALE_TEMP_MS) await fs.promises.rm(file, { force: true });
    }
  }

  private tempFile(): string {
    return path.join(this.options.tempDir, `${randomBytes(12).toString("hex")}.part`);
  }

  private report(err: unknown, task: string, context: Record<string, unknown>): void {
    this.options.onError?.(err, task, context);
  }
}

/** `up_` and 32 hex digits (128 random bits: ids are not guessable, though links are what grants access). */
export function newUploadId(): string {
  return `up_${randomBytes(16).toString("hex")}`;
}

function blobKey(id: string, variant: UploadVariant): string {
  return `uploads/${id}/${variant}`;
}

function isOwnedBy(owner: UploadOwner, userId: string): boolean {
  return owner.kind === "user" && owner.userId === userId;
}

/** The attachment a message stores for an upload: metadata, and the unsigned path as `url` (see attachment-links-store.ts). */
function storedAttachment(record: UploadRecord): Attachment {
  const attachment: Attachment = { url: contentPath(record.id), uploadId: record.id, name: record.name, mimeType: record.mimeType, size: record.size };
  if (record.width !== undefined) attachment.width = record.width;
  if (record.height !== undefined) attachment.height = record.height;
  if (record.thumbnail) {
    attachment.thumbnail = { url: contentPath(record.id, "thumbnail"), width: record.thumbnail.width, height: record.thumbnail.height, mimeType: record.thumbnail.mimeType };
  }
  return attachment;
}

function tooLarge(maxBytes: number, size?: number): SwitchboardError {
  return new SwitchboardError(
    "payload_too_large",
    `The file is larger than ${maxBytes} bytes${size === undefined ? "" : ` (${size})`}, the most this server accepts (UPLOAD_MAX_BYTES).`,
  );
}

function missingVariant(uploadId: string, variant: UploadVariant): SwitchboardError {
  return new SwitchboardError("not_found", `Upload ${uploadId} has no ${variant} variant${variant === "mms" ? " yet" : ""}.`);
}

/** What {@link receive} learnt. */
interface Received extends ByteFacts {
  size: number;
  sha256: string;
}

/**
 * Streams `source` into a new file, hashing it and checking it is UTF-8 text on the way, and
 * throws `payload_too_large` as soon as it exceeds `maxBytes` (the caller removes the file).
 */
async function receive(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, file: string, maxBytes: number): Promise<Received> {
  const hash = createHash("sha256");
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const head: Buffer[] = [];
  let headLength = 0;
  let utf8Text = true;
  let size = 0;
  const out = await fs.promises.open(file, "wx", 0o600);
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      hash.update(chunk);
      if (utf8Text) {
        if (chunk.includes(0)) utf8Text = false;
        else {
          try {
            decoder.decode(chunk, { stream: true });
          } catch {
            utf8Text = false;
          }
        }
      }
      if (headLength < HEAD_BYTES) {
        const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - headLength));
        head.push(part);
        headLength += part.length;
      }
      await out.write(chunk);
    }
    if (utf8Text) {
      try {
        // A multi-byte sequence cut off at the end is not valid UTF-8.
        decoder.decode();
      } catch {
        utf8Text = false;
      }
    }
  } finally {
    await out.close();
  }
  return { size, sha256: hash.digest("hex"), head: Buffer.concat(head), utf8Text };
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
