import { z } from "@hono/zod-openapi";
import { ERROR_CODES, LIMITS } from "../../../client-sdk/src/protocol.js";
import {
  attachmentsSchema,
  clientMessageIdSchema,
  conversationCreateSchema,
  conversationTypeSchema,
  emojiSchema,
  idSchema,
  messageTextSchema,
  phoneSchema,
  emailSchema,
  requireContent,
  roleSchema,
  seqSchema,
} from "../core/schemas.js";
import { IDEMPOTENCY_KEY_MAX_LENGTH } from "./http-idempotency.js";

/**
 * The HTTP API's schemas. Request schemas build on the shared ones in `core/schemas.ts` (the
 * socket gateway validates with the same rules); response schemas describe the protocol types
 * for the OpenAPI document only: responses are not validated at run time.
 * `.meta({ id })` makes a schema a named component of `/openapi.json`. Metadata is set with zod's
 * own `.meta()`, not `.openapi()`: the shared schemas may be built before `@hono/zod-openapi`
 * patches zod, and then lack `.openapi()` at run time whatever their types say.
 */

/** Largest `name` a user or token may carry; longer token names are cut at 200 when verified. */
const NAME_MAX_LENGTH = 200;

const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });
const displayNameSchema = z.string().trim().min(1).max(NAME_MAX_LENGTH);

// ---- path and query parameters ----

/** `:id` of users, conversations and API keys. */
export const idParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "c_support_42" }),
});

/** `:id/members/:userId`. */
export const memberParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "c_support_42" }),
  userId: idSchema.meta({ param: { name: "userId", in: "path" }, example: "alice" }),
});

/** `:id/messages/:messageId`. */
export const messageParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "c_support_42" }),
  messageId: idSchema.meta({ param: { name: "messageId", in: "path" }, example: "m_0b6f…" }),
});

/**
 * The `Idempotency-Key` request header of every POST route, for the OpenAPI document. The
 * middleware in `http-idempotency.ts` checks and applies it (hono hands validators lower-case
 * header names, so this schema never sees the header and never refuses a request itself).
 */
export const idempotencyHeaderSchema = z.object({
  "Idempotency-Key": z
    .string()
    .min(1)
    .max(IDEMPOTENCY_KEY_MAX_LENGTH)
    .optional()
    .meta({
      description:
        "Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, " +
        "with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another " +
        "request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation.",
      example: "5f1c8a7e-2b64-4a55-9d0e-3c1f2a9b7d11",
    }),
});

/** API key ids are generated (`key_<uuid>`, `admin-bootstrap-<hash>`); bounded like any id. */
export const apiKeyParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "key_4f0c…" }),
});

/** Query values arrive as strings; coerced, then held to the same bounds as the socket's. */
const seqQuery = z.coerce.number().pipe(seqSchema);
export const historyQuerySchema = z.object({
  afterSeq: seqQuery.optional().meta({
    param: { name: "afterSeq", in: "query" },
    description: "Only messages with `seq > afterSeq`: the oldest page above it (catching up after a reconnect).",
    type: "integer",
    minimum: 0,
  }),
  beforeSeq: seqQuery.optional().meta({
    param: { name: "beforeSeq", in: "query" },
    description: "Only messages with `seq < beforeSeq`: the newest page below it (scrolling back).",
    type: "integer",
    minimum: 0,
  }),
  limit: z.coerce
    .number()
    .pipe(z.number().int().min(1).max(LIMITS.pageMax))
    .optional()
    .meta({ param: { name: "limit", in: "query" }, description: `Page size, 1 to ${LIMITS.pageMax} (default 50).`, type: "integer", minimum: 1, maximum: LIMITS.pageMax }),
  threadId: idSchema.optional().meta({
    param: { name: "threadId", in: "query" },
    description: "Only the replies of the thread under this top-level message, still paged by the conversation's `seq`.",
  }),
});

export const changesQuerySchema = z.object({
  afterRev: seqQuery.meta({
    param: { name: "afterRev", in: "query", required: true },
    description: "The revision already seen (a conversation's `lastRev`, or the `lastRev` of the previous answer); 0 for everything.",
    type: "integer",
    minimum: 0,
  }),
  limit: z.coerce
    .number()
    .pipe(z.number().int().min(1).max(LIMITS.pageMax))
    .optional()
    .meta({ param: { name: "limit", in: "query" }, description: `Page size, 1 to ${LIMITS.pageMax} (default ${LIMITS.pageMax}).`, type: "integer", minimum: 1, maximum: LIMITS.pageMax }),
});

/** `DELETE …/reactions?userId=&emoji=`: the reaction to take back. */
export const reactionQuerySchema = z.object({
  userId: idSchema.meta({ param: { name: "userId", in: "query", required: true }, description: "The member whose reaction it is.", example: "alice" }),
  emoji: emojiSchema.meta({ param: { name: "emoji", in: "query", required: true }, description: "The emoji (URL-encoded) or `:shortcode:`.", example: "👍" }),
});

// ---- request bodies ----

export const userUpsertSchema = z
  .strictObject({
    id: idSchema,
    name: displayNameSchema.optional(),
    phone: phoneSchema.optional(),
    email: emailSchema.optional().meta({ description: "Where email notifications go (when the server sends email); replies by email from it are posted as this user." }),
    role: roleSchema.optional(),
  })
  .meta({ id: "UserUpsert", description: "Creates the user, or updates the fields given (absent fields keep their value)." });

export const conversationCreateBodySchema = conversationCreateSchema
  .extend({ id: idSchema.optional().meta({ description: "Chosen by your backend; generated (`c_<uuid>`) when absent." }) })
  .meta({
    id: "ConversationCreate",
    description: "A `direct` conversation has exactly two members and is unique per pair: creating it again returns the existing one.",
  });

/** Member roles are labels for your application; `owner` and `member` are the ones Switchboard assigns. */
export const memberRoleSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, "must be a lowercase label such as member or owner")
  .meta({ example: "member" });

export const memberAddSchema = z
  .strictObject({ userId: idSchema, role: memberRoleSchema.optional().meta({ description: "Default `member`." }) })
  .meta({ id: "MemberAdd" });

export const messageSendBodySchema = z
  .strictObject({
    senderId: idSchema.meta({ description: "The member the message is sent as." }),
    text: messageTextSchema.meta({ description: "May be empty when the message has attachments." }),
    clientMessageId: clientMessageIdSchema.optional().meta({
      description: "Makes the send idempotent: a retry with the same `(senderId, clientMessageId)` returns the original message (200) and stores nothing.",
    }),
    attachments: attachmentsSchema.optional(),
    type: z.enum(["text", "system"]).optional().meta({ description: "Default `text`. Only backends (API keys) can send `system` messages." }),
    replyTo: idSchema.optional().meta({
      description: "The id of a message of the same conversation this one answers; it is quoted as `replyTo` (400 if it is not there, 409 if it was deleted).",
    }),
    threadId: idSchema.optional().meta({
      description: "Post into the thread under this top-level message of the conversation (400 if it is a thread reply itself or not there).",
    }),
  })
  .superRefine(requireContent)
  .meta({ id: "MessageSend" });

export const reactionBodySchema = z
  .strictObject({
    userId: idSchema.meta({ description: "The member who reacts.", example: "alice" }),
    emoji: emojiSchema.meta({ description: "One emoji, or a `:shortcode:` of lowercase letters, digits, `_ + -`.", example: "👍" }),
  })
  .meta({ id: "ReactionAdd" });

export const markReadBodySchema = z
  .strictObject({
    userId: idSchema.meta({ description: "The member who read.", example: "alice" }),
    seq: seqSchema.meta({ description: "The highest seq read; beyond the conversation's last seq counts as its last." }),
  })
  .meta({ id: "MarkRead" });

export const readPositionSchema = z.object({ lastReadSeq: z.number().int() }).meta({ id: "ReadPosition" });

export const messageEditBodySchema = z
  .strictObject({
    text: messageTextSchema.meta({ description: "May be empty when `attachments` is given and not empty." }),
    attachments: attachmentsSchema.optional().meta({ description: "Replaces the attachments (`[]` removes them); absent: they are kept." }),
  })
  .superRefine(requireContent)
  .meta({ id: "MessageEdit" });

export const tokenCreateSchema = z
  .strictObject({
    userId: idSchema.meta({ description: "Becomes the token's `sub`." }),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Lifetime, default 3600; longer requests are capped at the server's TOKEN_MAX_TTL_SECONDS (default 86400)." }),
    name: displayNameSchema.optional(),
    role: roleSchema.optional().meta({ description: "Default `user`." }),
  })
  .meta({ id: "TokenCreate" });

/** Scopes an API key can hold; `admin` implies the others. */
export const apiKeyScopeSchema = z.enum(["admin", "read", "write"]);

/** A new key's scopes when the request names none: enough for the messaging API, not to mint keys or tokens. */
export const DEFAULT_API_KEY_SCOPES: ("read" | "write")[] = ["read", "write"];

export const apiKeyCreateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).meta({ example: "billing backend" }),
    scopes: z
      .array(apiKeyScopeSchema)
      .min(1)
      .max(3)
      .optional()
      .meta({ description: "Default `[\"read\", \"write\"]`. `admin` is needed for API keys and `POST /v1/tokens`, and implies the others." }),
  })
  .meta({ id: "ApiKeyCreate" });

// ---- responses ----

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      retryAfterMs: z.number().int().optional().meta({ description: "With `rate_limited`: how long to wait (also in `Retry-After`, seconds)." }),
    }),
  })
  .meta({ id: "Error" });

export const userSchema = z
  .object({ id: z.string(), name: z.string().optional(), phone: z.string().optional(), email: z.string().optional(), role: roleSchema, createdAt: isoTime })
  .meta({ id: "User" });

export const memberSchema = z
  .object({ userId: z.string(), role: z.string(), lastReadSeq: z.number().int(), joinedAt: isoTime })
  .meta({ id: "Member" });

export const conversationSchema = z
  .object({
    id: z.string(),
    type: conversationTypeSchema,
    title: z.string().optional(),
    members: z.array(memberSchema),
    memberCount: z.number().int().optional().meta({ description: "How many members the conversation has." }),
    membersPartial: z.boolean().optional().meta({
      description: "Set when `members` lists only some members (to clients, above `CONVERSATION_MEMBER_LIST_LIMIT`); the HTTP API always lists all.",
    }),
    lastSeq: z.number().int(),
    createdAt: isoTime,
    lastRev: z.number().int().optional().meta({
      description: "The highest message revision of the conversation (0 before any change): the watermark for `GET …/changes`.",
    }),
  })
  .meta({ id: "Conversation" });

export const attachmentThumbnailSchema = z
  .object({
    url: z.string().meta({ description: "Signed download link of the thumbnail (WebP); expires at the attachment's `urlExpiresAt`." }),
    width: z.number().int(),
    height: z.number().int(),
    mimeType: z.string().meta({ example: "image/webp" }),
  })
  .meta({ id: "AttachmentThumbnail", description: "A preview of an uploaded image, at most 320 px on its longer side." });

export const attachmentResponseSchema = z
  .object({
    url: z.string().meta({
      description:
        "A plain attachment: the URL the sender gave. An uploaded one: a signed download link that expires at `urlExpiresAt`; " +
        "reading the message again (history, `GET /v1/uploads/{id}`) gives a fresh one.",
    }),
    uploadId: z.string().optional().meta({ description: "The upload behind this attachment (`POST /v1/uploads`); absent for plain URL attachments.", example: "up_0f3c9a6e2b7d4c1a8e5f0b2d6a9c3e71" }),
    name: z.string().optional(),
    mimeType: z.string().optional().meta({ description: "For an upload: detected from its bytes, never the client's claim." }),
    size: z.number().int().optional().meta({ description: "Bytes." }),
    width: z.number().int().optional().meta({ description: "Uploaded images: pixels, after EXIF orientation." }),
    height: z.number().int().optional(),
    thumbnail: attachmentThumbnailSchema.optional(),
    urlExpiresAt: isoTime.optional().meta({ description: "Uploaded attachments: when `url` and `thumbnail.url` stop working." }),
  })
  .meta({
    id: "Attachment",
    description: "A file of a message: a reference to a URL elsewhere (Switchboard keeps the metadata only), or a file uploaded to Switchboard.",
  });

export const replyRefSchema = z
  .object({
    messageId: z.string(),
    seq: z.number().int(),
    senderId: z.string(),
    excerpt: z.string().meta({ description: `The start of the quoted message's current text, at most ${LIMITS.replyExcerptLength} characters; empty when it was deleted.` }),
    deleted: z.literal(true).optional().meta({ description: "Present when the quoted message has been deleted since." }),
    attachmentCount: z.number().int().optional().meta({ description: "How many attachments the quoted message has, when any." }),
  })
  .meta({ id: "ReplyRef", description: "What a reply quotes of the message it answers, resolved when read: edits and deletions of that message show." });

export const reactionSummarySchema = z
  .object({
    emoji: z.string(),
    count: z.number().int().meta({ description: "How many users reacted with it; exact." }),
    userIds: z.array(z.string()).meta({ description: `Who reacted, oldest first; at most ${LIMITS.reactionUsersListed}.` }),
  })
  .meta({ id: "ReactionSummary" });

export const messageSchema = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    seq: z.number().int().meta({ description: "1, 2, 3, … per conversation, gapless and in commit order." }),
    senderId: z.string(),
    clientMessageId: z.string().optional(),
    type: z.enum(["text", "system"]),
    text: z.string(),
    attachments: z.array(attachmentResponseSchema).optional(),
    createdAt: isoTime,
    editedAt: isoTime.optional().meta({ description: "Time of the latest edit; absent when never edited." }),
    deletedAt: isoTime.optional().meta({ description: "Time of the deletion; the message keeps its `id` and `seq`." }),
    deleted: z.literal(true).optional().meta({ description: "Present on a deleted message, whose `text` is empty and which has no attachments." }),
    rev: z.number().int().optional().meta({
      description: "The conversation revision of this message's latest change (edit, deletion, reaction, a new thread reply); absent while it never changed.",
    }),
    replyTo: replyRefSchema.optional(),
    threadId: z.string().optional().meta({ description: "On a thread reply: the id of the thread's parent message. Thread replies take the conversation's next `seq` like any message." }),
    threadSeq: z.number().int().optional().meta({ description: "On a thread reply: 1, 2, 3, … within the thread, gapless." }),
    replyCount: z.number().int().optional().meta({ description: "On a thread's parent: how many replies the thread has." }),
    lastReplyAt: isoTime.optional().meta({ description: "On a thread's parent: when its latest reply was written." }),
    reactions: z.array(reactionSummarySchema).optional().meta({ description: "One entry per emoji, in order of first use; absent without reactions." }),
  })
  .meta({ id: "Message" });

export const messagePageSchema = z
  .object({
    messages: z.array(messageSchema).meta({ description: "Oldest first." }),
    hasMore: z.boolean().meta({ description: "More messages exist beyond the page in the direction of the query." }),
  })
  .meta({ id: "MessagePage" });

export const changesSchema = z
  .object({
    messages: z.array(messageSchema).meta({ description: "Current versions of the messages changed after `afterRev`, oldest change first." }),
    lastRev: z.number().int().meta({ description: "Every change up to this revision is covered: the next `afterRev`." }),
    hasMore: z.boolean().meta({ description: "More changes follow; ask again with `afterRev=lastRev`." }),
  })
  .meta({ id: "MessageChanges" });

export const tokenSchema = z
  .object({ token: z.string().meta({ description: "A user token (HS256 JWT) for the Socket.IO handshake." }), expiresAt: isoTime })
  .meta({ id: "UserToken" });

export const apiKeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The key's first characters, to tell keys apart." }),
    scopes: z.array(z.string()),
    createdAt: isoTime,
    lastUsedAt: isoTime.optional().meta({ description: "Updated at most once a minute." }),
    revokedAt: isoTime.optional(),
    previousKeyExpiresAt: isoTime.optional().meta({
      description: "After a rotation: until when the replaced secret keeps working (API_KEY_ROTATION_GRACE_HOURS).",
    }),
  })
  .meta({ id: "ApiKey" });

export const apiKeyCreatedSchema = apiKeyInfoSchema
  .extend({ key: z.string().meta({ description: "The secret. Shown in this response only; store it now." }) })
  .meta({ id: "ApiKeyCreated" });

export const apiKeyListSchema = z.object({ apiKeys: z.array(apiKeyInfoSchema) }).meta({ id: "ApiKeyList" });

export const healthSchema = z.object({ status: z.literal("ok") }).meta({ id: "Health" });

export const readinessSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    store: z.string().meta({ description: "The persistence driver: `sqlite` or `mongodb`." }),
    checks: z.record(z.string(), z.string()).meta({ description: "Each dependency and `ok`, or what is wrong with it." }),
    error: errorSchema.shape.error.optional().meta({ description: "Present with 503." }),
  })
  .meta({ id: "Readiness" });
