import type { Attachment, Message } from "../../../client-sdk/src/protocol.js";
import type { Store } from "../store/store.js";
import { contentPath, type UploadLinks } from "./upload-links.js";

/** How deep into a result the wrapper looks for messages: `{ conversations: [{ lastMessage }] }` is 3. */
const MAX_DEPTH = 4;

/**
 * The {@link Store} every service uses, with fresh download links on uploaded attachments.
 *
 * Messages keep an uploaded attachment's `url` as the unsigned path (`/v1/uploads/{id}/content`):
 * a signed link expires, a stored message does not. This wrapper signs on the way out, so
 * whatever reads messages through the store (`message:new`, joins, history, the HTTP API,
 * webhooks, the support inbox) hands out links valid for `UPLOAD_URL_TTL_SECONDS`, with
 * `urlExpiresAt`; and it unsigns on the way in, so a message written back (an edit keeping its
 * attachments) never stores a link that will expire.
 *
 * It is a Proxy, not a list of methods, so it stays right when the Store grows: every method's
 * result (or resolved value) is searched, a few levels deep through plain objects and arrays,
 * for values shaped like a Message (`id`, `conversationId`, numeric `seq`, `attachments` array),
 * which covers a Message, `{ message }`, `{ messages }`, `AppendResult` with its `parent`, and
 * summaries with a `lastMessage`. Every argument gets the same search for objects with an
 * `attachments` array (new messages, patches), which are unsigned. Methods are called on the
 * real store, so its internal calls are not decorated twice.
 */
export function withAttachmentLinks(store: Store, links: UploadLinks): Store {
  const wrapped = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      let method = wrapped.get(property);
      if (!method) {
        const original = value as (...args: unknown[]) => unknown;
        method = (...args: unknown[]) => {
          const result = original.apply(target, args.map((arg) => unsign(arg, 0)));
          return result instanceof Promise ? result.then((resolved: unknown) => sign(resolved, links, 0)) : sign(result, links, 0);
        };
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

/** Gives uploaded attachments of every message found in `value` fresh signed links; everything else is returned as is. */
export function sign<T>(value: T, links: UploadLinks, depth: number): T {
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return mapArray(value, (item) => sign(item, links, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  if (isMessage(value)) return signMessage(value, links) as T;
  return mapObject(value, (item) => sign(item, links, depth + 1)) as T;
}

function signMessage(message: Message, links: UploadLinks): Message {
  const attachments = message.attachments ?? [];
  if (!attachments.some((a) => a.uploadId)) return message;
  return { ...message, attachments: attachments.map((a) => (a.uploadId ? signAttachment(a, a.uploadId, links) : a)) };
}

function signAttachment(attachment: Attachment, uploadId: string, links: UploadLinks): Attachment {
  const original = links.sign(uploadId, "original");
  const signed: Attachment = { ...attachment, url: original.url, urlExpiresAt: original.expiresAt };
  if (attachment.thumbnail) signed.thumbnail = { ...attachment.thumbnail, url: links.sign(uploadId, "thumbnail").url };
  return signed;
}

/** Puts uploaded attachments found in `value` back in their stored form (unsigned paths, no expiry). */
function unsign<T>(value: T, depth: number): T {
  if (depth > 2 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return mapArray(value, (item) => unsign(item, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  const attachments = (value as { attachments?: unknown }).attachments;
  if (Array.isArray(attachments) && attachments.some((a: Attachment | null) => a?.uploadId)) {
    return { ...value, attachments: attachments.map((a: Attachment) => (a?.uploadId ? storedForm(a, a.uploadId) : a)) };
  }
  return value;
}

function storedForm(attachment: Attachment, uploadId: string): Attachment {
  const { urlExpiresAt: _expiry, ...rest } = attachment;
  const stored: Attachment = { ...rest, url: contentPath(uploadId) };
  if (attachment.thumbnail) stored.thumbnail = { ...attachment.thumbnail, url: contentPath(uploadId, "thumbnail") };
  return stored;
}

function isMessage(value: object): value is Message {
  const m = value as Partial<Message>;
  return typeof m.id === "string" && typeof m.conversationId === "string" && typeof m.seq === "number" && Array.isArray(m.attachments);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `items.map(f)`, but the same array when nothing changed (most results hold no upload). */
function mapArray(items: unknown[], f: (item: unknown) => unknown): unknown[] {
  let changed = false;
  const mapped = items.map((item) => {
    const next = f(item);
    if (next !== item) changed = true;
    return next;
  });
  return changed ? mapped : items;
}

function mapObject(value: object, f: (item: unknown) => unknown): object {
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = f(item);
    if (next !== item) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}
