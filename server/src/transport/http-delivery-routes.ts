import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { TokenService } from "../auth/token-service.js";
import { idSchema } from "../core/schemas.js";
import { DELIVERY_CHANNELS } from "../delivery/delivery-store.js";
import type { NotificationSettingsService } from "../delivery/notification-settings-service.js";
import { CLOCK_TIME, isTimeZone } from "../delivery/quiet-hours.js";
import { AUTHED_ERRORS, BODY_ERRORS, body, errors, json, v1, type HttpEnv } from "./http-routes.js";
import { requireUser, USER_TOKEN_SCHEME } from "./http-user-auth.js";

/**
 * The offline fallback's API besides push subscriptions and SMS webhooks: each message's delivery
 * timeline, notification preferences, mutes and SMS consent. Backends use the `/v1/users/{id}/…`
 * routes with an API key; apps call the `/v1/me/…` routes with the user's own token.
 */

const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });


const userParamSchema = z.object({ id: idSchema.meta({ param: { name: "id", in: "path" }, example: "alice" }) });
const messageIdParamSchema = z.object({ id: idSchema.meta({ param: { name: "id", in: "path" }, example: "m_0b6f…" }) });
const userMuteParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "alice" }),
  conversationId: idSchema.meta({ param: { name: "conversationId", in: "path" }, example: "c_support_42" }),
});
const meMuteParamSchema = z.object({ conversationId: idSchema.meta({ param: { name: "conversationId", in: "path" }, example: "c_support_42" }) });

const deliveryEventSchema = z.object({
  at: isoTime,
  status: z.string().meta({
    description: "The delivery's status after this entry, or an intermediate step: `queued`, `sending`, `accepted`, `retrying`, `deferred` (held for the recipient's quiet hours).",
  }),
  attempt: z.number().int().optional(),
  statusCode: z.number().int().optional().meta({ description: "The push service's or SMS provider's HTTP status." }),
  errorCode: z.string().optional().meta({ description: "The provider's error code (Twilio's numeric code)." }),
  detail: z.string().optional(),
});

const deliverySchema = z
  .object({
    id: z.string().meta({ example: "dlv_0m5x2k9ab…" }),
    messageId: z.string(),
    conversationId: z.string(),
    seq: z.number().int(),
    userId: z.string(),
    channel: z.enum(DELIVERY_CHANNELS),
    status: z.enum(["scheduled", "sent", "delivered", "undelivered", "failed", "cancelled", "collapsed"]).meta({
      description:
        "`scheduled`: waiting for `dueAt`; `sent`: accepted by the push service, the SMTP server or the SMS provider; `delivered`/`undelivered`: the SMS provider's receipt, or (`undelivered`) an email's bounce report; " +
        "`failed`: a permanent error or retries used up; `cancelled`: no longer needed (`cancelReason`); `collapsed`: covered by the notification `collapsedInto` of the same burst.",
    }),
    lastSeq: z.number().int().meta({ description: "The newest message this notification covers." }),
    lastMessageId: z.string(),
    messageCount: z.number().int().meta({ description: "How many messages this notification covers." }),
    collapsedInto: z.string().optional(),
    cancelReason: z.enum(["read", "online", "opted_out", "muted", "no_destination", "not_member"]).optional(),
    dueAt: isoTime.optional(),
    attempts: z.number().int(),
    sentAt: isoTime.optional(),
    providerMessageId: z.string().optional().meta({ description: "The SMS provider's message sid, or the email's `Message-ID`." }),
    to: z.string().optional().meta({ description: "SMS: the recipient's number; email: their address." }),
    from: z.string().optional().meta({ description: "SMS: our number; email: `EMAIL_FROM`." }),
    encoding: z.enum(["GSM-7", "UCS-2"]).optional(),
    segments: z.number().int().optional(),
    mediaCount: z.number().int().optional().meta({ description: "SMS: the pictures sent with the text as an MMS; absent for a plain SMS." }),
    events: z.array(deliveryEventSchema).meta({ description: "The timeline, oldest first." }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: "Delivery" });

const clockTime = (description: string, example: string) => z.string().regex(CLOCK_TIME, "must be a 24-hour time HH:MM such as 22:00").meta({ description, example });

const quietHoursSchema = z
  .strictObject({
    start: clockTime("Start of the window, HH:MM in `timeZone`.", "22:00"),
    end: clockTime("End of the window, HH:MM; earlier than `start` means the next morning.", "07:00"),
    timeZone: z
      .string()
      .max(64)
      .refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin or America/New_York")
      .meta({ example: "Europe/Berlin" }),
  })
  .refine((q) => q.start !== q.end, { message: "start and end must differ (null removes the quiet hours)", path: ["end"] })
  .meta({
    id: "QuietHours",
    description: "A daily window in the user's time zone: an offline notification due inside it (push included) is sent when it ends, unless read or connected meanwhile.",
  });

const preferencesSchema = z
  .object({
    userId: z.string(),
    push: z.boolean(),
    sms: z.boolean(),
    smsDelayMs: z.number().int().optional().meta({ description: "This user's wait before an SMS; absent: the ladder's (DELIVERY_LADDER, or SMS_DELAY_SECONDS)." }),
    email: z.boolean(),
    emailDelayMs: z.number().int().optional().meta({ description: "This user's wait before an email; absent: the ladder's (DELIVERY_LADDER, or EMAIL_DELAY_SECONDS)." }),
    quietHours: quietHoursSchema.optional().meta({ description: "Absent: no quiet hours." }),
    updatedAt: isoTime,
  })
  .meta({ id: "NotificationPreferences" });

const preferencesPatchSchema = z
  .strictObject({
    push: z.boolean().optional().meta({ description: "Web Push on or off." }),
    sms: z.boolean().optional().meta({ description: "SMS on or off (SMS also needs a phone number with consent)." }),
    smsDelayMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .nullable()
      .optional()
      .meta({ description: "Wait before an SMS for this user, in ms; null returns to the server's default." }),
    email: z.boolean().optional().meta({ description: "Email on or off (email also needs an address on the user record)." }),
    emailDelayMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .nullable()
      .optional()
      .meta({ description: "Wait before an email for this user, in ms; null returns to the server's default." }),
    quietHours: quietHoursSchema.nullable().optional().meta({ description: "Quiet hours; null removes them." }),
  })
  .meta({ id: "NotificationPreferencesPatch" });

const muteBodySchema = z.strictObject({ until: isoTime.pipe(z.iso.datetime()).optional().meta({ description: "Muted until then; absent: until unmuted." }) });
const muteSchema = z.object({ conversationId: z.string(), until: isoTime.optional() }).meta({ id: "Mute" });

const consentBodySchema = z
  .strictObject({
    granted: z.boolean().meta({ description: "true: the user agreed to texts (record where in `note`); false: withdrawn." }),
    note: z.string().trim().max(500).optional().meta({ example: "signup form, checkbox 'Text me when I miss a message'" }),
  })
  .meta({ id: "SmsConsentInput" });

const consentSchema = z
  .object({
    userId: z.string(),
    phone: z.string().optional(),
    state: z.enum(["opted_in", "opted_out", "unknown"]).meta({ description: "Texts are sent only when `opted_in`." }),
    ledger: z.array(
      z.object({
        phone: z.string(),
        action: z.enum(["opt_in", "opt_out", "help"]),
        source: z.enum(["keyword", "api", "provider"]),
        keyword: z.string().optional(),
        note: z.string().optional(),
        at: isoTime,
      }),
    ),
  })
  .meta({ id: "SmsConsent" });

export const listDeliveriesRoute = v1("read", {
  method: "get",
  path: "/v1/messages/{id}/deliveries",
  tags: ["Offline delivery"],
  summary: "A message's delivery timeline",
  description:
    "Every offline notification of the message: one entry per recipient and channel (Web Push, SMS) with its status and timeline " +
    "(each attempt, retries, provider receipts). Members who were connected, or had read it, have none. The same changes reach " +
    "webhooks as `delivery.updated`.",
  request: { params: messageIdParamSchema },
  responses: { 200: json(z.object({ messageId: z.string(), deliveries: z.array(deliverySchema) }), "The deliveries, oldest first."), ...errors(400, ...AUTHED_ERRORS) },
});

export const getPreferencesRoute = v1("read", {
  method: "get",
  path: "/v1/users/{id}/notification-preferences",
  tags: ["Offline delivery"],
  summary: "A user's notification preferences",
  request: { params: userParamSchema },
  responses: { 200: json(preferencesSchema, "The preferences (every channel on until set)."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const updatePreferencesRoute = v1("write", {
  method: "patch",
  path: "/v1/users/{id}/notification-preferences",
  tags: ["Offline delivery"],
  summary: "Change a user's notification preferences",
  description: "Turning a channel off cancels its scheduled notifications.",
  request: { params: userParamSchema, body: body(preferencesPatchSchema) },
  responses: { 200: json(preferencesSchema, "The preferences after the change."), ...errors(404, ...BODY_ERRORS) },
});

export const muteRoute = v1("write", {
  method: "put",
  path: "/v1/users/{id}/mutes/{conversationId}",
  tags: ["Offline delivery"],
  summary: "Mute a conversation for a user",
  description: "No offline notification of the conversation reaches the user while muted; what is scheduled is cancelled.",
  request: { params: userMuteParamSchema, body: body(muteBodySchema) },
  responses: { 200: json(muteSchema, "The mute."), ...errors(404, ...BODY_ERRORS) },
});

export const unmuteRoute = v1("write", {
  method: "delete",
  path: "/v1/users/{id}/mutes/{conversationId}",
  tags: ["Offline delivery"],
  summary: "Unmute a conversation for a user",
  request: { params: userMuteParamSchema },
  responses: { 204: { description: "Unmuted (also when it was not muted)." }, ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const getConsentRoute = v1("read", {
  method: "get",
  path: "/v1/users/{id}/sms-consent",
  tags: ["Offline delivery"],
  summary: "A user's SMS consent and its ledger",
  request: { params: userParamSchema },
  responses: { 200: json(consentSchema, "The consent state of the user's number and every recorded change."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const recordConsentRoute = v1("write", {
  method: "post",
  path: "/v1/users/{id}/sms-consent",
  tags: ["Offline delivery"],
  summary: "Record SMS consent",
  description:
    "Records that the user agreed to texts at their current phone number (or withdrew). No SMS is sent without consent; a STOP " +
    "texted later withdraws it, START gives it back. Every change is kept in the ledger.",
  request: { params: userParamSchema, body: body(consentBodySchema) },
  responses: { 200: json(consentSchema, "The consent after the change."), ...errors(404, ...BODY_ERRORS) },
});

const userRoute = <const R extends Parameters<typeof createRoute>[0]>(route: R) =>
  createRoute({ ...route, security: [{ [USER_TOKEN_SCHEME]: [] }] });

export const getMyPreferencesRoute = userRoute({
  method: "get",
  path: "/v1/me/notification-preferences",
  tags: ["Offline delivery"],
  summary: "My notification preferences (user token)",
  responses: { 200: json(preferencesSchema, "The preferences."), ...errors(401, 500, 503) },
});

export const updateMyPreferencesRoute = userRoute({
  method: "patch",
  path: "/v1/me/notification-preferences",
  tags: ["Offline delivery"],
  summary: "Change my notification preferences (user token)",
  request: { body: body(preferencesPatchSchema) },
  responses: { 200: json(preferencesSchema, "The preferences after the change."), ...errors(400, 401, 413, 415, 500, 503) },
});

export const muteMineRoute = userRoute({
  method: "put",
  path: "/v1/me/mutes/{conversationId}",
  tags: ["Offline delivery"],
  summary: "Mute a conversation (user token)",
  request: { params: meMuteParamSchema, body: body(muteBodySchema) },
  responses: { 200: json(muteSchema, "The mute."), ...errors(400, 401, 403, 404, 413, 415, 500, 503) },
});

export const unmuteMineRoute = userRoute({
  method: "delete",
  path: "/v1/me/mutes/{conversationId}",
  tags: ["Offline delivery"],
  summary: "Unmute a conversation (user token)",
  request: { params: meMuteParamSchema },
  responses: { 204: { description: "Unmuted." }, ...errors(400, 401, 403, 404, 500, 503) },
});

/** Routes taking an API key, in documentation order. */
export const DELIVERY_ROUTES = [listDeliveriesRoute, getPreferencesRoute, updatePreferencesRoute, muteRoute, unmuteRoute, getConsentRoute, recordConsentRoute] as const;
/** Routes taking a user token. */
export const MY_DELIVERY_ROUTES = [getMyPreferencesRoute, updateMyPreferencesRoute, muteMineRoute, unmuteMineRoute] as const;

/** What the routes need. */
export interface DeliveryHttpDeps {
  settings: NotificationSettingsService;
  tokens: TokenService;
}

/** The user-token routes: register before the API key check of `/v1/*`. */
export function registerMyDeliveryRoutes(app: OpenAPIHono<HttpEnv>, deps: DeliveryHttpDeps): void {
  const { settings, tokens } = deps;
  app.openapi(getMyPreferencesRoute, async (c) => {
    const user = await requireUser(c, tokens);
    return c.json(await settings.getPreferences(user.userId), 200);
  });
  app.openapi(updateMyPreferencesRoute, async (c) => {
    const user = await requireUser(c, tokens);
    return c.json(await settings.updatePreferences(user.userId, c.req.valid("json")), 200);
  });
  app.openapi(muteMineRoute, async (c) => {
    const user = await requireUser(c, tokens);
    return c.json(await settings.mute(user.userId, c.req.valid("param").conversationId, c.req.valid("json").until), 200);
  });
  app.openapi(unmuteMineRoute, async (c) => {
    const user = await requireUser(c, tokens);
    await settings.unmute(user.userId, c.req.valid("param").conversationId);
    return c.body(null, 204);
  });
}

/** The API-key routes: register after the API key check. */
export function registerDeliveryRoutes(app: OpenAPIHono<HttpEnv>, deps: DeliveryHttpDeps): void {
  const { settings } = deps;
  app.openapi(listDeliveriesRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ messageId: id, deliveries: await settings.deliveries(id) }, 200);
  });
  app.openapi(getPreferencesRoute, async (c) => c.json(await settings.getPreferences(c.req.valid("param").id), 200));
  app.openapi(updatePreferencesRoute, async (c) => c.json(await settings.updatePreferences(c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(muteRoute, async (c) => {
    const { id, conversationId } = c.req.valid("param");
    return c.json(await settings.mute(id, conversationId, c.req.valid("json").until), 200);
  });
  app.openapi(unmuteRoute, async (c) => {
    const { id, conversationId } = c.req.valid("param");
    await settings.unmute(id, conversationId);
    return c.body(null, 204);
  });
  app.openapi(getConsentRoute, async (c) => c.json(await settings.getConsent(c.req.valid("param").id), 200));
  app.openapi(recordConsentRoute, async (c) => {
    const { granted, note } = c.req.valid("json");
    return c.json(await settings.recordConsent(c.req.valid("param").id, granted, note), 200);
  });
}
