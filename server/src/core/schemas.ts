import { z } from "zod";
import { LIMITS } from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "./errors.js";

/**
 * Validation of every input, shared by the socket gateway and the HTTP API (which also turns
 * these schemas into its OpenAPI description). Limits come from `LIMITS` in the protocol module.
 */

/** Customer-chosen ids: printable, no spaces, bounded. */
export const idSchema = z
  .string()
  .min(1)
  .max(LIMITS.idMaxLength)
  .regex(/^[A-Za-z0-9._:@+\-]+$/, "may contain only letters, digits and . _ : @ + -");

export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const roleSchema = z.enum(["user", "agent", "visitor"]);
export const conversationTypeSchema = z.enum(["direct", "group", "support"]);

export const textSchema = z
  .string()
  .max(LIMITS.textMaxLength, `text is longer than ${LIMITS.textMaxLength} characters`)
  .refine((t) => t.trim().length > 0, "text must not be empty");

/** Message text that may be empty: a message with attachments needs no text. */
export const messageTextSchema = z.string().max(LIMITS.textMaxLength, `text is longer than ${LIMITS.textMaxLength} characters`);

export const attachmentSchema = z.strictObject({
  // Only web URLs: a javascript: or data: link rendered by a client would be an XSS vector.
  url: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).max(2048),
  name: z.string().max(256).optional(),
  mimeType: z.string().max(128).optional(),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Upload ids: `up_` and 32 hex digits (see `POST /v1/uploads`). */
export const uploadIdSchema = z.string().regex(/^up_[0-9a-f]{32}$/, "must be an upload id (up_ and 32 hex digits) from POST /v1/uploads");

/** An uploaded file, by id; the server fills in name, type, size and links from the upload. */
export const uploadAttachmentSchema = z.strictObject({ uploadId: uploadIdSchema });

/** What senders put in `attachments`: plain URL references, or uploads by id. */
export const attachmentInputSchema = z.union([uploadAttachmentSchema, attachmentSchema]);

export const attachmentsSchema = z.array(attachmentInputSchema).max(LIMITS.attachmentsMax);

/**
 * One reaction: a single emoji (an RGI emoji sequence, skin tones and flags included) or a
 * custom `:shortcode:` of lowercase letters, digits, `_`, `+` and `-`.
 */
export const emojiSchema = z
  .string()
  .min(1)
  .max(LIMITS.reactionMaxLength)
  .regex(/^(?:\p{RGI_Emoji}|:[a-z0-9_+\-]{1,32}:)$/v, "must be one emoji, or a :shortcode: of lowercase letters, digits, _ + -");

/** A message with neither text nor attachments says nothing (a refinement shared with the HTTP API's schemas). */
export function requireContent(value: { text: string; attachments?: unknown[] | undefined }, ctx: z.core.$RefinementCtx): void {
  if (value.text.trim().length === 0 && !(value.attachments && value.attachments.length > 0)) {
    ctx.addIssue({ code: "custom", path: ["text"], message: "text must not be empty (unless the message has attachments)" });
  }
}
export const clientMessageIdSchema = z.string().min(1).max(LIMITS.clientMessageIdMaxLength);
export const titleSchema = z.string().trim().min(1).max(LIMITS.titleMaxLength);
export const phoneSchema = z.string().regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +14155550100");

/** An email address (RFC 5321 caps a path at 254 characters), stored lower-cased so the bounce ledger matches it. */
export const emailSchema = z.email("must be an email address such as ada@example.com").max(254).transform((s) => s.toLowerCase());

export const conversationCreateSchema = z.strictObject({
  type: conversationTypeSchema,
  memberIds: z.array(idSchema).min(1).max(LIMITS.membersMax),
  title: titleSchema.optional(),
});
export const conversationListSchema = z.strictObject({
  limit: z.number().int().min(1).max(LIMITS.pageMax).optional(),
  before: z.iso.datetime().optional(),
});
export const conversationJoinSchema = z.strictObject({
  conversationId: idSchema,
  afterSeq: seqSchema.optional(),
});
export const conversationLeaveSchema = z.strictObject({ conversationId: idSchema });
export const messageSendSchema = z
  .strictObject({
    conversationId: idSchema,
    clientMessageId: clientMessageIdSchema,
    text: messageTextSchema,
    attachments: attachmentsSchema.optional(),
    replyTo: idSchema.optional(),
    threadId: idSchema.optional(),
  })
  .superRefine(requireContent);
export const messageHistorySchema = z.strictObject({
  conversationId: idSchema,
  beforeSeq: seqSchema.optional(),
  afterSeq: seqSchema.optional(),
  limit: z.number().int().min(1).max(LIMITS.pageMax).optional(),
  threadId: idSchema.optional(),
});
export const messageChangesSchema = z.strictObject({
  conversationId: idSchema,
  afterRev: seqSchema,
  limit: z.number().int().min(1).max(LIMITS.pageMax).optional(),
});
export const reactionSchema = z.strictObject({ conversationId: idSchema, messageId: idSchema, emoji: emojiSchema });
export const messageReadSchema = z.strictObject({ conversationId: idSchema, seq: seqSchema });
export const messageEditSchema = z
  .strictObject({
    conversationId: idSchema,
    messageId: idSchema,
    text: messageTextSchema,
    attachments: attachmentsSchema.optional(),
  })
  .superRefine(requireContent);
export const messageDeleteSchema = z.strictObject({ conversationId: idSchema, messageId: idSchema });
export const typingSchema = z.strictObject({ conversationId: idSchema });
export const presenceQuerySchema = z.strictObject({
  userIds: z.array(idSchema).min(1).max(LIMITS.presenceQueryMax),
});
export const authRefreshSchema = z.strictObject({ token: z.string().min(1).max(8192) });

/**
 * Parses `input` or throws `invalid_argument` whose message names the offending field, so a
 * developer can fix the call from the error alone.
 */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error.issues);
}

/**
 * The error for failed validation, shared by {@link parse} and the HTTP API's validation hook so
 * both transports answer a bad input identically: `invalid_argument` naming the fields, or
 * `payload_too_large` when the message text is too long.
 */
export function validationError(issues: readonly z.core.$ZodIssue[]): SwitchboardError {
  const tooBig = issues.find((i) => i.code === "too_big" && i.path[0] === "text");
  const detail = issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  return new SwitchboardError(tooBig ? "payload_too_large" : "invalid_argument", detail);
}
