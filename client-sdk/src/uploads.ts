import { SwitchboardClientError } from "./errors.js";
import { isErrorCode, type AttachmentThumbnail } from "./protocol.js";

/**
 * An uploaded file, as `POST /v1/uploads` answers it. Attach it to a message with
 * `handle.send(text, { attachments: [{ uploadId }] })`; members then receive it as an
 * `Attachment` with fresh signed links.
 */
export interface Upload {
  /** `up_` and 32 hex digits: what `attachments: [{ uploadId }]` takes. */
  uploadId: string;
  /** Signed download link of the stored file; expires at `urlExpiresAt`. */
  url: string;
  /** The sanitised file name. */
  name: string;
  /** Detected from the bytes, never taken from the request. */
  mimeType: string;
  /** Bytes stored (for pictures: after re-encoding without metadata). */
  size: number;
  /** Pictures: pixels, after EXIF orientation. */
  width?: number;
  height?: number;
  /** Pictures: a small WebP preview (at most 320 px). */
  thumbnail?: AttachmentThumbnail;
  /** When `url` and `thumbnail.url` stop working (ISO-8601). */
  urlExpiresAt: string;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  createdAt: string;
  /** When the upload is deleted unless a message holds it by then; absent once attached. */
  expiresAt?: string;
  /** The message holding the upload, once attached. */
  attachedTo?: { conversationId: string; messageId: string };
}

/** Options of {@link uploadFile}. */
export interface UploadFileOptions {
  /** The chat server's base URL, as given to `ChatClient` (`url`). */
  serverUrl: string;
  /** The user's token, as `ChatClient`'s `getToken` gives it (the upload is that user's). */
  getToken: () => Promise<string> | string;
  /** The bytes. A `File` brings its own name. */
  file: Blob | Uint8Array;
  /** The name to show and download as. Default: the `File`'s name, else the server's (`upload` and an extension for the detected type). */
  name?: string;
  /**
   * Called as bytes go out: `loaded` of `total` bytes. In browsers (XMLHttpRequest) on every
   * upload progress event; elsewhere (fetch, which reports no upload progress) at the start and
   * once the server has taken the whole file. The last call has `loaded === total`. Default none.
   */
  onProgress?(loaded: number, total: number): void;
  /** Aborts the upload; the promise then rejects with the signal's reason (an `AbortError` by default). Default none. */
  signal?: AbortSignal;
}

/** What a failed upload's response said, read the same way from XHR and fetch. */
interface FailedAnswer {
  status: number;
  body: string;
  retryAfter: string | null;
}

/**
 * Uploads a file to `POST /v1/uploads` with the user's token and resolves with the stored
 * upload. Rejects with a {@link SwitchboardClientError}: `payload_too_large` (413, larger than
 * the server's `UPLOAD_MAX_BYTES`, with the server's message), `invalid_argument` (an empty file,
 * a type the server does not accept, a picture it cannot decode), `rate_limited` with
 * `retryAfterMs` (429), `unauthorized`, and `unavailable` when the server cannot be reached.
 * Not retried: a retried upload is a new upload (the unused one expires on the server).
 *
 * ```ts
 * const upload = await uploadFile({ serverUrl, getToken, file, onProgress: (n, total) => (bar.value = n / total) });
 * await handle.send("", { attachments: [{ uploadId: upload.uploadId }] });
 * ```
 */
export async function uploadFile(options: UploadFileOptions): Promise<Upload> {
  const { file, signal } = options;
  signal?.throwIfAborted();
  const name = options.name ?? fileName(file);
  const url = `${options.serverUrl.replace(/\/+$/, "")}/v1/uploads${name ? `?name=${encodeURIComponent(name)}` : ""}`;
  const token = await options.getToken();
  const total = file instanceof Uint8Array ? file.byteLength : file.size;
  // XMLHttpRequest is the one browser API that reports upload progress; fetch reports none.
  return typeof XMLHttpRequest === "function"
    ? uploadWithXhr(url, token, file, total, options)
    : uploadWithFetch(url, token, file, total, options);
}

function uploadWithXhr(url: string, token: string, file: Blob | Uint8Array, total: number, options: UploadFileOptions): Promise<Upload> {
  const { onProgress, signal } = options;
  return new Promise<Upload>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    let lastLoaded = -1;
    const progress = (loaded: number) => {
      if (loaded === lastLoaded) return;
      lastLoaded = loaded;
      onProgress?.(loaded, total);
    };
    xhr.upload.onprogress = (event) => progress(Math.min(event.loaded, total));
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    xhr.onload = () => {
      settle();
      if (xhr.status === 201) {
        const upload = parseUpload(xhr.responseText);
        if (!upload) return reject(new SwitchboardClientError("internal", "the server's answer to the upload was not an upload"));
        progress(total);
        return resolve(upload);
      }
      reject(uploadError({ status: xhr.status, body: xhr.responseText, retryAfter: xhr.getResponseHeader("Retry-After") }));
    };
    xhr.onerror = () => {
      settle();
      reject(new SwitchboardClientError("unavailable", "the upload failed: the chat server could not be reached"));
    };
    xhr.onabort = () => {
      settle();
      reject(abortReason(signal));
    };
    progress(0);
    // A Uint8Array is copied into a Blob: XHR takes it directly too, but typings differ across lib versions.
    xhr.send(file instanceof Uint8Array ? new Blob([file as Uint8Array<ArrayBuffer>]) : file);
  });
}

async function uploadWithFetch(url: string, token: string, file: Blob | Uint8Array, total: number, options: UploadFileOptions): Promise<Upload> {
  const { onProgress, signal } = options;
  onProgress?.(0, total);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" },
      body: file as BodyInit,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw new SwitchboardClientError("unavailable", `the upload failed: the chat server could not be reached (${err instanceof Error ? err.message : String(err)})`);
  }
  const body = await res.text().catch(() => "");
  if (res.status !== 201) throw uploadError({ status: res.status, body, retryAfter: res.headers.get("Retry-After") });
  const upload = parseUpload(body);
  if (!upload) throw new SwitchboardClientError("internal", "the server's answer to the upload was not an upload");
  onProgress?.(total, total);
  return upload;
}

/** The coded error of a refused upload: the server's `{ error: { code, message } }`, else one from the status. */
function uploadError({ status, body, retryAfter }: FailedAnswer): SwitchboardClientError {
  let wire: { code?: unknown; message?: unknown } | undefined;
  try {
    wire = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
  } catch {
    // A proxy's HTML page, or a connection closed after the status line: the status decides.
  }
  const code = isErrorCode(wire?.code) ? wire.code : codeOfStatus(status);
  const message = typeof wire?.message === "string" ? wire.message : `the upload failed with HTTP ${status}`;
  const seconds = retryAfter !== null ? Number(retryAfter) : NaN;
  return new SwitchboardClientError(code, message, code === "rate_limited" ? (Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000) : undefined);
}

function codeOfStatus(status: number): SwitchboardClientError["code"] {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "rate_limited";
    case 500:
      return "internal";
    default:
      return "unavailable";
  }
}

function parseUpload(text: string): Upload | undefined {
  try {
    const upload = JSON.parse(text) as Upload;
    return typeof upload?.uploadId === "string" ? upload : undefined;
  } catch {
    return undefined;
  }
}

/** A `File`'s name (Blobs and byte arrays have none). */
function fileName(file: Blob | Uint8Array): string | undefined {
  const name = (file as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("The upload was aborted.", "AbortError");
}
