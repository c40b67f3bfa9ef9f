import { Readable } from "node:stream";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { hasScope, type ApiKeyService } from "../auth/api-key-service.js";
import type { ApiKeyScope } from "../auth/principal.js";
import type { TokenService } from "../auth/token-service.js";
import type { Actor } from "../core/actor.js";
import { SwitchboardError } from "../core/errors.js";
import { idSchema, uploadIdSchema } from "../core/schemas.js";
import type { RateLimit } from "../limits/rate-limit.js";
import type { ByteRange } from "../blobs/blob-store.js";
import { UPLOAD_VARIANTS, type UploadLinks } from "../uploads/upload-links.js";
import { contentDisposition, dispositionOf, servedContentType } from "../uploads/upload-media-types.js";
import type { UploadService } from "../uploads/upload-service.js";
import { ownerKey, type UploadOwner, type UploadVariant } from "../uploads/upload-store.js";
import { API_KEY_SCHEME, errors, json, type HttpEnv } from "./http-routes.js";
import { attachmentThumbnailSchema, errorSchema } from "./http-schemas.js";
import { requireUser, USER_TOKEN_SCHEME } from "./http-user-auth.js";

/**
 * The upload routes: `POST /v1/uploads` (raw bytes in, an upload out), `GET /v1/uploads/{id}`
 * (metadata with fresh links), both callable with a user token or an API key, and the signed
 * download `GET /v1/uploads/{id}/content` (no credentials: the signature is the capability).
 * Registered before the `/v1` API key middleware, which they answer in place of. Thin:
 * {@link UploadService} does the work.
 */

/** What the upload routes need, built by the composition root. */
export interface UploadHttpDeps {
  uploads: UploadService;
  links: UploadLinks;
  tokens: TokenService;
  apiKeys: ApiKeyService;
  /** Uploads per owner per minute (`RATE_LIMIT_UPLOADS`), shared by the nodes in cluster mode. */
  limit: RateLimit;
}

/** Takes one request from a caller's `/v1` budget (the API's `countRequest`). */
export type CountRequest = (c: Context<HttpEnv>, caller: string) => Promise<void>;

/** The path of `POST /v1/uploads`, exempt from the JSON body limit (its own limit applies while streaming). */
export const UPLOADS_PATH = "/v1/uploads";

const BACKEND: Actor = { kind: "backend" };
const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });

// ---- schemas ----

const uploadParamSchema = z.object({
  id: uploadIdSchema.meta({ param: { name: "id", in: "path" }, example: "up_0f3c9a6e2b7d4c1a8e5f0b2d6a9c3e71" }),
});

const uploadQuerySchema = z.object({
  name: z
    .string()
    .max(1024)
    .optional()
    .meta({
      param: { name: "name", in: "query" },
      description: "The file name to show and download as (sanitised, at most 256 characters). Default: `upload` with an extension for the detected type.",
      example: "holiday.jpg",
    }),
  userId: idSchema.optional().meta({
    param: { name: "userId", in: "query" },
    description: "API keys only: upload on behalf of this user, who can then attach it in their own sends. Default: the upload belongs to the backend.",
  }),
});

const contentQuerySchema = z.object({
  v: z
    .enum(UPLOAD_VARIANTS as [UploadVariant, ...UploadVariant[]])
    .default("original")
    .meta({ param: { name: "v", in: "query" }, description: "Which variant: `original` (default), `thumbnail`, or `mms`." }),
  exp: z.string().max(20).meta({ param: { name: "exp", in: "query" }, description: "Expiry of the link, unix seconds (part of the signed link)." }),
  sig: z.string().max(100).meta({ param: { name: "sig", in: "query" }, description: "The link's signature (part of the signed link)." }),
});

const uploadSchema = z
  .object({
    uploadId: z.string().meta({ description: "Attach it with `attachments: [{ uploadId }]` in `message:send` or `POST /v1/conversations/{id}/messages`.", example: "up_0f3c9a6e2b7d4c1a8e5f0b2d6a9c3e71" }),
    url: z.string().meta({ description: "Signed download link of the stored file; expires at `urlExpiresAt`." }),
    name: z.string(),
    mimeType: z.string().meta({ description: "Detected from the bytes, never taken from the request.", example: "image/jpeg" }),
    size: z.number().int().meta({ description: "Bytes stored (for images: after re-encoding without metadata)." }),
    width: z.number().int().optional().meta({ description: "Images: pixels, after EXIF orientation." }),
    height: z.number().int().optional(),
    thumbnail: attachmentThumbnailSchema.optional(),
    urlExpiresAt: isoTime.meta({ description: "When `url` and `thumbnail.url` stop working." }),
    sha256: z.string().meta({ description: "Hex SHA-256 of the stored bytes." }),
    createdAt: isoTime,
    expiresAt: isoTime.optional().meta({ description: "When the upload is deleted unless a message holds it by then (UPLOAD_UNATTACHED_TTL_SECONDS); absent once attached." }),
    attachedTo: z.object({ conversationId: z.string(), messageId: z.string() }).optional().meta({ description: "The message holding the upload." }),
  })
  .meta({ id: "Upload", description: "An uploaded file: an attachment's metadata with fresh signed links, plus the upload's own facts." });

const binarySchema = z.string().meta({ format: "binary" });

// ---- responses ----

const CREDENTIALS_401 = json(errorSchema, "`unauthorized`: send `Authorization: Bearer <user token>` or `Bearer <API key>`.");
const UPLOAD_ERRORS = { ...errors(400, 403, 429, 500, 503), 401: CREDENTIALS_401 };
/** Both ways to call the upload routes, in the OpenAPI document. */
const security = (scope: ApiKeyScope): Record<string, string[]>[] => [{ [USER_TOKEN_SCHEME]: [] }, { [API_KEY_SCHEME]: [scope] }];

// ---- routes ----

const TAGS = ["Uploads"];

export const createUploadRoute = createRoute({
  method: "post",
  path: UPLOADS_PATH,
  tags: TAGS,
  summary: "Upload a file",
  description:
    "The request body is the file's bytes, as they are (no multipart), so a browser can send a `File` with `fetch` or `XMLHttpRequest` " +
    "and show upload progress. Callable with the **user token** (the upload is that user's) or an API key with `write` " +
    "(the backend's, or a user's with `userId`). The `Content-Type` is accepted whatever it says and not trusted: the type is detected from " +
    "the bytes and must be one of UPLOAD_ALLOWED_TYPES. At most UPLOAD_MAX_BYTES (default 10 MiB); RATE_LIMIT_UPLOADS (default 30) uploads per " +
    "minute per owner. Pictures are re-encoded without their metadata (EXIF, GPS position) and get a thumbnail. An upload that no message " +
    "holds within UPLOAD_UNATTACHED_TTL_SECONDS is deleted. `Idempotency-Key` is not supported here: a retried upload is a new upload, and " +
    "the unused one expires.",
  security: security("write"),
  request: {
    query: uploadQuerySchema,
    body: { required: true, description: "The file's bytes.", content: { "application/octet-stream": { schema: binarySchema } } },
  },
  responses: {
    201: json(uploadSchema, "The upload, stored."),
    ...UPLOAD_ERRORS,
    413: json(errorSchema, "`payload_too_large`: the file is larger than UPLOAD_MAX_BYTES."),
  },
});

export const getUploadRoute = createRoute({
  method: "get",
  path: "/v1/uploads/{id}",
  tags: TAGS,
  summary: "Get an upload, with fresh links",
  description:
    "With the **user token**: the user's own uploads, and uploads attached to messages of conversations the user is a member of. " +
    "With an API key (`read`): any upload.",
  security: security("read"),
  request: { params: uploadParamSchema },
  responses: { 200: json(uploadSchema, "The upload."), ...UPLOAD_ERRORS, ...errors(404) },
});

export const uploadContentRoute = createRoute({
  method: "get",
  path: "/v1/uploads/{id}/content",
  tags: TAGS,
  summary: "Download an upload (signed link)",
  description:
    "**No credentials**: the link's signature is the capability, until its expiry. The links come in attachments and in the upload routes' " +
    "answers. Served with `X-Content-Type-Options: nosniff` and a sandboxing CSP; `Content-Type` is the detected type for pictures (not SVG), " +
    "PDF, audio, video and plain text (UTF-8), and `application/octet-stream` for anything else; pictures are `inline`, everything else an " +
    "`attachment` download. Supports a single `Range` (206).",
  security: [],
  request: { params: uploadParamSchema, query: contentQuerySchema },
  responses: {
    200: { description: "The file.", content: { "*/*": { schema: binarySchema } } },
    206: { description: "The requested byte range.", content: { "*/*": { schema: binarySchema } } },
    ...errors(400, 500, 503),
    403: json(errorSchema, "`forbidden`: the link's signature is wrong, or the link expired; get a fresh link (read the message again, or `GET /v1/uploads/{id}`)."),
    404: json(errorSchema, "`not_found`: no such upload (expired, or removed with its message)."),
    416: json(errorSchema, "`invalid_argument`: the `Range` lies outside the file."),
  },
});

/** Every upload route, in documentation order; {@link registerUploadRoutes} registers exactly these. */
export const UPLOAD_ROUTES = [createUploadRoute, getUploadRoute, uploadContentRoute] as const;

/**
 * Registers the upload routes. They must come before the `/v1` API key middleware, which they
 * answer in place of; `countRequest` keeps them within the caller's `/v1` request budget.
 */
export function registerUploadRoutes(app: OpenAPIHono<HttpEnv>, deps: UploadHttpDeps, countRequest: CountRequest): void {
  const { uploads, links, limit } = deps;

  app.openapi({ ...createUploadRoute, middleware: [callerAuth(deps, "write", countRequest)] as const }, async (c) => {
    const { name, userId } = c.req.valid("query");
    const user = c.get("user");
    const principal = c.get("principal");
    let owner: UploadOwner;
    if (user) {
      if (userId !== undefined && userId !== user.userId) {
        throw new SwitchboardError("forbidden", "userId: with a user token you upload as yourself; only an API key can upload on behalf of another user.");
      }
      owner = { kind: "user", userId: user.userId };
    } else {
      owner = userId !== undefined ? { kind: "user", userId } : { kind: "backend", keyId: principal!.keyId };
    }
    await limit.consume(ownerKey(owner));
    const body = c.req.raw.body;
    if (!body) throw new SwitchboardError("invalid_argument", "The request has no body: send the file's bytes as the body (not multipart).");
    const length = c.req.header("content-length");
    const declaredSize = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    const claimedType = c.req.header("content-type");
    const reading = { finished: false };
    try {
      const upload = await uploads.create({
        owner,
        ...(name === undefined ? {} : { name }),
        source: chunksOf(body, reading),
        ...(declaredSize === undefined ? {} : { declaredSize }),
        ...(claimedType ? { claimedType } : {}),
      });
      return c.json(upload, 201);
    } catch (err) {
      // Refused before the whole body arrived (too large). A browser still sending it reads no
      // answer from a connection that closes under it (it reports a network error instead of the
      // 413), so the rest is read and discarded first, within bounds; past them the connection
      // closes, and either way the client must not send its next request on it.
      if (!reading.finished && err instanceof SwitchboardError && err.code === "payload_too_large") {
        reading.finished = await discardBody(body, declaredSize);
      }
      if (!reading.finished) c.header("Connection", "close");
      throw err;
    }
  });

  app.openapi({ ...getUploadRoute, middleware: [callerAuth(deps, "read", countRequest)] as const }, async (c) => {
    const user = c.get("user");
    const viewer: Actor = user ? { kind: "user", userId: user.userId } : BACKEND;
    return c.json(await uploads.get(viewer, c.req.valid("param").id), 200);
  });

  app.openapi(uploadContentRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { v, exp, sig } = c.req.valid("query");
    switch (links.verify(id, v, exp, sig)) {
      case "valid":
        break;
      case "invalid":
        throw new SwitchboardError("forbidden", "This download link is not valid (its signature does not match); use the link exactly as the server gave it.");
      case "expired":
        throw new SwitchboardError(
          "forbidden",
          `This download link expired at ${new Date(Number(exp) * 1000).toISOString()}; get a fresh one by reading the message again (history, conversation:join) or with GET /v1/uploads/${id}.`,
        );
    }
    const content = await uploads.content(id, v);
    const headers = new Headers({
      "Content-Type": servedContentType(content.mimeType),
      "Content-Disposition": contentDisposition(dispositionOf(content.mimeType), content.name),
      "X-Content-Type-Options": "nosniff",
      // Even a file opened directly runs nothing and loads nothing; sandbox also gives it an opaque origin.
      "Content-Security-Policy": "default-src 'none'; sandbox",
      // Pictures are shown by pages of other origins (the widget's host pages): the link is the permission.
      "Cross-Origin-Resource-Policy": "cross-origin",
      "Cache-Control": `private, max-age=${links.secondsLeft(exp)}`,
      "Accept-Ranges": "bytes",
    });
    let range: ByteRange | undefined;
    const requested = parseRange(c.req.header("range"), content.size);
    if (requested === "unsatisfiable") {
      c.header("Content-Range", `bytes */${content.size}`);
      return c.json({ error: { code: "invalid_argument" as const, message: `The requested range lies outside the file's ${content.size} bytes.` } }, 416);
    }
    if (requested) {
      range = requested;
      headers.set("Content-Range", `bytes ${range.start}-${range.end}/${content.size}`);
    }
    headers.set("Content-Length", String(range ? range.end - range.start + 1 : content.size));
    const status = range ? 206 : 200;
    // A HEAD asks for the headers only: the blob is not opened (it would never be read, nor closed).
    if (c.req.method === "HEAD") return new Response(null, { status, headers });
    const object = await content.open(range);
    return new Response(Readable.toWeb(object.stream) as ReadableStream, { status, headers });
  });
}

/**
 * Authenticates a caller of the upload routes: a user token (a JWT: three dot-separated parts),
 * verified like the handshake's, or else an API key, which must hold `scope`. Either way the
 * request counts against the caller's `/v1` budget. Runs before the route's validators.
 */
function callerAuth(deps: UploadHttpDeps, scope: ApiKeyScope, countRequest: CountRequest): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
    if (bearer === undefined) {
      throw new SwitchboardError("unauthorized", "Missing credentials: send `Authorization: Bearer <user token>` (the JWT the user connects with) or `Bearer <API key>`.");
    }
    if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer)) {
      const user = await requireUser(c, deps.tokens);
      await countRequest(c, `user:${user.userId}`);
    } else {
      const principal = await deps.apiKeys.verify(header);
      c.set("principal", principal);
      await countRequest(c, principal.keyId);
      if (!hasScope(principal, scope)) throw new SwitchboardError("forbidden", `API key ${principal.name} lacks the \`${scope}\` scope this route needs.`);
    }
    await next();
  };
}

/** The most of a refused upload's body read and thrown away so that its client gets the 413. */
const REFUSED_BODY_DISCARD_BYTES = 32 * 1024 * 1024;
/** How long a refused upload's sender gets to finish sending before its connection is closed. */
const REFUSED_BODY_DISCARD_MS = 10_000;

/**
 * Reads the rest of a refused body and throws it away, unless it is announced as, or turns out
 * to be, larger than {@link REFUSED_BODY_DISCARD_BYTES}, or takes longer than
 * {@link REFUSED_BODY_DISCARD_MS}. True when the whole body was read.
 */
async function discardBody(body: ReadableStream<Uint8Array>, declaredSize: number | undefined): Promise<boolean> {
  if ((declaredSize ?? 0) > REFUSED_BODY_DISCARD_BYTES || body.locked) return false;
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), REFUSED_BODY_DISCARD_MS);
  });
  let read = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout") return false;
      if (next.done) return true;
      read += next.value.byteLength;
      if (read > REFUSED_BODY_DISCARD_BYTES) return false;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    void reader.cancel().catch(() => undefined);
  }
}

/**
 * The request body's chunks, read without cancelling the stream when the reader stops early
 * (a file over the limit), so that {@link discardBody} can read the rest. `reading.finished`
 * tells whether the body was read to its end.
 */
async function* chunksOf(body: ReadableStream<Uint8Array>, reading: { finished: boolean }): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        reading.finished = true;
        return;
      }
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * One `Range: bytes=…` of RFC 9110 against a file of `size` bytes: the range, `unsatisfiable`,
 * or undefined when there is none or it is not one we serve (several ranges, other units), in
 * which case the whole file is sent, as the RFC allows.
 */
function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return undefined;
  return { start, end };
}
