import { z } from "zod";
import { idSchema } from "../core/schemas.js";

/**
 * Validation of the support desk's socket payloads (the HTTP routes have their own schemas in
 * `transport/http-support-routes.ts`, built on the same pieces).
 */

export const supportStatusSchema = z.enum(["open", "resolved"]);

export const supportInboxSchema = z.strictObject({
  status: supportStatusSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  before: z.iso.datetime({ offset: true }).optional(),
});
export const supportConversationSchema = z.strictObject({ conversationId: idSchema });
export const supportAssignSchema = z.strictObject({ conversationId: idSchema, assigneeId: idSchema.nullable() });
export const supportStatusChangeSchema = z.strictObject({ conversationId: idSchema, status: supportStatusSchema });

/** A browser origin such as `https://shop.example.com` (no path), or `*`. */
export const widgetOriginSchema = z
  .string()
  .max(256)
  .refine((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o), "must be an origin such as https://shop.example.com (no path, no trailing slash), or *");
